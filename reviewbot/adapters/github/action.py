"""`reviewbot action`: review the pull request of a GitHub Actions `pull_request` run and post it.

The flow: read the event -> make sure base and head commits are in the checkout -> the pull-request
review service (reviewbot.adapters.github.pull_review: settings with the BASE revision's config, the policy,
the review — untrusted: PR code runs only in the sandbox) -> write the SARIF file -> the service
posts (review, sticky summary, check run). When posting is refused (a fork's read-only token), the
findings go to workflow annotations, the job summary and the SARIF file instead; the exit code
still follows fail_on. Nothing is lost and nothing crashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from reviewbot import __version__
from reviewbot.adapters.github.action_env import ActionEnv, PullEvent, Skip, load_payload, pull_event
from reviewbot.adapters.github.pull_review import (
    FullConfig,
    PullReviewService,
    PullToReview,
    ReviewedPull,
    TokenPoster,
)
from reviewbot.adapters.github.workflow_commands import (
    LogLevel,
    annotation,
    append_step_summary,
    echo_untrusted,
    set_outputs,
)
from reviewbot.adapters.github.workspace import ensure_commits
from reviewbot.core.finding import Severity
from reviewbot.core.redact import scrub
from reviewbot.core.render.markdown import review_markdown
from reviewbot.core.render.sarif import render_sarif_text
from reviewbot.core.review import Review
from reviewbot.core.text import one_line, sanitize
from reviewbot.errors import (
    CodeHostAuthError,
    CodeHostError,
    ConfigError,
    ReviewbotError,
    SandboxUnavailable,
    WorkspaceError,
)
from reviewbot.policy_choice import PullRequestText

_ELSEWHERE = "The findings are in these annotations, the job summary and the SARIF file."


def _log_level(severity: Severity) -> LogLevel:
    """A workflow command's level: a note is a `notice`."""
    return "error" if severity is Severity.ERROR else "warning" if severity is Severity.WARNING else "notice"


@dataclass(frozen=True)
class ActionOptions:
    fail_on: str | None = None
    config: str = ".reviewbot.toml"
    sarif: Path | None = None
    sandbox: str | None = None
    bot_login: str = ""


def action_config(env: ActionEnv, opts: ActionOptions, environ: Mapping[str, str]) -> FullConfig:
    """Config files from the BASE revision (a PR cannot change how it is reviewed), then REVIEWBOT_*
    variables, then what the action's inputs say."""
    overrides: dict[str, Any] = {"github": {"api_url": env.api_url}}
    if env.token:
        overrides["github"]["token"] = env.token
    if opts.fail_on:
        overrides["fail_on"] = opts.fail_on
    if opts.sandbox:
        overrides["sandbox"] = {"backend": opts.sandbox}
    return FullConfig(environ, overrides, opts.config)


def log_annotations(out: TextIO, review: Review) -> None:
    """Workflow annotations for every finding; each value escaped so it cannot end the command."""
    for f in review.findings:
        message = scrub(sanitize(f.message))
        if f.path:
            out.write(
                annotation(
                    _log_level(f.severity),
                    message,
                    file=f.path,
                    line=f.start_line,
                    end_line=f.end_line,
                    title=f"{f.tool} {f.rule_id}",
                )
                + "\n"
            )
        else:
            out.write(annotation(_log_level(f.severity), message, title=f"{f.tool} {f.rule_id}") + "\n")


def _sarif_path(env: ActionEnv, opts: ActionOptions) -> Path:
    if opts.sarif is not None:
        return opts.sarif
    return (env.runner_temp or env.workspace) / "reviewbot.sarif"


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"cannot write {path}: {exc}") from exc


def run_action(
    opts: ActionOptions, environ: Mapping[str, str], *, cwd: Path, out: TextIO
) -> tuple[int, Review | None]:
    """Returns (exit code, the review or None). The exit code: 1 when a finding is at or above
    `fail_on` (the --fail-on input, else the base revision's config, else 'error'); 2 when
    reviewbot could not do its job (no review, an incomplete review, or GitHub kept failing when
    posting); else 0. A post GitHub refuses (a fork's read-only token) is no failure: the findings
    go to annotations instead. Whatever happens, the SARIF file is written and every output of
    action.yml is set."""
    env = ActionEnv.from_environ(environ, cwd=cwd)
    try:
        return _review_and_post(env, opts, environ, out)
    except ReviewbotError as exc:
        _report_failure(env, opts, out, exc)
        return 2, None


def _set_outputs(env: ActionEnv, review: Review, sarif: Path, *, posted: bool) -> None:
    if env.output is None:
        return
    counts = review.counts()
    values = {f"{s.value}s": str(counts[s]) for s in Severity}
    values.update(findings=str(len(review.findings)), sarif=str(sarif), posted=str(posted).lower())
    set_outputs(env.output, values)


