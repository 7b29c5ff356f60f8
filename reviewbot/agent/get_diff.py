"""The `get_diff` tool: the change under review, whole or one file's hunks.

The diff text is cut into one section per `diff --git` line (a line inside a hunk always starts
with ' ', '+', '-' or '\\', so the cut is unambiguous). When the context holds the parsed diff
(`reviewbot.core.diff.Diff`) its files pair with the sections in order and give exact paths,
statuses and hunk ranges; without it, paths and statuses are read from the section headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from reviewbot.agent.deps import RepoDeps
from reviewbot.agent.events import clip
from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.errors import ToolError

_GIT_HEADER = "diff --git "


class GetDiffParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        description="Head-side path of one changed file; omit for the list of files and the whole diff",
    )


@dataclass(frozen=True)
class _Section:
    path: str
    old_path: str | None
    status: str
    text: str
    hunks: list[JsonValue]


class GetDiff(Tool[RepoDeps, GetDiffParams]):
    """Show the change under review: without a path, the changed files and the diff; with a path,
    that file's hunks (head-side line numbers in the @@ headers)."""

    name = "get_diff"
    Params = GetDiffParams

    def __init__(self, *, max_chars: int = 60_000) -> None:
        self.max_chars = max_chars

    def run(self, params: GetDiffParams, ctx: ToolContext[RepoDeps]) -> ToolOutput:
        sections = split_diff(ctx.deps.diff_text, ctx.deps.diff)
        files: list[JsonValue] = [
            {"path": s.path, "old_path": s.old_path, "status": s.status, "hunks": s.hunks} for s in sections
        ]
        if params.path is None:
            listing = "\n".join(f"{s.status:>8} {s.path}" for s in sections) or "(no changes)"
            text = clip(ctx.deps.diff_text, self.max_chars)
            return ToolOutput.success(
                f"{len(sections)} changed file(s):\n{listing}\n\n{text}",
                {"files": files, "diff": text, "truncated": len(text) < len(ctx.deps.diff_text)},
            )
        for s in sections:
            if params.path in (s.path, s.old_path):
                text = clip(s.text, self.max_chars)
                return ToolOutput.success(
                    f"{s.status} {s.path}\n{text}",
                    {
                        "path": s.path,
                        "old_path": s.old_path,
                        "status": s.status,
                        "hunks": s.hunks,
                        "diff": text,
                        "truncated": len(text) < len(s.text),
                    },
                )
        known = ", ".join(s.path for s in sections[:50]) or "(none)"
        raise ToolError(f"{params.path!r} is not part of the change; changed files: {known}")


def split_diff(diff_text: str, parsed: object | None = None) -> list[_Section]:
    chunks = _cut(diff_text)
    parsed_files = getattr(parsed, "files", None)
    if isinstance(parsed_files, Sequence) and len(parsed_files) == len(chunks):
        return [_from_parsed(f, text) for f, text in zip(parsed_files, chunks, strict=True)]
    return [_from_header(text) for text in chunks]


def _cut(diff_text: str) -> list[str]:
    sections: list[list[str]] = []
    for line in diff_text.split("\n"):
        if line.startswith(_GIT_HEADER) or not sections:
            sections.append([])
        sections[-1].append(line)
    texts = ["\n".join(s).strip("\n") + "\n" for s in sections]
    return [t for t in texts if t.startswith(_GIT_HEADER)]


def _from_parsed(change: object, text: str) -> _Section:
    hunks: list[JsonValue] = [
        {
            "old_start": getattr(h, "old_start", None),
            "old_length": getattr(h, "old_length", None),
            "new_start": getattr(h, "new_start", None),
            "new_length": getattr(h, "new_length", None),
            "added_lines": sorted(getattr(h, "added", ())),
        }
        for h in getattr(change, "hunks", ())
    ]
    old_path = getattr(change, "old_path", None)
    return _Section(
        path=str(getattr(change, "path", "")),
        old_path=None if old_path is None else str(old_path),
        status=str(getattr(change, "status", "modified")),
        text=text,
        hunks=hunks,
    )


def _from_header(text: str) -> _Section:
    """Paths and status from a section's extended header (used when no parsed diff is given)."""
    lines = text.split("\n")
    head = lines[0][len(_GIT_HEADER) :]
    status = "modified"
    old: str | None = None
    new: str | None = None
    for line in lines[1:]:
        if line.startswith("@@"):
            break
        if line.startswith("new file mode"):
            status = "added"
        elif line.startswith("deleted file mode"):
            status = "deleted"
        elif line.startswith("rename from "):
            status, old = "renamed", _unquote(line[len("rename from ") :])
        elif line.startswith("rename to "):
            new = _unquote(line[len("rename to ") :])
        elif line.startswith("--- ") and old is None:
            old = _name(line[4:], "a/")
        elif line.startswith("+++ ") and new is None:
            new = _name(line[4:], "b/")
    if old is None and new is None:
        old = new = _header_name(head)
    path = old if status == "deleted" else (new or old)
    return _Section(
        path=path or "", old_path=None if status == "added" else old, status=status, text=text, hunks=[]
    )


def _header_name(head: str) -> str:
    """The name from `a/X b/X` (no ---/+++ lines: binary or mode-only), where both are equal."""
    if head.endswith('"') and ' "' in head:
        return _unquote(head[head.rindex(' "') + 1 :]).removeprefix("b/")
    half = (len(head) - 1) // 2
    return head[half + 1 :].removeprefix("b/") if len(head) % 2 == 1 else head


def _name(raw: str, prefix: str) -> str | None:
    # git appends a tab to names containing spaces (quoted or not); a tab inside a name is quoted.
    raw = raw.rstrip("\t") if raw.startswith('"') else raw.split("\t", 1)[0]
    name = _unquote(raw)
    return None if name == "/dev/null" else name.removeprefix(prefix)


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of unusual path names; invalid escapes are kept literally."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        if body[i] == "\\" and body[i + 1 : i + 2] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        elif body[i] == "\\" and len(body) >= i + 4 and all(c in "01234567" for c in body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += body[i].encode("utf-8", "surrogateescape")
            i += 1
    return out.decode("utf-8", "surrogateescape")
