"""The terminal report: grouped by file, code excerpts, suggestions as diffs, a summary line."""

from __future__ import annotations

import re

from reviewbot.core.finding import Severity
from reviewbot.core.render.terminal import render_terminal, suggestion_diff, summary_line
from reviewbot.core.review import Review
from tests.reviewbot.core.findings_factory import make, sample_review

APP = "import sys\nimport os\n\nif x == None:\n    print(sys.argv)\n"
FILES = {"src/app.py": APP}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_report_groups_by_file_with_excerpts_and_diffs() -> None:
    out = render_terminal(sample_review(), FILES)
    lines = out.splitlines()
    assert "reviewbot: 0123456789ab -> WORKTREE" in lines[0]
    headings = [ln for ln in lines if ln in ("src/app.py", "tests/test_a.py", "my dir/caf\ufffd.py")]
    assert headings == ["my dir/caf\ufffd.py", "src/app.py", "tests/test_a.py"]
    assert "  > 2 | import os" in lines  # the flagged line is marked
    assert "    1 | import sys" in lines
    assert "  > 4 | if x == None:" in lines
    assert "    -import os" in lines  # the suggestion, as a unified diff
    assert "    @@ -1,3 +1,2 @@" in lines
    assert any("test_a fails with this change" in ln for ln in lines)
    assert "    | E   assert 1 == 2" in lines  # evidence
    assert "Ran: ruff ok 0.4s | pytest failed 3.1s (1 failed | 9 passed)" in lines
    assert "Skipped: huge.py: 2000000 bytes, above max_file_bytes" in lines
    assert "  tests/test_old.py: already broken" in lines
    assert lines[-1] == summary_line(sample_review())


def test_summary_line() -> None:
    assert summary_line(sample_review()) == (
        "4 findings (2 errors, 1 warning, 1 note) in 3 files; 3 files reviewed; 1 already failing at the base"
    )
    assert summary_line(Review(base="b", head="h")) == "no findings; 0 files reviewed"
    assert summary_line(Review(base="b", head="h", errors=("x",), omitted=2)).endswith(
        "; 2 more not shown; INCOMPLETE review"
    )


def test_plain_output_has_no_escapes_and_hostile_text_is_neutralized() -> None:
    hostile = make(
        "src/app.py",
        2,
        message="boom \x1b]0;owned\x07\x1b[2J\u202eevil",
        evidence="\x1b[31mred\x1b[0m",
        severity=Severity.ERROR,
    )
    files = {"src/app.py": "a = 1\nb = '\x1b[5m\u202e'\n"}
    plain = render_terminal(Review(base="b", head="h", findings=(hostile,)), files)
    assert "\x1b" not in plain and "\u202e" not in plain
    assert "<U+202E>evil" in plain
    colored = render_terminal(Review(base="b", head="h", findings=(hostile,)), files, color=True)
    assert ANSI.search(colored)  # rich's own styling is there...
    without_styles = ANSI.sub("", colored)
    assert "\x1b" not in without_styles  # ...and nothing else escapes
    assert "owned" not in colored


def test_width_is_respected() -> None:
    long_line = "x = '" + "y" * 300 + "'\n"
    review = Review(base="b", head="h", findings=(make("src/app.py", 1, message="long " * 60),))
    out = render_terminal(review, {"src/app.py": long_line}, width=80)
    assert max(len(ln) for ln in out.splitlines()) <= 80


def test_without_file_text_the_suggestion_is_still_shown() -> None:
    finding = make("gone.py", 3, suggestion=(3, 4, "new line\n"))
    out = render_terminal(Review(base="b", head="h", findings=(finding,)), {})
    assert "    +new line" in out.splitlines()
    assert "file text not available" in out


def test_suggestion_diff_numbers_lines_from_the_file() -> None:
    lines = [f"line {n}" for n in range(1, 21)]
    finding = make("f.py", 10, suggestion=(10, 11, "LINE 10\n"))
    diff = suggestion_diff(finding, lines)
    assert diff[:2] == ["--- a/f.py", "+++ b/f.py"]
    assert diff[2] == "@@ -9,4 +9,3 @@"
    assert diff[3:] == [" line 9", "-line 10", "-line 11", "+LINE 10", " line 12"]
    assert suggestion_diff(make(), lines) == []


def test_excerpt_beyond_the_end_of_the_file_is_skipped() -> None:
    review = Review(base="b", head="h", findings=(make("src/app.py", 99, message="far away"),))
    out = render_terminal(review, FILES)
    assert "far away" in out and "| " not in out
