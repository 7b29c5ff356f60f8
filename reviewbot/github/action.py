"""`reviewbot action`: review the pull request of a GitHub Actions `pull_request` run and post it.

The flow: read the event -> make sure base and head commits are in the checkout -> load settings
with the config files taken from the BASE revision -> review (untrusted: PR code runs only in the
sandbox) -> write the SARIF file -> post (review, sticky summary, check run). When posting is
refused (a fork's read-only token), the findings go to workflow annotations, the job summary and
the SARIF file instead; the exit code still follows --fail-on. Nothing is lost and nothing crashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from reviewbot import __version__
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
from reviewbot.github.action_env import ActionEnv, Skip, load_payload, pull_event
from reviewbot.github.identity import action_identity
from reviewbot.github.publish import PublishResult, publish_review
from reviewbot.github.pygithub_host import PyGithubHost
from reviewbot.github.workflow_commands import (
    LogLevel,
    annotation,
    append_step_summary,
    echo_untrusted,
    set_outputs,
)
from reviewbot.github.workspace import ensure_commits, file_at
from reviewbot.policy_choice import PullRequestText, choose_reviewer
from reviewbot.review import ReviewOutcome, ReviewRequest, run_review
from reviewbot.settings import Settings, load_settings

_ELSEWHERE = "The findings are in these annotations, the job summary and the SARIF file."
_LOG_LEVEL: dict[Severity, LogLevel] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "notice",
}


@dataclass(frozen=True)
class ActionOptions:
    fail_on: str | None = None
    config: str = ".reviewbot.toml"
    sarif: Path | None = None
    sandbox: str | None = None
    bot_login: str = ""


def load_action_settings(
    env: ActionEnv, base_sha: str, opts: ActionOptions, environ: Mapping[str, str]
) -> Settings:
    """Config files from the BASE revision (a PR cannot change how it is reviewed), then REVIEWBOT_*
    variables, then what the action's inputs say."""
    overrides: dict[str, Any] = {"github": {"api_url": env.api_url}}
    if env.token:
        overrides["github"]["token"] = env.token
    if opts.fail_on:
        overrides["fail_on"] = opts.fail_on
    if opts.sandbox:
        overrides["sandbox"] = {"backend": opts.sandbox}
    config = opts.config.strip().lstrip("/")
    if not config or ".." in Path(config).parts:
        raise ConfigError(f"config path must be a repository-relative path, got {opts.config!r}")
    return load_settings(
        pyproject_text=file_at(env.workspace, base_sha, "pyproject.toml"),
        reviewbot_toml_text=file_at(env.workspace, base_sha, config),
        environ=environ,
        overrides=overrides,
    )


def log_annotations(out: TextIO, review: Review) -> None:
    """Workflow annotations for every finding; each value escaped so it cannot end the command."""
    for f in review.findings:
        message = scrub(sanitize(f.message))
        if f.path:
            out.write(
                annotation(
                    _LOG_LEVEL[f.severity],
                    message,
                    file=f.path,
                    line=f.start_line,
                    end_line=f.end_line,
                    title=f"{f.tool} {f.rule_id}",
                )
                + "\n"
            )
        else:
            out.write(annotation(_LOG_LEVEL[f.severity], message, title=f"{f.tool} {f.rule_id}") + "\n")


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


def _describe(result: PublishResult) -> str:
    parts = [
        f"review {'#' + str(result.review_id) if result.review_id else 'not needed (nothing new)'}",
        f"{result.inline} inline, {result.file_level} on files, {result.in_body} in the body",
        f"{result.already_posted} already on the PR",
        f"{len(result.fixed)} fixed since the last review",
        f"summary {result.summary_action}",
        f"check run {result.check_run_id}" if result.check_run_id else f"commit status {result.status_state}",
    ]
    if result.folded:
        parts.append("GitHub refused the inline comments; they were folded into the review body")
    return "; ".join(parts)


def run_action(
    opts: ActionOptions, environ: Mapping[str, str], *, cwd: Path, out: TextIO
) -> tuple[int, Review | None]:
    """Returns (exit code: 0 clean, 1 findings at/above fail-on, 2 could not review; the review or
    None). Whatever happens, the SARIF file is written and every output of action.yml is set."""
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
    settings = load_action_settings(env, event.base_sha, opts, environ)
    reviewer = choose_reviewer(
        settings, environ, pr=PullRequestText(title=event.title, body=event.body, branch=event.branch)
    )
    outcome: ReviewOutcome = run_review(
        ReviewRequest(repo_root=env.workspace, base=event.base_sha, head=event.head_sha, untrusted=True),
        settings,
        reviewer=reviewer,
    )
    review = outcome.review
    sarif = _sarif_path(env, opts)
    _write(sarif, render_sarif_text(review, tool_version=__version__))

    markdown = review_markdown(review)
    echo_untrusted(out, markdown)  # the findings, readable in the log, with workflow commands off
    posted = post_failed = False
    if env.token is None:
        out.write(
            annotation(
                "warning", "reviewbot: no GITHUB_TOKEN; the review is only in this log and the summary"
            )
            + "\n"
        )
    else:
        host = PyGithubHost(env.repository, env.token, base_url=settings.github.api_url)
        try:
            identity = action_identity(env.token, opts.bot_login, host.whoami)
            result = publish_review(
                host, event.number, review, outcome.diff, settings, head_sha=event.head_sha, identity=identity
            )
            posted = True
            out.write(f"reviewbot: posted: {_describe(result)}\n")
            for note in result.notes:
                out.write(f"reviewbot: note: {sanitize(note)}\n")
        except CodeHostAuthError as exc:
            reason = "a fork's read-only token" if event.is_fork else "the token's permissions"
            out.write(
                annotation(
                    "warning",
                    f"reviewbot could not post to the pull request ({reason}): "
                    f"{sanitize(str(exc))}. {_ELSEWHERE}",
                )
                + "\n"
            )
        except CodeHostError as exc:
            # GitHub kept failing: report locally, and fail the step — the PR did not get its review.
            out.write(
                annotation(
                    "error",
                    f"reviewbot could not post to the pull request: {sanitize(str(exc))}. {_ELSEWHERE}",
                )
                + "\n"
            )
            post_failed = True
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
    return (1 if review.fails(settings.fail_on_severity) else 0), review
