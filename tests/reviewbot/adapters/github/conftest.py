"""Shared fixtures: a real git repository with a base branch and a PR branch, and the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.github_server import FakeGitHub
from tests.support import git as shared


class GitRepo(shared.GitRepo):
    """A new repository on `main` at `path`, its identity in its own config (for git that other
    code runs there)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        self.git("config", "commit.gpgsign", "false")

    @staticmethod
    def clone_shallow(source: Path, target: Path, branch: str) -> None:
        """What actions/checkout does by default: a depth-1 clone."""
        shared.git(source, "clone", "-q", "--depth", "1", "--branch", branch, source.as_uri(), str(target))


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def fake_github(repo: GitRepo) -> Iterator[FakeGitHub]:
    with FakeGitHub(repo.path) as gh:
        yield gh
