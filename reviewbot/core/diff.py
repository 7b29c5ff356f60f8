"""A git diff as data: files, hunks, and which head-side lines each hunk holds.

`parse_diff` takes the text of `git diff --find-renames` (decoded by the caller, with
surrogateescape or replacement for bytes that are not UTF-8) and returns a frozen `Diff`.

The work is split in two: the text is cut into one section per `diff --git` line, and each
section's extended header (rename/copy/mode/similarity/binary lines, quoted paths) is read here,
because unidiff infers paths by splitting the `diff --git` line, which is ambiguous for names
containing " b/" and does not unquote git's C-style quoting. The hunks of each section are parsed by
unidiff, which counts lines against the hunk headers and handles "\\ No newline at end of file".
Cutting is safe because every line inside a hunk starts with ' ', '+', '-' or '\\', so a line that
starts with "diff --git " is always a file header.

This module is the one reader of diff text: `read_sections` gives each file's own text (its
header included) beside its parsed `FileChange`, for the agent's `get_diff` tool and the LLM
prompt, which show a diff file by file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from reviewbot.errors import WorkspaceError

Status = Literal["added", "modified", "deleted", "renamed", "copied"]

_GIT_HEADER = "diff --git "
_DEV_NULL = "/dev/null"
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class DiffParseError(WorkspaceError):
    """The diff text is not a diff git (or unidiff) can have produced."""


@dataclass(frozen=True)
class Hunk:
    """One `@@` block. Line numbers are 1-based; `added`/`context` are head-side, `deleted` base-side."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    header: str = ""
    added: frozenset[int] = frozenset()
    context: frozenset[int] = frozenset()
    deleted: frozenset[int] = frozenset()

    @property
    def head_lines(self) -> frozenset[int]:
        return self.added | self.context

    def holds(self, line: int) -> bool:
        """True if head-side `line` is shown in this hunk (added or context)."""
        return line in self.added or line in self.context


@dataclass(frozen=True)
class FileChange:
    """One file of the diff. `path` is the head-side path (the old path for a deletion)."""

    path: str
    old_path: str | None
    status: Status
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    hunks: tuple[Hunk, ...] = ()
    # line -> hunk index, built once: placement asks this for every finding.
    _index: dict[int, int] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        for i, hunk in enumerate(self.hunks):
            for line in hunk.head_lines:
                self._index.setdefault(line, i)

    @property
    def added_lines(self) -> frozenset[int]:
        return frozenset().union(*(h.added for h in self.hunks))

    @property
    def head_lines(self) -> frozenset[int]:
        return frozenset(self._index)

    @property
    def deleted_lines(self) -> frozenset[int]:
        return frozenset().union(*(h.deleted for h in self.hunks))

    def hunk_index(self, line: int) -> int | None:
        """Index in `hunks` of the hunk showing head-side `line`, or None if no hunk shows it."""
        return self._index.get(line)

    def same_hunk(self, start: int, end: int) -> bool:
        """True if every head-side line start..end is shown, all in one hunk."""
        if end < start:
            return False
        first = self._index.get(start)
        if first is None:
            return False
        hunk = self.hunks[first]
        return all(hunk.holds(line) for line in range(start, end + 1))

    @property
    def is_python(self) -> bool:
        return self.path.endswith((".py", ".pyi"))

    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"


@dataclass(frozen=True)
class Diff:
    files: tuple[FileChange, ...] = ()
    _by_path: dict[str, FileChange] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # Head paths first, so a deleted "a" never shadows a file added as "a" in the same diff.
        for change in self.files:
            if not change.is_deleted:
                self._by_path.setdefault(change.path, change)
        for change in self.files:
            self._by_path.setdefault(change.path, change)

    def file(self, path: str) -> FileChange | None:
        return self._by_path.get(path)

    @property
    def changed_paths(self) -> tuple[str, ...]:
        """Head-side paths of every file that still exists at head, in diff order."""
        return tuple(f.path for f in self.files if not f.is_deleted)

    @property
    def deleted_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files if f.is_deleted)

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[FileChange]:
        return iter(self.files)


