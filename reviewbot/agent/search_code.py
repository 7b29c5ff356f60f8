"""The `search_code` tool: a bounded grep over the repository in pure Python.

Bounded every way a hostile repository could stretch it: matches, files visited, bytes read,
per-file size, line length (long lines are cut before matching, which also limits how much work a
pathological regex gets), and the call's deadline (checked per file). Symlinks are never followed
and binary files are skipped. A regex can still backtrack for a long time on one line; the
registry's timeout abandons the call then (see tools.py).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.agent.fsjail import WalkStats, looks_binary, open_walked, read_capped, walk_files
from reviewbot.agent.repo_deps import RepoDeps
from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.errors import ToolError

HARD_MAX_MATCHES = 500


class SearchCodeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(
        min_length=1, max_length=500, description="Python regular expression, matched per line"
    )
    path_glob: str | None = Field(
        default=None,
        max_length=200,
        description="Only search repository-relative paths matching this glob ('*' also matches '/'), "
        "e.g. '*.py' or 'src/*'",
    )
    ignore_case: bool = False
    max_matches: int = Field(default=50, ge=1, le=HARD_MAX_MATCHES)


@dataclass(frozen=True)
class Match:
    path: str
    line: int
    text: str  # the line, stripped and clipped


@dataclass(frozen=True)
class SearchResult:
    """What `search_code` returns: the matching lines, whether the search stopped early, and what
    it passed over (binary, too large, symlinks, unreadable)."""

    matches: tuple[Match, ...]
    truncated: bool
    files_scanned: int
    skipped: dict[str, int]


class SearchCode(Tool[RepoDeps, SearchCodeParams]):
    """Search the repository's text files for a regular expression, line by line. Returns
    `path:line: text` for each match, up to max_matches. Binary files, symlinks and very large
    files are skipped."""

    name = "search_code"
    Params = SearchCodeParams

    def __init__(
        self,
        *,
        max_file_bytes: int = 1_000_000,
        max_files: int = 20_000,
        max_total_bytes: int = 200_000_000,
        max_line_chars: int = 1000,
        shown_line_chars: int = 200,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.max_total_bytes = max_total_bytes
        self.max_line_chars = max_line_chars
        self.shown_line_chars = shown_line_chars

    def run(self, params: SearchCodeParams, ctx: ToolContext[RepoDeps]) -> ToolOutput:
        try:
            regex = re.compile(params.pattern, re.IGNORECASE if params.ignore_case else 0)
        except re.error as exc:
            raise ToolError(f"invalid regular expression {params.pattern!r}: {exc}") from None
        stats = WalkStats()
        matches: list[Match] = []
        lines_out: list[str] = []
        skipped = {"binary": 0, "too_large": 0}
        total_bytes = 0
        stop: str | None = None
        for dir_fd, name, rel in walk_files(ctx.deps.root, stats):
            ctx.check()
            if stats.files > self.max_files:
                stop = f"stopped after visiting {self.max_files} files"
                break
            if params.path_glob and not fnmatch.fnmatchcase(rel, params.path_glob):
                continue
            fd = open_walked(dir_fd, name)
            if fd is None:
                stats.unreadable += 1
                continue
            data = read_capped(fd, self.max_file_bytes)
            if data is None:
                skipped["too_large"] += 1
                continue
            if looks_binary(data):
                skipped["binary"] += 1
                continue
            total_bytes += len(data)
            for lineno, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if not regex.search(line[: self.max_line_chars]):
                    continue
                shown = line.strip()[: self.shown_line_chars]
                matches.append(Match(rel, lineno, shown))
                lines_out.append(f"{rel}:{lineno}: {shown}")
                if len(matches) >= params.max_matches:
                    stop = f"stopped at max_matches={params.max_matches}"
                    break
            if stop:
                break
            if total_bytes > self.max_total_bytes:
                stop = f"stopped after reading {self.max_total_bytes} bytes"
                break
        summary = f"{len(matches)} match(es) for {params.pattern!r}"
        if stop:
            summary += f" ({stop}; narrow the search with path_glob)"
        found = SearchResult(
            tuple(matches),
            truncated=stop is not None,
            files_scanned=stats.files,
            skipped={**skipped, "symlinks": stats.symlinks_skipped, "unreadable": stats.unreadable},
        )
        return ToolOutput.success("\n".join([summary, *lines_out]), found)
