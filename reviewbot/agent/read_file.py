"""The `read_file` tool: numbered lines of one file of the repository, confined to its root."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewbot.agent.fsjail import PathRefused, looks_binary, open_file_in_root, read_capped
from reviewbot.agent.repo_deps import RepoDeps
from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.errors import ToolError


class ReadFileParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Repository-relative POSIX path, e.g. src/app/models.py")
    start_line: int | None = Field(default=None, ge=1, description="First line to return (1-based)")
    end_line: int | None = Field(default=None, ge=1, description="Last line to return (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> ReadFileParams:
        if self.start_line is not None and self.end_line is not None and self.end_line < self.start_line:
            raise ValueError("end_line precedes start_line")
        return self


@dataclass(frozen=True)
class FileExcerpt:
    """What `read_file` returns: lines `start_line`..`end_line` of `total_lines`, numbered."""

    path: str
    start_line: int
    end_line: int
    total_lines: int
    content: str
    truncated: bool


class ReadFile(Tool[RepoDeps, ReadFileParams]):
    """Read a text file of the repository under review, optionally a line range. Returns the lines
    prefixed with their 1-based numbers. Paths are relative to the repository root; paths outside
    it, binary files and very large files are refused."""

    name = "read_file"
    Params = ReadFileParams

    def __init__(
        self, *, max_bytes: int = 1_000_000, max_lines: int = 2000, max_line_chars: int = 2000
    ) -> None:
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars

    def run(self, params: ReadFileParams, ctx: ToolContext[RepoDeps]) -> ToolOutput:
        fd = open_file_in_root(ctx.deps.root, params.path)
        data = read_capped(fd, self.max_bytes)
        if data is None:
            raise PathRefused(f"{params.path!r} is larger than {self.max_bytes} bytes; not read")
        if looks_binary(data):
            raise PathRefused(f"{params.path!r} is a binary file")
        lines = data.decode("utf-8", errors="replace").splitlines()
        total = len(lines)
        start = params.start_line or 1
        if total == 0:
            return ToolOutput.success(f"{params.path} is empty", FileExcerpt(params.path, 0, 0, 0, "", False))
        if start > total:
            raise ToolError(f"{params.path!r} has {total} lines; start_line {start} is past the end")
        end = min(params.end_line or total, total)
        truncated = end - start + 1 > self.max_lines
        if truncated:
            end = start + self.max_lines - 1
        width = len(str(end))
        numbered = "\n".join(
            f"{n:>{width}}| {_clip_line(lines[n - 1], self.max_line_chars)}" for n in range(start, end + 1)
        )
        header = f"{params.path} lines {start}-{end} of {total}"
        if truncated:
            header += f" (truncated to {self.max_lines} lines; ask for a range to see more)"
        return ToolOutput.success(
            f"{header}\n{numbered}", FileExcerpt(params.path, start, end, total, numbered, truncated)
        )


def _clip_line(line: str, limit: int) -> str:
    return line if len(line) <= limit else f"{line[:limit]}... [line truncated, {len(line)} chars]"
