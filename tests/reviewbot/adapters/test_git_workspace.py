"""GitWorkspace on real repositories built in tmp dirs, including hostile ones."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reviewbot.adapters.git.workspace import GitWorkspace
from reviewbot.core.diff import parse_diff
from reviewbot.errors import WorkspaceError
from tests.support.git import git

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The user's global git config must not change what these tests see.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "empty-gitconfig"))
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def write(repo: Path, rel: str | bytes, data: bytes | str, mode: int | None = None) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(repo), os.fsencode(rel))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def commit(repo: Path, message: str = "c") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(tmp_path: Path, branch: str = "main", name: str = "repo") -> Path:
    repo = tmp_path / name
    repo.mkdir()
    git(repo, "init", "-q", "-b", branch)
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main with two commits, then a feature branch with one more."""
    repo = make_repo(tmp_path)
    write(repo, "app.py", "import os\n\n\ndef f():\n    return 1\n")
    write(repo, "README.md", "hello\n")
    write(repo, ".gitignore", "*.log\nbuild/\n")
    commit(repo, "one")
    write(repo, "lib.py", "x = 1\n")
    commit(repo, "two")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "app.py", "import os\n\n\ndef f():\n    return 2\n")
    commit(repo, "feature work")
    return repo


def files_of(text: str) -> dict[str, str]:
    return {f.path: f.status for f in parse_diff(text).files}


# -- opening and resolving ---------------------------------------------------------------------


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(WorkspaceError, match="not a git repository"):
        GitWorkspace(tmp_path / "plain")
    with pytest.raises(WorkspaceError, match="no such directory"):
        GitWorkspace(tmp_path / "missing")


def test_subdirectory_opens_the_repository(repo: Path) -> None:
    (repo / "sub").mkdir()
    ws = GitWorkspace(repo / "sub")
    assert ws.root == repo.resolve()


@pytest.mark.parametrize("rev", ["HEAD", "main", "feature", "HEAD~1", "v1"])
def test_resolve(repo: Path, rev: str) -> None:
    git(repo, "tag", "-a", "v1", "-m", "annotated", "main")
    expected = git(repo, "rev-parse", f"{rev}^{{commit}}").strip()
    assert GitWorkspace(repo).resolve(rev) == expected


@pytest.mark.parametrize("rev", ["nope", "HEAD~99", "--output=/tmp/x", "", "a\nb", "HEAD:app.py"])
def test_resolve_bad_revision(repo: Path, rev: str) -> None:
    with pytest.raises(WorkspaceError, match="revision"):
        GitWorkspace(repo).resolve(rev)


def test_default_base_is_merge_base_with_main(repo: Path) -> None:
    main_sha = git(repo, "rev-parse", "main").strip()
    write(repo, "later.txt", "main moved on\n")
    git(repo, "checkout", "-q", "main")
    commit(repo, "main moves")
    git(repo, "checkout", "-q", "feature")
    assert GitWorkspace(repo).default_base() == main_sha


def test_default_base_master(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, branch="master")
    base = commit(repo, "root")
    git(repo, "checkout", "-q", "-b", "topic")
    write(repo, "x", "1\n")
    commit(repo)
    assert GitWorkspace(repo).default_base() == base


def test_default_base_prefers_origin_head(tmp_path: Path) -> None:
    upstream = make_repo(tmp_path, branch="trunk", name="upstream")
    write(upstream, "a", "1\n")
    first = commit(upstream, "first")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    git(clone, "checkout", "-q", "-b", "work")
    write(clone, "b", "2\n")
    commit(clone, "work")
    # a local "main" that is not the default branch must not win over origin/HEAD
    git(clone, "branch", "main", "work")
    assert GitWorkspace(clone).default_base() == first


def test_default_base_missing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, branch="trunk")
    with pytest.raises(WorkspaceError, match="no commits"):
        GitWorkspace(repo).default_base()
    commit(repo, "root")
    with pytest.raises(WorkspaceError, match="no default branch"):
        GitWorkspace(repo).default_base()


# -- diffs ------------------------------------------------------------------------------------


def test_diff_between_revisions(repo: Path) -> None:
    ws = GitWorkspace(repo)
    git(repo, "mv", "lib.py", "library.py")
    write(repo, "bin.dat", b"\x00\x01\x02")
    commit(repo, "more")
    text = ws.diff_text("main", "HEAD")
    assert files_of(text) == {"app.py": "modified", "library.py": "renamed", "bin.dat": "added"}
    change = parse_diff(text).file("app.py")
    assert change is not None and change.added_lines == frozenset({5})
    assert parse_diff(text).file("bin.dat").binary  # type: ignore[union-attr]


def test_diff_uses_three_lines_of_context_whatever_the_config(repo: Path) -> None:
    git(repo, "config", "diff.context", "0")
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "diff.external", "/bin/false")
    change = parse_diff(GitWorkspace(repo).diff_text("main", "feature")).file("app.py")
    assert change is not None
    assert change.head_lines == frozenset({2, 3, 4, 5})


