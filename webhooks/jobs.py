"""A review job (plain data, serialisable to JSON for SQLite and Redis) and the runner port.

The queue knows nothing about reviews: it hands a `ReviewJob` and a `JobContext` to an injected
`ReviewJobRunner` and looks only at how `run` ends — normally (done), `RetryableJobError` (retry
with backoff), `PermanentJobError` (dead letter with the reason), `JobSuperseded` (a newer push won).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class ReviewJob(BaseModel):
    """Review `head_sha` of PR `pr_number` in `repo_full_name`. `delivery_id` is the job's identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery_id: str = Field(min_length=1, max_length=200)
    trigger: Literal["pull_request", "issue_comment"]
    repo_full_name: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    pr_number: int = Field(ge=1)
    head_sha: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    base_sha: str = Field(pattern=r"^[0-9a-f]{40}([0-9a-f]{24})?$")
    base_ref: str
    clone_url: str = Field(description="The base repository; the PR head is fetched from it by sha")
    installation_id: int | None = None
    requested_by: str | None = None

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
