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
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError
from reviewbot.settings import Settings
from webhooks.app import HealthCheck, create_app
from webhooks.auth import TokenProvider, token_provider
from webhooks.clone import git_url_for
from webhooks.http_server import HttpLimits, make_server
from webhooks.jobs import ReviewJobRunner
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


def production_runner(settings: Settings, tokens: TokenProvider | None, git_url: str) -> ReviewJobRunner:
    """Clone -> `run_review` in the sandbox (strangers' code: untrusted) -> `publish_review`."""
    from reviewbot.adapters.git_workspace import GitWorkspace
    from reviewbot.github.publish import publish_review
    from reviewbot.github.pygithub_host import PyGithubHost
    from reviewbot.policy_choice import choose_reviewer
    from reviewbot.review import ReviewOutcome, ReviewRequest, run_review
    from reviewbot.settings import with_repository_config

    def review(root: Path, job: Any) -> ReviewOutcome:
        # The repository's own config, from the BASE revision: a PR cannot change how it is reviewed.
        ws = GitWorkspace(root)
        texts = [ws.read_at(job.base_sha, name) for name in ("pyproject.toml", ".reviewbot.toml")]
        repo_settings = with_repository_config(
            settings,
            pyproject_text=texts[0].decode("utf-8", "replace") if texts[0] is not None else None,
            reviewbot_toml_text=texts[1].decode("utf-8", "replace") if texts[1] is not None else None,
        )
        reviewer = choose_reviewer(repo_settings, {})  # keys come from settings, never the environment
        request = ReviewRequest(repo_root=root, base=job.base_sha, head=job.head_sha, untrusted=True)
        return run_review(request, repo_settings, reviewer=reviewer)

    def publish(outcome: ReviewOutcome, job: Any, tok: TokenProvider) -> None:
        # A fresh token at publish time: the review may have outlived the one used for the clone.
        token = tok.token(job.installation_id).get_secret_value()
        host = PyGithubHost(job.repo_full_name, token, base_url=settings.github.api_url)
        publish_review(
            host,
            job.pr_number,
            outcome.review,
            outcome.diff,
            settings,
            head_sha=job.head_sha,
            identity=tok.identity(),
        )

    return CloneReviewPublishRunner(
        tokens, review, publish, git_url=git_url, work_dir=settings.data_dir / "work"
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
        sweep_stale_clones(settings.data_dir / "work")
        pool = WorkerPool(
            queue,
            runner_factory(settings, tokens, git_url or git_url_for(settings.github.api_url)),
            concurrency=settings.webhook_workers,
            observer=metrics.job_finished,
        )
        pool.start()
        log.info("embedded worker pool started: %d workers on %s", pool.concurrency, queue.path)
    log.info("listening on http://%s:%s", host, port)
    with _stop_on_signals():
        server.run()  # returns once a signal raised SystemExit in the loop
    log.info("shutting down")
    server.close()
    if pool is not None:
        pool.shutdown(grace_s, abort=lambda: remove_sandboxes_of(os.getpid()))
    queue.close()
    return 0


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
