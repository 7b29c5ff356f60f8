"""The tar builder and extractor keep hostile trees from escaping or gaining privileges."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from sandbox.archive import (
    SANDBOX_UID,
    FileEntry,
    build_tar,
    extract_tar,
    read_single_file,
    tar_directory,
)
from sandbox.errors import ArchiveError


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_build_tar_sets_owner_modes_and_fixed_mtime() -> None:
    data, skipped = build_tar(
        [FileEntry("pkg/mod.py", b"x = 1\n"), FileEntry("run.sh", b"#!/bin/sh\n", True)]
    )
    assert skipped == []
    got = members(data)
    assert set(got) == {"pkg", "pkg/mod.py", "run.sh"}
    assert got["pkg"].isdir() and got["pkg"].mode == 0o755
    assert got["pkg/mod.py"].mode == 0o644 and got["run.sh"].mode == 0o755
    assert {(m.uid, m.gid) for m in got.values()} == {(SANDBOX_UID, SANDBOX_UID)}
    assert len({m.mtime for m in got.values()}) == 1
    # same input, same bytes
    assert (
        build_tar([FileEntry("pkg/mod.py", b"x = 1\n"), FileEntry("run.sh", b"#!/bin/sh\n", True)])[0] == data
    )


@pytest.mark.parametrize(
    ("target", "reason"),
    [("/etc/passwd", "absolute"), ("../../..", "escapes"), ("../x", "escapes"), ("a/../../x", "escapes")],
)
def test_escaping_and_absolute_symlinks_are_skipped_and_reported(target: str, reason: str) -> None:
    data, skipped = build_tar([FileEntry("link", b"", symlink_target=target), FileEntry("ok.py", b"")])
    assert [p for p, _ in skipped] == ["link"] and reason in skipped[0][1]
    assert set(members(data)) == {"ok.py"}


def test_inside_symlink_is_kept() -> None:
    data, skipped = build_tar([FileEntry("d/link", b"", symlink_target="../ok.py"), FileEntry("ok.py", b"")])
    assert skipped == []
    assert members(data)["d/link"].issym() and members(data)["d/link"].linkname == "../ok.py"


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../tmp/escape", "a/../../b", "", "a\x00b"])
def test_absolute_and_dotdot_paths_are_rejected(path: str) -> None:
    with pytest.raises(ArchiveError):
        build_tar([FileEntry(path, b"x")])


def test_tar_directory_skips_git_and_special_files_and_does_not_follow_links(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text("[core]\n\tfsmonitor = evil\n")
    (repo / "src").mkdir()
    (repo / "src" / "a.py").write_text("a = 1\n")
    (repo / "weird\nname .py").write_text("")
    (repo / "-leading.py").write_text("")
    os.symlink("/etc/passwd", repo / "passwd")
    os.symlink("../../..", repo / "up")
    os.symlink("loop", repo / "loop")  # self loop: must not hang
    os.symlink("src", repo / "srclink")  # link to a directory: packed as a link, not descended
    os.mkfifo(repo / "fifo")
    data, skipped = tar_directory(repo, max_files=100, max_bytes=10_000)
    names = set(members(data))
    assert "src/a.py" in names and "weird\nname .py" in names and "-leading.py" in names
    assert not any(n.startswith(".git") for n in names)
    assert members(data)["srclink"].issym() and "srclink/a.py" not in names
    assert members(data)["loop"].issym()
    assert {p for p, _ in skipped} == {"passwd", "up", "fifo"}


def test_tar_directory_refuses_huge_trees_before_upload(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}").write_bytes(b"x" * 10)
    with pytest.raises(ArchiveError, match="more than 3 files"):
        tar_directory(tmp_path, max_files=3, max_bytes=10_000)
    with pytest.raises(ArchiveError, match="more than 20 bytes"):
        tar_directory(tmp_path, max_files=100, max_bytes=20)


def _raw_tar(info: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize(
    "info",
    [
        tarfile.TarInfo("../../../../tmp/escape"),
        tarfile.TarInfo("dev"),
        tarfile.TarInfo("abslink"),
    ],
)
def test_extract_refuses_unsafe_members(tmp_path: Path, info: tarfile.TarInfo) -> None:
    if info.name == "dev":
        info.type = tarfile.CHRTYPE
    if info.name == "abslink":
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ArchiveError):
        extract_tar(_raw_tar(info), tmp_path / "out")
    assert not (tmp_path / "tmp").exists()


def test_extract_keeps_absolute_member_inside_dest(tmp_path: Path) -> None:
    extract_tar(_raw_tar(tarfile.TarInfo("/reviewbot-abs-probe"), b"x"), tmp_path)
    assert (tmp_path / "reviewbot-abs-probe").read_bytes() == b"x"
    assert not Path("/reviewbot-abs-probe").exists()


def test_extract_strips_setuid(tmp_path: Path) -> None:
    info = tarfile.TarInfo("suid")
    info.mode = 0o4755
    extract_tar(_raw_tar(info, b"x"), tmp_path)
    assert not (tmp_path / "suid").stat().st_mode & 0o4000


def test_read_single_file_caps_and_refuses_links() -> None:
    assert read_single_file(_raw_tar(tarfile.TarInfo("f"), b"hello"), 10) == b"hello"
    assert read_single_file(_raw_tar(tarfile.TarInfo("f"), b"hello"), 3) is None
    link = tarfile.TarInfo("l")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    assert read_single_file(_raw_tar(link), 100) is None
