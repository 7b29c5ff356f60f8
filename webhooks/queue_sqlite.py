"""The embedded queue: one SQLite file in WAL mode, and a worker pool of threads in the same process.

Why leases rather than "reset running rows at start": several processes may share the file (two
`serve` processes on one data directory, a `serve` next to a crashed one). A claimed job carries
`lease_until`; a heartbeat thread extends the leases of the jobs its pool holds. A worker killed with
`kill -9` stops heartbeating, its lease lapses, and any pool claims the job again — after a restart
or right away in another process. Completion checks that this worker still holds the lease, so a
worker that was paused past its lease cannot overwrite the state another worker has set. On
SIGTERM the pool hands its running jobs back at once instead (`WorkerPool.shutdown`).

`synchronous=FULL`: an acknowledged job survives power loss, not only a process crash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from webhooks.errors import JobSuperseded, PermanentJobError, QueueUnavailable, RetryableJobError
from webhooks.jobs import JobContext, ReviewJob, ReviewJobRunner
from webhooks.queue import EnqueueResult, JobRecord, JobState, QueueStats, RetryPolicy

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    pr_key      TEXT NOT NULL,
    head_sha    TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    run_after   REAL NOT NULL,
    lease_until REAL,
    worker      TEXT,
    cancel      INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs(state, run_after);
CREATE INDEX IF NOT EXISTS jobs_pr ON jobs(pr_key, state);
"""

#: Redeliveries are possible for 3 days (7 on GHES): keep finished rows at least that long for dedupe.
DEDUPE_RETENTION_S = 8 * 24 * 3600


