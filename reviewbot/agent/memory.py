"""The agent's memory: what the task is, what it learned, what it saw, what it did.

- `context`: key/values describing the task (base, head, changed files). Set once; never pruned.
- `knowledge`: facts learned during the run (from tools' `facts` or the policy), keyed so a newer
  fact replaces an older one.
- `observations`: timestamped tool results and loop notices.
- `actions`: the history of tool calls with their outcome.

Bounded: knowledge, observations and actions are each pruned by age (`max_age_s`) and by count
(`max_items`, oldest first). Pruning is forgetting for the *prompt*; the loop's guards (repeat
detection, iteration count) keep their own state so forgetting can never reopen a loop.

The clock is injected (monotonic seconds) so tests are deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, JsonValue, SkipValidation

from reviewbot.settings import AgentSettings


class Observation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: float
    source: str  # tool name, or "loop" for the loop's own notices
    ok: bool
    text: str
    iteration: int = 0
    value: SkipValidation[object] = None  # the tool's typed result (ToolOutput.value)


class ActionRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: float
    iteration: int
    tool: str
    args: dict[str, JsonValue]
    outcome: str  # "ok" or a ToolErrorKind value
    duration_s: float = 0.0


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: float
    key: str
    value: str


@dataclass
class Dropped:
    """How much pruning forgot, so a prompt can say so."""

    observations: int = 0
    actions: int = 0
    knowledge: int = 0


class Memory:
    def __init__(
        self,
        *,
        max_items: int = 200,
        max_age_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_items < 1 or max_age_s <= 0:
            raise ValueError("memory bounds must be positive")
        self.max_items = max_items
        self.max_age_s = max_age_s
        self.clock = clock
        self.context: dict[str, JsonValue] = {}
        self._knowledge: dict[str, Fact] = {}
        self.observations: list[Observation] = []
        self.actions: list[ActionRecord] = []
        self.dropped = Dropped()

    @classmethod
    def from_settings(cls, settings: AgentSettings, *, clock: Callable[[], float] = time.monotonic) -> Memory:
        return cls(max_items=settings.memory_max_items, max_age_s=settings.memory_max_age_s, clock=clock)

    # -- writing ---------------------------------------------------------------------------

    def set_context(self, **values: JsonValue) -> None:
        self.context.update(values)

    def learn(self, key: str, value: str) -> None:
        self._knowledge.pop(key, None)  # re-insert: dict order is learning order, newest last
        self._knowledge[key] = Fact(at=self.clock(), key=key, value=value)
        self.prune()

    def observe(
        self,
        source: str,
        text: str,
        *,
        ok: bool = True,
        iteration: int = 0,
        value: object = None,
    ) -> Observation:
        obs = Observation(at=self.clock(), source=source, ok=ok, text=text, iteration=iteration, value=value)
        self.observations.append(obs)
        self.prune()
        return obs

    def record_action(
        self, tool: str, args: dict[str, JsonValue], outcome: str, *, iteration: int, duration_s: float = 0.0
    ) -> ActionRecord:
        rec = ActionRecord(
            at=self.clock(), iteration=iteration, tool=tool, args=args, outcome=outcome, duration_s=duration_s
        )
        self.actions.append(rec)
        self.prune()
        return rec

    # -- reading ---------------------------------------------------------------------------

    @property
    def knowledge(self) -> dict[str, str]:
        return {k: f.value for k, f in self._knowledge.items()}

    @property
    def facts(self) -> list[Fact]:
        return list(self._knowledge.values())

    # -- bounds ----------------------------------------------------------------------------

    def prune(self) -> int:
        """Forget what is older than `max_age_s`, then the oldest beyond `max_items`. Returns how
        many entries were dropped in all."""
        cutoff = self.clock() - self.max_age_s
        n_obs = len(self.observations)
        n_act = len(self.actions)
        n_kn = len(self._knowledge)
        self.observations = [o for o in self.observations if o.at >= cutoff][-self.max_items :]
        self.actions = [a for a in self.actions if a.at >= cutoff][-self.max_items :]
        facts = [f for f in self._knowledge.values() if f.at >= cutoff][-self.max_items :]
        self._knowledge = {f.key: f for f in facts}
        d_obs = n_obs - len(self.observations)
        d_act = n_act - len(self.actions)
        d_kn = n_kn - len(self._knowledge)
        self.dropped.observations += d_obs
        self.dropped.actions += d_act
        self.dropped.knowledge += d_kn
        return d_obs + d_act + d_kn
