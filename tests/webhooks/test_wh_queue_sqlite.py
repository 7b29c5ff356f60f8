"""The embedded SQLite queue and worker pool: what only this backend has (WAL, leases, the pool,
shutdown). The guarantees both backends give are tested once, in test_wh_queue_contract.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fakes.github_server import FakeGitHub
from webhooks.auth import StaticTokenProvider
from webhooks.jobs import ReviewJob
from webhooks.queue import RetryPolicy
from webhooks.queue_sqlite import SqliteQueue, WorkerPool
from webhooks.runner import CloneReviewPublishRunner

from .wh_gitserver import make_pr_repo, push_new_head, serve_git
from .wh_helpers import review_job as job
from .wh_helpers import wait_until
from .wh_runners import ScriptedRunner, clone_runner

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SqliteQueue]:
    q = SqliteQueue(tmp_path / "jobs.sqlite3", retry=FAST, lease_s=5)
    yield q
    q.close()


def run_pool(queue: SqliteQueue, runner: object, concurrency: int = 2) -> WorkerPool:
    pool = WorkerPool(queue, runner, concurrency=concurrency, poll_s=0.05)  # type: ignore[arg-type]
    pool.start()
    return pool


def test_enqueue_is_durable_and_deduplicated(tmp_path: Path, queue: SqliteQueue) -> None:
    assert queue.enqueue(job("d1")).status == "enqueued"
    assert queue.enqueue(job("d1")).status == "duplicate"
    # A second process (a fresh connection) sees the job: it is on disk, not in memory.
    other = SqliteQueue(tmp_path / "jobs.sqlite3")
    rec = other.get("d1")
    assert rec is not None and rec.state == "queued" and rec.job == job("d1")
    assert other.stats().queued == 1


def test_wal_mode(queue: SqliteQueue) -> None:
    assert queue._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_done_only_after_the_runner_returns(queue: SqliteQueue) -> None:
    runner = ScriptedRunner(hold_s=0.5)
    queue.enqueue(job("d1"))
    pool = run_pool(queue, runner)
    try:
        wait_until(lambda: queue.get("d1").state == "running")  # type: ignore[union-attr]
        assert queue.stats().done == 0
        wait_until(lambda: queue.get("d1").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert runner.calls == [("d1", 1)]


def test_running_job_of_an_older_head_is_cancelled(queue: SqliteQueue) -> None:
    runner = ScriptedRunner(hold_s=30)
    queue.enqueue(job("old", head="1" * 40))
    pool = run_pool(queue, runner, concurrency=1)
    try:
        wait_until(lambda: queue.get("old").state == "running")  # type: ignore[union-attr]
        assert queue.enqueue(job("new", head="2" * 40)).superseded == 1
        wait_until(lambda: queue.get("old").state == "superseded", timeout=10)  # type: ignore[union-attr]
        runner.hold_s = 0
        wait_until(lambda: queue.get("new").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()


def test_backoff_delays_grow_exponentially() -> None:
    import random

    policy = RetryPolicy(max_attempts=6, base_delay_s=5, max_delay_s=60)
    rng = random.Random(0)
    for attempt, expected in zip(range(1, 7), [5, 10, 20, 40, 60, 60], strict=True):
        assert expected <= policy.delay(attempt, rng) <= expected * 1.1
    assert policy.delays() == [5, 10, 20, 40, 60]


def test_concurrency_limit(queue: SqliteQueue) -> None:
    runner = ScriptedRunner(hold_s=0.3)
    for i in range(6):
        queue.enqueue(job(f"d{i}", pr=i + 1))
    pool = run_pool(queue, runner, concurrency=2)
    try:
        wait_until(lambda: queue.stats().done == 6)
    finally:
        pool.stop()
    assert runner.max_active == 2


def test_a_lapsed_lease_is_reclaimed_and_the_old_worker_cannot_finish(tmp_path: Path) -> None:
    now = [1000.0]
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST, lease_s=10, clock=lambda: now[0])
    q.enqueue(job("d1"))
    first = q.claim("worker-a")
    assert first is not None and first[1] == 1
    assert q.claim("worker-b") is None  # leased
    now[0] += 11  # worker-a stopped heartbeating (killed)
    second = q.claim("worker-b")
    assert second is not None and second[1] == 2
    assert q.finish("d1", "worker-a", "done") is False  # a zombie cannot overwrite
    assert q.finish("d1", "worker-b", "done") is True
    assert q.get("d1").state == "done"  # type: ignore[union-attr]


def test_a_job_that_keeps_killing_workers_ends_in_dead_letter(tmp_path: Path) -> None:
    now = [1000.0]
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST, lease_s=10, clock=lambda: now[0])
    q.enqueue(job("d1"))
    for _ in range(FAST.max_attempts):
        assert q.claim("w") is not None
        now[0] += 11
    assert q.claim("w") is None
    rec = q.get("d1")
    assert rec is not None and rec.state == "dead" and "worker died" in (rec.last_error or "")


def test_jobs_of_dead_local_processes_resume_at_once_on_start(tmp_path: Path) -> None:
    import socket
    import subprocess

    dead_pid = subprocess.Popen(["true"])  # a pid that has exited
    dead_pid.wait()
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST, lease_s=3600)  # the lease alone would take an hour
    q.enqueue(job("d1"))
    q.enqueue(job("d2", pr=2))
    assert q.claim(f"{socket.gethostname()}:{dead_pid.pid}:abcd") is not None
    assert q.claim(f"other-host:{dead_pid.pid}:abcd") is not None  # another machine's: untouched
    runner = ScriptedRunner()
    pool = run_pool(q, runner)
    try:
        wait_until(lambda: q.get("d1").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert runner.calls == [("d1", 2)]
    assert q.get("d2").state == "running"  # type: ignore[union-attr]


def test_heartbeat_keeps_a_long_job_leased(tmp_path: Path) -> None:
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST, lease_s=0.6)
    runner = ScriptedRunner(hold_s=2.0)  # three leases long
    q.enqueue(job("d1"))
    pool = run_pool(q, runner, concurrency=1)
    try:
        wait_until(lambda: q.get("d1").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert runner.calls == [("d1", 1)]  # never reclaimed mid-run


def test_prune_keeps_the_dedupe_window(tmp_path: Path) -> None:
    now = [1000.0]
    q = SqliteQueue(tmp_path / "j.sqlite3", clock=lambda: now[0])
    q.enqueue(job("d1"))
    claimed = q.claim("w")
    assert claimed is not None
    q.finish("d1", "w", "done")
    now[0] += 3 * 24 * 3600
    assert q.prune() == 0 and q.enqueue(job("d1")).status == "duplicate"
    now[0] += 6 * 24 * 3600
    assert q.prune() == 1


# -- with the real runner: git over HTTP, a fake GitHub, the token provider ----------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeGitHub, str, object]]:
    pr = make_pr_repo(tmp_path)
    with FakeGitHub(pr.bare, full_name="octo/hello", token="tok") as gh, serve_git(tmp_path / "srv") as srv:
        gh.open_pull(pr.number, pr.base_sha, pr.head_sha)
        yield gh, srv.url(""), pr  # the git host: <url>/octo/hello.git


def _clone_runner(tmp_path: Path, gh: FakeGitHub, git_url: str) -> CloneReviewPublishRunner[list[str]]:
    return clone_runner(
        StaticTokenProvider(SecretStr("tok"), gh.base_url), gh.base_url, tmp_path / "jobs", git_url
    )


def test_worker_clones_reviews_and_publishes_once(
    tmp_path: Path, world: tuple[FakeGitHub, str, object]
) -> None:
    gh, url, pr = world
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST)
    runner = _clone_runner(tmp_path, gh, url)
    q.enqueue(job("d1", head=pr.head_sha, base=pr.base_sha, pr=pr.number))  # type: ignore[attr-defined]
    pool = run_pool(q, runner)
    try:
        wait_until(lambda: q.get("d1").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert len(gh.reviews) == 1
    assert gh.reviews[0]["commit_id"] == pr.head_sha  # type: ignore[attr-defined]
    assert gh.reviews[0]["body"] == "files: app.py,hooks_bait.sh"
    assert list((tmp_path / "jobs").iterdir()) == []  # the clone was cleaned up


def test_github_5xx_on_publish_is_retried(tmp_path: Path, world: tuple[FakeGitHub, str, object]) -> None:
    gh, url, pr = world
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST)
    runner = _clone_runner(tmp_path, gh, url)
    gh.fail_next(1, 502)
    q.enqueue(job("d1", head=pr.head_sha, base=pr.base_sha, pr=pr.number))  # type: ignore[attr-defined]
    pool = run_pool(q, runner)
    try:
        wait_until(lambda: q.get("d1").state == "done")  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert q.get("d1").attempts == 2 and len(gh.reviews) == 1  # type: ignore[union-attr]


def test_new_push_supersedes_and_only_the_new_head_is_published(
    tmp_path: Path, world: tuple[FakeGitHub, str, object]
) -> None:
    gh, url, pr = world
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST)
    gate = threading.Event()
    tokens = StaticTokenProvider(SecretStr("tok"), gh.base_url)
    inner = clone_runner(tokens, gh.base_url, tmp_path / "jobs", url)
    from .wh_runners import diff_review

    def slow_review(root: Path, j: ReviewJob) -> list[str]:
        if j.delivery_id == "old":
            gate.wait(20)  # the old head is mid-review when the new push arrives
        return diff_review(root, j)

    inner.review = slow_review
    q.enqueue(job("old", head=pr.head_sha, base=pr.base_sha, pr=pr.number))  # type: ignore[attr-defined]
    pool = run_pool(q, inner, concurrency=2)
    try:
        wait_until(lambda: q.get("old").state == "running")  # type: ignore[union-attr]
        new_head = push_new_head(pr, tmp_path, "x = 1\n")  # type: ignore[arg-type]
        q.enqueue(job("new", head=new_head, base=pr.base_sha, pr=pr.number))  # type: ignore[attr-defined]
        wait_until(lambda: q.get("new").state == "done")  # type: ignore[union-attr]
        gate.set()
        wait_until(lambda: q.get("old").state == "superseded")  # type: ignore[union-attr]
    finally:
        gate.set()
        pool.stop()
    assert [r["commit_id"] for r in gh.reviews] == [new_head]


@pytest.mark.docker
def test_docker_engine_down_then_back_the_job_waits_and_retries(
    tmp_path: Path, world: tuple[FakeGitHub, str, object], docker_client: object
) -> None:
    """The real review (`run_review`, Docker sandbox) while the sandbox is unusable: the job is
    retried, not lost and not failed; once the sandbox is back it completes once."""
    from reviewbot.pipeline.run import ReviewOutcome, ReviewRequest, run_review
    from reviewbot.settings import load_settings
    from tests.conftest import SANDBOX_IMAGE

    gh, url, pr = world
    broken = load_settings(overrides={"sandbox": {"backend": "docker", "image": "reviewbot-gone:missing"}})
    working = load_settings(overrides={"sandbox": {"backend": "docker", "image": SANDBOX_IMAGE}})
    current = [broken]
    published: list[ReviewOutcome] = []

    def review(root: Path, j: ReviewJob) -> ReviewOutcome:
        outcome = run_review(
            ReviewRequest(root, base=j.base_sha, head=j.head_sha, untrusted=True), current[0]
        )
        return outcome

    def publish(outcome: ReviewOutcome, j: ReviewJob, tok: object) -> None:
        published.append(outcome)

    from webhooks.runner import CloneReviewPublishRunner

    runner = CloneReviewPublishRunner(
        StaticTokenProvider(SecretStr("tok"), gh.base_url),
        review,
        publish,
        git_url=url,
        work_dir=tmp_path / "jobs",
    )
    q = SqliteQueue(
        tmp_path / "j.sqlite3", retry=RetryPolicy(max_attempts=20, base_delay_s=0.2, max_delay_s=0.5)
    )
    q.enqueue(job("d1", head=pr.head_sha, base=pr.base_sha, pr=pr.number))  # type: ignore[attr-defined]
    pool = run_pool(q, runner)
    try:
        wait_until(lambda: (q.get("d1").attempts or 0) >= 2)  # type: ignore[union-attr]
        state = q.get("d1")
        assert state is not None and state.state != "dead" and not published
        current[0] = working  # the engine (here: the sandbox image) is back
        wait_until(lambda: q.get("d1").state == "done", timeout=120)  # type: ignore[union-attr]
    finally:
        pool.stop()
    assert len(published) == 1 and published[0].review.head == pr.head_sha  # type: ignore[attr-defined]


def test_shutdown_hands_running_jobs_back_without_counting_the_attempt(queue: SqliteQueue) -> None:
    runner = ScriptedRunner(hold_s=60)  # stops at its cancel check
    queue.enqueue(job("d1"))
    pool = run_pool(queue, runner, concurrency=1)
    wait_until(lambda: queue.get("d1").state == "running")  # type: ignore[union-attr]
    aborts: list[float] = []
    assert pool.shutdown(5, abort=lambda: aborts.append(time.monotonic())) == 1
    rec = queue.get("d1")
    assert rec is not None and (rec.state, rec.attempts) == ("queued", 0)
    assert "handed back" in (rec.last_error or "") and aborts  # the sandboxes were swept


def test_shutdown_hands_back_a_job_whose_runner_ignores_the_cancel(tmp_path: Path) -> None:
    q = SqliteQueue(tmp_path / "j.sqlite3", retry=FAST)
    stuck = threading.Event()

    class Stuck:
        def run(self, j: ReviewJob, ctx: object) -> None:
            stuck.wait(30)  # e.g. blocked in a call that does not look at the cancel flag

    q.enqueue(job("d1"))
    pool = run_pool(q, Stuck(), concurrency=1)
    wait_until(lambda: q.get("d1").state == "running")  # type: ignore[union-attr]
    started = time.monotonic()
    assert pool.shutdown(1.0) == 1
    assert time.monotonic() - started < 5  # the grace period bounds the wait
    assert q.get("d1").state == "queued"  # type: ignore[union-attr]
    stuck.set()
    wait_until(lambda: not any(t.is_alive() for t in pool._threads))
    # The late runner cannot overwrite the handed-back state.
    rec = q.get("d1")
    assert rec is not None and (rec.state, rec.attempts) == ("queued", 0)


def test_an_idle_pool_shuts_down_at_once_without_sweeping(queue: SqliteQueue) -> None:
    pool = run_pool(queue, ScriptedRunner())
    aborts: list[int] = []
    started = time.monotonic()
    assert pool.shutdown(5, abort=lambda: aborts.append(1)) == 0
    assert time.monotonic() - started < 3 and aborts == []