def test_worktree_diff_sees_everything_but_ignored(repo: Path) -> None:
    write(repo, "app.py", "import os\n\n\ndef f():\n    return 3\n")  # unstaged edit
    write(repo, "staged.py", "s = 1\n")
    git(repo, "add", "staged.py")  # staged only
    write(repo, "untracked.py", "u = 1\n")
    write(repo, "debug.log", "ignored\n")
    write(repo, "build/out.py", "ignored = 1\n")
    (repo / "README.md").unlink()  # deleted, not staged
    text = GitWorkspace(repo).diff_text("main", None)
    assert files_of(text) == {
        "app.py": "modified",
        "staged.py": "added",
        "untracked.py": "added",
        "README.md": "deleted",
    }


def test_worktree_diff_detects_rename_to_untracked(repo: Path) -> None:
    os.rename(repo / "lib.py", repo / "renamed_lib.py")
    text = GitWorkspace(repo).diff_text("HEAD", None)
    change = parse_diff(text).file("renamed_lib.py")
    assert change is not None and change.status == "renamed" and change.old_path == "lib.py"


def loose_objects(repo: Path) -> set[str]:
    objects = repo / ".git" / "objects"
    return {str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file()}


def test_worktree_diff_never_writes_the_users_index_or_objects(repo: Path) -> None:
    write(repo, "app.py", "changed = True\n")
    write(repo, "new_untracked.py", "brand new content 12345\n")
    git(repo, "add", "app.py")
    write(repo, "app.py", "changed again = True\n")
    index = (repo / ".git" / "index").read_bytes()
    status = git(repo, "status", "--porcelain")
    objects = loose_objects(repo)
    text = GitWorkspace(repo).diff_text("main", None)
    assert "new_untracked.py" in files_of(text)
    assert "+changed again = True" in text
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain") == status
    assert loose_objects(repo) == objects


def test_worktree_diff_in_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(other), "main")
    write(other, "in_linked.py", "x = 1\n")
    ws = GitWorkspace(other)
    assert ws.root == other.resolve()
    assert files_of(ws.diff_text("HEAD", None)) == {"in_linked.py": "added"}


def test_worktree_diff_in_a_repository_without_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write(repo, "a.py", "a = 1\n")
    base = commit(repo, "root")
    (repo / ".git" / "index").unlink()  # e.g. after `git read-tree --empty`-like tooling
    write(repo, "b.py", "b = 1\n")
    assert files_of(GitWorkspace(repo).diff_text(base, None)) == {"b.py": "added"}


def test_non_utf8_paths_and_contents(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    write(repo, b"caf\xe9.txt", b"latin-1 name \xff\n")
    write(repo, "\u00e4rger.py", "x = 1\n")
    write(repo, "with space.py", "y = 1\n")
    base = commit(repo, "root")
    write(repo, b"caf\xe9.txt", b"latin-1 name \xff\nmore \xfe\n")
    write(repo, "\u00e4rger.py", "x = 2\n")
    write(repo, "with space.py", "y = 2\n")
    ws = GitWorkspace(repo)
    for head in (None, commit(repo, "head")):
        text = ws.diff_text(base, head)
        assert set(files_of(text)) == {"caf\udce9.txt", "\u00e4rger.py", "with space.py"}
        assert ws.read_at(head, "caf\udce9.txt") == b"latin-1 name \xff\nmore \xfe\n"
    assert ws.read_at(base, "caf\udce9.txt") == b"latin-1 name \xff\n"


def test_bare_repository(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    ws = GitWorkspace(bare)
    assert files_of(ws.diff_text("main", "feature")) == {"app.py": "modified"}
    assert ws.read_at("main", "lib.py") == b"x = 1\n"
    with pytest.raises(WorkspaceError, match="bare"):
        ws.diff_text("main", None)
    with pytest.raises(WorkspaceError, match="bare"):
        ws.all_files(None)


# -- reading files ----------------------------------------------------------------------------


def test_read_at(repo: Path) -> None:
    ws = GitWorkspace(repo)
    write(repo, "app.py", "worktree version\n")
    assert ws.read_at("main", "app.py") == b"import os\n\n\ndef f():\n    return 1\n"
    assert ws.read_at("feature", "app.py") == b"import os\n\n\ndef f():\n    return 2\n"
    assert ws.read_at(None, "app.py") == b"worktree version\n"
    assert ws.read_at("main", "missing.py") is None
    assert ws.read_at(None, "missing.py") is None
    assert ws.read_at("HEAD~2", "lib.py") is None  # did not exist yet


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "a/../../b", "", "a//b", "./a"])
def test_read_rejects_escaping_paths(repo: Path, path: str) -> None:
    with pytest.raises(WorkspaceError, match="invalid repository path"):
        GitWorkspace(repo).read_at(None, path)