def _report_failure(env: ActionEnv, opts: ActionOptions, out: TextIO, exc: ReviewbotError) -> None:
    """reviewbot could not do its job: one clean error line, an empty-but-honest SARIF (the run is
    marked unsuccessful), the reason in the job summary, and every output set."""
    reason = sanitize(one_line(str(exc)))
    if isinstance(exc, SandboxUnavailable):
        reason += (
            " (in the Action, the 'Prepare the sandbox image' step provides the image: see its log, "
            "and the inputs sandbox-base-image and sandbox-image)"
        )
    message = f"reviewbot could not review this pull request: {reason}"
    out.write(annotation("error", message) + "\n")
    failed = Review(base="", head="", errors=(message,))
    sarif = _sarif_path(env, opts)
    try:
        _write(sarif, render_sarif_text(failed, tool_version=__version__))
    except WorkspaceError as write_error:
        out.write(annotation("error", f"reviewbot: {sanitize(str(write_error))}") + "\n")
    if env.step_summary is not None:
        append_step_summary(env.step_summary, f"## reviewbot\n\n:x: {scrub(message)}\n")
    _set_outputs(env, failed, sarif, posted=False)


def _skip(env: ActionEnv, opts: ActionOptions, out: TextIO, reason: str) -> tuple[int, Review | None]:
    out.write(f"reviewbot: nothing to do: {reason}\n")
    nothing = Review(base="", head="")
    sarif = _sarif_path(env, opts)
    _write(sarif, render_sarif_text(nothing, tool_version=__version__))
    _set_outputs(env, nothing, sarif, posted=False)
    return 0, None


def _review_and_post(
    env: ActionEnv, opts: ActionOptions, environ: Mapping[str, str], out: TextIO
) -> tuple[int, Review | None]:
    event = pull_event(env, load_payload(env))
    if isinstance(event, Skip):
        return _skip(env, opts, out, event.reason)
    if not env.repository or "/" not in env.repository:
        raise ConfigError("GITHUB_REPOSITORY is not set to 'owner/name'")
    out.write(f"reviewbot: reviewing #{event.number} {event.base_sha[:12]}...{event.head_sha[:12]}\n")
    for note in ensure_commits(env.workspace, event.base_sha, event.head_sha):
        out.write(f"reviewbot: {note}\n")
    service = PullReviewService(action_config(env, opts, environ), environ=environ)
    text = PullRequestText(title=event.title, body=event.body, branch=event.branch)
    pull = PullToReview(env.repository, event.number, event.base_sha, event.head_sha, text)
    reviewed = service.review(env.workspace, pull)
    review = reviewed.outcome.review
    sarif = _sarif_path(env, opts)
    _write(sarif, render_sarif_text(review, tool_version=__version__))
    markdown = review_markdown(review)
    echo_untrusted(out, markdown)  # the findings, readable in the log, with workflow commands off
    posted, post_failed = _post(service, reviewed, env, opts, event, out)
    if not posted:
        log_annotations(out, review)
    if env.step_summary is not None:
        append_step_summary(env.step_summary, scrub(sanitize(markdown)))
    _set_outputs(env, review, sarif, posted=posted)
    if post_failed:
        return 2, review
    if review.errors:
        out.write(
            annotation("error", f"reviewbot: the review is incomplete: {sanitize(review.errors[0])}") + "\n"
        )
        return 2, review
    return (1 if review.fails(reviewed.settings.fail_on_severity) else 0), review


def _post(
    service: PullReviewService,
    reviewed: ReviewedPull,
    env: ActionEnv,
    opts: ActionOptions,
    event: PullEvent,
    out: TextIO,
) -> tuple[bool, bool]:
    """Post the review: (posted, failed). A refused post (the token may not write) is not a failure."""
    if env.token is None:
        warning = "reviewbot: no GITHUB_TOKEN; the review is only in this log and the summary"
        out.write(annotation("warning", warning) + "\n")
        return False, False
    try:
        published = service.publish(reviewed, TokenPoster(env.repository, env.token, opts.bot_login))
    except CodeHostAuthError as exc:
        reason = "a fork's read-only token" if event.is_fork else "the token's permissions"
        warning = (
            f"reviewbot could not post to the pull request ({reason}): {sanitize(str(exc))}. {_ELSEWHERE}"
        )
        out.write(annotation("warning", warning) + "\n")
        return False, False
    except CodeHostError as exc:
        # GitHub kept failing: report locally, and fail the step — the PR did not get its review.
        error = f"reviewbot could not post to the pull request: {sanitize(str(exc))}. {_ELSEWHERE}"
        out.write(annotation("error", error) + "\n")
        return False, True
    out.write(f"reviewbot: posted: {published.result.describe()}\n")
    for note in published.result.notes:
        out.write(f"reviewbot: note: {sanitize(note)}\n")
    return True, False
