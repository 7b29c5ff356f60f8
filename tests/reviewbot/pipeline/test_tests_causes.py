"""What a review makes of the project's test run, end to end through `reviewbot local` (process
sandbox) on real git repositories: failures grouped by cause, collection errors with their real
cause, environment problems named with their fix, honest coverage, pytest's own failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reviewbot.pipeline import plan
from tests.reviewbot.pipeline.conftest import LIB, TESTS, CliResult, Repo

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]

#: 51 parametrized cases of one test over a function the change breaks by one.
FLOOD_TESTS = (
    "import pytest\nfrom lib import add\n\n\n"
    "@pytest.mark.parametrize('n', range(51))\n"
    "def test_add_many(n):\n    assert add(n, 1) == n + 1\n\n\n"
    "def test_sub_still_fine():\n    from lib import sub\n    assert sub(2, 1) == 1\n"
)


def findings(result: CliResult, rule: str | None = None) -> list[dict[str, Any]]:
    assert result.report is not None, result.err
    return [f for f in result.report["findings"] if rule is None or f["rule_id"] == rule]


def test_a_parametrized_flood_is_one_finding_and_a_screenful(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": FLOOD_TESTS})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    result = review(repo)
    assert result.code == 1
    [finding] = findings(result)
    assert finding["snippet"] == "tests/test_lib.py::test_add_many"
    assert "fails in 51 cases" in finding["message"] and "pass at the base" in finding["message"]
    evidence = finding["evidence"]
    assert "assert 2 == (0 + 1)" in evidence and "more distinct messages" in evidence
    assert len(evidence) <= 4100 and evidence.count("\n") <= 45
    text = review(repo, fmt="text")
    assert text.code == 1 and len(text.out.splitlines()) <= 80, text.out
    markdown = review(repo, fmt="markdown")
    assert len(markdown.out) < 8000


def test_a_flood_is_proven_at_the_base_by_file_past_the_node_id_limit(
    make_repo: MakeRepo, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "MAX_BASE_NODE_IDS", 10)
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": FLOOD_TESTS})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    result = review(repo)
    [finding] = findings(result)
    assert "fails in 51 cases with this change; they pass at the base" in finding["message"]
    assert result.report is not None
    base = next(r for r in result.report["runs"] if r["name"] == "pytest (base)")
    assert base["detail"].startswith("52 of 52 collected test(s) ran")  # the whole file, once


def test_one_broken_function_called_by_many_tests_is_one_finding(make_repo: MakeRepo, review: Review) -> None:
    lib = "def ratio(a, b):\n    return a / b\n"
    tests = "".join(
        f"from lib import ratio\n\n\ndef test_r{i}():\n    assert ratio({i}, 1) == {i}\n\n\n"
        for i in range(6)
    )
    repo = make_repo({"lib.py": lib, "tests/test_ratio.py": tests})
    repo.commit({"lib.py": "def ratio(a, b):\n    return a / (b - 1)\n"})
    [finding] = findings(review(repo))
    assert finding["path"] == "lib.py" and finding["start_line"] == 2
    assert "6 tests fail with the same error" in finding["message"]
    assert "ZeroDivisionError" in finding["evidence"]


def test_a_syntax_error_imported_by_tests_is_one_error_at_its_line(
    make_repo: MakeRepo, review: Review
) -> None:
    importers = {
        f"tests/test_m{i}.py": f"from lib import add\n\n\ndef test_m{i}():\n    assert add({i}, 0) == {i}\n"
        for i in range(3)
    }
    repo = make_repo({"lib.py": LIB, **importers})
    repo.commit({"lib.py": LIB.replace("return a - b", "return a -")})
    result = review(repo)
    assert result.code == 1
    at_lib = [f for f in findings(result) if f["path"] == "lib.py"]
    assert len(at_lib) == 1, at_lib  # ruff's syntax error and the 3 import failures: one root cause
    assert findings(result, "test-collection-error") == []
    [finding] = at_lib
    assert (finding["start_line"], finding["severity"]) == (6, "error")
    assert "SyntaxError" in finding["message"] and "tests/test_m0.py" in finding["message"]
    assert "new test" not in finding["message"] and "they import at the base" in finding["message"]
    assert "_bootstrap" not in finding["message"]


def test_a_syntax_error_in_an_existing_test_module_is_not_a_new_test(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"tests/test_lib.py": TESTS.replace("def test_sub():", "def test_sub(:")})
    result = review(repo)
    assert findings(result, "test-collection-error") == []  # one root cause: told on ruff's finding
    [finding] = [f for f in findings(result) if "It breaks the tests" in f["message"]]
    assert (finding["path"], finding["start_line"], finding["severity"]) == ("tests/test_lib.py", 8, "error")
    assert "SyntaxError" in finding["message"] and "new test" not in finding["message"]
    assert "fails to import with this change; it imports at the base" in finding["message"]
    assert result.code == 1


def test_a_missing_third_party_module_is_named_and_the_review_is_not_done(
    make_repo: MakeRepo, review: Review
) -> None:
    lib = "import requests_not_installed_here\n\n" + LIB
    repo = make_repo(
        {"lib.py": lib, "tests/test_lib.py": TESTS, "tests/test_more.py": "from lib import add\n"}
    )
    repo.commit({"lib.py": lib + "\n\ndef mul(a, b):\n    return a * b\n"})
    result = review(repo)
    assert result.code == 2, result.err
    assert "No findings" not in result.out
    assert "`requests_not_installed_here` is not installed" in result.err
    assert "install_command" in result.err and "2 of 2 test module(s)" in result.err
    assert findings(result, "test-collection-error") == []


def test_a_missing_generated_version_file_is_named(make_repo: MakeRepo, review: Review) -> None:
    files = {
        "src/pkg/__init__.py": "from pkg._version import version\n",
        "src/pkg/core.py": "def one():\n    return 1\n",
        "tests/test_core.py": "from pkg.core import one\n\n\ndef test_one():\n    assert one() == 1\n",
        ".gitignore": "src/pkg/_version.py\n",
    }
    repo = make_repo(files)
    repo.commit({"src/pkg/core.py": "def one():\n    return 1\n\n\ndef two():\n    return 2\n"})
    result = review(repo)
    assert result.code == 2
    assert "`pkg/_version.py` is not in the repository" in result.err and "install_command" in result.err


def test_a_minority_of_environment_failures_is_a_note_not_an_error(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "tests/test_lib.py": TESTS,
            "tests/test_a.py": "from lib import add\n\n\ndef test_a():\n    assert add(1, 1) == 2\n",
            "tests/test_extra.py": "import hypothesis_not_here\n",
        }
    )
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    result = review(repo)
    assert result.code == 1
    assert {f["snippet"] for f in findings(result)} == {
        "tests/test_lib.py::test_add",
        "tests/test_a.py::test_a",
    }
    assert result.report is not None
    note = " ".join(result.report["skipped"])
    assert "1 of 3 test module(s) could not import" in note and "hypothesis_not_here" in note
    pytest_run = next(r for r in result.report["runs"] if r["name"] == "pytest (head)")
    assert "3 of 3 collected test(s) ran" in pytest_run["detail"] or "of 4 collected" in pytest_run["detail"]
    assert "1 test module(s) failed to import" in pytest_run["detail"]


def test_a_module_that_could_not_import_at_the_base_is_could_not_compare(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo({"lib.py": "import gone_at_base_only\n\n" + LIB, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": LIB.replace("return a - b", "return a - b - 1")})  # fixes the import, breaks sub
    result = review(repo)
    [finding] = [f for f in findings(result) if "test_sub" in f["snippet"]]
    assert finding["severity"] == "warning"
    assert (
        "could not compare with the base, because at the base `tests/test_lib.py` failed to import"
        in finding["message"]
    )
    assert "gone_at_base_only" in finding["message"] and "new test" not in finding["message"]


def test_an_undeclared_dependency_the_change_adds_is_its_finding(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo(
        {"lib.py": LIB, "tests/test_lib.py": TESTS, "tests/test_b.py": "def test_b():\n    pass\n"}
    )
    repo.commit({"tests/test_b.py": "import not_declared_anywhere\n\n\ndef test_b():\n    pass\n"})
    result = review(repo)
    [finding] = findings(result, "test-collection-error")
    assert "not_declared_anywhere" in finding["message"] and "imports at the base" in finding["message"]
    assert result.code == 1


def test_pytest_usage_error_quotes_pytest_and_names_the_fix(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "tests/test_lib.py": TESTS,
            "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--cov=lib"\n',
        }
    )
    repo.commit({"lib.py": LIB + "\n"})
    result = review(repo)
    assert result.code == 2
    assert "unrecognized arguments: --cov=lib" in result.err
    assert "pytest-cov" in result.err and "install_command" in result.err
    assert "exit 4, usage error" in result.err


def test_nothing_collected_in_a_repository_with_tests_is_not_clean(
    make_repo: MakeRepo, review: Review
) -> None:
    repo = make_repo(
        {"lib.py": LIB, "tests/test_lib.py": TESTS, "pytest.ini": "[pytest]\npython_files = check_*.py\n"}
    )
    repo.commit({"lib.py": LIB + "\n"})
    result = review(repo)
    assert result.code == 2 and "collected no test" in result.err


def test_a_repository_without_tests_says_so_and_passes(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"lib.py": LIB})
    repo.commit({"lib.py": LIB + "\n"})
    result = review(repo)
    assert result.code == 0, result.err
    assert result.report is not None and any("has no tests" in s for s in result.report["skipped"])


def test_a_timeout_names_the_running_test_and_keeps_what_finished(
    make_repo: MakeRepo, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = "import time\n\n\ndef test_zz_hangs():\n    time.sleep(600)\n"
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS, "tests/test_zz.py": hang})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    monkeypatch.setenv("REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S", "8")
    result = review(repo)
    assert result.code == 2
    assert "tests/test_zz.py::test_zz_hangs" in result.err
    assert "REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S" in result.err and "analyzers.test_timeout_s" in result.err
    # The failure found before the hang is kept, and still proven against the base.
    [finding] = findings(result)
    assert finding["snippet"] == "tests/test_lib.py::test_add" and "passes at the base" in finding["message"]
