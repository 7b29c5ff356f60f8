"""A review job (plain data, serialisable to JSON for SQLite and Redis) and the runner port.

The queue knows nothing about reviews: it hands a `ReviewJob` and a `JobContext` to an injected
`ReviewJobRunner` and looks only at how `run` ends — normally (done), `RetryableJobError` (retry
with backoff), `PermanentJobError` (dead letter with the reason), `JobSuperseded` (a newer push won).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewbot.core.ignored_keys import without_key

#: `X-GitHub-Delivery` is a GUID. Ids become SQLite keys, RQ job ids and Redis key names, and RQ
#: accepts only letters, digits, `_` and `-`: anything else is refused at the door (400).
DELIVERY_ID = r"^[A-Za-z0-9_-]{1,100}$"
#: owner/name as GitHub allows them; a name of only dots (`.`, `..`) is none. Clone URLs are built
#: from it. (No look-ahead: pydantic's regex engine has none.)
REPO_FULL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}/[A-Za-z0-9._-]{0,99}[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$"


class ReviewJob(BaseModel):
    """Review `head_sha` of PR `pr_number` in `repo_full_name`. `delivery_id` is the job's identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: str = Field(pattern=DELIVERY_ID)
    trigger: Literal["pull_request", "issue_comment"]
    repo_full_name: str = Field(pattern=REPO_FULL_NAME)
    pr_number: int = Field(ge=1)
    head_sha: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    base_sha: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    base_ref: str
    installation_id: int | None = None
    requested_by: str | None = None
    # What the PR says about itself (untrusted; for the LLM policy's prompt). Jobs stored by
    # earlier versions have none.
    head_ref: str = ""
    title: str = ""
    body: str = ""

    @model_validator(mode="before")
    @classmethod
    def _drop_payload_url(cls, data: object) -> object:
        """Jobs stored by earlier versions carry the payload's `clone_url`: ignored, never used."""
        return without_key(data, "clone_url")

    @property
    def pr_key(self) -> str:
        """Jobs with the same key review the same PR: a newer one supersedes older ones."""
        return f"{self.repo_full_name}#{self.pr_number}"


@dataclass(frozen=True)
class JobContext:
    """What a runner may ask the queue while it works. `cancelled()` is cheap; call it between steps."""

    attempt: int
    cancelled: Callable[[], bool]


class ReviewJobRunner(Protocol):
    """Does the work of one job: clone, review, publish. Raises a JobError subclass to steer the queue."""

    def run(self, job: ReviewJob, ctx: JobContext) -> None: ...