def unquote_path(text: str) -> str:
    """Undo git's C-style path quoting ("\\303\\244.txt" -> "ä.txt"); unquoted text is returned as is.

    Bytes that are not UTF-8 come back as surrogate escapes, the same as the caller's decoding.
    """
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif len(body) >= i + 4 and all(c in "01234567" for c in body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            raise DiffParseError(f"bad escape in quoted path {text!r}")
    return out.decode("utf-8", "surrogateescape")


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _take_token(text: str) -> tuple[str, str]:
    """Split one (possibly quoted) path token off the front of `text`."""
    if text.startswith('"'):
        i = 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                return text[: i + 1], text[i + 1 :].lstrip(" ")
            i += 1
        raise DiffParseError(f"unterminated quoted path in {text!r}")
    return text, ""


def _header_paths(rest: str) -> tuple[str, str]:
    """Old and new path from what follows "diff --git ".

    Only used for sections that have no ---/+++ or rename/copy lines (binary, mode-only, empty
    files), where both names are the same, so an unquoted "a/X b/X" is split in the middle.
    """
    if rest.startswith('"'):
        first, tail = _take_token(rest)
        return _strip_prefix(unquote_path(first), "a/"), _strip_prefix(unquote_path(tail), "b/")
    if rest.endswith('"') and ' "' in rest:
        cut = rest.index(' "')
        return _strip_prefix(rest[:cut], "a/"), _strip_prefix(unquote_path(rest[cut + 1 :]), "b/")
    if len(rest) % 2 == 1:
        half = (len(rest) - 1) // 2
        old, new = rest[:half], rest[half + 1 :]
        if rest[half] == " " and old[2:] == new[2:]:
            return _strip_prefix(old, "a/"), _strip_prefix(new, "b/")
    if " b/" in rest:
        cut = rest.index(" b/")
        return _strip_prefix(rest[:cut], "a/"), rest[cut + 3 :]
    raise DiffParseError(f"cannot read the paths of 'diff --git {rest}'")


def _file_name(line: str, marker: str) -> str | None:
    """Path from a '--- a/x' / '+++ b/x' line (None for /dev/null). git appends a tab to names with spaces."""
    name = line[len(marker) :].rstrip("\n")
    if "\t" in name:
        # Quoted names keep their tab-free quoted form: cut after the closing quote.
        name = name[: name.rindex('"') + 1] if name.startswith('"') else name.split("\t", 1)[0]
    name = unquote_path(name)
    return None if name == _DEV_NULL else _strip_prefix(name, "a/" if marker.startswith("-") else "b/")


def _sections(lines: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for line in lines:
        if line.startswith(_GIT_HEADER) and current:
            yield current
            current = []
        current.append(line)
    if current:
        yield current


def _parse_hunks(lines: list[str], where: str) -> tuple[Hunk, ...]:
    """Parse the '---' line onwards of one file with unidiff."""
    try:
        patch = PatchSet(lines)
    except UnidiffParseError as exc:
        raise DiffParseError(f"malformed hunk in {where}: {exc}") from exc
    # unidiff skips lines it cannot place after a complete hunk; a real diff has none.
    consumed = sum(2 + sum(1 + len(h) for h in patched) for patched in patch)
    if consumed != len(lines):
        raise DiffParseError(f"malformed hunk in {where}: lines outside any hunk")
    hunks: list[Hunk] = []
    for patched in patch:
        for h in patched:
            added, context, deleted = set(), set(), set()
            for line in h:
                if line.is_added and line.target_line_no is not None:
                    added.add(line.target_line_no)
                elif line.is_context and line.target_line_no is not None:
                    context.add(line.target_line_no)
                elif line.is_removed and line.source_line_no is not None:
                    deleted.add(line.source_line_no)
            hunks.append(
                Hunk(
                    old_start=h.source_start,
                    old_length=h.source_length,
                    new_start=h.target_start,
                    new_length=h.target_length,
                    header=h.section_header.rstrip("\n"),
                    added=frozenset(added),
                    context=frozenset(context),
                    deleted=frozenset(deleted),
                )
            )
    return tuple(hunks)


@dataclass
class _Header:
    """What one file's extended header says (the lines between `diff --git` and its first '@@')."""

    rest: str  # what follows "diff --git "
    info: dict[str, str] = field(default_factory=dict)
    minus: str | None = None
    plus: str | None = None
    has_minus: bool = False
    has_plus: bool = False
    binary: bool = False
    body_start: int | None = None  # index of the '---' line, where unidiff starts reading

    @property
    def where(self) -> str:
        return f"'diff --git {self.rest}'"


_HEADER_KEYS = (
    "old mode", "new mode", "deleted file mode", "new file mode", "rename from", "rename to",
    "copy from", "copy to", "similarity index", "dissimilarity index", "index",
)  # fmt: skip


def _read_header(section: list[str]) -> _Header:
    head = _Header(rest=section[0][len(_GIT_HEADER) :].rstrip("\n"))
    for i, line in enumerate(section[1:], start=1):
        text = line.rstrip("\n")
        if text.startswith("@@ "):
            if not (head.has_minus and head.has_plus):
                raise DiffParseError(f"hunk without ---/+++ header in {head.where}")
            break
        if text.startswith("--- "):
            head.minus, head.has_minus, head.body_start = _file_name(line, "--- "), True, i
        elif text.startswith("+++ "):
            head.plus, head.has_plus = _file_name(line, "+++ "), True
        elif text.startswith(("Binary files ", "GIT binary patch")):
            head.binary = True
            break
        else:
            name = next((k for k in _HEADER_KEYS if text.startswith(k + " ")), None)
            if name is not None:
                head.info[name] = text[len(name) + 1 :]
            elif text:
                raise DiffParseError(f"unexpected line in the header of {head.where}: {text!r}")
    return head


_STATUS_BY_KEY: tuple[tuple[str, Status], ...] = (
    ("new file mode", "added"),
    ("deleted file mode", "deleted"),
    ("rename from", "renamed"),
    ("copy from", "copied"),
)


def _status(info: dict[str, str]) -> Status:
    return next((status for key, status in _STATUS_BY_KEY if key in info), "modified")


def _old_new(head: _Header) -> tuple[str, str]:
    """Old and new path: from rename/copy lines, else ---/+++ lines, else the `diff --git` line."""
    info = head.info
    if "rename from" in info or "copy from" in info:
        kind = "rename" if "rename from" in info else "copy"
        old, new = unquote_path(info[f"{kind} from"]), unquote_path(info.get(f"{kind} to", ""))
    elif head.has_minus or head.has_plus:
        fallback_old, fallback_new = (None, None)
        if head.minus is None or head.plus is None:
            fallback_old, fallback_new = _header_paths(head.rest)
        old = head.minus if head.minus is not None else (fallback_old or "")
        new = head.plus if head.plus is not None else (fallback_new or "")
    else:
        old, new = _header_paths(head.rest)
    if not new and not old:
        raise DiffParseError(f"no path in {head.where}")
    return old, new


def _modes(info: dict[str, str], status: Status) -> tuple[str | None, str | None]:
    old_mode = info.get("old mode") or info.get("deleted file mode")
    new_mode = info.get("new mode") or info.get("new file mode")
    index_mode = info.get("index", "").partition(" ")[2] or None
    if index_mode is not None:
        old_mode = old_mode or (index_mode if status != "added" else None)
        new_mode = new_mode or (index_mode if status != "deleted" else None)
    return old_mode, new_mode


def _parse_section(section: list[str]) -> FileChange:
    head = _read_header(section)
    status = _status(head.info)
    old, new = _old_new(head)
    old_mode, new_mode = _modes(head.info, status)
    similarity = head.info.get("similarity index", "").rstrip("%")
    hunks: tuple[Hunk, ...] = ()
    if head.body_start is not None and not head.binary:
        hunks = _parse_hunks(section[head.body_start :], head.where)
    return FileChange(
        path=old if status == "deleted" else (new or old),
        old_path=None if status == "added" else old,
        status=status,
        binary=head.binary,
        old_mode=old_mode,
        new_mode=new_mode,
        similarity=int(similarity) if similarity.isdigit() else None,
        hunks=hunks,
    )


def _parse_plain(lines: list[str]) -> Diff:
    """A unified diff without git headers (`diff -u`, GitHub's .diff of a single file): unidiff alone."""
    try:
        patch = PatchSet(lines)
    except UnidiffParseError as exc:
        raise DiffParseError(f"not a unified diff: {exc}") from exc
    if not patch:
        raise DiffParseError(f"not a diff: {lines[0][:80]!r}")
    files: list[FileChange] = []
    for patched in patch:
        old = _file_name("--- " + patched.source_file, "--- ")
        new = _file_name("+++ " + patched.target_file, "+++ ")
        status: Status = "added" if old is None else "deleted" if new is None else "modified"
        if old is not None and new is not None and old != new:
            status = "renamed"
        hunk_lines = ["--- a\n", "+++ b\n", *_lines("".join(str(h) for h in patched))]
        files.append(
            FileChange(
                path=(new if status != "deleted" else old) or "",
                old_path=old,
                status=status,
                binary=patched.is_binary_file,
                hunks=_parse_hunks(hunk_lines, patched.path) if len(patched) else (),
            )
        )
    return Diff(files=tuple(files))


def parse_hunks(patch: str) -> tuple[Hunk, ...]:
    """Hunks of one file's patch text that starts at its first '@@' (GitHub's `files[].patch`)."""
    if not patch.strip():
        return ()
    text = patch if patch.endswith("\n") else patch + "\n"
    return _parse_hunks(["--- a/f\n", "+++ b/f\n", *text.splitlines(keepends=True)], "patch")


def _lines(text: str) -> list[str]:
    # Split on "\n" only: a "\r", "\x0b" or U+2028 inside a source line is content, not a line end.
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1] + "\n")
    return out


