"""Real git repositories in tmp dirs, and the CLI run in-process against them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli.main import main

#: A tiny library, its tests (one already failing at any base), and a module with old lint noise.
LIB = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
TESTS = (
    "from lib import add, sub\n\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_sub():\n    assert sub(3, 1) == 2\n\n\n"
    "def test_already_broken():\n    assert sub(1, 1) == 5\n"
)
NOISY = "import os\n\n\ndef helper():\n    return 1\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@dataclass
class Repo:
    path: Path

    def write(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    def commit(self, files: dict[str, str], message: str = "change") -> str:
        self.write(files)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)
        return git(self.path, "rev-parse", "HEAD").strip()

    def git(self, *args: str) -> str:
        return git(self.path, *args)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, str]], Repo]:
    def make(files: dict[str, str]) -> Repo:
        path = tmp_path / "repo"
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
        repo = Repo(path)
        repo.commit(files, "base")
        git(path, "checkout", "-q", "-b", "feature")
        return repo

    return make


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    report: dict[str, Any] | None


@pytest.fixture
def review(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Callable[..., CliResult]:
    """Run `reviewbot local REPO --format json` in-process with the process sandbox backend."""
    monkeypatch.setenv("REVIEWBOT_SANDBOX__BACKEND", "process")
    for name in ("REVIEWBOT_FAIL_ON", "REVIEWBOT_SCOPE"):
        monkeypatch.delenv(name, raising=False)

    def run(repo: Repo | Path, *extra: str, fmt: str = "json") -> CliResult:
        out_file = tmp_path / f"report.{fmt}"
        out_file.unlink(missing_ok=True)
        path = repo.path if isinstance(repo, Repo) else repo
        code = main(["local", str(path), "--quiet", "--format", fmt, "--output", str(out_file), *extra])
        captured = capsys.readouterr()
        report = json.loads(out_file.read_text()) if fmt in ("json", "sarif") and out_file.exists() else None
        if fmt not in ("json", "sarif") and out_file.exists():
            captured = type(captured)(out_file.read_text(), captured.err)
        return CliResult(code, captured.out, captured.err, report)

    return run
