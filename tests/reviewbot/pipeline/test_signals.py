"""A SIGTERM'd review (a cancelled Actions job, `docker stop`) tears its sandbox down at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE
from tests.support.git import git

pytestmark = pytest.mark.docker

SLOW_TEST = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"


def test_sigterm_removes_the_sandbox_container_and_exits_143(docker_client: Any, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "lib.py").write_text("X = 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "tests" / "test_slow.py").write_text(SLOW_TEST)
    env = {
        **os.environ,
        "REVIEWBOT_SANDBOX__BACKEND": "docker",
        "REVIEWBOT_SANDBOX__IMAGE": SANDBOX_IMAGE,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reviewbot",
            "local",
            str(repo),
            "--format",
            "json",
            "-o",
            str(tmp_path / "r.json"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    owner = f":{proc.pid}:"

    def ours() -> list[dict[str, Any]]:
        found = docker_client.api.containers(all=True, filters={"label": "reviewbot.sandbox=1"})
        return [c for c in found if owner in (c.get("Labels") or {}).get("reviewbot.owner", "")]

    deadline = time.monotonic() + 60
    while not ours():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the review never started a sandbox"
        time.sleep(0.1)
    time.sleep(1.0)  # the slow test is running inside the container now
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert ours() == [], "the container outlived the SIGTERM'd review"