def parse_diff(text: str) -> Diff:
    """Parse the output of `git diff` (any number of files). Raises DiffParseError on malformed input."""
    lines = _lines(text)
    if not any(line.strip() for line in lines):
        return Diff()
    first = next(i for i, line in enumerate(lines) if line.strip())
    if not lines[first].startswith(_GIT_HEADER):
        if any(line.startswith(_GIT_HEADER) for line in lines):
            raise DiffParseError(f"unexpected text before the first 'diff --git' line: {lines[first]!r}")
        if lines[first].startswith(("diff --cc ", "diff --combined ")):
            raise DiffParseError("combined (merge) diffs are not supported")
        return _parse_plain(lines[first:])
    return Diff(files=tuple(_parse_section(s) for s in _sections(lines[first:])))


@dataclass(frozen=True)
class FileSection:
    """One file's part of a diff: its text as given (from its `diff --git` line to the next one),
    and the `FileChange` it describes, or None when that part does not parse."""

    text: str
    change: FileChange | None

    @property
    def path(self) -> str:
        """The head-side path, or (unparsed) the section's first line."""
        return self.change.path if self.change is not None else self.text.split("\n", 1)[0][:200]


def read_sections(text: str, parsed: Diff | None = None) -> tuple[FileSection, ...]:
    """Cut `text` into one section per file, each with its parsed change.

    Never raises: a section that does not parse comes back with `change=None`. `parsed` is this
    same text already parsed (`parse_diff(text)`): when its files match the sections one to one,
    they are used instead of parsing again. Text before the first `diff --git` line (a diff without
    git headers) is a section of its own.
    """
    chunks = [c for c in _sections(_lines(text)) if any(line.strip() for line in c)]
    if parsed is not None and len(parsed.files) == len(chunks):
        changes: list[FileChange | None] = list(parsed.files)
    else:
        changes = [_parse_leniently(c) for c in chunks]
    return tuple(FileSection("".join(c), f) for c, f in zip(chunks, changes, strict=True))


def _parse_leniently(chunk: list[str]) -> FileChange | None:
    try:
        if chunk[0].startswith(_GIT_HEADER):
            return _parse_section(chunk)
        files = parse_diff("".join(chunk)).files
    except DiffParseError:
        return None
    return files[0] if files else None
