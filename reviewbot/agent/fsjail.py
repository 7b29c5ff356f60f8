"""Opening files inside a repository root without ever leaving it.

The path the caller gives is untrusted (an LLM chose it; a PR planted the symlinks), so:
1. refuse absolute paths, `..` components, NUL bytes and anything under a VCS directory (`.git`
   holds credentials in `config` when a CI checkout persists them);
2. resolve with `realpath` and refuse when the target is not inside the root's realpath (a symlink
   to /etc/passwd, or to a sibling directory of the checkout);
3. open the *resolved* path one component at a time from a directory fd of the root, each with
   O_NOFOLLOW: if a component is swapped for a symlink between the check and the open, the open
   fails instead of following it.

Symlinks that stay inside the root are allowed (step 2 resolves them, step 3 opens the target).
The walk used by `search_code` goes through directory fds the same way and skips symlinks.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reviewbot.errors import ToolError

VCS_DIRS = frozenset({".git", ".hg", ".svn"})
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO planted in the repository must not hang the tool.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class PathRefused(ToolError):
    """The path is outside the repository or otherwise not readable by the agent."""


def check_relative(path: str) -> PurePosixPath:
    """Validate the *shape* of a caller-supplied path (before touching the file system)."""
    if not path or not path.strip():
        raise PathRefused("empty path")
    if "\x00" in path:
        raise PathRefused("path contains a NUL byte")
    if "\\" in path:
        raise PathRefused(f"{path!r}: use POSIX '/' separators, not backslashes")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise PathRefused(f"{path!r} is absolute; give a path relative to the repository root")
    if ".." in pure.parts:
        raise PathRefused(f"{path!r} contains '..'; paths must stay inside the repository")
    if VCS_DIRS.intersection(pure.parts):
        raise PathRefused(f"{path!r} is inside a version-control directory, which is not readable")
    return pure


def resolve_inside(root: Path, path: str) -> PurePosixPath:
    """The root-relative path `path` resolves to, following symlinks; refuses escapes."""
    rel = check_relative(path)
    try:
        root_real = Path(os.path.realpath(root))
        target = Path(os.path.realpath(root_real / rel))
    except OSError as exc:  # a component vanished while being resolved
        raise ToolError(f"{path!r} cannot be resolved: {exc.strerror}") from None
    if not target.is_relative_to(root_real):
        raise PathRefused(f"{path!r} resolves outside the repository (through a symlink)")
    resolved = PurePosixPath(target.relative_to(root_real).as_posix())
    if VCS_DIRS.intersection(resolved.parts):
        raise PathRefused(f"{path!r} resolves into a version-control directory")
    if resolved == PurePosixPath("."):
        raise PathRefused(f"{path!r} is the repository root, not a file")
    return resolved


def open_file_in_root(root: Path, path: str) -> int:
    """A read-only fd of the regular file `path` inside `root`. Raises PathRefused / ToolError."""
    resolved = resolve_inside(root, path)
    dir_fd = os.open(os.path.realpath(root), _DIR_FLAGS)
    try:
        for part in resolved.parts[:-1]:
            next_fd = _open_at(part, _DIR_FLAGS, dir_fd, path)
            os.close(dir_fd)
            dir_fd = next_fd
        fd = _open_at(resolved.parts[-1], _FILE_FLAGS, dir_fd, path)
    finally:
        os.close(dir_fd)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a directory" if stat.S_ISDIR(mode) else "is not a regular file"
        raise PathRefused(f"{path!r} {what}")
    return fd


def _open_at(name: str, flags: int, dir_fd: int, shown: str) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise ToolError(f"{shown!r} does not exist") from None
    except NotADirectoryError:
        raise ToolError(f"{shown!r}: a parent is not a directory") from None
    except IsADirectoryError:
        raise ToolError(f"{shown!r} is a directory") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise PathRefused(f"{shown!r} changed into a symlink while being opened") from None
        raise ToolError(f"{shown!r} cannot be opened: {exc.strerror}") from None


def read_capped(fd: int, max_bytes: int) -> bytes | None:
    """Read the whole file behind `fd` (closing it), or None when it is bigger than `max_bytes`."""
    try:
        if os.fstat(fd).st_size > max_bytes:
            return None
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # the size can grow after fstat; the cap still holds
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return None if total > max_bytes else b"".join(chunks)
    finally:
        os.close(fd)


def looks_binary(data: bytes) -> bool:
    # Same heuristic as git: a NUL byte in the first 8000 bytes.
    return b"\x00" in data[:8000]


@dataclass
class WalkStats:
    files: int = 0
    symlinks_skipped: int = 0
    unreadable: int = 0
    notes: list[str] = field(default_factory=list)


def walk_files(root: Path, stats: WalkStats) -> Iterator[tuple[int, str, str]]:
    """Yield `(dir_fd, name, relpath)` for every regular file under `root`, in sorted order,
    without following any symlink and skipping VCS directories. The dir fd is only valid until the
    generator resumes."""
    fd = os.open(os.path.realpath(root), _DIR_FLAGS)
    try:
        yield from _walk(fd, "", stats)
    finally:
        os.close(fd)


def _walk(dir_fd: int, prefix: str, stats: WalkStats) -> Iterator[tuple[int, str, str]]:
    try:
        with os.scandir(dir_fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        stats.unreadable += 1
        return
    for entry in entries:
        if entry.is_symlink():
            stats.symlinks_skipped += 1
        elif entry.is_dir(follow_symlinks=False):
            if entry.name in VCS_DIRS:
                continue
            try:
                sub = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                stats.unreadable += 1
                continue
            try:
                yield from _walk(sub, f"{prefix}{entry.name}/", stats)
            finally:
                os.close(sub)
        elif entry.is_file(follow_symlinks=False):
            stats.files += 1
            yield dir_fd, entry.name, prefix + entry.name


def open_walked(dir_fd: int, name: str) -> int | None:
    """Open a file yielded by `walk_files`; None if it vanished or became a symlink meanwhile."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd
