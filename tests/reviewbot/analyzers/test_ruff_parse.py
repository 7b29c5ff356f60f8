"""ruff's real JSON and diff output -> Findings (ruff runs here on files the test itself wrote)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewbot.analyzers.ruff_parse import fix_to_suggestion, parse_check, parse_format_diff, severity_for
from reviewbot.analyzers.runners import ruff_check_argv, ruff_format_argv
from reviewbot.core.finding import Severity
from reviewbot.errors import AnalyzerError

SOURCE = (
    "import os\n"
    "import sys\n"
    "\n"
    "def f(x):\n"
    "    return eval(x)  \n"
    "\n"
    "print(undefined_name, sys.argv)\n"
    "x = [1,2 ,3]\n"
)


def _ruff(tmp_path: Path, argv: list[str]) -> str:
    (tmp_path / "pkg").mkdir(exist_ok=True)
    (tmp_path / "pkg" / "a.py").write_text(SOURCE)
    (tmp_path / "ruff.toml").write_text("[lint]\nselect = ['F', 'W']\n")
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False).stdout


def test_check_output_becomes_findings_with_safe_fix_suggestions(tmp_path: Path) -> None:
    # The repository's own configuration (F, W), then the curated S307 isolated from it.
    out = _ruff(tmp_path, ruff_check_argv(["pkg/a.py"], []))
    findings = parse_check(out, paths=["pkg/a.py"], file_texts={"pkg/a.py": SOURCE})
    assert {f.rule_id for f in findings} == {"F401", "W291", "F821"}
    out = _ruff(tmp_path, ruff_check_argv(["pkg/a.py"], ["S307"]))
    findings += parse_check(out, paths=["pkg/a.py"], file_texts={"pkg/a.py": SOURCE})
    by_rule = {f.rule_id: f for f in findings}
    assert set(by_rule) == {"F401", "S307", "W291", "F821"}
    unused = by_rule["F401"]
    assert (unused.path, unused.start_line, unused.end_line, unused.start_column) == ("pkg/a.py", 1, 1, 8)
    assert unused.suggestion is not None and unused.suggestion.replacement == ""
    assert unused.snippet == "import os\n"
    assert by_rule["W291"].suggestion is not None
    assert by_rule["W291"].suggestion.replacement == "    return eval(x)\n"
    assert by_rule["S307"].severity is Severity.ERROR and by_rule["S307"].suggestion is None
    assert by_rule["F821"].severity is Severity.ERROR
    assert unused.rule_url and unused.rule_url.startswith("https://docs.astral.sh/ruff/rules/")


def test_unsafe_fix_is_mentioned_never_suggested() -> None:
    item = {
        "code": "F841",
        "filename": "/work/head/m.py",
        "location": {"row": 2, "column": 5},
        "end_location": {"row": 2, "column": 6},
        "message": "Local variable `y` is assigned to but never used",
        "url": None,
        "name": "unused-variable",
        "fix": {
            "applicability": "unsafe",
            "message": "Remove assignment to unused variable `y`",
            "edits": [
                {"content": "", "location": {"row": 2, "column": 1}, "end_location": {"row": 3, "column": 1}}
            ],
        },
    }
    [finding] = parse_check(json.dumps([item]), paths=["m.py"], file_texts={"m.py": "def g():\n    y = 1\n"})
    assert finding.suggestion is None
    assert "unsafe fix" in finding.message
    assert finding.path == "m.py"


def test_fingerprint_survives_line_shift(tmp_path: Path) -> None:
    out1 = _ruff(tmp_path, ruff_check_argv(["pkg/a.py"], []))
    before = parse_check(out1, paths=["pkg/a.py"], file_texts={"pkg/a.py": SOURCE})
    shifted = "# a new comment\n\n" + SOURCE
    (tmp_path / "pkg" / "a.py").write_text(shifted)
    out2 = subprocess.run(
        ruff_check_argv(["pkg/a.py"], []), cwd=tmp_path, capture_output=True, text=True
    ).stdout
    after = parse_check(out2, paths=["pkg/a.py"], file_texts={"pkg/a.py": shifted})
    assert [f.start_line for f in after] == [(f.start_line or 0) + 2 for f in before]
    assert [f.fingerprint for f in after] == [f.fingerprint for f in before]


def test_format_diff_becomes_one_suggestion_per_change(tmp_path: Path) -> None:
    out = _ruff(tmp_path, ruff_format_argv(["pkg/a.py"]))
    findings = parse_format_diff(out)
    assert [(f.start_line, f.end_line) for f in findings] == [(3, 3), (5, 5), (8, 8)]
    last = findings[-1]
    assert last.path == "pkg/a.py" and last.severity is Severity.NOTE
    assert last.suggestion is not None and last.suggestion.replacement == "x = [1, 2, 3]\n"
    assert findings[0].suggestion is not None and findings[0].suggestion.replacement == "\n\n"


def test_fix_spanning_lines_replaces_whole_lines() -> None:
    text = "import b\nimport a\n\nx = 1\n"
    edits = [
        {
            "content": "import a\nimport b\n",
            "location": {"row": 1, "column": 1},
            "end_location": {"row": 3, "column": 1},
        }
    ]
    s = fix_to_suggestion(text, edits, "sort")
    assert s is not None and (s.start_line, s.end_line, s.replacement) == (1, 2, "import a\nimport b\n")


@pytest.mark.parametrize("bad", ["not json", '{"a": 1}'])
def test_garbage_output_is_an_analyzer_error(bad: str) -> None:
    with pytest.raises(AnalyzerError):
        parse_check(bad, paths=[], file_texts={})


def test_severity_mapping() -> None:
    assert severity_for("F821") is Severity.ERROR
    assert severity_for("E999") is Severity.ERROR
    assert severity_for("S608") is Severity.ERROR
    assert severity_for("F401") is Severity.ERROR
    assert severity_for("B006") is Severity.WARNING
    assert severity_for("S311") is Severity.WARNING
    assert severity_for("E501") is Severity.NOTE
