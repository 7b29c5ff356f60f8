"""Causes, environment problems and groups, read from what real pytest runs print."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.analyzers.junit import parse_junit
from reviewbot.analyzers.runners import pytest_argv
from reviewbot.core.attribution import attribute_tests
from reviewbot.core.finding import Severity
from reviewbot.core.testgroups import (
    MAX_DISTINCT_MESSAGES,
    Cause,
    FailedTest,
    RepoLayout,
    environment_problem,
    group_failures,
    parse_cause,
    trim_traceback,
)
from reviewbot.core.testverdicts import merge_syntax_errors
from tests.reviewbot.core.findings_factory import make

PROJECT = {
    "lib.py": "def add(a, b):\n    return a +\n",
    "pkg/__init__.py": "",
    "pkg/core.py": "from pkg._version import v\n",
    "tests/test_syntax_import.py": "from lib import add\n",
    "tests/test_third_party.py": "import requests_nope\n",
    "tests/test_generated.py": "import pkg.core\n",
    "tests/test_own_syntax.py": "def test_x(:\n  pass\n",
    "tests/test_missing_name.py": "from pkg import nothere\n",
    "tests/test_metadata.py": "import importlib.metadata\nimportlib.metadata.version('nopkg_xyz')\n",
    "tests/test_removed.py": "import pkg.helpers\n",
}


@pytest.fixture(scope="module")
def collection_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FailedTest]:
    """Every kind of import failure, from a real pytest run."""
    root = tmp_path_factory.mktemp("project")
    for name, text in PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(
        pytest_argv([sys.executable, "-m", "pytest"], "junit.xml", []),
        cwd=root,
        capture_output=True,
        check=False,
    )
    report = parse_junit((root / "junit.xml").read_bytes())
    return {
        c.path: FailedTest(c.nodeid, c.path, c.line, c.message, c.detail, collection=True)
        for c in report.collection_errors
    }


FILES = frozenset(PROJECT)
LAYOUT = RepoLayout(FILES, removed=frozenset({"pkg/helpers.py"}))


def cause(errors: dict[str, FailedTest], path: str) -> Cause:
    test = errors[path]
    return parse_cause(test.message, test.detail, FILES)


def test_a_syntax_error_is_found_at_its_file_and_line_not_in_importlib(
    collection_errors: dict[str, FailedTest],
) -> None:
    imported = cause(collection_errors, "tests/test_syntax_import.py")
    assert (imported.exc_type, imported.path, imported.line) == ("SyntaxError", "lib.py", 2)
    own = cause(collection_errors, "tests/test_own_syntax.py")
    assert (own.exc_type, own.path, own.line) == ("SyntaxError", "tests/test_own_syntax.py", 1)
    assert environment_problem(imported, LAYOUT) is None


def test_import_errors_point_at_the_deepest_repository_frame(
    collection_errors: dict[str, FailedTest],
) -> None:
    generated = cause(collection_errors, "tests/test_generated.py")
    assert (generated.exc_type, generated.path, generated.line) == ("ModuleNotFoundError", "pkg/core.py", 1)
    assert generated.message == "No module named 'pkg._version'"


def test_environment_problems_name_what_is_missing_and_the_fix(
    collection_errors: dict[str, FailedTest],
) -> None:
    third = environment_problem(cause(collection_errors, "tests/test_third_party.py"), LAYOUT)
    assert third is not None and "`requests_nope` is not installed" in third.what
    assert "install_command" in third.fix
    generated = environment_problem(cause(collection_errors, "tests/test_generated.py"), LAYOUT)
    assert generated is not None and "`pkg/_version.py` is not in the repository" in generated.what
    metadata = environment_problem(cause(collection_errors, "tests/test_metadata.py"), LAYOUT)
    assert metadata is not None and "nopkg_xyz" in metadata.what


def test_the_code_own_import_problems_are_not_the_environment(
    collection_errors: dict[str, FailedTest],
) -> None:
    # A name the project's own package lacks, and a module the change removed, are the code's.
    assert environment_problem(cause(collection_errors, "tests/test_missing_name.py"), LAYOUT) is None
    assert environment_problem(cause(collection_errors, "tests/test_removed.py"), LAYOUT) is None


def test_layout_knows_flat_src_and_nested_packages() -> None:
    layout = RepoLayout(frozenset({"top.py", "src/pkg/__init__.py", "src/pkg/mod.py", "docs/conf.py"}))
    assert {"top", "pkg"} <= layout.packages()
    assert layout.module_file("pkg.mod") == "src/pkg/mod.py" and layout.module_file("pkg.nope") is None


def _failure(nodeid: str, message: str, where: str) -> FailedTest:
    detail = f"    def f():\n>       boom()\nE       {message}\n\n{where}: {message.split(':')[0]}"
    return FailedTest(nodeid, nodeid.partition("::")[0], 3, message, detail)


def test_parametrized_cases_and_a_shared_cause_group_but_different_causes_do_not() -> None:
    tests = [
        *(_failure(f"t.py::test_p[{i}]", f"assert {i} == {i + 1}", "t.py:4") for i in range(51)),
        _failure("t.py::test_a", "ZeroDivisionError: division by zero", "lib.py:5"),
        _failure("t.py::test_b", "ZeroDivisionError: division by zero", "lib.py:5"),
        _failure("t.py::test_c", "KeyError: 'x'", "lib.py:9"),
    ]
    groups = group_failures(tests, lambda t: parse_cause(t.message, t.detail, frozenset({"t.py", "lib.py"})))
    assert [len(g) for g in groups] == [51, 2, 1]


def test_a_flood_is_one_bounded_finding_that_says_how_many() -> None:
    tests = [_failure(f"t.py::test_p[{i}]", f"assert {i} == {i + 1}", "t.py:4") for i in range(51)]
    result = attribute_tests(
        tests, base_failed=set(), base_ran={f"t.py::test_p[{i}]" for i in range(51)}, head_to_base={}
    )
    [finding] = result.new
    assert "fails in 51 cases" in finding.message and finding.snippet == "t.py::test_p"
    assert (
        finding.evidence is not None
        and f"{51 - MAX_DISTINCT_MESSAGES} more distinct messages" in finding.evidence
    )
    assert finding.evidence.count("\n") < 40


def test_long_tracebacks_are_trimmed_with_the_cut_said() -> None:
    text = "\n".join(f"line {i}" for i in range(500))
    trimmed = trim_traceback(text)
    assert (
        trimmed.startswith("line 0")
        and trimmed.endswith("line 499")
        and "... 470 more lines ..." in trimmed
        and trimmed.count("\n") == 30
    )


def test_base_import_failure_is_could_not_compare_and_collection_errors_at_both_are_preexisting() -> None:
    head = [
        FailedTest("tests/t.py::test_a", "tests/t.py", 3, "assert 0", "E assert 0"),
        FailedTest(
            "tests/u.py", "tests/u.py", None, "collection failure", "E   ImportError: x", collection=True
        ),
    ]
    result = attribute_tests(
        head,
        base_failed={"tests/t.py", "tests/u.py"},
        base_ran=set(),
        head_to_base={},
        base_broken={
            "tests/t.py": "ModuleNotFoundError: No module named 'x'",
            "tests/u.py": "ImportError: x",
        },
    )
    [new] = result.new
    assert (
        new.severity is Severity.WARNING
        and "could not compare with the base, because at the base" in new.message
    )
    assert "new test" not in new.message
    assert [f.snippet for f in result.preexisting] == ["tests/u.py"]


def test_a_syntax_error_ruff_also_reports_is_one_finding() -> None:
    collection = FailedTest(
        "tests/t.py",
        "tests/t.py",
        None,
        "collection failure",
        'E     File "/work/head/lib.py", line 2\nE       return a +\nE   SyntaxError: invalid syntax',
        collection=True,
    )
    tests = attribute_tests(
        [collection],
        base_failed=set(),
        base_ran={"tests/t.py::test_x"},
        head_to_base={},
        files=frozenset({"lib.py"}),
    ).new
    assert (tests[0].path, tests[0].start_line, tests[0].severity) == ("lib.py", 2, Severity.ERROR)
    ruff = make("lib.py", 2, rule="invalid-syntax", severity=Severity.NOTE, tool="ruff")
    other = make("lib.py", 40, rule="F401", tool="ruff")
    kept_tests, lint = merge_syntax_errors(tests, [ruff, other])
    assert kept_tests == [] and lint[1] == other
    assert lint[0].severity is Severity.ERROR and "It breaks the tests" in lint[0].message
    assert lint[0].fingerprint == ruff.fingerprint  # the same finding with or without --no-tests


def test_unrelated_file_layout_paths_resolve_by_suffix(tmp_path: Path) -> None:
    detail = f'E     File "{tmp_path}/work/head/src/pkg/mod.py", line 7\nE   SyntaxError: bad'
    found = parse_cause("collection failure", detail, frozenset({"src/pkg/mod.py"}))
    assert (found.path, found.line, found.summary) == ("src/pkg/mod.py", 7, "SyntaxError: bad")


def test_collection_evidence_starts_at_the_project_code_not_importlib(
    collection_errors: dict[str, FailedTest],
) -> None:
    result = attribute_tests(
        [collection_errors["tests/test_syntax_import.py"]],
        base_failed=set(),
        base_ran={"tests/test_syntax_import.py::test_x"},
        head_to_base={},
        files=FILES,
    )
    [finding] = result.new
    assert finding.evidence is not None
    assert finding.evidence.startswith(
        "SyntaxError: invalid syntax (lib.py:2)\ntests/test_syntax_import.py:1: in <module>"
    )
    assert "_bootstrap" not in finding.evidence and "importlib" not in finding.evidence
    own = attribute_tests(
        [collection_errors["tests/test_own_syntax.py"]],
        base_failed=None,
        base_ran=None,
        head_to_base={},
        files=FILES,
    ).new[0]
    assert own.evidence is not None and "_pytest" not in own.evidence and "def test_x(:" in own.evidence


def test_failures_raised_at_the_same_place_outside_the_project_group_too() -> None:
    def failing(nodeid: str) -> FailedTest:
        detail = (
            "    def test():\n>       version()\n\n"
            "src/pkg/__init__.py:9: in version\n    return metadata('pkg')\n"
            "E   importlib.metadata.PackageNotFoundError: No package metadata was found for pkg\n\n"
            "/usr/lib/python3.11/importlib/metadata/__init__.py:565: PackageNotFoundError"
        )
        return FailedTest(nodeid, "tests/t.py", 3, "PackageNotFoundError: pkg", detail)

    tests = [failing("tests/t.py::test_version"), failing("tests/t.py::test_version_info")]
    no_repo = group_failures(tests, lambda t: parse_cause(t.message, t.detail, frozenset()))
    assert [len(g) for g in no_repo] == [2]  # grouped by the innermost frame, stdlib or not
    found = parse_cause(tests[0].message, tests[0].detail, frozenset({"src/pkg/__init__.py"}))
    assert (found.path, found.line, found.origin) == (
        "src/pkg/__init__.py",
        9,
        "/usr/lib/python3.11/importlib/metadata/__init__.py:565",
    )
