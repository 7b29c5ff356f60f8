"""Shared fixtures: a real git repository with a base branch and a PR branch, and the fake GitHub."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.github_server import FakeGitHub


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "user.name", "Dev")
        self.git("config", "commit.gpgsign", "false")

    @staticmethod
    def clone_shallow(source: Path, target: Path, branch: str) -> None:
        """What actions/checkout does by default: a depth-1 clone."""
        subprocess.run(
            ["git", "clone", "-q", "--depth", "1", "--branch", branch, source.as_uri(), str(target)],
            check=True,
            capture_output=True,
        )

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, check=True
        ).stdout

    def write(self, rel: str, text: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for rel, text in files.items():
            if text is None:
                self.git("rm", "-q", rel)
            else:
                self.write(rel, text)
                self.git("add", rel)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def diff(self, base: str, head: str) -> str:
        return self.git("diff", "--find-renames", f"{base}...{head}")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def fake_github(repo: GitRepo) -> Iterator[FakeGitHub]:
    with FakeGitHub(repo.path) as gh:
        yield gh
