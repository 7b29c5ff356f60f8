"""Safe tar archives for moving untrusted files into and out of a sandbox.

Going in, every backend gets the same tar built here: members owned by uid/gid 10001 (the sandbox
user; tar headers decide ownership inside a container), modes 0644/0755 only (no setuid, sticky or
device entries), a fixed mtime (reproducible bytes), and no symlink that is absolute or points out
of the tree — the Docker daemon rejects the *whole* upload for an escaping link, and an absolute one
would resolve to the sandbox's own files, so both are skipped here and reported to the caller.

Coming out, `extract_tar` uses `tarfile`'s "data" filter (PEP 706), which refuses absolute and
escaping paths and links, devices and special modes.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandbox.errors import ArchiveError

SANDBOX_UID = 10001
SANDBOX_GID = 10001
FIXED_MTIME = 1_700_000_000  # any constant: the same files give the same tar bytes
SKIP_DIRS = frozenset({".git"})

Skipped = list[tuple[str, str]]


@dataclass(frozen=True)
class FileEntry:
    """One file to place in the sandbox. `path` is relative and POSIX-style ("pkg/mod.py")."""

    path: str
    data: bytes
    executable: bool = False
    symlink_target: str | None = None


def check_relative_path(path: str) -> str:
    """Return the normalised relative path or raise ArchiveError for absolute/`..`/empty paths."""
    if not path or "\x00" in path:
        raise ArchiveError(f"invalid path in archive: {path!r}")
    if path.startswith("/") or PurePosixPath(path).is_absolute():
        raise ArchiveError(f"absolute path refused: {path!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        raise ArchiveError(f"empty path refused: {path!r}")
    if ".." in parts:
        raise ArchiveError(f"path with '..' refused: {path!r}")
    return "/".join(parts)


def _symlink_problem(path: str, target: str) -> str | None:
    """Why a symlink at `path` -> `target` may not go into the tree, or None if it stays inside."""
    if not target or "\x00" in target:
        return "symlink with an empty or invalid target"
    if target.startswith("/"):
        return f"absolute symlink -> {target!r}"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink escapes the tree -> {target!r}"
    return None


def _info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = SANDBOX_UID, SANDBOX_GID
    info.uname = info.gname = ""
    info.mtime = FIXED_MTIME
    return info


def build_tar(entries: Iterable[FileEntry]) -> tuple[bytes, Skipped]:
    """Pack entries into a tar; return (tar bytes, [(path, reason) of skipped entries]).

    Raises ArchiveError for an absolute or `..` path (a caller bug, not hostile content)."""
    buf = io.BytesIO()
    skipped: Skipped = []
    dirs_done: set[str] = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add_parents(path: str) -> None:
            # Explicit directory entries, so parents are owned by the sandbox user, not root.
            parent = posixpath.dirname(path)
            chain: list[str] = []
            while parent and parent not in dirs_done:
                chain.append(parent)
                parent = posixpath.dirname(parent)
            for d in reversed(chain):
                tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))
                dirs_done.add(d)

        for entry in entries:
            path = check_relative_path(entry.path)
            if entry.symlink_target is not None:
                problem = _symlink_problem(path, entry.symlink_target)
                if problem:
                    skipped.append((path, problem))
                    continue
                add_parents(path)
                info = _info(path, tarfile.SYMTYPE, 0o777)
                info.linkname = entry.symlink_target
                tar.addfile(info)
                continue
            if path in dirs_done:
                skipped.append((path, "a directory of that name is already in the archive"))
                continue
            add_parents(path)
            info = _info(path, tarfile.REGTYPE, 0o755 if entry.executable else 0o644)
            info.size = len(entry.data)
            tar.addfile(info, io.BytesIO(entry.data))
    return buf.getvalue(), skipped


def tar_directory(root: Path, *, max_files: int, max_bytes: int) -> tuple[bytes, Skipped]:
    """Tar a directory tree without following symlinks, skipping `.git` and non-regular files.

    Raises ArchiveError when the tree has more than `max_files` files or `max_bytes` bytes: a huge
    repository is refused before anything is uploaded."""
    if not root.is_dir():
        raise ArchiveError(f"not a directory: {root}")
    entries: list[FileEntry] = []
    skipped: Skipped = []
    total = 0

    def count(size: int) -> None:
        nonlocal total
        total += size
        if len(entries) > max_files:
            raise ArchiveError(f"{root} has more than {max_files} files; refusing to upload it")
        if total > max_bytes:
            raise ArchiveError(f"{root} holds more than {max_bytes} bytes; refusing to upload it")

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        # os.walk lists symlinks to directories under dirnames and never descends into them
        # (followlinks=False); they are packed as links below.
        names = sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in names:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries.append(FileEntry(rel, b"", symlink_target=os.readlink(full)))
                count(0)
            elif stat.S_ISREG(st.st_mode):
                if total + st.st_size > max_bytes:
                    count(st.st_size)  # raises before reading a huge file into memory
                entries.append(FileEntry(rel, _read_nofollow(full), bool(st.st_mode & 0o111)))
                count(st.st_size)
            else:
                skipped.append((rel, "not a regular file, directory or symlink"))
    tar, tar_skipped = build_tar(entries)
    return tar, skipped + tar_skipped


def _read_nofollow(path: str) -> bytes:
    # O_NOFOLLOW: if the file was swapped for a symlink after lstat, refuse rather than follow it.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def extract_tar(data: bytes, dest: Path) -> None:
    """Extract a tar under `dest` with the "data" filter; raise ArchiveError if a member is unsafe."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveError(f"unsafe or broken archive: {exc}") from exc


def read_single_file(data: bytes, max_bytes: int) -> bytes | None:
    """The content of the one regular file in a tar (as `get_archive` returns), or None if the tar
    holds a link/directory/device, or the file is bigger than `max_bytes`."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            member = tar.next()
            if member is None or not member.isreg() or member.size > max_bytes:
                return None
            fh = tar.extractfile(member)
            return fh.read(max_bytes + 1)[:max_bytes] if fh is not None else None
    except tarfile.TarError:
        return None


def sanitize_tar(data: bytes, *, prefix: str = "", strip: str = "") -> tuple[bytes, Skipped]:
    """Re-pack any tar through `build_tar`'s rules, optionally moving it under `prefix` and removing
    a leading `strip` directory (as `get_archive("/work")` adds "work/"). Devices, FIFOs and hard
    links are dropped and reported; modes, owners and mtimes are reset."""
    base = "" if prefix in ("", ".") else check_relative_path(prefix)
    entries: list[FileEntry] = []
    skipped: Skipped = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                name = member.name
                if strip:
                    if name == strip or name == strip + "/":
                        continue
                    if name.startswith(strip + "/"):
                        name = name[len(strip) + 1 :]
                try:
                    rel = check_relative_path(name)
                except ArchiveError as exc:
                    skipped.append((name, str(exc)))
                    continue
                path = f"{base}/{rel}" if base else rel
                if member.isdir():
                    continue  # parents are recreated with the sandbox owner by build_tar
                if member.issym():
                    entries.append(FileEntry(path, b"", symlink_target=member.linkname))
                elif member.isreg():
                    fh = tar.extractfile(member)
                    content = fh.read() if fh is not None else b""
                    entries.append(FileEntry(path, content, bool(member.mode & 0o100)))
                else:
                    skipped.append((path, "not a regular file, directory or symlink"))
    except tarfile.TarError as exc:
        raise ArchiveError(f"broken archive: {exc}") from exc
    out, more = build_tar(entries)
    return out, skipped + more
