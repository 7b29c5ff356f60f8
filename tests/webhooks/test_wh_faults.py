"""Probes 61 and 62 (docs/security.md): faults clean up.

- SIGTERM of `reviewbot serve` while a real review runs the PR's tests in a Docker sandbox: the
  process exits within its grace period, its sandbox containers are gone, the job is handed back
  to the queue (not lost, the attempt not counted), and a restarted `serve` completes it once.
- Clone directories left by a `kill -9` are swept when the next process starts.
- A data directory that cannot be written (a full disk) makes /healthz say 503 and why, and
  deliveries 503 — nothing is acknowledged that was not stored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from tests.fakes.github_server import FakeGitHub
from tests.support.git import git, rev
from webhooks.lifecycle import clone_prefix, sweep_stale_clones
from webhooks.queue import Queue
from webhooks.queue_redis import RedisQueue
from webhooks.queue_sqlite import SqliteQueue

from .wh_gitserver import make_pr_repo, serve_git
from .wh_helpers import SECRET, answers, deliver, free_port, pr_payload, start_reviewbot, wait_until

SLOW_TEST = "import time\n\ndef test_slow():\n    time.sleep(300)\n"


def _sandbox_owners() -> dict[str, int]:
    """Sandbox container id -> the pid of the process that owns it (this host's only)."""
    client = docker.from_env()
    try:
        found = client.containers.list(all=True, sparse=True, filters={"label": "reviewbot.sandbox=1"})
        owners = {c.id: (c.attrs.get("Labels") or {}).get("reviewbot.owner", "").split(":") for c in found}
    finally:
        client.close()
    return {cid: int(o[1]) for cid, o in owners.items() if len(o) == 3 and o[0] == socket.gethostname()}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _sandboxes_of(pids: set[int]) -> list[str]:
    return [cid for cid, pid in _sandbox_owners().items() if pid in pids]


def _push_slow_test(pr: object, tmp: Path) -> str:
    """The PR's head gains a test that sleeps 300 s: the review is mid-test when SIGTERM comes."""
    work = tmp / "slow-push"
    git(tmp, "clone", "-q", str(pr.bare), str(work))  # type: ignore[attr-defined]
    git(work, "checkout", "-q", pr.head_sha)  # type: ignore[attr-defined]
    (work / "test_slow.py").write_text(SLOW_TEST)
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "slow test")
    sha = rev(work)
    git(work, "push", "-q", "origin", f"HEAD:refs/pull/{pr.number}/head")  # type: ignore[attr-defined]
    return sha


class _Mode:
    """`serve` (SQLite queue, embedded pool) or `worker` (Redis queue, RQ work horse)."""

    def __init__(self, name: str, data: Path, redis_url: str | None) -> None:
        self.name, self.data, self.redis_url = name, data, redis_url
        self.queue: Queue = SqliteQueue(data / "jobs.sqlite3") if redis_url is None else RedisQueue(redis_url)

    def env(self) -> dict[str, str]:
        return {"REVIEWBOT_QUEUE": self.redis_url} if self.redis_url else {}

    def job(self, delivery: str) -> tuple[str, int, str | None]:
        rec = self.queue.get(delivery)
        assert rec is not None
        return rec.state, rec.attempts, rec.last_error


@pytest.fixture(params=["serve", pytest.param("worker", marks=pytest.mark.redis)])
def mode(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Mode]:
    redis_url = request.getfixturevalue("redis_server").url if request.param == "worker" else None
    m = _Mode(request.param, tmp_path / "data", redis_url)
    yield m
    m.queue.close()