class SqliteQueue:
    """Durable job store. Safe to share between threads and processes (one connection per thread)."""

    def __init__(
        self,
        path: Path,
        *,
        retry: RetryPolicy | None = None,
        lease_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.retry = retry or RetryPolicy()
        self.lease_s = lease_s
        self._clock = clock
        self._local = threading.local()
        self._wakeup = threading.Condition()
        # Writers of this process queue on a lock that wakes the next one at once; left to
        # SQLite's busy handler they would sleep in steps of up to 100 ms (the ack tail latency).
        self._write_lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._tx() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):  # executescript would COMMIT early
                db.execute(statement)

    # -- connection handling -------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) != os.getpid():
            db = None  # inherited across a fork: SQLite connections must not be shared
        if db is None:
            try:
                db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise QueueUnavailable(f"cannot open the job database {self.path}: {exc}") from exc
            self._local.db = db
            self._local.pid = os.getpid()
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: take the write lock up front so read-then-write cannot deadlock."""
        db = self._conn()
        with self._write_lock:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise QueueUnavailable(f"job database error: {exc}") from exc

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[Any, ...] | None:
        """One row, with the statement run to completion: a half-read cursor would keep a read
        transaction open and pin this connection to an old snapshot (it would never see a cancel)."""
        rows = self._conn().execute(sql, args).fetchall()
        return tuple(rows[0]) if rows else None

    # -- Queue port ----------------------------------------------------------------------------
    def enqueue(self, job: ReviewJob) -> EnqueueResult:
        now = self._clock()
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO jobs (id, pr_key, head_sha, payload, state, run_after, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                (job.delivery_id, job.pr_key, job.head_sha, job.model_dump_json(), now, now, now),
            )
            if cur.rowcount == 0:
                return EnqueueResult("duplicate")
            queued = db.execute(
                "UPDATE jobs SET state='superseded', last_error=?, updated_at=? "
                "WHERE pr_key=? AND state='queued' AND id<>?",
                (f"superseded by {job.delivery_id} ({job.head_sha[:12]})", now, job.pr_key, job.delivery_id),
            ).rowcount
            running = db.execute(
                "UPDATE jobs SET cancel=1, updated_at=? WHERE pr_key=? AND state='running' AND head_sha<>?",
                (now, job.pr_key, job.head_sha),
            ).rowcount
        with self._wakeup:
            self._wakeup.notify()
        return EnqueueResult("enqueued", superseded=queued + running)

    def get(self, delivery_id: str) -> JobRecord | None:
        row = self._one("SELECT payload, state, attempts, last_error FROM jobs WHERE id=?", (delivery_id,))
        if row is None:
            return None
        return JobRecord(ReviewJob.model_validate_json(row[0]), row[1], row[2], row[3])

    def by_state(self, state: JobState) -> list[JobRecord]:
        rows = (
            self._conn()
            .execute(
                "SELECT payload, state, attempts, last_error FROM jobs WHERE state=? ORDER BY created_at",
                (state,),
            )
            .fetchall()
        )
        return [JobRecord(ReviewJob.model_validate_json(p), s, a, e) for p, s, a, e in rows]

    def stats(self) -> QueueStats:
        try:
            rows = dict(self._conn().execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"job database error: {exc}") from exc
        return QueueStats(
            queued=rows.get("queued", 0),
            running=rows.get("running", 0),
            done=rows.get("done", 0),
            dead=rows.get("dead", 0),
            superseded=rows.get("superseded", 0),
        )

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise QueueUnavailable(f"job database error: {exc}") from exc

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- worker side ---------------------------------------------------------------------------
    def claim(self, worker: str) -> tuple[ReviewJob, int] | None:
        """Take the oldest ready job, or one whose worker's lease lapsed. Returns (job, attempt)."""
        now = self._clock()
        with self._tx() as db:
            rows = db.execute(
                "UPDATE jobs SET state='running', attempts=attempts+1, lease_until=?, worker=?, updated_at=? "
                "WHERE id = (SELECT id FROM jobs WHERE (state='queued' AND run_after<=?) "
                "            OR (state='running' AND lease_until<?) ORDER BY created_at LIMIT 1) "
                "RETURNING id, payload, attempts",
                (now + self.lease_s, worker, now, now, now),
            ).fetchall()
            if not rows:
                return None
            job_id, payload, attempts = rows[0]
            if attempts > self.retry.max_attempts:
                # Only reachable when workers died holding it: it may be what kills them.
                db.execute(
                    "UPDATE jobs SET state='dead', lease_until=NULL, updated_at=?, "
                    "last_error=COALESCE(last_error || '; ', '') || ? WHERE id=?",
                    (now, f"gave up: {attempts - 1} attempts, the last worker died mid-job", job_id),
                )
                return None
        return ReviewJob.model_validate_json(payload), attempts

    def wait_for_work(self, timeout: float) -> None:
        with self._wakeup:
            self._wakeup.wait(timeout)

    def is_cancelled(self, job_id: str, worker: str) -> bool:
        row = self._one("SELECT cancel, state, worker FROM jobs WHERE id=?", (job_id,))
        return row is None or bool(row[0]) or row[1] != "running" or row[2] != worker

    def heartbeat(self, worker: str) -> int:
        now = self._clock()
        with self._tx() as db:
            return db.execute(
                "UPDATE jobs SET lease_until=? WHERE worker=? AND state='running'",
                (now + self.lease_s, worker),
            ).rowcount

    def finish(
        self, job_id: str, worker: str, state: JobState, error: str | None = None, delay: float = 0
    ) -> bool:
        """Record how a run ended; False if this worker no longer holds the job (lease lost)."""
        now = self._clock()
        with self._tx() as db:
            return (
                db.execute(
                    "UPDATE jobs SET state=?, last_error=?, run_after=?, lease_until=NULL, updated_at=? "
                    "WHERE id=? AND worker=? AND state='running'",
                    (state, error, now + delay, now, job_id, worker),
                ).rowcount
                == 1
            )

    def hand_back(self, worker: str, job_id: str | None = None) -> int:
        """Return this worker's running job(s) to the queue, ready now, the attempt not counted:
        a shutdown is not the job's fault. Returns how many were handed back."""
        now = self._clock()
        with self._tx() as db:
            return db.execute(
                "UPDATE jobs SET state='queued', attempts=MAX(attempts-1, 0), run_after=?, lease_until=NULL,"
                " worker=NULL, updated_at=?, last_error=? "
                "WHERE worker=? AND state='running' AND (? IS NULL OR id=?)",
                (now, now, "handed back: the worker shut down mid-job", worker, job_id, job_id),
            ).rowcount

    def expire_dead_local_leases(self, hostname: str) -> int:
        """Release at once the jobs held by processes of this host that no longer exist.

        A restart on the same machine then resumes a killed worker's jobs immediately instead of
        after the lease. (A reused pid just falls back to waiting for the lease.)"""
        rows = (
            self._conn()
            .execute(
                "SELECT id, worker FROM jobs WHERE state='running' AND worker LIKE ?", (f"{hostname}:%",)
            )
            .fetchall()
        )
        dead = [job_id for job_id, worker in rows if not _alive(int(worker.split(":")[1]))]
        if dead:
            with self._tx() as db:
                db.executemany(
                    "UPDATE jobs SET lease_until=0 WHERE id=? AND state='running'", [(d,) for d in dead]
                )
        return len(dead)

    def prune(self, older_than_s: float = DEDUPE_RETENTION_S) -> int:
        cutoff = self._clock() - older_than_s
        with self._tx() as db:
            return db.execute(
                "DELETE FROM jobs WHERE state IN ('done','superseded') AND updated_at<?", (cutoff,)
            ).rowcount


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    # A killed worker whose parent died too may linger as a zombie until init reaps it.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


