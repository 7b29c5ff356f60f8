"""Wiring for the two processes a deployer runs: `reviewbot serve` and `reviewbot worker`.

`serve` runs the Flask receiver under gunicorn (programmatic `BaseApplication`, never Flask's dev
server). With the SQLite queue it also runs the worker pool — inside the gunicorn worker process,
started after the fork (threads do not survive a fork). With `queue = redis://…` it only receives;
`reviewbot worker` processes run the jobs on any number of machines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from reviewbot.errors import ConfigError
from reviewbot.settings import Settings
from webhooks.app import HealthCheck, create_app
from webhooks.auth import TokenProvider, token_provider
from webhooks.jobs import ReviewJobRunner
from webhooks.metrics import Metrics
from webhooks.queue import Queue, RetryPolicy
from webhooks.queue_sqlite import SqliteQueue, WorkerPool
from webhooks.runner import CloneReviewPublishRunner

log = logging.getLogger(__name__)

RunnerFactory = Callable[[Settings, TokenProvider | None], ReviewJobRunner]


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


def production_runner(settings: Settings, tokens: TokenProvider | None) -> ReviewJobRunner:
    """Clone -> `run_review` in the sandbox (strangers' code: untrusted) -> `publish_review`."""
    from reviewbot.adapters.git_workspace import GitWorkspace
    from reviewbot.github.publish import publish_review
    from reviewbot.github.pygithub_host import PyGithubHost
    from reviewbot.policy_choice import choose_policy
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
        choice = choose_policy(repo_settings, {})  # keys come from settings, never from the environment
        request = ReviewRequest(repo_root=root, base=job.base_sha, head=job.head_sha, untrusted=True)
        return run_review(
            request, repo_settings, policy_factory=choice.factory, extra_tools=choice.extra_tools
        )

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

    return CloneReviewPublishRunner(tokens, review, publish, work_dir=settings.data_dir / "work")


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: Flask, options: Mapping[str, Any]) -> None:
        self.application = app
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def serve(
    settings: Settings,
    *,
    host: str = "0.0.0.0",  # noqa: S104 - a webhook receiver must be reachable; run behind TLS
    port: int = 8080,
    threads: int = 8,
    runner_factory: RunnerFactory = production_runner,
    health_checks: Mapping[str, HealthCheck] | None = None,
) -> int:
    """Run the receiver (and the embedded worker pool for the SQLite queue) until stopped."""
    queue = build_queue(settings)
    tokens = token_provider(settings)
    metrics = Metrics(queue.stats)
    app = create_app(
        settings,
        queue=queue,
        github_client_factory=tokens,
        health_checks=health_checks,
        review_drafts=settings.webhook_review_drafts,
        metrics=metrics,
    )
    pools: list[WorkerPool] = []

    def post_worker_init(worker: Any) -> None:
        if isinstance(queue, SqliteQueue):
            pool = WorkerPool(
                queue,
                runner_factory(settings, tokens),
                concurrency=settings.webhook_workers,
                observer=metrics.job_finished,
            )
            pool.start()
            pools.append(pool)
            log.info("embedded worker pool started: %d workers on %s", pool.concurrency, queue.path)

    def worker_exit(server: Any, worker: Any) -> None:
        for pool in pools:
            pool.stop(timeout=20)

    options = {
        "bind": f"{host}:{port}",
        # One process: the SQLite pool lives in it. Threads serve concurrent deliveries.
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": "-",
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "limit_request_field_size": 16384,
    }
    _Gunicorn(app, options).run()
    return 0


def work(
    settings: Settings, *, burst: bool = False, runner_factory: RunnerFactory = production_runner
) -> int:
    """`reviewbot worker`: RQ workers for `queue = redis://…`."""
    if not is_redis(settings):
        raise ConfigError("reviewbot worker needs queue = redis://… (the SQLite queue runs inside serve)")
    from webhooks.queue_redis import run_worker

    tokens = token_provider(settings)
    run_worker(settings.queue, runner_factory(settings, tokens), burst=burst)
    return 0
