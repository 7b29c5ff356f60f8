"""The scale-out queue: jobs in Redis through RQ, run by `reviewbot worker` on any number of machines.

Same guarantees as the SQLite queue, built from RQ's parts:
- dedupe: the RQ job id *is* the delivery id (`unique=True`), and a `reviewbot:delivery:<id>` key
  (set only after the job is stored, kept for the redelivery window) survives the job's own TTLs;
- supersede: `reviewbot:pr:<repo#n>` names the newest job of a PR; enqueueing cancels the previous
  one if it is still waiting, and a running one sees, through `JobContext.cancelled`, that it is
  no longer the newest (and a retry of an old head that comes due stops before doing anything);
- retries: `rq.Retry` with our backoff delays (the worker runs RQ's scheduler); a
  `PermanentJobError` zeroes the retries left so RQ files the job straight into its failed
  registry — the dead letter — with the reason in `job.meta["reason"]`;
- at-least-once: a job killed mid-run is "abandoned" in RQ's started registry, and RQ's cleanup
  retries it while it has retries left.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any

import redis
from rq import Queue as RQQueue
from rq import Retry, Worker, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry
from rq.worker import BaseWorker

from webhooks.errors import JobSuperseded, PermanentJobError, QueueUnavailable
from webhooks.jobs import JobContext, ReviewJob, ReviewJobRunner
from webhooks.queue import EnqueueResult, JobRecord, JobState, QueueStats, RetryPolicy
from webhooks.queue_sqlite import DEDUPE_RETENTION_S, JobObserver

log = logging.getLogger(__name__)

QUEUE_NAME = "reviewbot"
_PR_KEY = "reviewbot:pr:{}"
_DELIVERY_KEY = "reviewbot:delivery:{}"
_SUPERSEDED = "reviewbot:superseded"

#: Set by the worker process before it starts working (`run_worker`); RQ calls `perform` by name.
_RUNNER: ReviewJobRunner | None = None
_OBSERVER: JobObserver | None = None


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30)


class RedisQueue:
    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        retry: RetryPolicy | None = None,
        job_timeout_s: int = 3600,
        name: str = QUEUE_NAME,
    ) -> None:
        self.redis = connect(url_or_client) if isinstance(url_or_client, str) else url_or_client
        self.retry = retry or RetryPolicy()
        self.job_timeout_s = job_timeout_s
        self.rq = RQQueue(name, connection=self.redis)

    def enqueue(self, job: ReviewJob) -> EnqueueResult:
        try:
            if self.redis.exists(_DELIVERY_KEY.format(job.delivery_id)):
                return EnqueueResult("duplicate")
            retry = None
            if self.retry.max_attempts > 1:
                retry = Retry(max=self.retry.max_attempts - 1, interval=self.retry.delays())
            try:
                self.rq.enqueue(
                    perform,
                    job.model_dump_json(),
                    job_id=job.delivery_id,
                    unique=True,
                    retry=retry,
                    job_timeout=self.job_timeout_s,
                    result_ttl=DEDUPE_RETENTION_S,
                    failure_ttl=30 * 24 * 3600,
                    meta={"attempts": 0, "pr_key": job.pr_key, "head_sha": job.head_sha},
                    description=f"review {job.pr_key} at {job.head_sha[:12]}",
                )
            except DuplicateJobError:
                return EnqueueResult("duplicate")
            self.redis.set(_DELIVERY_KEY.format(job.delivery_id), "1", ex=DEDUPE_RETENTION_S)
            latest = json.dumps({"id": job.delivery_id, "head": job.head_sha})
            previous = self.redis.set(_PR_KEY.format(job.pr_key), latest, get=True, ex=DEDUPE_RETENTION_S)
            return EnqueueResult("enqueued", superseded=self._supersede(previous, job))
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis: {exc}") from exc

    def _supersede(self, previous: Any, job: ReviewJob) -> int:
        if not previous:
            return 0
        old = json.loads(previous)
        if old["id"] == job.delivery_id:
            return 0
        try:
            old_job = Job.fetch(old["id"], connection=self.redis)
        except NoSuchJobError:
            return 0
        status = old_job.get_status()
        if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            old_job.cancel()
            self.redis.incr(_SUPERSEDED)
            return 1
        # A running job of another head notices through its cancel check.
        return 1 if status == JobStatus.STARTED and old["head"] != job.head_sha else 0

    def get(self, delivery_id: str) -> JobRecord | None:
        try:
            rq_job = Job.fetch(delivery_id, connection=self.redis)
        except NoSuchJobError:
            return None
        status = rq_job.get_status()
        meta = rq_job.get_meta()
        state: JobState
        if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            state = "queued"
        elif status == JobStatus.STARTED:
            state = "running"
        elif status == JobStatus.FINISHED:
            state = "superseded" if meta.get("outcome") == "superseded" else "done"
        elif status == JobStatus.CANCELED:
            state = "superseded"
        else:
            state = "dead"
        job = ReviewJob.model_validate_json(rq_job.args[0])
        return JobRecord(job, state, int(meta.get("attempts", 0)), meta.get("reason"))

    def stats(self) -> QueueStats:
        try:
            return QueueStats(
                queued=self.rq.count + ScheduledJobRegistry(queue=self.rq).count,  # type: ignore[no-untyped-call]
                running=self.rq.started_job_registry.count,
                done=FinishedJobRegistry(queue=self.rq).count,
                dead=FailedJobRegistry(queue=self.rq).count,
                superseded=int(self.redis.get(_SUPERSEDED) or 0),
            )
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis: {exc}") from exc

    def dead_letters(self) -> list[JobRecord]:
        out = []
        for job_id in FailedJobRegistry(queue=self.rq).get_job_ids():
            rec = self.get(job_id)
            if rec is not None:
                out.append(rec)
        return out

    def ping(self) -> None:
        try:
            self.redis.ping()
        except redis.RedisError as exc:
            raise QueueUnavailable(f"Redis: {exc}") from exc

    def close(self) -> None:
        self.redis.close()


def _is_superseded(conn: redis.Redis, job: ReviewJob) -> bool:
    raw = conn.get(_PR_KEY.format(job.pr_key))
    if not raw:
        return False
    latest = json.loads(raw)
    return bool(latest["id"] != job.delivery_id and latest["head"] != job.head_sha)


def perform(job_json: str) -> str:
    """The RQ job function. Returns the outcome; raises to make RQ retry or dead-letter it."""
    import time

    rq_job = get_current_job()
    if _RUNNER is None or rq_job is None:
        raise RuntimeError("perform() runs only inside `reviewbot worker` (no runner configured)")
    job = ReviewJob.model_validate_json(job_json)
    conn = rq_job.connection
    rq_job.meta["attempts"] = int(rq_job.meta.get("attempts", 0)) + 1
    rq_job.save_meta()  # type: ignore[no-untyped-call]
    attempt = rq_job.meta["attempts"]
    started = time.monotonic()

    def finish(outcome: str, reason: str | None = None) -> None:
        rq_job.meta["outcome"] = outcome
        if reason is not None:
            rq_job.meta["reason"] = reason
        rq_job.save_meta()  # type: ignore[no-untyped-call]
        if _OBSERVER is not None:
            _OBSERVER(outcome, time.monotonic() - started)

    if _is_superseded(conn, job):
        conn.incr(_SUPERSEDED)
        finish("superseded", "a newer head was enqueued before this one ran")
        return "superseded"
    try:
        _RUNNER.run(job, JobContext(attempt=attempt, cancelled=lambda: _is_superseded(conn, job)))
    except JobSuperseded as exc:
        conn.incr(_SUPERSEDED)
        finish("superseded", str(exc))
        return "superseded"
    except PermanentJobError as exc:
        rq_job.retries_left = 0  # RQ files it in the failed registry instead of retrying
        finish("dead", f"permanent: {exc}")
        raise
    except Exception as exc:
        last = not rq_job.retries_left
        reason = f"gave up after {attempt} attempts: {type(exc).__name__}: {exc}" if last else f"{exc}"
        finish("dead" if last else "retry", reason)
        raise
    finish("done")
    return "done"


class HandBackWorker(Worker):
    """RQ's forking worker, with a shutdown that fits `docker stop` (SIGTERM, then SIGKILL 10 s on).

    RQ's own warm shutdown waits for the running job to finish — a review can take half an hour —
    and the SIGKILL that follows leaves its sandbox containers running and counts an attempt. Here
    SIGTERM kills the work horse at once, removes the horse's sandbox containers, and puts the job
    back at the front of the queue with its attempt not counted: handed back, not lost."""

    _handing_back = False
    _dying_horse = 0

    def request_stop(self, signum: int, frame: Any) -> None:
        self._handing_back = True
        self._dying_horse = self.horse_pid
        if self._dying_horse:
            log.warning("SIGTERM: stopping the job in work horse %d and handing it back", self._dying_horse)
            self.kill_horse()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def unsubscribe(self) -> None:
        """RQ stops its pubsub thread with an unbounded join, which can wait out the thread's 60 s
        poll — past `docker stop`'s 10 s. The thread is a daemon: unsubscribe, wait 1 s, close."""
        if self.pubsub_thread:
            with contextlib.suppress(redis.RedisError):
                self.pubsub.unsubscribe()
            self.pubsub_thread.join(timeout=1)
            self.pubsub.close()

    def handle_job_failure(self, job: Job, queue: RQQueue, *args: Any, **kwargs: Any) -> None:
        if not self._handing_back:
            super().handle_job_failure(job, queue, *args, **kwargs)
            return
        from webhooks.lifecycle import remove_sandboxes_of

        removed = remove_sandboxes_of(self._dying_horse) if self._dying_horse else 0
        with self.connection.pipeline() as pipe:
            self.cleanup_execution(job, pipeline=pipe, execution=kwargs.get("execution"))
            pipe.execute()
        job.meta["attempts"] = max(0, int(job.get_meta().get("attempts", 1)) - 1)  # perform() counted it
        job.meta["reason"] = "handed back: the worker shut down mid-job"
        job.save_meta()  # type: ignore[no-untyped-call]
        queue.enqueue_job(job, at_front=True)
        log.info("job %s handed back to the queue; %d sandbox container(s) removed", job.id, removed)


def run_worker(
    url_or_client: str | redis.Redis,
    runner: ReviewJobRunner,
    *,
    burst: bool = False,
    observer: JobObserver | None = None,
    name: str = QUEUE_NAME,
    worker_class: type[BaseWorker] = HandBackWorker,
) -> bool:
    """Work the queue in this process (RQ forks a work horse per job). Returns whether any job ran."""
    global _RUNNER, _OBSERVER
    _RUNNER, _OBSERVER = runner, observer
    conn = connect(url_or_client) if isinstance(url_or_client, str) else url_or_client
    worker = worker_class([RQQueue(name, connection=conn)], connection=conn)
    return bool(worker.work(burst=burst, with_scheduler=True, logging_level="INFO"))
