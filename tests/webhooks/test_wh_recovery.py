"""kill -9 a worker process mid-job; after a restart every job completes exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakes.github_server import FakeGitHub
from webhooks.jobs import ReviewJob
from webhooks.queue_sqlite import SqliteQueue

from .wh_gitserver import make_pr_repo, serve_git
from .wh_helpers import wait_until

PROC = Path(__file__).parent / "wh_worker_proc.py"


def _start(db: Path, api: str, jobs: Path, markers: Path, git: str, *, hold: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(PROC), str(db), api, str(jobs), str(markers), git] + (
        ["--hold"] if hold else []
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_kill_9_mid_job_then_restart_completes_every_job_once(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    db, jobs, markers = tmp_path / "jobs.sqlite3", tmp_path / "jobs", tmp_path / "markers"
    jobs.mkdir()
    markers.mkdir()
    queue = SqliteQueue(db)
    numbers = [pr.number + i for i in range(5)]  # five PRs: no supersede between them
    with FakeGitHub(pr.bare, full_name="octo/hello", token="tok") as gh, serve_git(tmp_path / "srv") as srv:
        for i, number in enumerate(numbers):
            gh.open_pull(number, pr.base_sha, pr.head_sha)
            queue.enqueue(
                ReviewJob(
                    delivery_id=f"d{i}",
                    trigger="pull_request",
                    repo_full_name="octo/hello",
                    pr_number=number,
                    head_sha=pr.head_sha,
                    base_sha=pr.base_sha,
                    base_ref="main",
                    installation_id=1,
                )
            )
        first = _start(db, gh.base_url, jobs, markers, srv.url(""), hold=True)
        try:
            wait_until(lambda: len(list(markers.iterdir())) == 2, timeout=60)  # two jobs mid-review
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert first.returncode == -signal.SIGKILL
        assert queue.stats().running == 2 and gh.reviews == []  # nothing posted, two leases orphaned

        second = _start(db, gh.base_url, jobs, markers, srv.url(""), hold=False)
        try:
            wait_until(lambda: queue.stats().done == 5, timeout=90)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(10)
    assert sorted(r["_pull"] for r in gh.reviews) == numbers  # every job posted exactly once
    attempts = sorted(queue.get(f"d{i}").attempts for i in range(5))  # type: ignore[union-attr]
    assert attempts == [1, 1, 1, 2, 2]  # the two killed mid-job ran again, the rest once
