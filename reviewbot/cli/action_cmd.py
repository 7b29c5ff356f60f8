"""`reviewbot action`: the GitHub Action's entry point. The one place the Actions environment is
read; everything below gets the values passed in (reviewbot.adapters.github.action)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

_DESCRIPTION = (
    "Runs inside GitHub Actions on `pull_request` events (opened, synchronize, reopened, "
    "ready_for_review); reads GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_WORKSPACE "
    "and GITHUB_TOKEN. Other events are a no-op (exit 0) with the reason printed."
)


def register(sub: Any) -> None:
    help_ = "review the pull request of a GitHub Actions run and post the review"
    p = sub.add_parser("action", help=help_, description=_DESCRIPTION)
    p.add_argument(
        "--fail-on",
        choices=["error", "warning", "note", "never"],
        default=None,
        help="exit 1 when a finding is at or above this severity (default: settings, 'error')",
    )
    p.add_argument(
        "--config",
        default=".reviewbot.toml",
        help="reviewbot config file, read from the BASE revision (default: .reviewbot.toml)",
    )
    p.add_argument(
        "--sarif",
        type=Path,
        default=None,
        help="where to write the SARIF file (default: $RUNNER_TEMP/reviewbot.sarif)",
    )
    p.add_argument(
        "--sandbox",
        choices=["auto", "docker", "process"],
        default=None,
        help="sandbox backend (strangers' code is refused by 'process' unless allowed in config)",
    )
    p.add_argument(
        "--bot-login",
        default="",
        help="the login the token posts as, whose earlier markers are trusted (default: "
        "github-actions[bot]; a personal access token ghp_/github_pat_ is asked with GET /user)",
    )


def run(args: argparse.Namespace) -> int:
    # Imported here so `reviewbot --help` and the other subcommands never pay for PyGithub.
    from reviewbot.adapters.github.action import ActionOptions, run_action

    # Each option is the command-line argument of the same name.
    opts = ActionOptions(**{f.name: getattr(args, f.name) for f in fields(ActionOptions)})
    code, _ = run_action(opts, dict(os.environ), cwd=Path.cwd(), out=sys.stdout)
    sys.stdout.flush()
    return code
