"""Pydantic models of the webhook payload fields the bot uses, and nothing more.

Unknown fields are ignored (GitHub adds fields all the time); the fields we read are validated, so
a payload missing one is a clear 400 rather than a KeyError deep in a worker.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from webhooks.jobs import DELIVERY_ID, REPO_FULL_NAME

Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class User(_Model):
    login: str


class Repository(_Model):
    # Only the name is read. URLs in the payload (clone_url, url, …) are never used: a signed
    # payload pointing elsewhere must not receive the installation token.
    full_name: Annotated[str, StringConstraints(pattern=REPO_FULL_NAME)]
    private: bool = False


class InstallationRef(_Model):
    id: int


class Installation(_Model):
    id: int
    account: User | None = None


class Ref(_Model):
    # `repo` is not read: the head is fetched by sha from the base repository (GitHub keeps every
    # PR's commits there as refs/pull/N/head), so even a deleted fork (`head.repo: null`) is fine.
    ref: str
    sha: Sha


class PullRequest(_Model):
    number: int
    state: str
    draft: bool = False
    head: Ref
    base: Ref
    # Untrusted text, for the LLM policy's prompt (fenced there as data).
    title: str = ""
    body: str | None = None


class PullRequestEvent(_Model):
    action: str
    number: int
    pull_request: PullRequest
    repository: Repository
    installation: InstallationRef | None = None
    sender: User


class IssuePullRequestLink(_Model):
    url: str


class Issue(_Model):
    number: int
    state: str
    # Present only when the issue is a pull request: that is how a PR conversation comment is told apart.
    pull_request: IssuePullRequestLink | None = None


class Comment(_Model):
    id: int
    body: str | None = None
    user: User


class IssueCommentEvent(_Model):
    action: str
    issue: Issue
    comment: Comment
    repository: Repository
    installation: InstallationRef | None = None
    sender: User


class InstallationEvent(_Model):
    action: str
    installation: Installation
    sender: User


class Hook(_Model):
    type: str
    app_id: int | None = None


class PingEvent(_Model):
    zen: str
    hook_id: int
    hook: Hook | None = None


class Headers(_Model):
    """The delivery headers the receiver requires."""

    event: str = Field(min_length=1, max_length=100)
    delivery: str = Field(pattern=DELIVERY_ID)
