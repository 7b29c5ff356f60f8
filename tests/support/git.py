"""Real git repositories in temporary directories, and the one way tests run git.

git runs as a subprocess with an environment isolated from the machine's (no global or system
config, no inherited GIT_* variables, a fixed identity), so a test builds the same history on every
machine. A `GitRepo` also stamps its commits with deterministic dates.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import overload

NAME, EMAIL = "t", "t@example.com"
#: The instant a GitRepo's first commit is dated at; each later git call is one minute on.
EPOCH = 1_700_000_000


class GitFailed(AssertionError):
    """A git command a test relied on failed (the message has the command and git's stderr)."""


def git_env(tick: int | None = None) -> dict[str, str]:
    """The environment test git runs in: the machine's GIT_* variables and config files ignored,
    a fixed author and committer, and (with `tick`) commit dates `tick` minutes after EPOCH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME=NAME,
        GIT_AUTHOR_EMAIL=EMAIL,
        GIT_COMMITTER_NAME=NAME,
        GIT_COMMITTER_EMAIL=EMAIL,
    )
    if tick is not None:
        stamp = f"{EPOCH + 60 * tick} +0000"
        env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return env


def git(
    cwd: Path, *args: str | bytes, env: Mapping[str, str] | None = None, input: bytes | None = None
) -> str:
    """Run `git ARGS` in `cwd` and return its stdout, unstripped (bytes that are not UTF-8 come back
    as surrogate escapes). Arguments may be bytes, for file names that are not UTF-8."""
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        env=dict(env) if env is not None else git_env(),
        input=input,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        shown = " ".join(os.fsdecode(a) for a in args)
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise GitFailed(f"git {shown} failed in {cwd} ({done.returncode}): {stderr}")
    return done.stdout.decode("utf-8", "surrogateescape")


def rev(cwd: Path, name: str = "HEAD") -> str:
    """The full object name `name` resolves to in the repository at `cwd`."""
    return git(cwd, "rev-parse", name).strip()


class GitRepo:
    """A working tree with its git directory. `GitRepo(root)` opens one; `GitRepo.create(root)`
    makes a new empty repository on `main`. File edits are relative to the root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tick = 0

    @classmethod
    def create(cls, root: Path, branch: str = "main") -> GitRepo:
        root.mkdir(parents=True, exist_ok=True)
        repo = cls(root)
        repo.git("init", "-q", "-b", branch)
        return repo

    @property
    def path(self) -> Path:
        return self.root

    # -- git -----------------------------------------------------------------------------------
    def git(self, *args: str | bytes) -> str:
        self._tick += 1
        return git(self.root, *args, env=git_env(self._tick))

    def rev(self, name: str = "HEAD") -> str:
        return self.git("rev-parse", name).strip()

    def commit(self, files: Mapping[str, str | None] | None = None, message: str = "change") -> str:
        """Write `files` (None deletes), commit everything in the tree, return the commit's name."""
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.rev()

    def commit_all(self, message: str) -> str:
        return self.commit(None, message)

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def mv(self, old: str, new: str) -> None:
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def diff(self, base: str, head: str) -> str:
        """What a pull request from `head` into `base` shows (renames found)."""
        return self.git("diff", "--find-renames", f"{base}...{head}")

    # -- files ---------------------------------------------------------------------------------
    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    @overload
    def write(self, rel: str, text: str, /) -> None: ...
    @overload
    def write(self, files: Mapping[str, str | None], /) -> None: ...
    def write(self, target: str | Mapping[str, str | None], text: str | None = None, /) -> None:
        """Write one file (`rel`, `text`), or several (`{rel: text}`; a None text deletes the file)."""
        files = {target: text} if isinstance(target, str) else target
        for rel, content in files.items():
            path = self.root / rel
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        """Replace the one occurrence of `old` in `rel`; an edit that no longer applies fails loudly."""
        text = self.read(rel)
        count = text.count(old)
        if count != 1:
            raise AssertionError(f"{rel}: expected exactly one {old!r}, found {count}")
        self.write(rel, text.replace(old, new))

    def append(self, rel: str, text: str) -> None:
        self.write(rel, self.read(rel) + text)


def make_repo(
    path: Path, base: Mapping[str, str], head: Mapping[str, str] | None = None, *, commit_head: bool = True
) -> GitRepo:
    """A repository at `path` whose `main` has `base` and whose branch `feature` (checked out) has
    `head` on top: committed, or with `commit_head=False` left in the working tree."""
    repo = GitRepo.create(path)
    repo.commit(base, "base")
    repo.branch("feature")
    if head is not None:
        if commit_head:
            repo.commit(head, "change")
        else:
            repo.write(head)
    return repo
