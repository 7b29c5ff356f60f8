"""When the LLM policy must stop asking the model, and why (what the note in the review says).

`Pace` measures how long the model's answers take (the slowest so far, and a moving average) so
the policy never starts a call that cannot finish within the review's wall clock: the margin is
what the model has shown it needs, not a constant.

`Stop` is what ended the model's part, worded by what happened. Only running out of a budget
(iterations, wall clock, tokens) makes the review *partial*; a model that repeats itself or
answers in prose still gets its answer used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StopKind = Literal["iterations", "time", "tokens", "repeats", "refused", "context", "unavailable", "prose"]
BUDGET_KINDS: frozenset[str] = frozenset({"iterations", "time", "tokens"})
EMA_WEIGHT = 0.3
HEADROOM = 1.25  # an answer may take a little longer than the slowest seen so far


@dataclass(frozen=True)
class Stop:
    kind: StopKind
    text: str  # one line, no URLs or secrets: it is posted

    @property
    def budget(self) -> bool:
        return self.kind in BUDGET_KINDS


@dataclass
class Pace:
    """Observed model-call durations (seconds)."""

    slowest: float = 0.0
    average: float | None = None
    samples: list[float] = field(default_factory=list)

    def observe(self, seconds: float) -> None:
        self.samples.append(seconds)
        self.slowest = max(self.slowest, seconds)
        self.average = (
            seconds if self.average is None else (1 - EMA_WEIGHT) * self.average + EMA_WEIGHT * seconds
        )

    def expected_s(self) -> float:
        """How long the next answer should be given (0 before any was measured)."""
        if self.average is None:
            return 0.0
        return max(self.slowest, self.average) * HEADROOM
