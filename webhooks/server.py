"""Wiring for the two processes a deployer runs: `reviewbot serve` and `reviewbot worker`.

`serve` runs the Flask receiver under waitress with read deadlines (`webhooks.http_server`: slow
clients cannot hold the threads that acknowledge deliveries), never Flask's dev server. With the
SQLite queue it also runs the worker pool in the same process. With `queue = redis://…` it only
receives; `reviewbot worker` processes run the jobs on any number of machines.

Jobs clone from `<git_url>/<owner>/<name>.git`: the configured GitHub host and the repository's
validated name, never a URL from the payload (`webhooks.clone.git_url_for`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewbot.adapters.github.port import CodeHost
from reviewbot.adapters.github.pull_review import (
    PolicyConfig,
    PublishedPull,
    PullReviewService,
    PullToReview,
    ReviewedPull,
)
from reviewbot.errors import ConfigError
from reviewbot.policy_choice import PullRequestText
from reviewbot.settings import Settings
from webhooks.app import HealthCheck, create_app
from webhooks.auth import TokenProvider, installation_host, token_provider
from webhooks.clone import git_url_for
from webhooks.http_server import HttpLimits, make_server
from webhooks.jobs import ReviewJob, ReviewJobRunner
from webhooks.lifecycle import remove_sandboxes_of, sweep_stale_clones, writable_check
from webhooks.metrics import Metrics
from webhooks.queue import Queue, RetryPolicy
from webhooks.queue_sqlite import SqliteQueue, WorkerPool
from webhooks.runner import CloneReviewPublishRunner

log = logging.getLogger(__name__)

RunnerFactory = Callable[[Settings, TokenProvider | None, str], ReviewJobRunner]
"""(settings, tokens, git_url) -> the runner of review jobs."""


def is_redis(settings: Settings) -> bool:
    return settings.queue.startswith(("redis://", "rediss://", "unix://"))


def build_queue(settings: Settings, retry: RetryPolicy | None = None) -> Queue:
    """`queue = "sqlite"` (default: `<data_dir>/jobs.sqlite3`), `sqlite:///path`, or `redis://…`."""
    if is_redis(settings):
        from webhooks.queue_redis import RedisQueue

        return RedisQueue(settings.queue, retry=retry)
    if settings.queue == "sqlite":
        return SqliteQueue(settings.data_dir / "jobs.sqlite3", retry=retry)
    if settings.queue.startswith("sqlite:///"):
        return SqliteQueue(Path(settings.queue.removeprefix("sqlite://")), retry=retry)
    raise ConfigError(f"queue must be 'sqlite', 'sqlite:///path' or 'redis://…', got {settings.queue!r}")


@dataclass(frozen=True)
class InstallationPoster:
    """Posts with the installation's token as of publish time: the review may have outlived the
    one used for the clone. The identity is the App's bot (or the plain token's user)."""

    tokens: TokenProvider
    repository: str
    installation_id: int | None

    def open(self, settings: Settings) -> tuple[CodeHost, str]:
        host = installation_host(self.tokens, self.repository, self.installation_id, retry=True)
        return host, self.tokens.identity()


@dataclass(frozen=True)
class ServiceSteps:
    """The runner's review and publish steps, both the pull-request review service's."""

    service: PullReviewService

    def review(self, root: Path, job: ReviewJob) -> ReviewedPull:
        text = PullRequestText(title=job.title, body=job.body, branch=job.head_ref)
        pull = PullToReview(job.repo_full_name, job.pr_number, job.base_sha, job.head_sha, text)
        return self.service.review(root, pull)

    def publish(self, reviewed: ReviewedPull, job: ReviewJob, tokens: TokenProvider) -> PublishedPull:
        published = self.service.publish(
            reviewed, InstallationPoster(tokens, job.repo_full_name, job.installation_id)
        )
        log.info("%s at %s: posted: %s", job.pr_key, job.head_sha[:12], published.result.describe())
        return published


def production_runner(settings: Settings, tokens: TokenProvider | None, git_url: str) -> ReviewJobRunner:
    """Clone -> the pull-request review service (`run_review` in the sandbox: strangers' code,
    untrusted; the repository's config from the BASE revision, review-policy keys only) -> publish.
    LLM keys come from the settings, never the environment."""
    steps = ServiceSteps(PullReviewService(PolicyConfig(settings), environ={}))
    return CloneReviewPublishRunner(
        tokens, steps.review, steps.publish, git_url=git_url, work_dir=settings.data_dir / "work"
    )


def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",  # noqa: S104 - a webhook receiver must be reachable; run behind TLS
    port: int = 8080,
    threads: int = 8,
    runner_factory: RunnerFactory = production_runner,
    health_checks: Mapping[str, HealthCheck] | None = None,
    limits: HttpLimits | None = None,
    grace_s: float = 8.0,
    git_url: str | None = None,
) -> int:
    """Run the receiver (and the embedded worker pool for the SQLite queue) until SIGTERM/SIGINT.

    On the signal: stop accepting, hand running jobs back to the queue and remove this process's
    sandbox containers, all within `grace_s` (Docker's `stop` waits 10 s before SIGKILL)."""
    queue = build_queue(settings)
    tokens = token_provider(settings)
    metrics = Metrics(queue.stats)
    checks = dict(health_checks or {})
    if isinstance(queue, SqliteQueue):  # deliveries are stored on this disk: say when it is full
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        checks["data_dir"] = writable_check(settings.data_dir)
    app = create_app(
        settings,
        queue=queue,
        github_client_factory=tokens,
        health_checks=checks,
        review_drafts=settings.webhook_review_drafts,
        metrics=metrics,
    )
    # Bind first: a port in use fails the start before any job is claimed.
    server = make_server(app, host, port, threads=threads, limits=limits or HttpLimits())
    pool = None
    if isinstance(queue, SqliteQueue):
        runner = runner_factory(settings, tokens, git_url or git_url_for(settings.github.api_url))
        pool = _embedded_pool(settings, queue, runner, metrics)
    log.info("listening on http://%s:%s", host, port)
    with _stop_on_signals():
        server.run()  # returns once a signal raised SystemExit in the loop
    log.info("shutting down")
    server.close()
    if pool is not None:
        pool.shutdown(grace_s, abort=lambda: remove_sandboxes_of(os.getpid()))
    queue.close()
    return 0


def _embedded_pool(
    settings: Settings, queue: SqliteQueue, runner: ReviewJobRunner, metrics: Metrics
) -> WorkerPool:
    """The SQLite queue's workers, in this process (after sweeping clones a killed one left)."""
    sweep_stale_clones(settings.data_dir / "work")
    pool = WorkerPool(queue, runner, concurrency=settings.webhook_workers, observer=metrics.job_finished)
    pool.start()
    log.info("embedded worker pool started: %d workers on %s", pool.concurrency, queue.path)
    return pool


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT end waitress's loop (it treats SystemExit as "stop serving")."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def work(
    settings: Settings,
    *,
    burst: bool = False,
    runner_factory: RunnerFactory = production_runner,
    git_url: str | None = None,
) -> int:
    """`reviewbot worker`: RQ workers for `queue = redis://…`."""
    if not is_redis(settings):
        raise ConfigError("reviewbot worker needs queue = redis://… (the SQLite queue runs inside serve)")
    from webhooks.queue_redis import run_worker

    sweep_stale_clones(settings.data_dir / "work")
    tokens = token_provider(settings)
    runner = runner_factory(settings, tokens, git_url or git_url_for(settings.github.api_url))
    run_worker(settings.queue, runner, burst=burst)
    return 0
