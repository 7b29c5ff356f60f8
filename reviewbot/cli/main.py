"""`reviewbot` command: parses arguments, dispatches to one subcommand module, maps errors to exit codes.

Exit codes: 0 = nothing at or above --fail-on, 1 = findings, 2 = reviewbot could not do its job
(one-line reason on stderr), 130 = interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

from reviewbot import __version__
from reviewbot.core.text import one_line
from reviewbot.errors import ReviewbotError

#: subcommand name -> module implementing `register(subparsers)` and `run(args) -> int`
SUBCOMMANDS = {
    "local": "reviewbot.cli.local",
    "sandbox": "reviewbot.cli.sandbox_cmd",
    "action": "reviewbot.cli.action",
}
#: Packages above reviewbot in the layers (the webhook bot's `serve` and `worker`) add commands
#: through this entry-point group, so reviewbot never imports them.
ENTRY_POINT_GROUP = "reviewbot.commands"

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _modules() -> dict[str, ModuleType]:
    out = {name: importlib.import_module(module) for name, module in SUBCOMMANDS.items()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in out:
            out[ep.name] = ep.load()
    return out


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewbot", description="Sandboxed code review for pull requests.")
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in modules.values():
        module.register(sub)
    return parser


def _terminated(signum: int, _frame: object) -> None:
    # SIGTERM (a cancelled Actions job, `docker stop`) unwinds like an exception, so every `with`
    # tears down what it holds: sandbox containers are killed and removed, not left to their TTL.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    modules = _modules()
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        code: int = modules[args.command].run(args)
        return code
    except ReviewbotError as exc:
        print(f"reviewbot: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def entrypoint() -> None:
    sys.exit(main())
