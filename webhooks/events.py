"""Which deliveries become review jobs. Pure routing plus one port, `RepoLookup`, for the two API
questions a comment command needs answered (does the commenter have write access; what is the PR's
head now), answered through the `CodeHost` port (`GithubLookup`). The receiver turns the `Decision`
into an HTTP answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from reviewbot.adapters.github.port import CodeHost, PullRequestFacts
from webhooks.auth import TokenProvider, installation_host
from webhooks.jobs import ReviewJob
from webhooks.payloads import (
    InstallationEvent,
    IssueCommentEvent,
    PingEvent,
    PullRequest,
    PullRequestEvent,
)

PR_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
#: `/reviewbot review` alone on a line, anywhere in the comment.
COMMAND = re.compile(r"^\s*/reviewbot\s+review\s*$", re.MULTILINE)
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


class BadPayload(ValueError):
    """The body is JSON but not the payload its event promises: 400."""


class RepoLookup(Protocol):
    def permission(self, repo_full_name: str, login: str, installation_id: int | None) -> str: ...

    def pull_request(
        self, repo_full_name: str, number: int, installation_id: int | None
    ) -> PullRequestFacts: ...


@dataclass(frozen=True)
class Decision:
    kind: str  # "enqueue" | "ignored" | "handled"
    reason: str
    job: ReviewJob | None = None
    forget_installation: int | None = None


def _ignored(reason: str) -> Decision:
    return Decision("ignored", reason)


def facts_of(pr: PullRequest) -> PullRequestFacts:
    """A payload's pull request in the shape the `CodeHost` port gives it."""
    return PullRequestFacts(
        number=pr.number,
        state=pr.state,
        draft=pr.draft,
        head_sha=pr.head.sha,
        head_ref=pr.head.ref,
        base_sha=pr.base.sha,
        base_ref=pr.base.ref,
        title=pr.title,
        body=pr.body or "",
    )


def _job_from_pr(
    delivery: str,
    trigger: Literal["pull_request", "issue_comment"],
    repo: str,
    pr: PullRequestFacts,
    inst: int | None,
    by: str,
) -> ReviewJob:
    # No URL of the payload is used: the job clones `repo` (validated) from the configured host.
    same_name = {name: getattr(pr, name) for name in _JOB_FIELDS_OF_A_PR}
    return ReviewJob(
        delivery_id=delivery,
        trigger=trigger,
        repo_full_name=repo,
        pr_number=pr.number,
        installation_id=inst,
        requested_by=by,
        **same_name,
    )


#: The fields a `ReviewJob` takes from `PullRequestFacts` under the same name.
_JOB_FIELDS_OF_A_PR = ("head_sha", "base_sha", "base_ref", "head_ref", "title", "body")


def decide(
    event: str,
    delivery: str,
    payload: dict[str, Any],
    *,
    review_drafts: bool,
    lookup: RepoLookup | None,
) -> Decision:
    """Route one verified delivery. Raises BadPayload (400) or CodeHostError (the API failed: 503)."""
    try:
        if event == "ping":
            ping = PingEvent.model_validate(payload)
            return Decision("handled", f"pong (hook {ping.hook_id})")
        if event == "installation":
            ev = InstallationEvent.model_validate(payload)
            gone = ev.installation.id if ev.action in {"deleted", "suspend"} else None
            return Decision(
                "handled", f"installation {ev.installation.id} {ev.action}", forget_installation=gone
            )
        if event == "pull_request":
            return _pull_request(delivery, PullRequestEvent.model_validate(payload), review_drafts)
        if event == "issue_comment":
            return _comment(delivery, IssueCommentEvent.model_validate(payload), lookup)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadPayload(f"{event} payload: {where}: {first['msg']}") from exc
    return _ignored(f"event {event!r} is not handled")


def _pull_request(delivery: str, ev: PullRequestEvent, review_drafts: bool) -> Decision:
    if ev.action not in PR_ACTIONS:
        return _ignored(f"pull_request action {ev.action!r} is not reviewed")
    pr = ev.pull_request
    if pr.state != "open":
        return _ignored(f"pull request #{pr.number} is {pr.state}")
    if pr.draft and not review_drafts:
        return _ignored(f"pull request #{pr.number} is a draft")
    inst = ev.installation.id if ev.installation else None
    job = _job_from_pr(delivery, "pull_request", ev.repository.full_name, facts_of(pr), inst, ev.sender.login)
    return Decision("enqueue", f"review of #{pr.number} at {pr.head.sha[:12]}", job)


def _comment(delivery: str, ev: IssueCommentEvent, lookup: RepoLookup | None) -> Decision:
    # An explicit request reviews drafts too: someone with write access asked for it.
    if ev.action != "created":
        return _ignored(f"issue_comment action {ev.action!r} is not a command")
    if ev.issue.pull_request is None:
        return _ignored("comment is on an issue, not a pull request")
    if not COMMAND.search(ev.comment.body or ""):
        return _ignored("comment has no /reviewbot review command")
    if lookup is None:
        return _ignored("no GitHub credentials configured to check the commenter's permission")
    repo, login = ev.repository.full_name, ev.comment.user.login
    inst = ev.installation.id if ev.installation else None
    permission = lookup.permission(repo, login, inst)
    if permission not in WRITE_PERMISSIONS:
        return _ignored(f"{login} has {permission!r} access; /reviewbot review needs write")
    pr = lookup.pull_request(repo, ev.issue.number, inst)
    if pr.state != "open":
        return _ignored(f"pull request #{pr.number} is {pr.state}")
    job = _job_from_pr(delivery, "issue_comment", repo, pr, inst, login)
    return Decision("enqueue", f"review of #{pr.number} at {pr.head_sha[:12]} requested by {login}", job)


class GithubLookup:
    """`RepoLookup` through the `CodeHost` port, with the installation's token and no retries (the
    receiver answers at once; a failure is a 503 and GitHub can redeliver)."""

    def __init__(self, tokens: TokenProvider) -> None:
        self._tokens = tokens

    def permission(self, repo_full_name: str, login: str, installation_id: int | None) -> str:
        return self._host(repo_full_name, installation_id).permission(login)

    def pull_request(self, repo_full_name: str, number: int, installation_id: int | None) -> PullRequestFacts:
        return self._host(repo_full_name, installation_id).pull_request(number)

    def _host(self, repo_full_name: str, installation_id: int | None) -> CodeHost:
        return installation_host(self._tokens, repo_full_name, installation_id, retry=False)
