"""Politeness toward GitHub: one write per second, retries with backoff, rate-limit waits.

GitHub's secondary limits (docs/github-rules.md, "Secondary rate limits"): wait at least 1 s
between POST/PATCH/PUT/DELETE; on a 403/429 limit response wait `retry-after` seconds, else until
`x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least 60 s with exponential
backoff. 5xx and network errors are retried with a short exponential backoff. The clock is
injected so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from reviewbot.errors import CodeHostError

T = TypeVar("T")

MIN_WRITE_INTERVAL_S = 1.0
SECONDARY_LIMIT_MIN_WAIT_S = 60.0


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float:
        """Wall-clock epoch seconds (for `x-ratelimit-reset`)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Transient(Exception):
    """A failure worth retrying: 5xx, a dropped connection. Internal to the adapter."""


class RateLimited(Transient):
    """GitHub asked us to slow down. `wait_s` None = no hint given (back off from 60 s)."""

    def __init__(self, message: str, wait_s: float | None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass
class RetryPolicy:
    """How hard to try: `attempts` in all (1 = no retry: the webhook receiver answers at once), a
    backoff doubling from `backoff_s` up to `backoff_max_s` between transient failures."""

    attempts: int = 5
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0
    #: longest single rate-limit wait we accept before giving up with a clear error
    max_rate_limit_wait_s: float = 900.0


class Politeness:
    """Wraps each call: writes are spaced, transient failures retried, limits waited out."""

    def __init__(
        self,
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        min_write_interval_s: float = MIN_WRITE_INTERVAL_S,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.policy = policy or RetryPolicy()
        self.min_write_interval_s = min_write_interval_s
        self._last_write: float | None = None
        self.slept: list[float] = []

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self.clock.sleep(seconds)

    def _space_write(self) -> None:
        if self._last_write is not None:
            self._sleep(self._last_write + self.min_write_interval_s - self.clock.monotonic())
        self._last_write = self.clock.monotonic()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        n = state.attempt_number
        if isinstance(exc, RateLimited):
            wait = exc.wait_s
            if wait is None:
                wait = SECONDARY_LIMIT_MIN_WAIT_S * 2 ** (n - 1)
            if wait > self.policy.max_rate_limit_wait_s:
                raise CodeHostError(
                    f"GitHub rate limit: asked to wait {wait:.0f} s, more than we accept"
                ) from exc
            return max(wait, 0.0)
        return float(min(self.policy.backoff_s * 2 ** (n - 1), self.policy.backoff_max_s))

    def call(
        self, fn: Callable[[], T], *, write: bool = False, probe: Callable[[], T | None] | None = None
    ) -> T:
        """Run `fn` with retries. For a write, `probe` is asked before each retry that follows a
        transient failure whether the first attempt landed after all (GitHub may have processed a
        POST that answered 502), so a retry never duplicates a review or a comment."""
        retried_after_transient = False

        def attempt() -> T:
            nonlocal retried_after_transient
            if retried_after_transient and probe is not None:
                found = probe()
                if found is not None:
                    return found
            if write:
                self._space_write()
            try:
                return fn()
            except RateLimited:
                retried_after_transient = False
                raise
            except Transient:
                retried_after_transient = True
                raise

        retrying = Retrying(
            sleep=self._sleep,
            wait=self._wait,
            stop=stop_after_attempt(self.policy.attempts),
            retry=retry_if_exception_type(Transient),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except RateLimited as exc:
            raise CodeHostError(
                f"GitHub rate limit still in force after {self.policy.attempts} attempts: {exc}"
            ) from exc
        except Transient as exc:
            raise CodeHostError(f"GitHub kept failing after {self.policy.attempts} attempts: {exc}") from exc
