"""The Redis/RQ queue against a real redis-server started per test on a free loopback port: what only
this backend has. The guarantees both backends give are tested once, in test_wh_queue_contract.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from rq import SimpleWorker

from tests.fakes.github_server import FakeGitHub
from webhooks.app import create_app
from webhooks.auth import StaticTokenProvider
from webhooks.jobs import ReviewJobRunner
from webhooks.queue import RetryPolicy
from webhooks.queue_redis import RedisQueue, run_worker

from .wh_gitserver import make_pr_repo, serve_git
from .wh_helpers import RedisServer, deliver, pr_payload, serve_app, settings_for
from .wh_helpers import review_job as job
from .wh_runners import ScriptedRunner, clone_runner

pytestmark = pytest.mark.redis

NOW = RetryPolicy(max_attempts=3, base_delay_s=0)  # retry at once: burst workers do not wait


def burst(queue: RedisQueue, runner: ReviewJobRunner) -> None:
    run_worker(queue.redis, runner, burst=True, worker_class=SimpleWorker)


def test_dedupe_outlives_the_finished_job(redis_server: RedisServer) -> None:
    q = RedisQueue(redis_server.url, retry=NOW)
    q.enqueue(job("d1"))
    burst(q, ScriptedRunner())
    q.rq.connection.delete("rq:job:d1")  # even if RQ's own record is gone ...
    assert q.enqueue(job("d1")).status == "duplicate"  # ... a redelivery is recognised


def test_forking_worker_clones_and_publishes(tmp_path: Path, redis_server: RedisServer) -> None:
    pr = make_pr_repo(tmp_path)
    q = RedisQueue(redis_server.url, retry=NOW)
    with FakeGitHub(pr.bare, full_name="octo/hello", token="tok") as gh, serve_git(tmp_path / "srv") as srv:
        gh.open_pull(pr.number, pr.base_sha, pr.head_sha)
        runner = clone_runner(
            StaticTokenProvider(SecretStr("tok"), gh.base_url), gh.base_url, tmp_path / "jobs", srv.url("")
        )
        q.enqueue(job("d1", head=pr.head_sha, base=pr.base_sha, pr=pr.number))
        run_worker(redis_server.url, runner, burst=True)  # RQ's default Worker: a forked horse per job
    assert [r["commit_id"] for r in gh.reviews] == [pr.head_sha]
    assert q.get("d1").state == "done"  # type: ignore[union-attr]


def test_receiver_answers_503_while_redis_is_away_and_recovers(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    q = RedisQueue(redis_server.url, retry=NOW)
    app = create_app(settings_for(tmp_path), queue=q)
    with serve_app(app) as url, httpx.Client(timeout=30) as client:
        assert (
            deliver(client, url, "pull_request", pr_payload(head="1" * 40, base="2" * 40)).status_code == 202
        )
        redis_server.stop()
        r = deliver(
            client, url, "pull_request", pr_payload(head="3" * 40, base="2" * 40), delivery="while-down"
        )
        assert r.status_code == 503 and "queue unavailable" in r.json()["message"]
        assert client.get(f"{url}/healthz").status_code == 503
        redis_server.start()  # same port, empty (no persistence in tests)
        r = deliver(
            client, url, "pull_request", pr_payload(head="3" * 40, base="2" * 40), delivery="while-down"
        )
        assert r.status_code == 202  # GitHub's redelivery of the failed delivery now lands
        assert client.get(f"{url}/healthz").status_code == 200
    assert q.get("while-down") is not None


def test_kill_9_of_a_worker_mid_job_is_retried_by_rq_cleanup(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from .wh_helpers import wait_until

    q = RedisQueue(redis_server.url, retry=NOW)
    q.enqueue(job("d1"))
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "wh_rq_proc.py"), redis_server.url, str(marker)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # RQ forks a work horse: kill the whole group
    )
    try:
        wait_until(marker.exists, timeout=60)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert marker.read_text() == "d1 1"
    assert q.get("d1").state == "running"  # type: ignore[union-attr]  # orphaned in the started registry
    # RQ declares a job abandoned once its execution heartbeat lapses (a minute or more); its
    # cleanup then retries it. Run that cleanup as of an hour from now instead of waiting.
    q.rq.started_job_registry.cleanup(timestamp=time.time() + 3600)
    runner = ScriptedRunner()
    burst(q, runner)
    assert runner.calls == [("d1", 2)]
    assert q.get("d1").state == "done"  # type: ignore[union-attr]
