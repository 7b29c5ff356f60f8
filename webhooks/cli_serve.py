"""`reviewbot serve --port N`: the webhook receiver under waitress (read deadlines: slow clients
cannot stall it), with the embedded worker pool when the queue is SQLite (the default).

Settings are read from the environment here (and in `worker`, which shares these helpers), at the
entry point, and nowhere below. `webhooks` sits *above* `reviewbot` in the layers, so these
commands live here and reach the `reviewbot` command through the `reviewbot.commands` entry-point
group (pyproject.toml): reviewbot never imports webhooks.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError
from reviewbot.settings import ENV_PREFIX, Settings, load_settings, read_named_file
from webhooks.http_server import HttpLimits as HttpDefaults


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, help="a TOML file with the same keys as REVIEWBOT_* (lowest precedence)"
    )
    p.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.add_argument(
        "--git-url",
        default=os.environ.get("REVIEWBOT_GIT_URL") or None,
        help="where repositories are cloned from, as <git-url>/<owner>/<name>.git (env "
        "REVIEWBOT_GIT_URL; default: from REVIEWBOT_GITHUB_API_URL — https://github.com, or the "
        "GHES host). Payload URLs are never used.",
    )


def settings_from(args: argparse.Namespace, overrides: dict[str, Any] | None = None) -> Settings:
    text = None if args.config is None else read_named_file(args.config, "--config").decode()
    # The flat deployment names (REVIEWBOT_APP_ID, REVIEWBOT_GITHUB_TOKEN, …) are settings.ENV_ALIASES.
    settings = load_settings(reviewbot_toml_text=text, environ=os.environ, overrides=overrides)
    # Secrets and the rest of the bot's configuration leave the process environment once loaded,
    # so no child process (git, docker, the sandbox tooling) inherits them.
    for key in [k for k in os.environ if k.upper().startswith(ENV_PREFIX)]:
        del os.environ[key]
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


def docker_check() -> Callable[[], None]:
    """A /healthz probe for the Docker engine the sandboxes use (DOCKER_HOST or the local socket)."""
    import docker

    def check() -> None:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()

    return check


_HELP = "run the self-hosted webhook bot (GitHub App receiver + job workers)"
_DESCRIPTION = (
    "Receive GitHub webhooks on POST /webhook, enqueue review jobs durably, and (with "
    "the default SQLite queue) run them in this process. Settings: REVIEWBOT_WEBHOOK_SECRET, "
    "REVIEWBOT_APP_ID + REVIEWBOT_PRIVATE_KEY[_PATH] or REVIEWBOT_GITHUB_TOKEN, "
    "REVIEWBOT_GITHUB_API_URL, REVIEWBOT_QUEUE, REVIEWBOT_DATA_DIR."
)


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help=_HELP, description=_DESCRIPTION)
    p.add_argument("--host", default="0.0.0.0", help="address to bind (default: all interfaces)")  # noqa: S104
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    p.add_argument("--threads", type=int, default=8, help="request threads (default: 8)")
    p.add_argument("--workers", type=int, help="concurrent review jobs (default: webhook_workers, 2)")
    p.add_argument("--no-docker-check", action="store_true", help="leave Docker out of /healthz")
    d = HttpDefaults()
    for flag, kind, default, what in (
        ("--header-timeout", float, d.header_timeout_s, "seconds a client has to send a request's headers"),
        ("--body-timeout", float, d.body_timeout_s, "seconds a client has to send a whole request"),
        ("--connection-limit", int, d.connection_limit, "open connections held at once"),
    ):
        p.add_argument(flag, type=kind, default=default, help=f"{what} (default {default:g})")
    p.add_argument(
        "--grace",
        type=float,
        default=8.0,
        help="seconds, on SIGTERM, to hand running jobs back and remove their sandboxes "
        "(default 8: inside Docker's 10 s stop timeout)",
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    overrides = {"webhook_workers": args.workers} if args.workers else None
    settings = settings_from(args, overrides)
    from webhooks import server  # waitress, Flask and the queues load only for this command

    checks = {} if args.no_docker_check or server.is_redis(settings) else {"docker": docker_check()}
    if not 0 < args.header_timeout <= args.body_timeout or args.connection_limit < 1 or args.grace < 0:
        raise ConfigError(
            "need 0 < --header-timeout <= --body-timeout, --connection-limit >= 1 and --grace >= 0; got "
            f"{args.header_timeout}, {args.body_timeout}, {args.connection_limit}, {args.grace}"
        )
    limits = HttpDefaults(
        header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout,
        connection_limit=args.connection_limit,
    )
    code: int = server.serve(
        settings,
        host=args.host,
        port=args.port,
        threads=args.threads,
        health_checks=checks,
        limits=limits,
        grace_s=args.grace,
        git_url=args.git_url,
    )
    return code
