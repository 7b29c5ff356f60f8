"""Decide where each finding's comment goes, before anything is posted.

GitHub rejects a whole review (422 "line must be part of the diff") if one comment's line is not
shown in the pull request's diff, so placement is decided here from the same diff:

- INLINE: the finding's whole line range lies in ONE hunk on the head side (RIGHT). A multi-line
  comment has `start_line` < `line`; a single-line one has `start_line` None.
- FILE: the file is in the diff (and exists at head) but the range is not inside one hunk, or the
  finding has no line: a file-level comment.
- BODY: no path, a file the diff does not show (or deleted at head): a section of the review body.

A suggestion is kept only on an INLINE comment whose lines are exactly the lines it replaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from reviewbot.core.diff import Diff, FileChange
from reviewbot.core.filtering import priority_key
from reviewbot.core.finding import Finding


class Where(StrEnum):
    INLINE = "inline"
    FILE = "file"
    BODY = "body"


@dataclass(frozen=True)
class Placement:
    where: Where
    path: str | None = None
    line: int | None = None  # last line of the commented range (GitHub's `line`)
    start_line: int | None = None  # first line, only when the range spans several lines
    side: Literal["RIGHT"] = "RIGHT"


BODY = Placement(Where.BODY)


@dataclass(frozen=True)
class PlacedFinding:
    """A finding as it will be posted. `finding.suggestion` is already None where it may not be
    shown; `dropped_suggestion` says one existed (the body can say "a fix is available")."""

    finding: Finding
    placement: Placement
    dropped_suggestion: bool = False


@dataclass(frozen=True)
class PlacedReview:
    inline: tuple[PlacedFinding, ...] = ()
    file_level: tuple[PlacedFinding, ...] = ()
    body: tuple[PlacedFinding, ...] = ()
    overflow: int = 0  # comments moved to the body because of `max_inline`

    @property
    def comments(self) -> tuple[PlacedFinding, ...]:
        """Everything posted as a review comment (inline first, then file-level)."""
        return self.inline + self.file_level

    def __len__(self) -> int:
        return len(self.inline) + len(self.file_level) + len(self.body)


def _inline_range(finding: Finding, change: FileChange) -> tuple[int, int] | None:
    """The lines to comment on, or None if the finding cannot be inline.

    With a suggestion that lies in one hunk and contains the finding's lines, the comment covers
    the suggestion's lines so the suggestion can be kept (it must cover exactly the commented lines).
    """
    if finding.start_line is None:
        return None
    first, last = finding.start_line, finding.last_line or finding.start_line
    s = finding.suggestion
    if (
        s is not None
        and s.start_line <= first
        and last <= s.end_line
        and change.same_hunk(s.start_line, s.end_line)
    ):
        return s.start_line, s.end_line
    if change.same_hunk(first, last):
        return first, last
    return None


def place(finding: Finding, diff: Diff) -> PlacedFinding:
    """Where this one finding's comment goes."""
    change = diff.file(finding.path) if finding.path else None
    if change is None or change.is_deleted:
        return _placed(finding, BODY)
    lines = None if change.binary else _inline_range(finding, change)
    if lines is None:
        return _placed(finding, Placement(Where.FILE, path=change.path))
    first, last = lines
    placement = Placement(
        Where.INLINE, path=change.path, line=last, start_line=first if first < last else None
    )
    return _placed(finding, placement)


def _placed(finding: Finding, placement: Placement) -> PlacedFinding:
    s = finding.suggestion
    if s is None:
        return PlacedFinding(finding, placement)
    if placement.where is Where.INLINE and placement.line is not None:
        first = placement.start_line if placement.start_line is not None else placement.line
        if (s.start_line, s.end_line) == (first, placement.line):
            return PlacedFinding(finding, placement)
    return PlacedFinding(finding.model_copy(update={"suggestion": None}), placement, dropped_suggestion=True)


def to_body(placed: PlacedFinding) -> PlacedFinding:
    """The same finding moved into the review body (suggestion dropped: the body cannot commit it)."""
    original = placed.finding
    dropped = placed.dropped_suggestion or original.suggestion is not None
    return PlacedFinding(original.model_copy(update={"suggestion": None}), BODY, dropped_suggestion=dropped)


def place_all(findings: Iterable[Finding], diff: Diff, max_inline: int = 30) -> PlacedReview:
    """Place every finding; at most `max_inline` review comments (inline and file-level together,
    the most severe first) — the overflow goes to the body. Each list is sorted by location."""
    if max_inline < 0:
        raise ValueError("max_inline must be >= 0")
    placed = [place(f, diff) for f in findings]
    comments = sorted(
        (p for p in placed if p.placement.where is not Where.BODY), key=lambda p: priority_key(p.finding)
    )
    # Inline comments are worth more than file-level ones of the same severity: they point at a line.
    comments.sort(key=lambda p: (-p.finding.severity.rank, p.placement.where is not Where.INLINE))
    kept, over = comments[:max_inline], comments[max_inline:]
    body = [p for p in placed if p.placement.where is Where.BODY] + [to_body(p) for p in over]

    def by_location(items: Iterable[PlacedFinding]) -> tuple[PlacedFinding, ...]:
        return tuple(sorted(items, key=lambda p: p.finding.sort_key()))

    return PlacedReview(
        inline=by_location([p for p in kept if p.placement.where is Where.INLINE]),
        file_level=by_location([p for p in kept if p.placement.where is Where.FILE]),
        body=by_location(body),
        overflow=len(over),
    )
