"""Fakes for the agent's ports, next to them: a policy driven by a plain function or a list of
actions (like pydantic-ai's FunctionModel) and a clock tests advance by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reviewbot.agent.loop import Action, AgentState, CallTool, Finish, StopReason


class ScriptedPolicy:
    """A policy whose decisions are scripted.

    `ScriptedPolicy(fn)` calls `fn(state)` for every decision; `ScriptedPolicy.of([...])` returns
    the actions in order and then `Finish("script exhausted")`. Every state it was shown is kept in
    `states`, so a test can assert what the policy observed (e.g. a validation error).
    """

    def __init__(self, fn: Callable[[AgentState[Any]], Action]) -> None:
        self._fn = fn
        self.states: list[AgentState[Any]] = []

    @classmethod
    def of(cls, actions: Iterable[Action]) -> ScriptedPolicy:
        pending = list(actions)

        def next_action(state: AgentState[Any]) -> Action:
            return pending.pop(0) if pending else Finish(reason="script exhausted")

        return cls(next_action)

    def decide(self, state: AgentState[Any]) -> Action:
        self.states.append(state)
        return self._fn(state)

    def wrap_up(self, state: AgentState[Any], reason: StopReason, message: str) -> Action | None:
        """No last word: a guard stop ends the run without a report."""
        return None


def call(name: str, **args: Any) -> CallTool:
    """Shorthand for scripts: `call("read_file", path="a.py")`."""
    return CallTool(name=name, args=args)


class FakeClock:
    """A monotonic clock that moves only when told to: `clock.advance(5)`. Optionally advances by
    `step` on every read, which makes "time passes while the agent works" deterministic."""

    def __init__(self, start: float = 1000.0, *, step: float = 0.0) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value

    def advance(self, seconds: float) -> None:
        self.now += seconds
