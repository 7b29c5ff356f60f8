"""Pair head lines with the base lines the diff says they replace. Pure.

A hunk is a sequence of context lines (present on both sides) and change blocks: a run of removed
base lines followed by the run of added head lines that replaces it. A head line in a change block
pairs with the block's base lines (none for a pure insertion); any other head line pairs with
exactly one base line (context, or outside every hunk, shifted by the hunks above it).

Lint attribution uses this to decide "the same rule already fired here at the base": renaming a
variable or re-wrapping a call rewrites the line, so the flagged text changes, but the line still
replaces the base line the rule fired on.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.core.diff import FileChange, Hunk


@dataclass(frozen=True)
class Block:
    """Base lines `base` replaced by head lines `head` (either may be empty), both 1-based."""

    base: tuple[int, ...]
    head: tuple[int, ...]


def _walk(hunk: Hunk) -> tuple[list[Block], dict[int, int]]:
    """The hunk's change blocks, and its context lines as head line -> base line."""
    blocks: list[Block] = []
    context: dict[int, int] = {}
    old, new = hunk.old_start, hunk.new_start
    old_end, new_end = hunk.old_start + hunk.old_length, hunk.new_start + hunk.new_length
    if hunk.old_length == 0:
        old, old_end = old + 1, old + 1  # "-3,0": the insertion follows base line 3
    if hunk.new_length == 0:
        new, new_end = new + 1, new + 1
    while old < old_end or new < new_end:
        removed = []
        while old < old_end and old in hunk.deleted:
            removed.append(old)
            old += 1
        added = []
        while new < new_end and new in hunk.added:
            added.append(new)
            new += 1
        if removed or added:
            blocks.append(Block(tuple(removed), tuple(added)))
            continue
        context[new] = old
        old, new = old + 1, new + 1
    return blocks, context


@dataclass(frozen=True)
class LineMap:
    """Head line -> the base lines it pairs with, for one changed file."""

    blocks: tuple[Block, ...]
    context: dict[int, int]
    # (first head line after the hunk, first base line after the hunk), in order
    ends: tuple[tuple[int, int], ...]

    def base_lines(self, line: int) -> tuple[int, ...]:
        if line in self.context:
            return (self.context[line],)
        for block in self.blocks:
            if line in block.head:
                return block.base
        shift = (0, 0)
        for head_end, base_end in self.ends:
            if head_end <= line:
                shift = (head_end, base_end)
        return (line - shift[0] + shift[1],)

    def region(self, start: int, end: int) -> frozenset[int]:
        """Every base line that head lines start..end pair with."""
        return frozenset(b for line in range(start, end + 1) for b in self.base_lines(line))


def line_map(change: FileChange) -> LineMap:
    blocks: list[Block] = []
    context: dict[int, int] = {}
    ends: list[tuple[int, int]] = []
    for hunk in change.hunks:
        hunk_blocks, hunk_context = _walk(hunk)
        blocks.extend(hunk_blocks)
        context.update(hunk_context)
        # An empty side ("-3,0") names the line *before* the change; the next line follows it.
        ends.append((hunk.new_start + (hunk.new_length or 1), hunk.old_start + (hunk.old_length or 1)))
    return LineMap(tuple(blocks), context, tuple(ends))
