"""The `get_diff` tool: the change under review, whole or one file's hunks.

The diff is cut into files by `reviewbot.core.diff.read_sections`; when the context holds the
parsed diff (`RepoDeps.diff`) its files are used for paths, statuses and hunks instead of parsing
the text again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.agent.events import clip
from reviewbot.agent.repo_deps import RepoDeps
from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.core.diff import FileSection, read_sections
from reviewbot.errors import ToolError


class GetDiffParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        description="Head-side path of one changed file; omit for the list of files and the whole diff",
    )


@dataclass(frozen=True)
class HunkLines:
    """One hunk's ranges on both sides and its added (head-side) line numbers."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    added_lines: tuple[int, ...]


@dataclass(frozen=True)
class ChangedFile:
    path: str
    old_path: str | None
    status: str
    hunks: tuple[HunkLines, ...]


@dataclass(frozen=True)
class DiffView:
    """What `get_diff` returns: the files it shows (all, or the one asked for) and their diff text,
    `truncated` when the text was cut to the tool's size cap."""

    files: tuple[ChangedFile, ...]
    diff: str
    truncated: bool


class GetDiff(Tool[RepoDeps, GetDiffParams]):
    """Show the change under review: without a path, the changed files and the diff; with a path,
    that file's hunks (head-side line numbers in the @@ headers)."""

    name = "get_diff"
    Params = GetDiffParams

    def __init__(self, *, max_chars: int = 60_000) -> None:
        self.max_chars = max_chars

    def run(self, params: GetDiffParams, ctx: ToolContext[RepoDeps]) -> ToolOutput:
        sections = read_sections(ctx.deps.diff_text, ctx.deps.diff)
        if params.path is None:
            listing = "\n".join(f"{_status(s):>8} {s.path}" for s in sections) or "(no changes)"
            text = clip(ctx.deps.diff_text, self.max_chars)
            return ToolOutput.success(
                f"{len(sections)} changed file(s):\n{listing}\n\n{text}",
                DiffView(tuple(map(_describe, sections)), text, len(text) < len(ctx.deps.diff_text)),
            )
        for s in sections:
            if params.path in (s.path, _old_path(s)):
                text = clip(s.text, self.max_chars)
                return ToolOutput.success(
                    f"{_status(s)} {s.path}\n{text}",
                    DiffView((_describe(s),), text, len(text) < len(s.text)),
                )
        known = ", ".join(s.path for s in sections[:50]) or "(none)"
        raise ToolError(f"{params.path!r} is not part of the change; changed files: {known}")


def _status(section: FileSection) -> str:
    return section.change.status if section.change is not None else "modified"


def _old_path(section: FileSection) -> str | None:
    return section.change.old_path if section.change is not None else None


def _describe(section: FileSection) -> ChangedFile:
    """Path, old path, status and hunks of one file, as the tool returns them."""
    change = section.change
    hunks = tuple(
        HunkLines(h.old_start, h.old_length, h.new_start, h.new_length, tuple(sorted(h.added)))
        for h in (change.hunks if change is not None else ())
    )
    return ChangedFile(section.path, _old_path(section), _status(section), hunks)
