from collections.abc import Iterator

import pytest

from reviewbot.adapters.github.limits import Politeness, RateLimited, RetryPolicy, Transient
from reviewbot.errors import CodeHostError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_writes_are_spaced_one_second_apart_reads_are_not() -> None:
    clock = FakeClock()
    p = Politeness(clock)
    p.call(lambda: 1, write=True)
    clock.now += 0.25
    p.call(lambda: 2, write=True)
    p.call(lambda: 3)
    assert clock.sleeps == [0.75]


def test_retry_after_is_honoured_then_succeeds() -> None:
    clock = FakeClock()
    answers: Iterator[RateLimited | str] = iter([RateLimited("403", 7.0), RateLimited("429", None), "ok"])

    def call() -> str:
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    assert Politeness(clock, min_write_interval_s=0).call(call, write=True) == "ok"
    assert clock.sleeps == [7.0, 120.0]  # no hint: at least 60 s, doubling


def test_transient_errors_back_off_exponentially_then_give_up() -> None:
    clock = FakeClock()

    def fail() -> None:
        raise Transient("502")

    with pytest.raises(CodeHostError, match="kept failing after 4 attempts"):
        Politeness(clock, RetryPolicy(attempts=4, backoff_s=0.5)).call(fail)
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_a_too_long_rate_limit_wait_is_a_clear_error() -> None:
    def limited() -> None:
        raise RateLimited("403", 3600.0)

    with pytest.raises(CodeHostError, match="asked to wait 3600 s"):
        Politeness(FakeClock(), RetryPolicy(max_rate_limit_wait_s=900)).call(limited)


def test_probe_prevents_a_duplicate_after_a_lost_response() -> None:
    calls: list[str] = []

    def post() -> str:
        calls.append("post")
        raise Transient("502 after the write landed")

    result = Politeness(FakeClock()).call(post, write=True, probe=lambda: "found-it")
    assert result == "found-it" and calls == ["post"]
