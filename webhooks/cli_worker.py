"""`reviewbot worker`: an RQ worker for the Redis queue (REVIEWBOT_QUEUE=redis://…). Run as many as
you like, on as many machines; each needs the GitHub credentials and a Docker engine."""

from __future__ import annotations

import argparse
from typing import Any

from webhooks.cli_serve import add_common, settings_from


def register(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="run review jobs from the Redis queue (scale-out mode)",
        description="Work review jobs from REVIEWBOT_QUEUE=redis://… with RQ: retries with backoff, "
        "failed registry as dead letter, a forked work horse per job.",
    )
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from webhooks import server

    settings = settings_from(args)
    code: int = server.work(settings, burst=args.burst, git_url=args.git_url)
    return code