JobObserver = Callable[[str, float], None]
"""Called with (outcome, seconds) after each run: done, retry, dead, superseded, lost."""


class WorkerPool:
    """`concurrency` threads claiming jobs from a SqliteQueue and handing them to the runner."""

    def __init__(
        self,
        queue: SqliteQueue,
        runner: ReviewJobRunner,
        *,
        concurrency: int = 2,
        poll_s: float = 1.0,
        observer: JobObserver | None = None,
    ) -> None:
        self.queue = queue
        self.runner = runner
        self.concurrency = max(1, concurrency)
        self.poll_s = poll_s
        self.observer = observer
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._handing_back = threading.Event()
        self._handed_back = 0
        self._busy: set[str] = set()  # delivery ids being run right now
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        try:
            released = self.queue.expire_dead_local_leases(socket.gethostname())
            if released:
                log.info("resuming %d job(s) of worker processes that died on this host", released)
        except (QueueUnavailable, ValueError, IndexError) as exc:
            log.warning("could not check for jobs of dead local workers: %s", exc)
        for i in range(self.concurrency):
            t = threading.Thread(target=self._loop, name=f"reviewbot-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        hb = threading.Thread(target=self._heartbeat, name="reviewbot-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)

    def stop(self, timeout: float = 30.0) -> None:
        """Let running jobs finish (up to `timeout`); unfinished ones run again after their lease."""
        self._stop.set()
        with self.queue._wakeup:
            self.queue._wakeup.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def shutdown(self, grace_s: float, abort: Callable[[], object] | None = None) -> int:
        """SIGTERM: stop claiming; running jobs see `cancelled()` and stop at their next check;
        `abort` (remove this process's sandboxes, so a review inside a container ends now) is
        called until the job threads return or `grace_s` passes; then every job this pool still
        holds goes back to the queue, ready at once. Returns how many jobs were handed back."""
        self._handing_back.set()
        self._stop.set()
        with self.queue._wakeup:
            self.queue._wakeup.notify_all()
        deadline = time.monotonic() + grace_s
        workers = [t for t in self._threads if t.name.startswith("reviewbot-worker")]
        was_busy = bool(self._busy)
        while any(t.is_alive() for t in workers) and time.monotonic() < deadline:
            if abort is not None and self._busy:
                abort()
            for t in workers:
                t.join(max(0.0, min(0.5, deadline - time.monotonic())))
        try:
            left = self.queue.hand_back(self.worker_id)
        except QueueUnavailable as exc:
            log.error("could not hand back the running jobs: %s (they run again after their lease)", exc)
            left = 0
        if abort is not None and (was_busy or self._busy):
            abort()  # once more: a review may have started a container after the last sweep
        handed = left + self._handed_back
        log.info("shutdown: %d job(s) handed back to the queue", handed)
        return handed

    def _heartbeat(self) -> None:
        beats = 0
        while not self._stop.wait(self.queue.lease_s / 3):
            try:
                self.queue.heartbeat(self.worker_id)
                beats += 1
                if beats % 360 == 0:
                    self.queue.prune()
            except QueueUnavailable as exc:
                log.warning("heartbeat failed: %s", exc)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = self.queue.claim(self.worker_id)
            except QueueUnavailable as exc:
                log.warning("claim failed: %s", exc)
                claimed = None
            if claimed is None:
                self.queue.wait_for_work(self.poll_s)
                continue
            self.run_one(*claimed)

    def run_one(self, job: ReviewJob, attempt: int) -> str:
        """Run one claimed job and record the outcome. Returns the outcome name."""
        started = time.monotonic()
        ctx = JobContext(
            attempt=attempt,
            cancelled=lambda: (
                self._handing_back.is_set() or self.queue.is_cancelled(job.delivery_id, self.worker_id)
            ),
        )
        outcome, error, delay = "done", None, 0.0
        state: JobState = "done"
        self._busy.add(job.delivery_id)
        try:
            self.runner.run(job, ctx)
        except JobSuperseded as exc:
            outcome, state, error = "superseded", "superseded", str(exc)
        except PermanentJobError as exc:
            outcome, state, error = "dead", "dead", f"permanent: {exc}"
        except Exception as exc:
            # Unknown failures are treated as transient, but retries are bounded: then dead letter.
            kind = "retryable" if isinstance(exc, RetryableJobError) else type(exc).__name__
            if attempt >= self.queue.retry.max_attempts:
                outcome, state, error = "dead", "dead", f"gave up after {attempt} attempts: {kind}: {exc}"
            else:
                outcome, state, error = "retry", "queued", f"{kind}: {exc}"
                delay = self.queue.retry.delay(attempt)
            if not isinstance(exc, RetryableJobError):
                log.exception("job %s failed unexpectedly", job.delivery_id)
        self._busy.discard(job.delivery_id)
        if state != "done" and self._handing_back.is_set():
            return self._hand_back(job, started)
        if state == "done" and self.queue.is_cancelled(job.delivery_id, self.worker_id):
            # The runner finished anyway; the job is done (nothing to rerun), but say it was flagged.
            log.info("job %s finished after being superseded", job.delivery_id)
        try:
            if not self.queue.finish(job.delivery_id, self.worker_id, state, error, delay):
                outcome = "lost"  # our lease lapsed and another worker owns the job now
        except QueueUnavailable as exc:
            log.error("could not record outcome of %s: %s (it will run again)", job.delivery_id, exc)
            outcome = "lost"
        if self.observer is not None:
            self.observer(outcome, time.monotonic() - started)
        log.info("job %s (%s) -> %s%s", job.delivery_id, job.pr_key, outcome, f": {error}" if error else "")
        return outcome

    def _hand_back(self, job: ReviewJob, started: float) -> str:
        """The job stopped because this process is shutting down: not a failure, not an attempt."""
        try:
            self._handed_back += self.queue.hand_back(self.worker_id, job.delivery_id)
        except QueueUnavailable as exc:
            log.error("could not hand back %s: %s (it runs again after its lease)", job.delivery_id, exc)
        if self.observer is not None:
            self.observer("handed_back", time.monotonic() - started)
        log.info("job %s (%s) handed back: shutting down", job.delivery_id, job.pr_key)
        return "handed_back"
