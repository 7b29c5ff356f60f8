"""Shared by the review commands: check where the report goes, render a review in the chosen
format (scrubbed alike in every format), write it, map it to an exit code.

Imports of the renderers happen in `render`, after the arguments were checked: a bad argument is
answered before any of them load.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.errors import WorkspaceError

if TYPE_CHECKING:
    from reviewbot.core.review import Review
    from reviewbot.pipeline.run import ReviewOutcome
    from reviewbot.settings import Settings

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def check_writable(path: Path, option: str) -> None:
    """Refuse, before any work starts, a file that could not be written at the end."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise WorkspaceError(f"{option} {path} is a directory; name a file in it")
    if not parent.is_dir():
        raise WorkspaceError(f"{option} {path}: the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise WorkspaceError(f"{option} {path}: not writable (check the permissions of {parent})")


def render(outcome: ReviewOutcome, fmt: str, *, to_terminal: bool = False) -> str:
    """The report. Markdown is exactly what PR mode posts (`posted_markdown`: scrubbed and capped at
    GitHub's body limit); the other formats render the review with secrets redacted the same way."""
    from reviewbot import __version__
    from reviewbot.core.redact import redact_review, redact_secrets

    review = redact_review(outcome.review)
    if fmt == "json":
        from reviewbot.core.render.json_render import render_json

        return render_json(review)
    if fmt == "sarif":
        from reviewbot.core.render.sarif import render_sarif_text

        return render_sarif_text(review, tool_version=__version__)
    if fmt == "markdown":
        from reviewbot.core.render.markdown import posted_markdown, review_markdown

        return posted_markdown(review_markdown(review))
    from reviewbot.core.render.terminal import render_terminal

    files = {path: redact_secrets(text) for path, text in outcome.head_texts.items()}
    if to_terminal:  # as wide as the terminal, and in colour
        import shutil  # (with its archive modules) only when a terminal is there

        width = max(60, min(shutil.get_terminal_size().columns, 200))
        return render_terminal(review, files, width=width, color=True)
    return render_terminal(review, files)  # piped: no wrapping, no cut lines


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
    from reviewbot.core.text import one_line

    if review.errors:
        more = f" (+{len(review.errors) - 1} more in the report)" if len(review.errors) > 1 else ""
        # One line, no control characters: the error may quote a tool's multi-line output.
        print(f"reviewbot: error: {one_line(review.errors[0])}{more}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_FINDINGS if review.fails(settings.fail_on_severity) else EXIT_OK
