"""junit XML from real pytest runs, and hostile reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.analyzers import junit
from reviewbot.analyzers.junit import parse_junit
from reviewbot.analyzers.runners import pytest_argv
from reviewbot.errors import AnalyzerError

TESTS = """
import pytest
def test_ok():
    pass
def test_bad():
    assert 1 == 2
class TestK:
    @pytest.mark.parametrize("x", [1, 2])
    def test_p(self, x):
        assert x == 1
"""


def _run(tmp_path: Path) -> bytes:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(TESTS)
    (tmp_path / "tests" / "test_b.py").write_text("import no_such_module_here\n")
    argv = pytest_argv([sys.executable, "-m", "pytest"], "junit.xml", [])
    subprocess.run(argv, cwd=tmp_path, capture_output=True, check=False)
    return (tmp_path / "junit.xml").read_bytes()


def test_real_report_gives_node_ids_lines_and_collection_errors(tmp_path: Path) -> None:
    report = parse_junit(_run(tmp_path))
    outcomes = {c.nodeid: c.outcome for c in report.cases}
    assert outcomes == {
        "tests/test_a.py::test_ok": "passed",
        "tests/test_a.py::test_bad": "failed",
        "tests/test_a.py::TestK::test_p[1]": "passed",
        "tests/test_a.py::TestK::test_p[2]": "failed",
    }
    bad = next(c for c in report.failures if c.nodeid.endswith("test_bad"))
    assert bad.line == 5 and "assert 1 == 2" in bad.detail
    assert [c.nodeid for c in report.collection_errors] == ["tests/test_b.py"]
    assert "no_such_module_here" in report.collection_errors[0].detail


def test_entity_bomb_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuites><testsuite><testcase classname="a" name="b">
<failure message="&lol2;"/></testcase></testsuite></testsuites>"""
    with pytest.raises(AnalyzerError, match="malformed or unsafe"):
        parse_junit(bomb)


def test_malformed_and_oversized_reports_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AnalyzerError):
        parse_junit(b"<testsuites><testcase")
    monkeypatch.setattr(junit, "MAX_JUNIT_BYTES", 10)
    with pytest.raises(AnalyzerError, match="cap"):
        parse_junit(b"<testsuites></testsuites>")
