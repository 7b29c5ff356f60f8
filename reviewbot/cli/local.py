"""`reviewbot local [REPO]`: review the current branch (or any revisions) of a local repository.

Everything the command line names is checked before any work starts (the repository, where the
report and the trace go, the configuration); the review's own stack is imported only then.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.adapters.llm.flags import add_llm_arguments, llm_arg_overrides
from reviewbot.cli import output
from reviewbot.errors import ConfigError, WorkspaceError

if TYPE_CHECKING:
    from reviewbot.agent.events import EventSink
    from reviewbot.cli.progress import Progress
    from reviewbot.settings import Settings

FORMATS = ("text", "markdown", "json", "sarif")


_DESCRIPTION = (
    "Review the change of a local repository: by default the working tree "
    "(committed, uncommitted and untracked files) against the merge-base with "
    "the default branch."
)


def register(sub: Any) -> None:
    p = sub.add_parser("local", help="review a local git repository's change", description=_DESCRIPTION)
    p.add_argument("repo", nargs="?", default=".", help="path to the repository (default: .)")
    p.add_argument("--base", help="base revision (default: merge-base with origin/HEAD, main or master)")
    p.add_argument("--head", help="head revision (default: the working tree)")
    p.add_argument(
        "--all", dest="all_files", action="store_true", help="review every file, not only the change"
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    p.add_argument("--output", "-o", type=Path, help="write the report to FILE instead of stdout")
    p.add_argument(
        "--fail-on",
        choices=("error", "warning", "note", "never"),
        help="exit 1 when a finding is at or above this severity (default: error)",
    )
    p.add_argument("--trace", type=Path, help="write the agent's decisions as JSON lines to FILE")
    p.add_argument("--sandbox", choices=("auto", "docker", "process"), help="sandbox backend (default: auto)")
    p.add_argument("--no-tests", action="store_true", help="do not run the test suite")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress on stderr (warnings and errors still show)"
    )
    add_llm_arguments(p)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.fail_on:
        out["fail_on"] = args.fail_on
    if args.sandbox:
        out["sandbox"] = {"backend": args.sandbox}
    if args.no_tests:
        out["analyzers"] = {"tests": False}
    return {**out, **llm_arg_overrides(args)}


def _read_optional(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from exc


def load_local_settings(repo: Path, args: argparse.Namespace) -> Settings:
    """Local mode reviews your own code, so its config comes from the working tree."""
    from reviewbot.settings import load_settings

    return load_settings(
        pyproject_text=_read_optional(repo / "pyproject.toml"),
        reviewbot_toml_text=_read_optional(repo / ".reviewbot.toml"),
        environ=os.environ,  # flat aliases (REVIEWBOT_LLM_MODEL, …) are settings.ENV_ALIASES: below flags
        overrides=_overrides(args),
        pyproject_name=str(repo / "pyproject.toml"),
        reviewbot_toml_name=str(repo / ".reviewbot.toml"),
    )


def check_arguments(args: argparse.Namespace) -> Path:
    """What argparse cannot check, checked before any work: the repository, the output files."""
    repo = Path(args.repo)
    if not repo.is_dir():
        raise WorkspaceError(f"{repo} is not a directory; name the repository to review")
    if args.output is not None:
        output.check_writable(args.output, "--output")
    if args.trace is not None:
        output.check_writable(args.trace, "--trace")
    return repo


def _sinks(stack: ExitStack, args: argparse.Namespace, progress: Progress | None) -> EventSink | None:
    """The agent's event sink: the progress display and/or the --trace file."""
    from reviewbot.agent.events import FanoutSink, JsonLinesSink

    sinks: list[EventSink] = [progress] if progress is not None else []
    if args.trace:
        sinks.append(stack.enter_context(JsonLinesSink(args.trace)))
    return FanoutSink(*sinks) if sinks else None


def run(args: argparse.Namespace) -> int:
    repo = check_arguments(args)
    from reviewbot.cli.progress import Progress

    with ExitStack() as stack:
        progress = None if args.quiet else stack.enter_context(Progress(sys.stderr, live=sys.stderr.isatty()))
        if progress is not None:  # shown before the review's stack loads: the first line comes at once
            progress.show("reading the configuration")
        settings = load_local_settings(repo, args)
        from reviewbot.agent.events import emit_phase
        from reviewbot.pipeline.run import ReviewRequest, run_review
        from reviewbot.policy_choice import choose_reviewer

        sink = _sinks(stack, args, progress)
        emit_phase(sink, "preparing the change")
        request = ReviewRequest(repo_root=repo, base=args.base, head=args.head, all_files=args.all_files)
        outcome = run_review(request, settings, trace=sink, reviewer=choose_reviewer(settings, os.environ))
    for warning in outcome.warnings:
        print(f"reviewbot: warning: {warning}", file=sys.stderr)
    to_terminal = args.output is None and sys.stdout.isatty()
    output.emit(output.render(outcome, args.format, to_terminal=to_terminal), args.output)
    if outcome.nothing_to_review:
        print("reviewbot: nothing to review (no changes against the base)", file=sys.stderr)
        return 0
    return output.exit_code(outcome.review, settings)
