"""The real `reviewbot` command as a subprocess, on real git repositories (process sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def make_repo(path: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    """A repository on branch `feature` whose working tree has `head` on top of the `base` commit."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    write(path, base)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    git(path, "checkout", "-q", "-b", "feature")
    write(path, head)
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["REVIEWBOT_SANDBOX__BACKEND"] = "process"
    env.update(extra)
    return env


@dataclass
class Run:
    code: int
    out: str
    err: str


def reviewbot(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, python: tuple[str, ...] = ()
) -> Run:
    done = subprocess.run(
        [sys.executable, *python, "-m", "reviewbot", *args],
        cwd=cwd or ROOT,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)
