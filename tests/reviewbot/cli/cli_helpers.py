"""The real `reviewbot` command as a subprocess, on real git repositories (process sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.git import make_repo as make_repo_at

ROOT = Path(__file__).resolve().parents[3]


def make_repo(path: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    """A repository on branch `feature` whose working tree has `head` on top of the `base` commit."""
    return make_repo_at(path, base, head, commit_head=False).root


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
