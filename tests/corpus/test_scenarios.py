"""`reviewbot local` on seeded pull requests in real projects: the review reports what the change
introduced, nothing else, and exits with the declared code.

The CLI runs in-process (`reviewbot.cli.main.main`) on a real git repository built from the corpus;
analyzers and tests run in the process sandbox backend here and in the Docker backend in the test
marked `docker`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli.main import main
from reviewbot.core.review import Review
from tests.corpus import checks
from tests.corpus.conftest import BuildScenario
from tests.corpus.gitrepo import Repo
from tests.corpus.scenarios import BY_NAME, SCENARIOS, Expect, Scenario

Finding = dict[str, Any]


def run_local(repo: Repo, out: Path, *extra: str) -> tuple[int, Review | None]:
    code = main(["local", str(repo.root), "--format", "json", "--output", str(out), *extra])
    if not out.exists():
        return code, None
    return code, Review.model_validate_json(out.read_text(encoding="utf-8"))


def _line(repo: Repo, e: Expect) -> int | None:
    return checks.head_line(repo, e.path, e.line) if e.line else None


def _hits(findings: list[Finding], e: Expect, line: int | None) -> list[Finding]:
    def covers(f: Finding) -> bool:
        if line is None:
            return True
        start = f.get("start_line")
        if start is None:
            return False
        end = f.get("end_line") or start
        return bool(start <= line <= end)

    return [
        f
        for f in findings
        if f["tool"] == e.tool
        and f["path"] == e.path
        and (e.rule is None or f["rule_id"] == e.rule)
        and covers(f)
    ]


def _show(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f['tool']}/{f['rule_id']} {f['path']}:{f.get('start_line')} {f['message'][:80]}"
        for f in findings
    )


def assert_review(scenario: Scenario, repo: Repo, code: int, review: Review | None, stderr: str) -> None:
    assert code == scenario.exit_code, f"exit {code}, expected {scenario.exit_code}; stderr:\n{stderr}"
    if scenario.nothing_to_review:
        assert "nothing to review" in stderr.lower()
        assert review is None or not review.findings
        return
    assert review is not None, f"no JSON report written; stderr:\n{stderr}"
    findings: list[Finding] = [f.model_dump(mode="json") for f in review.findings]
    preexisting: list[Finding] = [f.model_dump(mode="json") for f in review.preexisting]
    listing = f"findings:\n{_show(findings)}\npreexisting:\n{_show(preexisting)}\nerrors: {review.errors}"

    # Only the change is reviewed: the base is the merge-base with main, whatever main did since.
    base_sha = repo.rev(f"{review.base}^{{commit}}")
    assert base_sha == checks.merge_base(repo), f"base {review.base} is not the merge-base"
    if scenario.worktree_changes:
        assert review.head == "WORKTREE"

    if scenario.errors:
        assert review.errors, f"an analyzer broke but the review reports no error\n{listing}"
        assert any("ruff" in e.lower() for e in review.errors), listing
    else:
        assert not review.errors, listing

    matched: set[int] = set()
    for e in scenario.report:
        hits = _hits(findings, e, _line(repo, e))
        assert hits, f"missing {e.describe()}\n{listing}"
        for test in e.tests:  # a finding grouped by cause names every test it groups
            assert any(test in f["message"] for f in hits), f"{e.describe()} does not name {test}\n{listing}"
        matched.update(id(f) for f in hits)
    for e in scenario.not_report:
        assert not _hits(findings, e, _line(repo, e)), f"reported {e.describe()} ({e.kind})\n{listing}"
    for e in scenario.preexisting:
        assert _hits(preexisting, e, _line(repo, e)), f"{e.describe()} not listed as pre-existing\n{listing}"
        assert not _hits(findings, e, _line(repo, e)), f"{e.describe()} blamed on the change\n{listing}"
    if scenario.exact:
        extra = [f for f in findings if id(f) not in matched]
        assert not extra, f"findings the scenario does not expect:\n{_show(extra)}"
        # Exactly one finding per expected ruff problem (no duplicates from scope/baseline passes).
        for e in scenario.report:
            if e.tool == "ruff":
                assert len(_hits(findings, e, _line(repo, e))) == 1, (
                    f"{e.describe()} reported twice\n{listing}"
                )


def _params(slow: bool) -> list[Any]:
    return [pytest.param(s, id=s.name) for s in SCENARIOS if s.slow == slow]


@pytest.mark.usefixtures("process_sandbox")
@pytest.mark.parametrize("scenario", _params(slow=False))
def test_scenario(
    scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_scenario(scenario)
    code, review = run_local(repo, tmp_path / "review.json", *scenario.cli_args)
    assert_review(scenario, repo, code, review, capsys.readouterr().err)


@pytest.mark.usefixtures("process_sandbox")
@pytest.mark.parametrize("scenario", _params(slow=True))
def test_scenario_on_a_large_suite(
    scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_scenario(scenario)
    code, review = run_local(repo, tmp_path / "review.json", *scenario.cli_args)
    assert_review(scenario, repo, code, review, capsys.readouterr().err)


@pytest.mark.usefixtures("process_sandbox")
def test_review_leaves_the_repository_untouched(
    build_scenario: BuildScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files are copied into the sandbox: no caches, junit files or bytecode appear in the checkout."""
    repo = build_scenario(BY_NAME["worktree"])
    before = repo.git("status", "--porcelain", "--untracked-files=all", "--ignored")
    head = repo.rev("HEAD")
    code, _ = run_local(repo, tmp_path / "review.json")
    assert code == 1, capsys.readouterr().err
    assert repo.git("status", "--porcelain", "--untracked-files=all", "--ignored") == before
    assert repo.rev("HEAD") == head


@pytest.mark.usefixtures("process_sandbox")
def test_trace_records_the_agent_loop(
    build_scenario: BuildScenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = build_scenario(BY_NAME["broken_test"])
    trace = tmp_path / "trace.jsonl"
    code, review = run_local(repo, tmp_path / "review.json", "--trace", str(trace))
    assert code == 1, capsys.readouterr().err
    events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert events, "the trace is empty"
    assert review is not None and {r.name for r in review.runs}, "the review lists no tool runs"


@pytest.mark.docker
def test_lint_slip_in_the_docker_sandbox(
    build_scenario: BuildScenario,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REVIEWBOT_SANDBOX__BACKEND", "docker")
    scenario = BY_NAME["lint_slip"]
    repo = build_scenario(scenario)
    code, review = run_local(repo, tmp_path / "review.json", *scenario.cli_args)
    assert_review(scenario, repo, code, review, capsys.readouterr().err)
    assert review is not None and review.runs
