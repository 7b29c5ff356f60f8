"""The `Queue` port shared by the SQLite (embedded) and Redis/RQ (scale-out) backends.

Guarantees both backends give (tests run the same assertions against each):
- `enqueue` returns only after the job is durably stored, so a 202 never loses a job.
- Deduplication on the delivery id: a redelivery (same `X-GitHub-Delivery`) is not enqueued again.
- Supersede: a newer job for the same PR cancels queued jobs for it and flags running ones.
- At-least-once: a job is done only after the runner returned; a crashed worker's job runs again.
- Retries with exponential backoff for `RetryableJobError`; `PermanentJobError` and exhausted
  retries end in a dead-letter state that keeps the reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from webhooks.jobs import ReviewJob

JobState = Literal["queued", "running", "done", "dead", "superseded"]


@dataclass(frozen=True)
class EnqueueResult:
    status: Literal["enqueued", "duplicate"]
    superseded: int = 0  # older jobs of the same PR cancelled or flagged


@dataclass(frozen=True)
class QueueStats:
    queued: int
    running: int
    done: int
    dead: int
    superseded: int


@dataclass(frozen=True)
class JobRecord:
    job: ReviewJob
    state: JobState
    attempts: int
    last_error: str | None


class RetryPolicy(BaseModel):
    """Exponential backoff: delay(n) = min(max_delay_s, base_delay_s * 2**(n-1)) plus up to 10% jitter."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=5, ge=1)
    base_delay_s: float = Field(default=5.0, ge=0)
    max_delay_s: float = Field(default=600.0, ge=0)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        base = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, attempt - 1))
        jitter: float = (rng or random).random() * 0.1 * base
        return base + jitter

    def delays(self) -> list[int]:
        """Whole-second delays for each retry (RQ takes a list)."""
        return [
            max(0, round(min(self.max_delay_s, self.base_delay_s * 2.0**i)))
            for i in range(self.max_attempts - 1)
        ]


class Queue(Protocol):
    """What the receiver needs from a queue."""

    def enqueue(self, job: ReviewJob) -> EnqueueResult:
        """Store `job` durably. Raises QueueUnavailable when it cannot."""
        ...

    def get(self, delivery_id: str) -> JobRecord | None: ...

    def stats(self) -> QueueStats: ...

    def ping(self) -> None:
        """Raise QueueUnavailable if the queue cannot be reached."""
        ...

    def close(self) -> None: ...
