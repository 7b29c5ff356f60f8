"""Where comments go: inline inside one hunk, file-level, or the review body; suggestions kept only
when they cover exactly the commented lines."""

from __future__ import annotations

import pytest

from reviewbot.core.finding import Severity
from reviewbot.core.placement import BODY, Placement, Where, place, place_all, to_body
from tests.reviewbot.core.diff_samples import sample
from tests.reviewbot.core.findings_factory import make

# modified_hunks, src/app.py head-side hunks: 3-10, 43-49, 59-63 (added 6,7 / 46 / 62,63)
APP = "src/app.py"
CASES = [
    # (path, start, end, expected placement)
    (APP, 6, None, Placement(Where.INLINE, APP, 6, None)),
    (APP, 3, None, Placement(Where.INLINE, APP, 3, None)),  # context lines are in the diff too
    (APP, 6, 7, Placement(Where.INLINE, APP, 7, 6)),  # multi-line: start_line < line
    (APP, 3, 10, Placement(Where.INLINE, APP, 10, 3)),  # a whole hunk
    (APP, 7, 7, Placement(Where.INLINE, APP, 7, None)),
    (APP, 10, 11, Placement(Where.FILE, APP)),  # runs past the hunk
    (APP, 9, 44, Placement(Where.FILE, APP)),  # spans two hunks: never one comment across the gap
    (APP, 20, None, Placement(Where.FILE, APP)),  # outside every hunk
    (APP, None, None, Placement(Where.FILE, APP)),  # file-level finding
    ("elsewhere.py", 6, None, BODY),  # not in the diff
    ("", None, None, BODY),  # about the change as a whole
]


@pytest.mark.parametrize(("path", "start", "end", "expected"), CASES)
def test_place(path: str, start: int | None, end: int | None, expected: Placement) -> None:
    placed = place(make(path, start, end), sample("modified_hunks"))
    assert placed.placement == expected
    assert placed.placement.side == "RIGHT"


@pytest.mark.parametrize(
    ("name", "path", "line", "where"),
    [
        ("deleted", "gone.py", 1, Where.BODY),  # deleted at head
        ("binary_modified", "img/logo.png", 1, Where.FILE),
        ("mode_only", "run.sh", 1, Where.FILE),
        ("rename_pure", "new/name.py", 3, Where.FILE),
        ("rename_pure", "old/name.py", 3, Where.BODY),  # the old name is not a head path
        ("rename_edit", "pkg/after.py", 26, Where.INLINE),
        ("paths_with_spaces", "x b/y", 2, Where.INLINE),
        ("non_utf8_paths", "latin/\udce4.txt", 2, Where.INLINE),
    ],
)
def test_place_edge_files(name: str, path: str, line: int, where: Where) -> None:
    assert place(make(path, line), sample(name)).placement.where is where


SUGGESTIONS = [
    # (finding start, end, suggestion start, end, kept, expected line, expected start_line)
    (6, None, 6, 6, True, 6, None),  # exactly the commented line
    (6, 7, 6, 7, True, 7, 6),
    (7, None, 6, 7, True, 7, 6),  # widened to the suggestion's lines, which hold the finding
    (6, 7, 7, 7, False, 7, 6),  # covers only part of the commented lines
    (6, None, 6, 11, False, 6, None),  # suggestion leaves the hunk
    (20, None, 20, 20, False, None, None),  # outside the diff: file-level, no suggestion
]


@pytest.mark.parametrize(("start", "end", "s_start", "s_end", "kept", "line", "start_line"), SUGGESTIONS)
def test_suggestion_only_when_exactly_covering(
    start: int,
    end: int | None,
    s_start: int,
    s_end: int,
    kept: bool,
    line: int | None,
    start_line: int | None,
) -> None:
    finding = make(APP, start, end, suggestion=(s_start, s_end, "fixed\n"))
    placed = place(finding, sample("modified_hunks"))
    assert (placed.finding.suggestion is not None) is kept
    assert placed.dropped_suggestion is (not kept)
    assert (placed.placement.line, placed.placement.start_line) == (line, start_line)
    if kept:
        assert placed.finding == finding


def test_to_body_drops_the_suggestion() -> None:
    placed = place(make(APP, 6, suggestion=(6, 6, "x\n")), sample("modified_hunks"))
    moved = to_body(placed)
    assert moved.placement == BODY
    assert moved.finding.suggestion is None and moved.dropped_suggestion


def test_place_all_sorts_into_lists() -> None:
    findings = [
        make(APP, 46),
        make(APP, 6),
        make(APP, 20),
        make("elsewhere.py", 1),
        make(APP, None),
    ]
    placed = place_all(findings, sample("modified_hunks"), max_inline=30)
    assert [p.finding.start_line for p in placed.inline] == [6, 46]
    assert [p.finding.start_line for p in placed.file_level] == [None, 20]
    assert [p.finding.path for p in placed.body] == ["elsewhere.py"]
    assert placed.overflow == 0 and len(placed) == 5


def test_place_all_overflow_goes_to_the_body_most_severe_kept() -> None:
    findings = [
        make(APP, 3, severity=Severity.NOTE),
        make(APP, 6, severity=Severity.ERROR, suggestion=(6, 6, "x\n")),
        make(APP, 7, severity=Severity.WARNING),
        make(APP, 46, severity=Severity.ERROR),
        make(APP, 20, severity=Severity.ERROR),  # file-level: also a review comment
    ]
    placed = place_all(findings, sample("modified_hunks"), max_inline=2)
    assert [p.finding.start_line for p in placed.inline] == [6, 46]
    assert placed.file_level == ()
    assert placed.overflow == 3
    assert [p.finding.start_line for p in placed.body] == [3, 7, 20]
    assert all(p.placement == BODY and p.finding.suggestion is None for p in placed.body)
    assert placed.inline[0].finding.suggestion is not None


def test_place_all_zero_inline_and_bad_limit() -> None:
    placed = place_all([make(APP, 6)], sample("modified_hunks"), max_inline=0)
    assert placed.inline == () and placed.overflow == 1 and len(placed.body) == 1
    with pytest.raises(ValueError, match="max_inline"):
        place_all([], sample("modified_hunks"), max_inline=-1)


def test_every_inline_comment_is_on_a_diff_line() -> None:
    """The property GitHub's 422 rule checks, over every line of every sample."""
    for name in ("modified_hunks", "many_files", "no_newline_eof", "rename_edit", "line_traps"):
        diff = sample(name)
        for change in diff.files:
            for start in range(1, 70):
                for length in (0, 1, 3):
                    placed = place(make(change.path, start, start + length), diff)
                    p = placed.placement
                    if p.where is Where.INLINE:
                        assert p.line is not None
                        first = p.start_line or p.line
                        idx = change.hunk_index(first)
                        assert idx is not None
                        assert all(change.hunks[idx].holds(n) for n in range(first, p.line + 1))
                    else:
                        assert not change.same_hunk(start, start + length)
