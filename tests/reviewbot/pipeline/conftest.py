"""Real git repositories in tmp dirs (tests.support.git), and the CLI run in-process against them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli.main import main
from tests.support.git import GitRepo
from tests.support.git import make_repo as make_repo_at

#: A tiny library, its tests (one already failing at any base), and a module with old lint noise.
LIB = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
TESTS = (
    "from lib import add, sub\n\n\n"
    "def test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_sub():\n    assert sub(3, 1) == 2\n\n\n"
    "def test_already_broken():\n    assert sub(1, 1) == 5\n"
)
NOISY = "import os\n\n\ndef helper():\n    return 1\n"


#: The repositories these tests review (tests.support.git's, named Repo here).
Repo = GitRepo


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, str]], Repo]:
    """A repository with `files` committed on `main`, and the branch `feature` checked out."""

    def make(files: dict[str, str]) -> Repo:
        return make_repo_at(tmp_path / "repo", files)

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
