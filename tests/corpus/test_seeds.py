"""The scenarios' expectations are true of the code: proved with ruff, pytest and git run directly.

These tests involve no reviewbot code path except the curated rule list, so a failure here means a
seed no longer does what its scenario claims (and the CLI tests would be judging against a fiction).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import checks
from tests.corpus.conftest import BuildScenario
from tests.corpus.gitrepo import Repo, exported
from tests.corpus.scenarios import SCENARIOS, Expect, Scenario


def _params(slow: bool | None = None) -> list[object]:
    return [pytest.param(s, id=s.name) for s in SCENARIOS if slow is None or s.slow == slow]


def _matching(diags: list[checks.Diag], e: Expect, line: int | None) -> list[checks.Diag]:
    return [
        d
        for d in diags
        if d.path == e.path and (e.rule is None or d.rule == e.rule) and (line is None or d.covers(line))
    ]


def _line(repo: Repo, e: Expect) -> int | None:
    return checks.head_line(repo, e.path, e.line) if e.line else None


def _check_ruff_report(repo: Repo, base: str, e: Expect, scratch: Path) -> None:
    line = _line(repo, e)
    with exported(repo, None, scratch / "h") as head:
        _, diags = checks.ruff(head, [e.path])
    hits = _matching(diags, e, line)
    assert hits, f"{e.describe()}: ruff does not flag it at head"
    base_path = e.base_path or e.path
    if base_path in repo.git("ls-tree", "-r", "--name-only", base).splitlines():
        with exported(repo, base, scratch / "b") as old:
            _, base_diags = checks.ruff(old, [base_path])
        known = {(d.rule, d.text) for d in base_diags}
        assert all((h.rule, h.text) not in known for h in hits), f"{e.describe()}: already at the base"


def _check_ruff_noise(repo: Repo, base: str, e: Expect, scratch: Path) -> None:
    line = _line(repo, e)
    with exported(repo, None, scratch / "h") as head:
        _, diags = checks.ruff(head, [e.path])
        if e.kind == "suppressed":
            assert not _matching(diags, e, line), f"{e.describe()}: the repo's config does not suppress it"
            _, raw = checks.ruff(
                head, [e.path], "--isolated", "--ignore-noqa", "--select", e.rule or "ALL", curated=False
            )
            assert _matching(raw, e, line), f"{e.describe()}: not a problem even without the repo's config"
            return
    hits = _matching(diags, e, line)
    assert hits, f"{e.describe()}: ruff does not flag it at head, so staying silent proves nothing"
    if e.kind == "baseline":
        with exported(repo, base, scratch / "b") as old:
            _, base_diags = checks.ruff(old, [e.base_path or e.path])
        known = {(d.rule, d.text) for d in base_diags}
        assert any((h.rule, h.text) in known for h in hits), f"{e.describe()}: not present at the base"
    elif e.kind == "unchanged":
        added = checks.change_of(repo, base).added.get(e.path, frozenset())
        assert not any(h.start in added for h in hits), f"{e.describe()}: the line is part of the change"
    elif e.kind == "ignored":
        repo.git("check-ignore", "-q", e.path)  # raises unless git ignores it


@pytest.mark.parametrize("scenario", _params())
def test_lint_expectations_hold(scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path) -> None:
    repo = build_scenario(scenario)
    base = checks.merge_base(repo)
    for e in scenario.report:
        if e.tool == "ruff":
            _check_ruff_report(repo, base, e, tmp_path / "r")
    for e in scenario.not_report:
        if e.tool == "ruff":
            _check_ruff_noise(repo, base, e, tmp_path / "n")
    if scenario.exact and not scenario.nothing_to_review:
        wanted = {
            (e.rule, e.path, checks.head_line(repo, e.path, e.line))
            for e in scenario.report
            if e.tool == "ruff" and e.line
        }
        assert checks.spec_findings(repo, tmp_path / "spec") == wanted


@pytest.mark.parametrize("scenario", _params(slow=False))
def test_test_expectations_hold_fast(
    scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path
) -> None:
    _check_tests(scenario, build_scenario(scenario), tmp_path)


@pytest.mark.parametrize("scenario", _params(slow=True))
def test_test_expectations_hold_slow_suite(
    scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path
) -> None:
    _check_tests(scenario, build_scenario(scenario), tmp_path)


def _check_tests(scenario: Scenario, repo: Repo, scratch: Path) -> None:
    base = checks.merge_base(repo)
    new = {e.test for e in scenario.report if e.tool == "pytest" and e.test}
    new |= {t for e in scenario.report if e.tool == "pytest" for t in e.tests}
    old = {e.test for e in scenario.preexisting if e.test}
    with exported(repo, None, scratch / "head") as head:
        failing = checks.failing_tests(head)
    if scenario.exact:
        assert failing == new | old
    else:
        assert new | old <= failing
    for e in (*scenario.report, *scenario.preexisting):
        if e.tool == "pytest" and e.line and not e.tests:
            assert e.test and e.test.startswith(e.path + "::")
            checks.head_line(repo, e.path, e.line)  # the test's def is identifiable
    if new | old:
        with exported(repo, base, scratch / "base") as at_base:
            failing_at_base = checks.failing_tests(at_base, sorted(new | old))
        assert failing_at_base == old, "report = fails only at head; preexisting = fails at base too"


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.errors], ids=lambda s: s.name)
def test_broken_analyzer_config_really_breaks_ruff(
    scenario: Scenario, build_scenario: BuildScenario, tmp_path: Path
) -> None:
    repo = build_scenario(scenario)
    with exported(repo, None, tmp_path / "h") as head:
        code, _ = checks.ruff(head, ["toolz/utils.py"], may_fail=True)
    assert code == 2


def test_nothing_to_review_is_a_clean_default_branch(build_scenario: BuildScenario) -> None:
    (scenario,) = [s for s in SCENARIOS if s.nothing_to_review]
    repo = build_scenario(scenario)
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"


def test_worktree_scenario_leaves_uncommitted_and_untracked_files(build_scenario: BuildScenario) -> None:
    (scenario,) = [s for s in SCENARIOS if s.worktree_changes]
    repo = build_scenario(scenario)
    status = repo.git("status", "--porcelain", "--untracked-files=all").splitlines()
    assert " M toolz/utils.py" in status
    assert "?? toolz/scratch.py" in status
    assert not any("local/notes.py" in line for line in status)  # ignored
