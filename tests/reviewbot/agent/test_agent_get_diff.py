"""get_diff on the output of real `git diff --find-renames` in a tmp repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewbot.agent.get_diff import DiffView, GetDiff
from reviewbot.agent.repo_deps import RepoContext
from reviewbot.agent.tools import ToolContext, ToolErrorKind, ToolOutput, ToolRegistry
from reviewbot.core.diff import parse_diff
from tests.support.git import git


@pytest.fixture
def diff_repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "keep.py").write_text("".join(f"x{i} = {i}\n" for i in range(30)))
    (root / "gone.py").write_text("old = 1\n")
    (root / "moved_from.py").write_text("".join(f"line_{i} = {i}\n" for i in range(20)))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    lines = (root / "keep.py").read_text().splitlines(keepends=True)
    lines[2] = "x2 = 'changed'\n"
    lines[25] = "x25 = 'changed'\n"
    (root / "keep.py").write_text("".join(lines))
    (root / "gone.py").unlink()
    (root / "moved_from.py").rename(root / "moved to.py")
    (root / "new.py").write_text("def f():\n    return 1\n")
    git(root, "add", "-A")
    return root, git(root, "diff", "--cached", "--find-renames", "HEAD")


def get_diff(ctx_deps: RepoContext, **args: Any) -> ToolOutput:
    registry: ToolRegistry[RepoContext] = ToolRegistry([GetDiff()])
    return registry.call("get_diff", args, ToolContext(deps=ctx_deps))


def view(out: ToolOutput) -> DiffView:
    found = out.typed(DiffView)
    assert found is not None, out.text
    return found


def statuses(out: ToolOutput) -> list[tuple[str, str]]:
    assert out.ok, out.text
    return [(f.path, f.status) for f in view(out).files]


EXPECTED = [("gone.py", "deleted"), ("keep.py", "modified"), ("moved to.py", "renamed"), ("new.py", "added")]


def test_lists_files_from_the_text_alone(diff_repo: tuple[Path, str]) -> None:
    root, text = diff_repo
    out = get_diff(RepoContext(root=root, diff_text=text))
    assert sorted(statuses(out)) == EXPECTED
    assert "4 changed file(s)" in out.text and "deleted gone.py" in out.text
    assert text.strip() in out.text


@pytest.mark.parametrize("parsed", [True, False])
def test_lists_files_with_hunks(diff_repo: tuple[Path, str], parsed: bool) -> None:
    root, text = diff_repo
    out = get_diff(RepoContext(root=root, diff_text=text, diff=parse_diff(text) if parsed else None))
    assert sorted(statuses(out)) == EXPECTED
    keep = next(f for f in view(out).files if f.path == "keep.py")
    assert [h.added_lines for h in keep.hunks] == [(3,), (26,)]


@pytest.mark.parametrize("parsed", [False, True])
def test_one_file_returns_only_its_hunks(diff_repo: tuple[Path, str], parsed: bool) -> None:
    root, text = diff_repo
    deps = RepoContext(root=root, diff_text=text, diff=parse_diff(text) if parsed else None)
    out = get_diff(deps, path="keep.py")
    assert out.ok and out.text.startswith("modified keep.py\ndiff --git a/keep.py b/keep.py")
    assert "+x2 = 'changed'" in out.text and "+x25 = 'changed'" in out.text
    assert "new.py" not in out.text and "gone.py" not in out.text
    renamed = get_diff(deps, path="moved_from.py")  # the old path finds a renamed file too
    assert renamed.ok and renamed.text.startswith("renamed moved to.py")


def test_unknown_path_is_a_clear_error(diff_repo: tuple[Path, str]) -> None:
    root, text = diff_repo
    out = get_diff(RepoContext(root=root, diff_text=text), path="elsewhere.py")
    assert out.error is ToolErrorKind.FAILED
    assert "not part of the change" in out.text and "keep.py" in out.text


def test_empty_diff_and_size_cap(diff_repo: tuple[Path, str]) -> None:
    root, text = diff_repo
    assert get_diff(RepoContext(root=root)).text.startswith("0 changed file(s):\n(no changes)")
    out = ToolRegistry([GetDiff(max_chars=300)]).call(
        "get_diff", {}, ToolContext(deps=RepoContext(root=root, diff_text=text))
    )
    assert view(out).truncated is True
    assert len(view(out).diff) <= 300 and "truncated" in view(out).diff


def test_quoted_names_binary_and_mode_only_changes_from_the_text(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "tool.sh").write_text("echo hi\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    (root / "tool.sh").chmod(0o755)
    (root / "ünï.py").write_text("x = 1\n")
    (root / "with space.py").write_text("y = 2\n")
    (root / "logo.bin").write_bytes(b"\x00\x01\x02")
    (root / "ünï bin.dat").write_bytes(b"\x00\x03")
    git(root, "add", "-A")
    text = git(root, "diff", "--cached", "--find-renames", "HEAD")
    assert '"b/\\303\\274n\\303\\257.py"' in text  # git quoted it
    for parsed in (None, parse_diff(text)):
        deps = RepoContext(root=root, diff_text=text, diff=parsed)
        assert sorted(statuses(get_diff(deps))) == [
            ("logo.bin", "added"),
            ("tool.sh", "modified"),
            ("with space.py", "added"),
            ("ünï bin.dat", "added"),
            ("ünï.py", "added"),
        ]
        one = get_diff(deps, path="ünï.py")
        assert one.ok and "+x = 1" in one.text


def test_quoted_name_with_a_space_from_the_text(tmp_path: Path) -> None:
    # git writes `+++ "b/\303\274n\303\257 code.py"<TAB>`: quoted *and* tab-terminated.
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "ünï code.py").write_text("x = 1\n")
    git(root, "add", "-A")
    text = git(root, "diff", "--cached", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")  # the empty tree
    assert '+++ "b/\\303\\274n\\303\\257 code.py"\t' in text
    out = get_diff(RepoContext(root=root, diff_text=text), path="ünï code.py")
    assert out.ok and out.text.startswith("added ünï code.py")
