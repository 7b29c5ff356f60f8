"""The job runner: token -> clone (as data) -> review -> publish, translating every failure into
"retry later" or "give up, with the reason" for the queue.

The review and publish steps are injected, so the queue and worker are tested with a real clone
and a loopback GitHub while the review itself is the `run_review` of the reviewbot package in
production (`production_runner`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Generic, TypeVar

from reviewbot.errors import (
    CodeHostAuthError,
    CodeHostError,
    CodeHostRejected,
    ConfigError,
    ReviewbotError,
    SandboxUnavailable,
    WorkspaceError,
)
from webhooks.auth import TokenProvider
from webhooks.clone import cloned_pr, repo_clone_url
from webhooks.errors import CloneError, JobSuperseded, PermanentJobError, RetryableJobError
from webhooks.jobs import JobContext, ReviewJob

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")

ReviewStep = Callable[[Path, ReviewJob], R]
"""Review the clone at `root`; returns what the publish step takes."""

PublishStep = Callable[[R, ReviewJob, TokenProvider], object]
"""Post the result (what it returns is the step's own: the runner only waits for it). Must be
idempotent: an at-least-once queue may run it twice for one job."""


@dataclass(eq=False)
class CloneReviewPublishRunner(Generic[R]):
    """A `ReviewJobRunner`. Checks the cancel flag between steps: a newer push wins."""

    tokens: TokenProvider | None
    review: ReviewStep[R]
    publish: PublishStep[R]
    _: KW_ONLY
    git_url: str
    work_dir: Path | None = None
    clone_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        try:  # a bad configured host is the deployer's error, found at start, not per job
            repo_clone_url(self.git_url, "owner/name")
        except CloneError as exc:
            raise ConfigError(f"git_url {self.git_url!r}: {exc}") from exc

    def run(self, job: ReviewJob, ctx: JobContext) -> None:
        tokens = self.tokens
        if tokens is None:
            raise PermanentJobError("no GitHub credentials configured (github.app_id + key, or github.token)")
        self._check(job, ctx, "before starting")
        try:
            token = tokens.token(job.installation_id)
        except CodeHostAuthError as exc:  # e.g. the installation was removed
            raise PermanentJobError(str(exc)) from exc
        except CodeHostError as exc:
            raise RetryableJobError(str(exc)) from exc
        if self.work_dir is not None:
            self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            with cloned_pr(
                repo_clone_url(self.git_url, job.repo_full_name),
                job.base_sha,
                job.head_sha,
                token=token,
                parent=self.work_dir,
                timeout_s=self.clone_timeout_s,
            ) as root:
                self._check(job, ctx, "after the clone")
                result = _translate(lambda: self.review(root, job), "review")
            self._check(job, ctx, "before publishing")
            _translate(lambda: self.publish(result, job, tokens), "publish")
        except CloneError as exc:
            if exc.retryable:
                raise RetryableJobError(str(exc)) from exc
            raise PermanentJobError(str(exc)) from exc

    @staticmethod
    def _check(job: ReviewJob, ctx: JobContext, where: str) -> None:
        if ctx.cancelled():
            raise JobSuperseded(f"{job.pr_key} has a newer head than {job.head_sha[:12]} ({where})")


def _translate(step: Callable[[], T], what: str) -> T:
    """reviewbot's errors -> the queue's: what a retry can fix (Docker down, GitHub 5xx) and what not."""
    try:
        return step()
    except (JobSuperseded, PermanentJobError, RetryableJobError):
        raise
    except (CodeHostAuthError, CodeHostRejected, WorkspaceError, ConfigError) as exc:
        raise PermanentJobError(f"{what}: {type(exc).__name__}: {exc}") from exc
    except (SandboxUnavailable, CodeHostError) as exc:
        raise RetryableJobError(f"{what}: {type(exc).__name__}: {exc}") from exc
    except ReviewbotError as exc:
        raise RetryableJobError(f"{what}: {type(exc).__name__}: {exc}") from exc