@pytest.mark.docker
def test_sigterm_mid_review_hands_the_job_back_and_removes_the_sandboxes(tmp_path: Path, mode: _Mode) -> None:
    pr = make_pr_repo(tmp_path)
    head = _push_slow_test(pr, tmp_path)
    log = tmp_path / f"{mode.name}.log"
    with FakeGitHub(pr.bare, full_name="octo/hello") as gh, serve_git(tmp_path / "srv") as srv:
        gh.open_pull(pr.number, pr.base_sha, head)
        env = {
            "REVIEWBOT_WEBHOOK_SECRET": SECRET,
            "REVIEWBOT_DATA_DIR": str(mode.data),
            "REVIEWBOT_GITHUB_TOKEN": gh.token,
            "REVIEWBOT_GITHUB_API_URL": gh.base_url,
            "REVIEWBOT_GIT_URL": srv.url(""),
            "REVIEWBOT_WEBHOOK_WORKERS": "1",
            **mode.env(),
        }
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        receiver = start_reviewbot("serve", port, env, log, "--grace", "8", "--no-docker-check")
        proc = receiver if mode.name == "serve" else start_reviewbot("worker", None, env, log)
        owners: set[int] = set()
        try:
            wait_until(lambda: answers(url), timeout=60)
            payload = pr_payload(number=pr.number, head=head, base=pr.base_sha)
            with httpx.Client(timeout=10) as client:
                assert deliver(client, url, "pull_request", payload, delivery="term-1").status_code == 202

            def reviewing() -> bool:  # a sandbox of this process (or of its RQ work horse) exists
                mine = {p for p in _sandbox_owners().values() if proc.pid in (p, _parent(p))}
                owners.update(mine)
                return bool(mine)

            wait_until(reviewing, timeout=180, interval=0.5)
            time.sleep(3)  # the review is inside the sandbox, on its way to the PR's slow test
            assert mode.job("term-1")[0] == "running"
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(20)
            took = time.monotonic() - started
        finally:
            for p in {proc, receiver}:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(30)
        text = log.read_text()
        assert code == 0, text[-3000:]
        assert took < 12, f"shutdown took {took:.1f} s"  # inside Docker's 10 s stop timeout, nearly
        assert _sandboxes_of(owners) == [], text[-3000:]
        state, attempts, error = mode.job("term-1")
        assert (state, attempts) == ("queued", 0), (state, attempts, error)
        assert "handed back" in (error or "")
        assert gh.reviews == [] and gh.issue_comments == []  # nothing half-done was posted

        # Handed back, not lost: the next process (tests off this time, to be quick) completes it.
        env["REVIEWBOT_ANALYZERS__TESTS"] = "false"
        if mode.name == "serve":
            again = start_reviewbot("serve", port, env, log, "--no-docker-check")
        else:
            again = start_reviewbot("worker", None, env, log, "--burst")
        try:
            wait_until(lambda: mode.job("term-1")[0] == "done", timeout=240, interval=0.5)
        finally:
            if again.poll() is None:
                again.send_signal(signal.SIGTERM)
            again.wait(30)
        assert mode.job("term-1")[1] == 1, log.read_text()[-3000:]
        assert len(gh.issue_comments) == 1  # the sticky summary, posted once


def test_clone_directories_of_killed_processes_are_swept_at_start(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    dead = subprocess.Popen(["sleep", "60"])
    dead.kill()
    dead.wait()
    host = socket.gethostname()
    stale = work / f"reviewbot-pr.{host}.{dead.pid}.abc123"
    (stale / "repo").mkdir(parents=True)
    (stale / "repo" / "secret.py").write_text("x")
    live = work / f"reviewbot-pr.{host}.1.keep12"  # pid 1 is alive
    live.mkdir()
    mine = Path(f"{work}/{clone_prefix()}mine01")  # this process's own
    mine.mkdir()
    other_host = work / f"reviewbot-pr.another-host.{dead.pid}.keep34"  # a shared volume
    other_host.mkdir()
    unrelated = work / "notes"
    unrelated.mkdir()
    assert sweep_stale_clones(work) == 1
    assert not stale.exists()
    assert live.exists() and mine.exists() and other_host.exists() and unrelated.exists()


def test_serve_sweeps_stale_clones_at_start(tmp_path: Path) -> None:
    dead = subprocess.Popen(["sleep", "60"])
    dead.kill()
    dead.wait()
    stale = tmp_path / "data" / "work" / f"reviewbot-pr.{socket.gethostname()}.{dead.pid}.zz9999"
    (stale / "repo").mkdir(parents=True)
    port = free_port()
    env = {"REVIEWBOT_WEBHOOK_SECRET": SECRET, "REVIEWBOT_DATA_DIR": str(tmp_path / "data")}
    proc = start_reviewbot("serve", port, env, tmp_path / "serve.log", "--no-docker-check")
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}"), timeout=60)
        assert not stale.exists()
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a data directory on a disk that can fill up for real."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the disk-full probe (needs root): {done.stderr.decode()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_data_disk_makes_healthz_503_and_deliveries_503(tiny_disk: Path, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"REVIEWBOT_WEBHOOK_SECRET": SECRET, "REVIEWBOT_DATA_DIR": str(tiny_disk / "data")}
    proc = start_reviewbot("serve", port, env, tmp_path / "serve.log", "--no-docker-check")
    try:
        wait_until(lambda: answers(url), timeout=60)
        with httpx.Client(timeout=10) as client:
            health = client.get(f"{url}/healthz")
            assert health.status_code == 200 and health.json()["data_dir"] == "ok", health.text
            assert deliver(client, url, "pull_request", pr_payload(), delivery="before").status_code == 202
            filler = tiny_disk / "filler"
            # Fill the disk to the last byte.
            with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 4096)
            health = client.get(f"{url}/healthz")
            assert health.status_code == 503, health.text
            assert "No space left" in health.json()["data_dir"], health.json()
            r = deliver(client, url, "pull_request", pr_payload(number=8, head="e" * 40), delivery="full")
            assert r.status_code == 503, r.text
            filler.unlink()  # space again: healthy, and the delivery GitHub redelivers is stored
            assert client.get(f"{url}/healthz").status_code == 200
            r = deliver(client, url, "pull_request", pr_payload(number=8, head="e" * 40), delivery="full")
            assert r.status_code == 202, r.text
    finally:
        proc.terminate()
        proc.wait(30)
    os.sync()
