"""`reviewbot local` end to end on real git repositories: what the change introduced, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reviewbot.pipeline.conftest import LIB, NOISY, TESTS, CliResult, Repo


def rules(report: dict[str, Any] | None) -> set[tuple[str, str, int | None]]:
    assert report is not None
    return {(f["rule_id"], f["path"], f["start_line"]) for f in report["findings"]}


Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]


def test_reports_only_lint_the_change_introduced(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "noisy.py": NOISY,
            "tests/test_lib.py": TESTS.replace(
                "\n\n\ndef test_already_broken():\n    assert sub(1, 1) == 5\n", "\n"
            ),
        }
    )
    # Lines added above the old noise shift it; a new unused import and an eval are the change's.
    repo.commit({"noisy.py": "import sys\nimport json\n\n" + NOISY + "\n\ndef run(x):\n    return eval(x)\n"})
    result = review(repo, "--no-tests")
    found = rules(result.report)
    assert ("F401", "noisy.py", 1) in found and ("F401", "noisy.py", 2) in found
    assert any(r == "S307" for r, _, _ in found)
    assert not any(line == 4 for r, _, line in found if r == "F401"), "pre-existing `import os` was reported"
    assert result.code == 1  # S307 is an error


def test_new_test_failure_is_a_finding_already_failing_is_not(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    result = review(repo)
    report = result.report
    assert report is not None
    failing = {f["snippet"] for f in report["findings"] if f["rule_id"] == "test-failure"}
    assert failing == {"tests/test_lib.py::test_add"}
    new = next(f for f in report["findings"] if f["rule_id"] == "test-failure")
    assert new["path"] == "tests/test_lib.py" and new["start_line"] == 4 and new["severity"] == "error"
    assert "passes at the base" in new["message"] and "assert 4 == 3" in (new["evidence"] or "")
    assert {f["snippet"] for f in report["preexisting"]} == {"tests/test_lib.py::test_already_broken"}
    assert result.code == 1


def test_working_tree_changes_are_reviewed_including_untracked(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.git("checkout", "-q", "main")
    repo.write(
        {"lib.py": LIB + "\n\ndef mul(a, b):\n    return a * undefined_name\n", "new_mod.py": "import re\n"}
    )
    result = review(repo, "--no-tests")
    assert {(r, p) for r, p, _ in rules(result.report)} == {("F821", "lib.py"), ("F401", "new_mod.py")}
    # The user's own index is untouched by the review.
    assert repo.git("status", "--porcelain") == " M lib.py\n?? new_mod.py\n"


def test_nothing_to_review_exits_0(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB})
    result = review(repo)
    assert result.code == 0
    assert "nothing to review" in result.err


def test_fail_on_controls_exit_code(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"lib.py": LIB + "\n\ndef f(x=[]):\n    return x\n"})  # B006: a warning
    assert review(repo, "--no-tests").code == 0
    assert review(repo, "--no-tests", "--fail-on", "warning").code == 1
    assert review(repo, "--no-tests", "--fail-on", "never").code == 0
    repo.commit({"lib.py": "import os\n" + LIB})  # F401: an error, the default threshold
    assert review(repo, "--no-tests").code == 1


def test_bad_revision_and_not_a_repo_exit_2(make_repo: MakeRepo, review: Review, tmp_path: Path) -> None:
    repo = make_repo({"lib.py": LIB})
    bad = review(repo, "--base", "no-such-ref")
    assert bad.code == 2 and "no-such-ref" in bad.err and bad.err.count("\n") == 1
    plain = tmp_path / "plain"
    plain.mkdir()
    result = review(plain)
    assert result.code == 2 and "git" in result.err.lower()


def test_broken_ruff_config_is_an_error_not_clean(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB, "pyproject.toml": "[tool.ruff]\nextend = 'missing-base.toml'\n"})
    repo.commit({"lib.py": LIB + "\n\ndef f():\n    return 1\n"})
    result = review(repo, "--no-tests")
    assert result.code == 2
    assert "ruff check (head)" in result.err and "missing-base.toml" in result.err
    assert result.report is not None and result.report["errors"], "the report must say the analyzer broke"


def test_repository_ruff_config_and_noqa_are_respected(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "pyproject.toml": (
                "[tool.ruff.lint]\nselect = ['F']\n[tool.ruff.lint.per-file-ignores]\n'gen_*.py' = ['F401']\n"
            ),
        }
    )
    repo.commit({"gen_a.py": "import os\n", "b.py": "import sys  # noqa: F401\nimport re\n"})
    found = rules(review(repo, "--no-tests").report)
    assert found == {("F401", "b.py", 2)}


def test_renamed_file_keeps_its_old_noise_out(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"old_name.py": NOISY + "\n\ndef more():\n    return 2\n"})
    repo.git("mv", "old_name.py", "new_name.py")
    repo.commit({"new_name.py": NOISY + "\n\ndef more():\n    return 3\n"})
    result = review(repo, "--no-tests")
    assert rules(result.report) == set()
    assert result.code == 0


def test_unconfigured_repository_gets_classic_rules_not_ruff_style_defaults(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"b.py": "import sys\nimport re\n\nprint(re)\n"})  # unsorted imports: not this repo's rule
    assert rules(review(repo, "--no-tests").report) == {("F401", "b.py", 1)}


def test_all_reviews_every_file(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"noisy.py": NOISY, "lib.py": LIB})
    result = review(repo, "--all", "--no-tests")
    assert ("F401", "noisy.py", 1) in rules(result.report)


def test_formats_and_trace(make_repo: MakeRepo, review: Review, tmp_path: Path) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"lib.py": "import os\n" + LIB})
    sarif = review(repo, "--no-tests", fmt="sarif")
    assert sarif.report is not None and sarif.report["version"] == "2.1.0"
    result = sarif.report["runs"][0]["results"][0]
    assert result["ruleId"] == "ruff/F401" and result["partialFingerprints"]
    md = review(repo, "--no-tests", fmt="markdown")
    assert "F401" in md.out
    trace = tmp_path / "trace.jsonl"
    review(repo, "--no-tests", "--trace", str(trace))
    kinds = [line for line in trace.read_text().splitlines() if line.strip()]
    assert any('"analyze_code"' in line for line in kinds) and any('"report"' in line for line in kinds)


def test_base_that_moved_on_is_compared_at_the_merge_base(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"feature.py": "import json\n"})  # the branch's own change
    repo.git("checkout", "-q", "main")
    repo.commit({"main_only.py": "import re\n", "lib.py": LIB + "\n\nimport glob\n"})  # main moved on
    repo.git("checkout", "-q", "feature")
    result = review(repo, "--base", "main", "--no-tests")
    assert {(r, p) for r, p, _ in rules(result.report)} == {("F401", "feature.py")}
    assert (
        result.report is not None and result.report["files_reviewed"] == 1
    )  # main's own edits are not in the diff


def test_head_revision_without_base_compares_with_its_own_merge_base(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"feature.py": "import json\n"})
    repo.git("checkout", "-q", "main")
    repo.commit({"main_only.py": "import re\n"})  # main moved on; we stay on main
    result = review(repo, "--head", "feature", "--no-tests")
    assert {(r, p) for r, p, _ in rules(result.report)} == {("F401", "feature.py")}
    assert result.report is not None and result.report["files_reviewed"] == 1


def test_a_repository_too_big_for_the_sandbox_is_refused_before_upload(
    make_repo: MakeRepo, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo({"lib.py": LIB, **{f"data/f{i}.txt": "x\n" for i in range(30)}})
    repo.commit({"lib.py": LIB + "\n"})
    assert review(repo, "--no-tests").code == 0
    monkeypatch.setenv("REVIEWBOT_MAX_FILES", "10")
    result = review(repo, "--no-tests")
    assert result.code == 2 and "31 files, above max_files=10" in result.err


def test_a_review_cut_short_keeps_what_it_found_and_says_it_is_partial(
    make_repo: MakeRepo, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": "import os\n" + LIB})
    monkeypatch.setenv("REVIEWBOT_AGENT__MAX_ITERATIONS", "2")  # lint at head and base, then stopped
    result = review(repo)
    assert result.code == 2 and "stopped early (max_iterations)" in result.err
    assert result.report is not None and result.report["partial"] is True
    assert rules(result.report) == {("F401", "lib.py", 1)}


def test_a_renamed_test_file_is_compared_under_its_old_name(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "tests/test_lib.py": TESTS,
            "pyproject.toml": "[tool.reviewbot]\nexclude = ['tests/**']\n",
        }
    )
    repo.git("mv", "tests/test_lib.py", "tests/test_library.py")
    repo.commit({"lib.py": LIB.replace("return a - b", "return a - b - 1")})
    report = review(repo).report
    assert report is not None
    assert {f["snippet"] for f in report["findings"]} == {"tests/test_library.py::test_sub"}
    assert "passes at the base" in report["findings"][0]["message"]
    assert {f["snippet"] for f in report["preexisting"]} == {"tests/test_library.py::test_already_broken"}
