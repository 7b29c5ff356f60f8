"""read_file's jail, on real files and symlinks in tmp dirs."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from reviewbot.agent.fsjail import open_file_in_root, read_capped
from reviewbot.agent.read_file import FileExcerpt, ReadFile
from reviewbot.agent.repo_deps import RepoContext
from reviewbot.agent.tools import ToolContext, ToolErrorKind, ToolOutput, ToolRegistry
from reviewbot.errors import ToolError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("".join(f"line {i}\n" for i in range(1, 11)), encoding="utf-8")
    (root / "README.md").write_text("# hello\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n")
    # Outside the root: a sibling directory, and one whose name shares the root's prefix.
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key.txt").write_text("TOP SECRET\n")
    (tmp_path / "repo-evil").mkdir()
    (tmp_path / "repo-evil" / "x.txt").write_text("TOP SECRET\n")
    return root


def read(root: Path, tool: ReadFile | None = None, **args: Any) -> ToolOutput:
    registry: ToolRegistry[RepoContext] = ToolRegistry([tool or ReadFile()])
    return registry.call("read_file", args, ToolContext(deps=RepoContext(root=root)))


def refused(out: ToolOutput, fragment: str) -> None:
    assert not out.ok, out.text
    assert out.error is ToolErrorKind.FAILED
    assert fragment in out.text
    assert "TOP SECRET" not in out.text and "c2VjcmV0" not in out.text


def test_reads_numbered_lines(repo: Path) -> None:
    out = read(repo, path="pkg/mod.py")
    assert out.ok
    assert out.text.splitlines()[0] == "pkg/mod.py lines 1-10 of 10"
    assert out.text.splitlines()[1] == " 1| line 1"
    assert out.text.splitlines()[-1] == "10| line 10"
    excerpt = out.typed(FileExcerpt)
    assert excerpt is not None and excerpt.total_lines == 10


def test_line_range(repo: Path) -> None:
    out = read(repo, path="pkg/mod.py", start_line=3, end_line=5)
    assert out.text.splitlines()[1:] == ["3| line 3", "4| line 4", "5| line 5"]
    tail = read(repo, path="pkg/mod.py", start_line=9, end_line=500)
    assert tail.ok and tail.text.splitlines()[0] == "pkg/mod.py lines 9-10 of 10"
    past = read(repo, path="pkg/mod.py", start_line=11)
    assert not past.ok and "has 10 lines" in past.text
    backwards = read(repo, path="pkg/mod.py", start_line=5, end_line=2)
    assert backwards.error is ToolErrorKind.INVALID_ARGS and "end_line precedes start_line" in backwards.text


def test_long_files_are_cut_to_max_lines_with_a_note(repo: Path) -> None:
    (repo / "long.py").write_text("x = 1\n" * 50)
    out = read(repo, ReadFile(max_lines=20), path="long.py", start_line=11)
    assert out.ok and out.text.splitlines()[0].startswith("long.py lines 11-30 of 50 (truncated to 20 lines")


@pytest.mark.parametrize("path", ["../secrets/key.txt", "pkg/../../secrets/key.txt", "pkg/../README.md"])
def test_dotdot_is_refused(repo: Path, path: str) -> None:
    refused(read(repo, path=path), "contains '..'")


def test_absolute_paths_are_refused_even_inside_the_root(repo: Path) -> None:
    refused(read(repo, path="/etc/passwd"), "is absolute")
    refused(read(repo, path=str(repo / "README.md")), "is absolute")


def test_symlink_to_etc_passwd_is_refused(repo: Path) -> None:
    (repo / "passwd").symlink_to("/etc/passwd")
    refused(read(repo, path="passwd"), "resolves outside the repository")


def test_symlink_to_a_sibling_directory_is_refused(repo: Path) -> None:
    (repo / "leak").symlink_to("../secrets", target_is_directory=True)
    refused(read(repo, path="leak/key.txt"), "resolves outside the repository")


def test_symlink_to_a_sibling_sharing_the_roots_name_prefix_is_refused(repo: Path) -> None:
    # A string prefix check ("/tmp/x/repo-evil".startswith("/tmp/x/repo")) would let this through.
    (repo / "evil").symlink_to(repo.parent / "repo-evil" / "x.txt")
    refused(read(repo, path="evil"), "resolves outside the repository")


def test_symlinks_that_stay_inside_the_root_are_followed(repo: Path) -> None:
    (repo / "alias.py").symlink_to("pkg/mod.py")
    (repo / "pkglink").symlink_to("pkg", target_is_directory=True)
    assert read(repo, path="alias.py", start_line=2, end_line=2).text.endswith("2| line 2")
    assert read(repo, path="pkglink/mod.py", start_line=1, end_line=1).text.endswith("1| line 1")


def test_a_root_reached_through_a_symlink_still_works(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "checkout").symlink_to(repo, target_is_directory=True)
    assert read(tmp_path / "checkout", path="README.md").ok
    refused(read(tmp_path / "checkout", path="../secrets/key.txt"), "contains '..'")


def test_vcs_directory_is_refused(repo: Path) -> None:
    refused(read(repo, path=".git/config"), "version-control directory")
    (repo / "cfg").symlink_to(".git/config")
    refused(read(repo, path="cfg"), "version-control directory")


def test_binary_file_is_refused(repo: Path) -> None:
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    refused(read(repo, path="logo.png"), "binary file")


def test_huge_file_is_refused(repo: Path) -> None:
    (repo / "big.txt").write_text("a" * 5000)
    refused(read(repo, ReadFile(max_bytes=4096), path="big.txt"), "larger than 4096 bytes")
    assert read(repo, ReadFile(max_bytes=5000), path="big.txt").ok


def test_directories_fifos_and_missing_files_are_refused_without_hanging(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    refused(read(repo, path="pipe"), "not a regular file")
    refused(read(repo, path="pkg"), "is a directory")
    refused(read(repo, path="nope.py"), "does not exist")
    refused(read(repo, path=""), "empty path")
    refused(read(repo, path="."), "repository root")


def test_non_utf8_and_empty_files(repo: Path) -> None:
    (repo / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    out = read(repo, path="latin1.txt")
    assert out.ok and "caf\ufffd" in out.text
    (repo / "empty.py").write_text("")
    assert read(repo, path="empty.py").text == "empty.py is empty"


def test_swapping_a_directory_for_a_symlink_mid_read_never_leaks(repo: Path) -> None:
    # A PR can not race us in practice (the checkout is ours), but the open must not depend on
    # that: each component is opened with O_NOFOLLOW after the realpath check, so a directory
    # swapped for an escaping symlink in between makes the open fail instead of follow.
    (repo / "d").mkdir()
    (repo / "d" / "key.txt").write_text("inside\n")
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            os.rename(repo / "d", repo / "d.real")
            os.symlink(repo.parent / "secrets", repo / "d")
            os.unlink(repo / "d")
            os.rename(repo / "d.real", repo / "d")

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes = set()
    try:
        for _ in range(2000):
            try:
                fd = open_file_in_root(repo, "d/key.txt")
            except ToolError:
                outcomes.add("refused")
                continue
            data = read_capped(fd, 1000)
            assert data == b"inside\n"
            outcomes.add("read")
    finally:
        stop.set()
        flipper.join()
    assert "read" in outcomes or "refused" in outcomes
