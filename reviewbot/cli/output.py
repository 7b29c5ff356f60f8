"""Shared by the review commands: render a review in the chosen format, write it, map it to an exit code."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from reviewbot import __version__
from reviewbot.core.render.json_render import render_json
from reviewbot.core.render.markdown import review_markdown
from reviewbot.core.render.sarif import render_sarif_text
from reviewbot.core.render.terminal import render_terminal
from reviewbot.core.review import Review
from reviewbot.core.text import one_line
from reviewbot.errors import WorkspaceError
from reviewbot.review import ReviewOutcome
from reviewbot.settings import Settings

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def render(outcome: ReviewOutcome, fmt: str, *, to_terminal: bool = False) -> str:
    review = outcome.review
    if fmt == "json":
        return render_json(review)
    if fmt == "sarif":
        return render_sarif_text(review, tool_version=__version__)
    if fmt == "markdown":
        return review_markdown(review)
    if to_terminal:  # as wide as the terminal, and in colour
        width = max(60, min(shutil.get_terminal_size().columns, 200))
        return render_terminal(review, outcome.head_texts, width=width, color=True)
    return render_terminal(review, outcome.head_texts)


def emit(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"cannot write the report to {path}: {exc}") from exc


def exit_code(review: Review, settings: Settings) -> int:
    """2 when the review is incomplete (an analyzer broke: never pass that off as clean), else 1
    when a finding is at or above fail_on, else 0."""
    if review.errors:
        more = f" (+{len(review.errors) - 1} more in the report)" if len(review.errors) > 1 else ""
        # One line, no control characters: the error may quote a tool's multi-line output.
        print(f"reviewbot: error: {one_line(review.errors[0])}{more}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_FINDINGS if review.fails(settings.fail_on_severity) else EXIT_OK
