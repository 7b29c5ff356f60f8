"""The `Queue` contract (webhooks/queue.py), one set of tests run against both backends: the
embedded SQLite queue with its worker pool, and Redis/RQ against a real redis-server with a burst
worker. What only one backend has (WAL, leases, RQ's registries) is tested in
test_wh_queue_sqlite.py and test_wh_queue_redis.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError
from rq import SimpleWorker

from webhooks.errors import JobSuperseded, PermanentJobError, RetryableJobError
from webhooks.jobs import JobContext, ReviewJob, ReviewJobRunner
from webhooks.queue import Queue, RetryPolicy
from webhooks.queue_sqlite import SqliteQueue, WorkerPool

from .wh_helpers import review_job as job
from .wh_helpers import wait_until
from .wh_runners import ScriptedRunner

RETRY_AT_ONCE = RetryPolicy(max_attempts=3, base_delay_s=0)


@dataclass
class Backend:
    queue: Queue
    drain: Callable[[ReviewJobRunner], None]  # run every job there is (retries included), then return
    dead: Callable[[], list[str]]  # delivery ids in the dead letter


def _sqlite(tmp: Path) -> Backend:
    q = SqliteQueue(tmp / "jobs.sqlite3", retry=RETRY_AT_ONCE)

    def drain(runner: ReviewJobRunner) -> None:
        pool = WorkerPool(q, runner, concurrency=1, poll_s=0.02)
        pool.start()
        try:
            wait_until(lambda: q.stats().queued == 0 and q.stats().running == 0, timeout=30)
        finally:
            pool.stop()

    return Backend(q, drain, lambda: [r.job.delivery_id for r in q.by_state("dead")])


def _redis(url: str) -> Backend:
    from webhooks.queue_redis import RedisQueue, run_worker

    q = RedisQueue(url, retry=RETRY_AT_ONCE)

    def drain(runner: ReviewJobRunner) -> None:
        # run_worker's hint says rq.Worker; SimpleWorker (no fork) is its rq.BaseWorker sibling
        run_worker(q.redis, runner, burst=True, worker_class=SimpleWorker)

    return Backend(q, drain, lambda: [r.job.delivery_id for r in q.dead_letters()])


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = _redis(request.getfixturevalue("redis_server").url) if request.param == "redis" else _sqlite(tmp_path)
    yield b
    b.queue.close()


def test_enqueue_stores_the_job_and_dedupes_on_the_delivery_id(backend: Backend) -> None:
    q = backend.queue
    assert q.enqueue(job("d1")).status == "enqueued"
    assert q.enqueue(job("d1")).status == "duplicate"
    rec = q.get("d1")
    assert rec is not None and rec.state == "queued" and rec.job == job("d1")
    assert q.stats().queued == 1 and q.get("nope") is None


def test_a_delivery_id_no_backend_accepts_is_refused_before_any_queue(backend: Backend) -> None:
    for bad in ("a.b", "a:b", "a/b", "x" * 101, ""):
        with pytest.raises(ValidationError):
            job(bad)
    assert backend.queue.stats().queued == 0


def test_transient_failures_are_retried_then_done(backend: Backend) -> None:
    runner = ScriptedRunner([RetryableJobError("GitHub 502"), RetryableJobError("Docker down")])
    backend.queue.enqueue(job("d1"))
    backend.drain(runner)
    assert runner.calls == [("d1", 1), ("d1", 2), ("d1", 3)]
    rec = backend.queue.get("d1")
    assert rec is not None and (rec.state, rec.attempts) == ("done", 3)


def test_a_permanent_failure_is_dead_lettered_at_once_with_the_reason(backend: Backend) -> None:
    runner = ScriptedRunner([PermanentJobError("installation 9 was removed")])
    backend.queue.enqueue(job("d1"))
    backend.drain(runner)
    assert runner.calls == [("d1", 1)]
    rec = backend.queue.get("d1")
    assert rec is not None and (rec.state, rec.last_error) == (
        "dead",
        "permanent: installation 9 was removed",
    )
    assert backend.dead() == ["d1"] and backend.queue.stats().dead == 1


def test_exhausted_retries_are_dead_lettered(backend: Backend) -> None:
    runner = ScriptedRunner([RuntimeError("boom")] * 3)
    backend.queue.enqueue(job("d1"))
    backend.drain(runner)
    assert len(runner.calls) == 3
    rec = backend.queue.get("d1")
    assert rec is not None and rec.state == "dead"
    assert rec.last_error == "gave up after 3 attempts: RuntimeError: boom"


def test_a_newer_push_supersedes_the_queued_older_head_only_of_its_pr(backend: Backend) -> None:
    q = backend.queue
    q.enqueue(job("old", head="1" * 40))
    q.enqueue(job("other-pr", head="1" * 40, pr=2))
    assert q.enqueue(job("new", head="2" * 40)).superseded == 1
    runner = ScriptedRunner()
    backend.drain(runner)
    assert sorted(d for d, _ in runner.calls) == ["new", "other-pr"]
    states = {d: q.get(d).state for d in ("old", "new", "other-pr")}  # type: ignore[union-attr]
    assert states == {"old": "superseded", "new": "done", "other-pr": "done"}


def test_a_running_older_head_sees_the_cancel(backend: Backend) -> None:
    q = backend.queue
    seen: list[bool] = []

    class PushMidRun:
        def run(self, j: ReviewJob, ctx: JobContext) -> None:
            if j.delivery_id == "old":
                assert not ctx.cancelled()
                q.enqueue(job("new", head="2" * 40))  # a push lands while the old head is reviewed
                seen.append(ctx.cancelled())
                raise JobSuperseded("newer head")

    q.enqueue(job("old", head="1" * 40))
    backend.drain(PushMidRun())
    assert seen == [True]
    assert q.get("old").state == "superseded" and q.get("new").state == "done"  # type: ignore[union-attr]
