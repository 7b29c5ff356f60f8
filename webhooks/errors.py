"""Errors of the webhook bot, under reviewbot's one error tree.

ReviewbotError
└── WebhookError               the bot failed on purpose
    ├── JobError               a review job did not complete
    │   ├── RetryableJobError  transient: GitHub 5xx, Docker down, network; retried with backoff
    │   ├── PermanentJobError  will never succeed (PR gone, installation removed): dead letter
    │   └── JobSuperseded      a newer push to the same PR made this job pointless
    ├── QueueUnavailable       the queue cannot take a job now (Redis down, disk full): 503
    └── CloneError             the PR could not be fetched (bad URL, refused protocol, auth)
"""

from __future__ import annotations

from reviewbot.errors import ReviewbotError


class WebhookError(ReviewbotError):
    """Base of the webhook bot's errors."""


class JobError(WebhookError):
    """A review job did not complete."""


class RetryableJobError(JobError):
    """Transient failure: the queue retries the job later with exponential backoff."""


class PermanentJobError(JobError):
    """Retrying cannot help: the job goes to the dead-letter state with this reason."""


class JobSuperseded(JobError):
    """A newer head of the same PR was enqueued; the runner stopped early."""


class QueueUnavailable(WebhookError):
    """The queue refused or could not durably store a job."""


class CloneError(WebhookError):
    """Fetching the PR failed or was refused."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
