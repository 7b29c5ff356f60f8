"""`reviewbot serve` for real: waitress in a subprocess, the production runner (clone over git
http-backend, `run_review` in the Docker sandbox, `publish_review` to the fake GitHub that
validates against GitHub's OpenAPI description)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.github_server import FakeGitHub

from .wh_gitserver import make_pr_repo, serve_git
from .wh_helpers import MAIN, SECRET, answers, deliver, free_port, pr_payload, start_reviewbot, wait_until


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeGitHub, object, str, Path]]:
    pr = make_pr_repo(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with FakeGitHub(pr.bare, full_name="octo/hello") as gh, serve_git(tmp_path / "srv") as srv:
        gh.open_pull(pr.number, pr.base_sha, pr.head_sha)
        proc = start_reviewbot(
            "serve",
            port,
            {
                "REVIEWBOT_WEBHOOK_SECRET": SECRET,
                "REVIEWBOT_DATA_DIR": str(tmp_path / "data"),
                "REVIEWBOT_GITHUB_TOKEN": gh.token,
                "REVIEWBOT_GITHUB_API_URL": gh.base_url,
                "REVIEWBOT_GIT_URL": srv.url(""),
                "REVIEWBOT_ANALYZERS__TESTS": "false",
            },
            log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers(url) or proc.poll() is not None, timeout=60)
            assert proc.poll() is None, log.read_text()
            yield url, gh, pr, srv.url("octo/hello.git"), log
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(40)
        assert code == 0, log.read_text()[-3000:]


@pytest.mark.docker
def test_reviewbot_serve_end_to_end(served: tuple[str, FakeGitHub, object, str, Path]) -> None:
    url, gh, pr, _git, log = served
    payload = pr_payload(
        repo="octo/hello",
        number=pr.number,  # type: ignore[attr-defined]
        head=pr.head_sha,  # type: ignore[attr-defined]
        base=pr.base_sha,  # type: ignore[attr-defined]
        # Payloads are data: the job clones from the configured git host (REVIEWBOT_GIT_URL), so a
        # clone_url pointing elsewhere is never contacted (and never sees the token).
        clone_url="https://attacker.invalid/steal.git",
    )
    with httpx.Client(timeout=30) as client:
        assert client.get(f"{url}/healthz").json()["queue"] == "ok"
        r = deliver(client, url, "pull_request", payload, delivery="e2e-1")
        assert r.status_code == 202, r.text
        assert (
            deliver(client, url, "pull_request", payload, delivery="e2e-1").json()["outcome"] == "duplicate"
        )
        assert deliver(client, url, "pull_request", payload, signature="sha256=00").status_code == 401

        # A chunked body without a length: the 25 MB cap holds too (waitress counts while buffering).
        def chunks() -> Iterator[bytes]:
            for _ in range(26):
                yield b"y" * (1024 * 1024)

        try:
            big = httpx.post(
                f"{url}/webhook", content=chunks(), headers={"X-GitHub-Event": "ping"}, timeout=30
            )
            assert big.status_code == 413
        except httpx.RemoteProtocolError:
            # The server answers 413 and closes without draining the rest (it must not read an
            # unbounded body), so the client may see the close before the answer.
            pass

        def finished() -> bool:
            text = client.get(f"{url}/metrics").text
            return 'reviewbot_jobs{state="done"} 1.0' in text or 'reviewbot_jobs{state="dead"} 1.0' in text

        wait_until(finished, timeout=300, interval=0.5)
        metrics = client.get(f"{url}/metrics").text
        assert 'reviewbot_jobs{state="done"} 1.0' in metrics, log.read_text()[-4000:]
        assert 'reviewbot_job_runs_total{outcome="done"} 1.0' in metrics
        posted = len(gh.writes(succeeded=True))
        assert posted > 0 and gh.issue_comments  # the sticky summary at least

        # A redelivered synchronize of the same head (a new delivery id): the job runs again and
        # posting converges — nothing new is said.
        r = deliver(client, url, "pull_request", {**payload, "action": "synchronize"}, delivery="e2e-2")
        assert r.status_code == 202
        wait_until(
            lambda: 'reviewbot_jobs{state="done"} 2.0' in client.get(f"{url}/metrics").text, timeout=300
        )
        assert len(gh.reviews) <= 1 and len(gh.issue_comments) == 1


@pytest.mark.docker
@pytest.mark.redis
def test_reviewbot_worker_runs_redis_jobs_end_to_end(tmp_path: Path) -> None:
    from webhooks.jobs import ReviewJob
    from webhooks.queue_redis import RedisQueue

    from .wh_helpers import RedisServer

    redis_server = RedisServer(free_port(), tmp_path)
    redis_server.start()
    pr = make_pr_repo(tmp_path)
    try:
        with FakeGitHub(pr.bare, full_name="octo/hello") as gh, serve_git(tmp_path / "srv") as srv:
            gh.open_pull(pr.number, pr.base_sha, pr.head_sha)
            q = RedisQueue(redis_server.url)
            for delivery, inst in (("w-1", 1), ("w-2", None)):
                q.enqueue(
                    ReviewJob(
                        delivery_id=delivery,
                        trigger="pull_request",
                        # w-2: a repository the git host does not have (and another PR: no supersede)
                        repo_full_name="octo/hello" if inst else "octo/missing",
                        pr_number=pr.number + (0 if inst else 1),
                        head_sha=pr.head_sha,
                        base_sha=pr.base_sha,
                        base_ref="main",
                        installation_id=inst,
                    )
                )
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": os.environ.get("HOME", "/root"),
                "PYTHONPATH": str(Path(__file__).parents[2]),
                "REVIEWBOT_QUEUE": redis_server.url,
                "REVIEWBOT_DATA_DIR": str(tmp_path / "data"),
                "REVIEWBOT_GITHUB_TOKEN": gh.token,
                "REVIEWBOT_GITHUB_API_URL": gh.base_url,
                "REVIEWBOT_GIT_URL": srv.url(""),
                "REVIEWBOT_ANALYZERS__TESTS": "false",
            }
            done = subprocess.run(
                [sys.executable, "-c", MAIN, "worker", "--burst"], env=env, capture_output=True, timeout=300
            )
            assert done.returncode == 0, done.stderr.decode()[-3000:]
            ok, refused = q.get("w-1"), q.get("w-2")
            assert ok is not None and ok.state == "done", done.stderr.decode()[-3000:]
            assert gh.issue_comments  # the review's summary was posted through the fake GitHub
            # A repository that is not there: permanent (no retries), dead-lettered with git's words.
            assert refused is not None and refused.state == "dead", refused
            assert "not found" in (refused.last_error or "") and refused.attempts == 1
    finally:
        redis_server.stop()