def test_symlinks_are_reported_not_followed(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read\n")
    os.symlink(secret, repo / "link_out")
    os.symlink("app.py", repo / "link_in")
    outside_dir = tmp_path / "outside_dir"
    outside_dir.mkdir()
    (outside_dir / "f.txt").write_text("outside\n")
    os.symlink(outside_dir, repo / "dirlink")
    commit(repo, "links")
    ws = GitWorkspace(repo)
    for rev in (None, "HEAD"):
        assert ws.read_at(rev, "link_out") is None
        assert ws.read_at(rev, "link_in") is None
        entries = {e.path: e for e in ws.files_at(rev, ["link_out", "link_in", "app.py"])}
        assert entries["link_out"].symlink_target == str(secret)
        assert entries["link_in"].symlink_target == "app.py"
        assert entries["link_out"].data == b""
        assert entries["app.py"].symlink_target is None
    assert ws.read_at(None, "dirlink/f.txt") is None  # through a symlinked directory


def test_all_files_worktree_and_revision(repo: Path) -> None:
    write(repo, "run.sh", "#!/bin/sh\n", mode=0o755)
    commit(repo, "script")
    write(repo, "untracked.py", "u = 1\n")
    write(repo, "debug.log", "ignored\n")
    (repo / "README.md").unlink()
    ws = GitWorkspace(repo)
    worktree = {e.path: e for e in ws.all_files(None)}
    assert set(worktree) == {".gitignore", "app.py", "lib.py", "run.sh", "untracked.py"}
    assert worktree["run.sh"].executable and not worktree["app.py"].executable
    at_head = {e.path: e for e in ws.all_files("HEAD")}
    assert set(at_head) == {".gitignore", "app.py", "lib.py", "run.sh", "README.md"}
    assert at_head["run.sh"].executable and at_head["README.md"].data == b"hello\n"
    at_main = {e.path: e.data for e in ws.files_at("main", ["app.py", "nope.py", "README.md"])}
    assert at_main == {"app.py": b"import os\n\n\ndef f():\n    return 1\n", "README.md": b"hello\n"}


def test_many_files_in_one_batch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    for i in range(300):
        write(repo, f"pkg/m{i}.py", f"value = {i}\n" * (i % 7 + 1))
    write(repo, "pkg/empty.py", "")
    commit(repo, "many")
    files = {e.path: e.data for e in GitWorkspace(repo).all_files("HEAD")}
    assert len(files) == 301
    assert files["pkg/m123.py"] == b"value = 123\n" * (123 % 7 + 1)
    assert files["pkg/empty.py"] == b""


# -- hostile repositories -----------------------------------------------------------------------


def hostile(repo: Path, marker: Path) -> None:
    """fsmonitor, a hook and a filter driver that would each create `marker` if git ran them."""
    script = repo.parent / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n")
    script.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(script))
    git(repo, "config", "filter.evil.clean", str(script))
    git(repo, "config", "filter.evil.smudge", str(script))
    git(repo, "config", "filter.evil.required", "true")
    git(repo, "config", "diff.evil.textconv", str(script))
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-index-change", "pre-commit", "post-checkout"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / hook).chmod(0o755)
    write(repo, ".gitattributes", "*.py filter=evil diff=evil\n")


def test_hostile_config_runs_nothing(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    git(repo, "add", "-A")  # everything committed/staged before the trap is set
    hostile(repo, marker)
    write(repo, "app.py", "import os\n\n\ndef f():\n    return 42\n")
    write(repo, "new.py", "n = 1\n")
    ws = GitWorkspace(repo)
    base = ws.default_base()
    text = ws.diff_text(base, None)
    assert set(files_of(text)) >= {"app.py", "new.py", ".gitattributes"}
    assert "+    return 42" in text  # content unfiltered, no textconv
    ws.diff_text("main", "feature")
    ws.all_files(None)
    ws.all_files("HEAD")
    ws.read_at(None, "app.py")
    ws.resolve("HEAD")
    assert not marker.exists()
    # The trap is real: plain git in the same repository does run it.
    subprocess.run(["git", "status"], cwd=repo, capture_output=True, check=False)
    subprocess.run(["git", "add", "-A"], cwd=repo, capture_output=True, check=False)
    assert marker.exists()


def test_inherited_git_environment_is_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_repo(tmp_path, name="other")
    write(other, "other_only.py", "o = 1\n")
    commit(other, "other")
    # As if reviewbot were started from a git hook of another repository.
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "/bin/false")
    ws = GitWorkspace(repo)
    assert files_of(ws.diff_text("main", "feature")) == {"app.py": "modified"}
    write(repo, "mine.py", "m = 1\n")
    assert files_of(ws.diff_text("feature", None)) == {"mine.py": "added"}
    assert ws.read_at("HEAD", "other_only.py") is None


def test_git_failure_is_reported_with_its_reason(repo: Path) -> None:
    # A broken repository: git fails for a reason, and the error must give it rather than claim
    # that the revision does not exist.
    ws = GitWorkspace(repo)
    (repo / ".git" / "HEAD").write_text("garbage\n")
    with pytest.raises(WorkspaceError) as info:
        ws.resolve("HEAD")
    assert "unknown revision" not in str(info.value)
    assert "fatal:" in str(info.value)
