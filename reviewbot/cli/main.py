"""`reviewbot` command: parses arguments, dispatches to one subcommand module, maps errors to exit codes.

Exit codes: 0 = nothing at or above --fail-on, 1 = findings, 2 = reviewbot could not do its job
(one-line reason on stderr), 130 = interrupted.

It answers at once: only the subcommand being run is imported (`reviewbot --help` imports none
of them), and each subcommand module imports its heavy stack (pydantic, docker, git, rich,
httpx, PyGithub) inside `run`, after its arguments parsed. Keep it that way:
`benchmarks/bench_startup.py` measures it against `python -c 'import argparse'`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from reviewbot import __version__
from reviewbot.errors import ConfigError, ReviewbotError

#: subcommand name -> (module implementing `register(subparsers)` and `run(args) -> int`, its help)
SUBCOMMANDS = {
    "local": ("reviewbot.cli.local", "review a local git repository's change"),
    "sandbox": ("reviewbot.cli.sandbox_cmd", "build and check the Docker sandbox"),
    "action": (
        "reviewbot.cli.action_cmd",
        "review the pull request of a GitHub Actions run and post the review",
    ),
}
#: Packages above reviewbot in the layers (the webhook bot's `serve` and `worker`) add commands
#: through this entry-point group, so reviewbot never imports them (nor loads them to list them).
ENTRY_POINT_GROUP = "reviewbot.commands"

#: Ctrl-C (128 + SIGINT). The review exit codes 0, 1 and 2 live in reviewbot.cli.output; errors carry
#: their own (ReviewbotError.exit_code).
EXIT_INTERRUPTED = 130


def _extra_commands() -> dict[str, str]:
    """Entry-point commands: name -> module path, read from the installed distributions'
    `entry_points.txt` without importing anything (importlib.metadata alone costs more than the
    rest of `reviewbot --help`). The first distribution on sys.path that names a command wins."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                for command, value in _entry_points(Path(entry or ".", name, "entry_points.txt")).items():
                    found.setdefault(command, value)
    return {name: value for name, value in found.items() if name not in SUBCOMMANDS}


def _entry_points(path: Path) -> dict[str, str]:
    """The `[reviewbot.commands]` section of one entry_points.txt (an INI file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, str] = {}
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            inside = line == f"[{ENTRY_POINT_GROUP}]"
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            out[name.strip()] = value.strip()
    return out


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options are only -h and --version)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def _load(command: str | None) -> tuple[ModuleType | None, dict[str, str]]:
    """Import the one module that implements `command` (None when it names no known command)."""
    if command in SUBCOMMANDS:
        return importlib.import_module(SUBCOMMANDS[command][0]), {}
    extra = _extra_commands()
    if command in extra:
        return importlib.import_module(extra[command].split(":")[0]), extra
    return None, extra


def build_parser(
    command: str | None, module: ModuleType | None, extra: dict[str, str]
) -> argparse.ArgumentParser:
    """The full parser of `command`; the other commands are listed (name and help) but not loaded."""
    parser = argparse.ArgumentParser(prog="reviewbot", description="Sandboxed code review for pull requests.")
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    listed = {name: text for name, (_, text) in SUBCOMMANDS.items()}
    listed.update({name: f"from {value}; see `reviewbot {name} --help`" for name, value in extra.items()})
    for name, text in listed.items():
        if name == command and module is not None:
            module.register(sub)
        else:
            sub.add_parser(name, help=text, add_help=False)
    return parser


def _terminated(signum: int, _frame: object) -> None:
    # SIGTERM (a cancelled Actions job, `docker stop`) unwinds like an exception, so every `with`
    # tears down what it holds: sandbox containers are killed and removed, not left to their TTL.
    raise SystemExit(128 + signum)


def report_error(exc: ReviewbotError) -> None:
    """One line per problem on stderr, control characters folded away (a message may quote a
    tool's or a config file's text)."""
    from reviewbot.core.text import one_line

    if isinstance(exc, ConfigError) and exc.problems:
        count = len(exc.problems)
        print(
            f"reviewbot: error: {one_line(exc.headline)} ({count} problem{'s' * (count != 1)}):",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  - {one_line(problem)}", file=sys.stderr)
        return
    print(f"reviewbot: error: {one_line(str(exc))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(argv)
    module, extra = _load(command)
    args = build_parser(command, module, extra).parse_args(argv)
    assert module is not None  # parse_args exits on any command it could not load
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main_thread else None
    try:
        code: int = module.run(args)
        return code
    except ReviewbotError as exc:
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def entrypoint() -> None:
    # reviewbot uses no pydantic plugins; without this, pydantic scans every installed
    # distribution's entry points for them on the first model (a fixed cost of every review).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    sys.exit(main())
