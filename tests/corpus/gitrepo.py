"""Real git repositories in temporary directories, built from a corpus slice (git itself and the
`Repo` class are tests.support.git's: isolated config, fixed identity and dates)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.git import GitRepo, git_env

#: A scenario's repository (the shared one; named Repo here for the scenarios and benchmarks).
Repo = GitRepo

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"
#: Files of a corpus directory that describe the slice but are not part of the project.
NOT_PROJECT = frozenset({"PROVENANCE.md"})


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
