"""Real git repositories in temporary directories, built from a corpus slice.

Git runs as a subprocess with a config isolated from the machine's (no global/system config, fixed
identity and dates), so a scenario builds the same history on every machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"
#: Files of a corpus directory that describe the slice but are not part of the project.
NOT_PROJECT = frozenset({"PROVENANCE.md"})


def git_env(tick: int = 0) -> dict[str, str]:
    """A git environment that ignores the machine's config and stamps commits deterministically."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    stamp = f"{1_700_000_000 + 60 * tick} +0000"
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Corpus Author",
        GIT_AUTHOR_EMAIL="author@example.invalid",
        GIT_COMMITTER_NAME="Corpus Author",
        GIT_COMMITTER_EMAIL="author@example.invalid",
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
    )
    return env


class Repo:
    """A working tree plus its git directory. Edits are exact, checked text replacements."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tick = 0

    # -- git -----------------------------------------------------------------------------------
    def git(self, *args: str) -> str:
        self._tick += 1
        done = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
            cwd=self.root,
            env=git_env(self._tick),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.rev("HEAD")

    def rev(self, name: str) -> str:
        return self.git("rev-parse", name).strip()

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def mv(self, old: str, new: str) -> None:
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    # -- files ---------------------------------------------------------------------------------
    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        """Replace the one occurrence of `old` in `rel`; a seed that no longer applies fails loudly."""
        text = self.read(rel)
        count = text.count(old)
        if count != 1:
            raise AssertionError(f"{rel}: expected exactly one {old!r}, found {count}")
        self.write(rel, text.replace(old, new))

    def append(self, rel: str, text: str) -> None:
        self.write(rel, self.read(rel) + text)


def init_from_corpus(name: str, dest: Path) -> Repo:
    """Copy corpus slice `name` to `dest`, `git init -b main` and commit it as the first revision."""
    source = CORPUS_DIR / name
    if not source.is_dir():
        raise FileNotFoundError(f"no corpus slice {name!r} under {CORPUS_DIR}")
    shutil.copytree(
        source,
        dest,
        ignore=shutil.ignore_patterns(
            *NOT_PROJECT, "__pycache__", ".pytest_cache", ".ruff_cache", ".benchmarks"
        ),
    )
    repo = Repo(dest)
    repo.git("init", "-q", "-b", "main")
    repo.commit_all(f"Import {name} (corpus slice)")
    return repo


@contextmanager
def exported(repo: Repo, rev: str | None, dest: Path) -> Iterator[Path]:
    """A plain copy of `rev` (None = the working tree as it is, untracked files included) at `dest`,
    so checks can run tools there without leaving caches or files in the scenario repository."""
    if rev is None:
        shutil.copytree(repo.root, dest, ignore=shutil.ignore_patterns(".git"))
    else:
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", rev],
            cwd=repo.root,
            env=git_env(),
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    try:
        yield dest
    finally:
        shutil.rmtree(dest, ignore_errors=True)
