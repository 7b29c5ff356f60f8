"""Regenerate the diff samples in this folder from real git runs.

    python tests/data/diffs/make_samples.py

Each case builds a fresh repository in a temp dir, commits a base, changes it, commits a head and
saves `git diff --find-renames` between them byte for byte as `<case>.diff`. The samples are
committed so the parser tests need no git; this script documents where each one came from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
DIFF = ["diff", "--find-renames", "--no-color", "--no-ext-diff", "--no-textconv"]


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True).stdout


def write(repo: Path, rel: str | bytes, data: bytes) -> None:
    path = Path(os.fsdecode(os.path.join(os.fsencode(repo), os.fsencode(rel))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def move(repo: Path, src: str, dst: str) -> None:
    (repo / dst).parent.mkdir(parents=True, exist_ok=True)
    git(repo, "mv", src, dst)


def remove(repo: Path, rel: str | bytes) -> None:
    os.unlink(os.path.join(os.fsencode(repo), os.fsencode(rel)))


LINES = b"".join(b"line %d\n" % i for i in range(1, 41))
PY = b"".join(b"def f%d():\n    return %d\n\n\n" % (i, i) for i in range(1, 16))
PNG = bytes(range(256)) * 4


Builder = Callable[[Path, bool], None]


def case(name: str, extra: tuple[str, ...] = (), quote: bool = True) -> Callable[[Builder], Builder]:
    """`build(repo, head)` writes the base tree (head=False) then changes it (head=True)."""

    def register(build: Builder) -> Builder:
        CASES[name] = (build, extra, quote)
        return build

    return register


CASES: dict[str, tuple[Builder, tuple[str, ...], bool]] = {}


@case("modified_hunks")
def _modified(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "src/app.py", PY)
        return
    text = PY.replace(b"    return 2\n", b"    x = 2\n    return x\n")
    text = text.replace(b"def f12():\n", b"def f12(arg):\n")
    write(repo, "src/app.py", text + b"def tail():\n    pass\n")


@case("rename_pure")
def _rename_pure(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "old/name.py", PY)
        return
    move(repo, "old/name.py", "new/name.py")


@case("rename_edit")
def _rename_edit(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "pkg/before.py", PY)
        return
    move(repo, "pkg/before.py", "pkg/after.py")
    write(repo, "pkg/after.py", PY.replace(b"return 7\n", b"return 7 + 0\n"))


@case("copy", extra=("--find-copies-harder",))
def _copy(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "orig.py", PY)
        return
    write(repo, "copied.py", PY.replace(b"return 3\n", b"return 33\n"))
    write(repo, "exact_copy.py", PY)


@case("deleted")
def _deleted(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "gone.py", b"a = 1\nb = 2\n")
        write(repo, "keep.txt", b"keep\n")
        return
    remove(repo, "gone.py")


@case("added")
def _added(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "README", b"hello\n")
        return
    write(repo, "pkg/new_module.py", b"import os\n\n\ndef g():\n    return os.sep\n")


@case("binary_modified")
def _binary_modified(repo: Path, head: bool) -> None:
    write(repo, "img/logo.png", PNG if not head else PNG[::-1])


@case("binary_git_patch", extra=("--binary",))
def _binary_patch(repo: Path, head: bool) -> None:
    if head:
        write(repo, "data/blob.bin", PNG)
        write(repo, "data/notes.txt", b"text after a binary patch\n")
    else:
        write(repo, "README", b"x\n")


@case("mode_only")
def _mode_only(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "run.sh", b"#!/bin/sh\necho hi\n")
        return
    os.chmod(repo / "run.sh", 0o755)


@case("mode_and_content")
def _mode_and_content(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "tool.py", b"print(1)\n")
        return
    write(repo, "tool.py", b"#!/usr/bin/env python3\nprint(1)\n")
    os.chmod(repo / "tool.py", 0o755)


@case("no_newline_eof")
def _no_newline(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "drop_eol.txt", b"one\ntwo\nthree\n")
        write(repo, "add_eol.txt", b"one\ntwo")
        write(repo, "edit_last.txt", b"alpha\nbeta")
        return
    write(repo, "drop_eol.txt", b"one\ntwo\nthree")
    write(repo, "add_eol.txt", b"one\ntwo\n")
    write(repo, "edit_last.txt", b"alpha\ngamma")


@case("non_utf8_content")
def _latin1(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "legacy.py", b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nx = 1\n")
        return
    write(repo, "legacy.py", b"# -*- coding: latin-1 -*-\nname = 'na\xefve \xff'\nx = 1\ny = '\xe9'\n")


@case("non_utf8_paths_unquoted", quote=False)
@case("non_utf8_paths")
def _paths(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "docs/\xe4rger.txt", b"utf-8 name\n")
        write(repo, b"latin/\xe4.txt", b"latin-1 name\n")
        return
    write(repo, "docs/\xe4rger.txt", b"utf-8 name\nchanged\n")
    write(repo, b"latin/\xe4.txt", b"latin-1 name\nchanged\n")
    write(repo, "new/\u65e5\u672c.py", b"x = 1\n")
    write(repo, "tab\there.txt", b"tab\n")
    write(repo, 'quote"and\\slash.txt', b"q\n")


@case("paths_with_spaces")
def _spaces(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "my dir/my file.py", b"a = 1\n")
        write(repo, "x b/y", b"tricky\n")
        write(repo, "pic ture.png", PNG)
        write(repo, "will move.txt", PY)
        return
    write(repo, "my dir/my file.py", b"a = 1\nb = 2\n")
    write(repo, "x b/y", b"tricky\nmore\n")
    write(repo, "pic ture.png", PNG[::-1])
    write(repo, "brand new.txt", b"n\n")
    move(repo, "will move.txt", "moved here.txt")


@case("empty_files")
def _empty(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "becomes_empty.txt", b"content\n")
        write(repo, "was_empty.txt", b"")
        return
    write(repo, "empty_new", b"")
    write(repo, "becomes_empty.txt", b"")
    write(repo, "was_empty.txt", b"now filled\n")


@case("empty_deleted")
def _empty_deleted(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "empty_gone", b"")
        write(repo, "other.txt", b"o\n")
        return
    remove(repo, "empty_gone")


@case("empty_renamed")
def _empty_renamed(repo: Path, head: bool) -> None:
    # git pairs an empty file deleted with an empty file added as a 100% rename.
    if not head:
        write(repo, "empty_old", b"")
        return
    remove(repo, "empty_old")
    write(repo, "empty_new", b"")


@case("symlinks")
def _symlinks(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "target.txt", b"t\n")
        os.symlink("target.txt", repo / "link")
        return
    os.unlink(repo / "link")
    os.symlink("elsewhere.txt", repo / "link")
    os.symlink("target.txt", repo / "new_link")


@case("line_traps")
def _traps(repo: Path, head: bool) -> None:
    # Removed "-- x" lines print as "--- x", added "++ y" as "+++ y"; "\r", "\x0b", U+2028 and
    # form feeds inside lines must not split them.
    if not head:
        write(repo, "q.sql", b"-- a comment\nSELECT 1;\n-- another\n")
        write(repo, "crlf.txt", b"one\r\ntwo\r\nthree\r\n")
        return
    write(repo, "q.sql", b"++ plus\nSELECT 1;\ndiff --git a/x b/x\n")
    write(repo, "crlf.txt", b"one\r\ntwo \rmid\x0bvt\xe2\x80\xa8ls\x0cff\r\nthree\r\n")


@case("many_files")
def _many(repo: Path, head: bool) -> None:
    if not head:
        write(repo, "a.py", LINES)
        write(repo, "b.py", PY)
        write(repo, "c.txt", b"c\n")
        return
    write(repo, "a.py", LINES.replace(b"line 5\n", b"line five\n").replace(b"line 30\n", b""))
    move(repo, "b.py", "lib/b.py")
    remove(repo, "c.txt")
    write(repo, "d.bin", b"\x00\x01\x02")
    write(repo, "e.py", b"print('e')\n")


@case("empty")
def _none(repo: Path, head: bool) -> None:
    write(repo, "same.txt", b"same\n")


def build(name: str, workdir: Path) -> bytes:
    builder, extra, quote = CASES[name]
    repo = workdir / name
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    builder(repo, False)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "base")
    builder(repo, True)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "head")
    return git(repo, "-c", f"core.quotePath={str(quote).lower()}", *DIFF, *extra, "HEAD~1", "HEAD")


def main(argv: list[str]) -> int:
    names = argv or sorted(CASES)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            data = build(name, Path(tmp))
            (HERE / f"{name}.diff").write_bytes(data)
            print(f"{name}.diff: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
