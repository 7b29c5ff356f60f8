"""The agent loop: observe -> reason -> act -> learn, with explicit budgets.

Each iteration: check the budgets (iterations, wall clock); the policy *reasons* over the state
(memory, last result, tool schemas) and returns an Action; the loop *acts* — runs the call through
the registry, which validates arguments and enforces the tool timeout; it *observes* the result
into memory and *learns* the facts the tool reported. Every decision and result is an event.

The run stops on, in this order of checks:
- `Finish` from the policy, or a successful call of the `report` tool (its validated payload is the
  run's result);
- the policy raising a ReviewbotError (e.g. the LLM provider failed) -> POLICY_ERROR;
- `max_iterations` decisions;
- the wall-clock budget (`budget_s` on the injected clock); a tool's timeout is also capped by what
  is left of it;
- `max_repeats` repeated calls: a call with the same tool and the same canonical JSON arguments as
  an earlier one is NOT executed; the policy gets an observation saying so instead.

A guard (iterations, wall clock, repeats, a policy's own budget) ends in a wrap-up: the policy's
`wrap_up(state, reason, message)` is asked once for its last word, and a `report` call it returns
is executed (the report tool is the bot's own and instant, so it runs even past the wall clock);
the run then ends REPORTED with the guard in its message, and the policy says in its report what
stopped it. A `report` call is never refused for lack of time. A policy whose `wrap_up` returns
None has no last word: on a guard stop the caller gets `AgentRun.report is None` and a stop
reason, and builds a partial review from what it has.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from reviewbot.agent.events import AgentEvent, EventKind, EventSink, ListSink, canonical_json, safe_text
from reviewbot.agent.memory import Memory
from reviewbot.agent.report import REPORT_TOOL, Report
from reviewbot.agent.tools import ToolContext, ToolErrorKind, ToolOutput, ToolRegistry, ToolSchema
from reviewbot.errors import ReviewbotError
from reviewbot.settings import AgentSettings

DepsT = TypeVar("DepsT")
DepsT_co = TypeVar("DepsT_co", covariant=True)
DepsT_contra = TypeVar("DepsT_contra", contravariant=True)


class CallTool(BaseModel):
    """Call `name` with `args` (validated by the registry against the tool's Params)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["call"] = "call"
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, description="The policy's own id for the call (an LLM tool_call id)")


class Finish(BaseModel):
    """Stop without (another) report: nothing left to do, or the policy gives up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["finish"] = "finish"
    reason: str = ""


Action = CallTool | Finish


class PolicyBudgetExhausted(ReviewbotError):
    """Raised by a policy whose own budget ran out (e.g. the LLM token budget): the run stops as
    BUDGET_EXHAUSTED, like the wall clock, so the caller marks the review partial."""


class StopReason(StrEnum):
    FINISHED = "finished"  # the policy returned Finish
    REPORTED = "reported"  # the report tool succeeded
    MAX_ITERATIONS = "max_iterations"
    BUDGET_EXHAUSTED = "budget_exhausted"
    REPEATED_ACTIONS = "repeated_actions"
    POLICY_ERROR = "policy_error"

    @property
    def complete(self) -> bool:
        """True when the agent ended on its own terms, not because a guard stopped it."""
        return self in (StopReason.FINISHED, StopReason.REPORTED)


@dataclass(frozen=True)
class LastCall:
    """The previous action and its result, what a policy usually reacts to."""

    name: str
    args: dict[str, Any]
    output: ToolOutput
    id: str | None = None


@dataclass(frozen=True)
class AgentState(Generic[DepsT_co]):
    """What the policy sees when it decides. `memory` is live (a policy may `learn` into it)."""

    iteration: int  # 1-based number of the decision being made
    max_iterations: int
    elapsed_s: float
    budget_s: float
    memory: Memory
    tools: list[ToolSchema]
    deps: DepsT_co
    last: LastCall | None = None
    repeats: int = 0

    @property
    def iterations_left(self) -> int:
        return self.max_iterations - self.iteration + 1

    @property
    def time_left_s(self) -> float:
        return self.budget_s - self.elapsed_s


class Policy(Protocol[DepsT_contra]):
    """Chooses the next action. The deterministic default and the LLM policy both implement it.

    `wrap_up` is asked once when a guard stops the run: a `report` call it returns is executed (the
    policy's last word); None means the policy has none, and the caller builds a partial result.
    """

    def decide(self, state: AgentState[DepsT_contra]) -> Action: ...

    def wrap_up(self, state: AgentState[DepsT_contra], reason: StopReason, message: str) -> Action | None: ...


@dataclass
class AgentRun:
    stop_reason: StopReason
    iterations: int
    report: Report | None
    events: list[AgentEvent]
    memory: Memory
    elapsed_s: float
    message: str = ""  # why it stopped, one line

    @property
    def complete(self) -> bool:
        return self.stop_reason.complete


@dataclass
class Limits:
    """The loop's budgets. `from_settings` maps AgentSettings; `max_repeats` is how many refused
    repeated calls are tolerated before the loop stops."""

    max_iterations: int = 40
    budget_s: float = 1800.0
    max_repeats: int = 3
    max_event_chars: int = 2000

    @classmethod
    def from_settings(cls, settings: AgentSettings, *, max_repeats: int = 3) -> Limits:
        return cls(
            max_iterations=settings.max_iterations, budget_s=settings.budget_s, max_repeats=max_repeats
        )


@dataclass
class AgentLoop(Generic[DepsT]):
    """One configured agent. `run(policy, deps)` may be called more than once; each run gets a
    fresh memory unless one is passed in (the multi-agent review's specialists each own one)."""

    registry: ToolRegistry[DepsT]
    limits: Limits = field(default_factory=Limits)
    sink: EventSink | None = None
    clock: Callable[[], float] = time.monotonic  # budgets and tool deadlines
    wall_clock: Callable[[], float] = time.time  # event timestamps
    memory_factory: Callable[[Callable[[], float]], Memory] = field(default=lambda clock: Memory(clock=clock))
    name: str = "agent"  # shown in events; specialists of a multi-agent review get their own

    @classmethod
    def from_settings(
        cls,
        registry: ToolRegistry[DepsT],
        settings: AgentSettings,
        *,
        sink: EventSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        name: str = "agent",
    ) -> AgentLoop[DepsT]:
        """Budgets, memory bounds and the default tool timeout from `settings.agent`."""
        if registry.default_timeout_s is None:
            registry.default_timeout_s = settings.tool_timeout_s
        return cls(
            registry,
            limits=Limits.from_settings(settings),
            sink=sink,
            clock=clock,
            wall_clock=wall_clock,
            memory_factory=lambda c: Memory.from_settings(settings, clock=c),
            name=name,
        )

    def run(
        self,
        policy: Policy[DepsT],
        deps: DepsT,
        *,
        memory: Memory | None = None,
        context: Mapping[str, JsonValue] | None = None,
    ) -> AgentRun:
        return _Run(self, policy, deps, memory or self.memory_factory(self.clock), context).execute()


class _Run(Generic[DepsT]):
    """State of one run; kept out of AgentLoop so the loop object stays reusable."""

    def __init__(
        self,
        loop: AgentLoop[DepsT],
        policy: Policy[DepsT],
        deps: DepsT,
        memory: Memory,
        context: Mapping[str, JsonValue] | None,
    ) -> None:
        self.loop = loop
        self.policy = policy
        self.deps = deps
        self.memory = memory
        self.limits = loop.limits
        self.events = ListSink()
        self.seen: dict[str, ToolOutput] = {}  # canonical call -> its result (never pruned)
        self.repeats = 0
        self.last: LastCall | None = None
        self.report: Report | None = None
        self.tools: list[ToolSchema] = []
        self.start = loop.clock()
        if context:
            memory.set_context(**context)

    def elapsed(self) -> float:
        return self.loop.clock() - self.start

    def emit(self, kind: EventKind, iteration: int, **fields: Any) -> None:
        event = AgentEvent(
            timestamp=self.loop.wall_clock(), kind=kind, agent=self.loop.name, iteration=iteration, **fields
        )
        self.events.emit(event)
        if self.loop.sink is not None:
            self.loop.sink.emit(event)

    def text(self, value: str) -> str:
        return safe_text(value, self.limits.max_event_chars)

    def stop(self, reason: StopReason, iteration: int, message: str) -> AgentRun:
        self.emit(EventKind.STOP, iteration, outcome=reason.value, message=self.text(message))
        return AgentRun(
            stop_reason=reason,
            iterations=iteration,
            report=self.report,
            events=self.events.events,
            memory=self.memory,
            elapsed_s=self.elapsed(),
            message=message,
        )

    def execute(self) -> AgentRun:
        lim = self.limits
        tools = self.tools = self.loop.registry.schemas()
        self.emit(
            EventKind.START,
            0,
            message=f"tools: {', '.join(s['name'] for s in tools)}; max_iterations={lim.max_iterations} "
            f"budget_s={lim.budget_s:g} max_repeats={lim.max_repeats}",
        )
        done = 0
        for iteration in range(1, lim.max_iterations + 1):
            if self.elapsed() >= lim.budget_s:
                return self.guard(
                    StopReason.BUDGET_EXHAUSTED, done, f"wall-clock budget of {lim.budget_s:g}s used up"
                )
            state = self.state(iteration)
            try:
                action = self.policy.decide(state)
            except PolicyBudgetExhausted as exc:
                return self.guard(StopReason.BUDGET_EXHAUSTED, done, f"policy budget exhausted: {exc}")
            except ReviewbotError as exc:
                return self.stop(StopReason.POLICY_ERROR, done, f"policy failed: {exc}")
            done = iteration
            if isinstance(action, Finish):
                self.emit(EventKind.DECISION, iteration, outcome="finish", message=self.text(action.reason))
                return self.stop(StopReason.FINISHED, iteration, action.reason or "policy finished")
            stopped = self.act(action, iteration)
            if stopped is not None:
                return stopped
        return self.guard(StopReason.MAX_ITERATIONS, done, f"stopped after {lim.max_iterations} iterations")

    def state(self, iteration: int) -> AgentState[DepsT]:
        return AgentState(
            iteration=iteration,
            max_iterations=self.limits.max_iterations,
            elapsed_s=self.elapsed(),
            budget_s=self.limits.budget_s,
            memory=self.memory,
            tools=self.tools,
            deps=self.deps,
            last=self.last,
            repeats=self.repeats,
        )

    def guard(self, reason: StopReason, iteration: int, message: str) -> AgentRun:
        """A guard stops the run; the policy's last word (`wrap_up`), if any, is its report."""
        try:
            action = self.policy.wrap_up(self.state(iteration), reason, message)
        except ReviewbotError as exc:
            return self.stop(StopReason.POLICY_ERROR, iteration, f"policy failed while wrapping up: {exc}")
        if isinstance(action, CallTool) and action.name == REPORT_TOOL:
            self.emit(
                EventKind.DECISION, iteration, tool=action.name, args=self.text(canonical_json(action.args))
            )
            if self.run_call(action, iteration, timeout_s=None).ok and self.report is not None:
                return self.stop(StopReason.REPORTED, iteration, f"reported after a guard stop: {message}")
        return self.stop(reason, iteration, message)

    def act(self, action: CallTool, iteration: int) -> AgentRun | None:
        args_json = canonical_json(action.args)
        key = f"{action.name}\x00{args_json}"
        self.emit(EventKind.DECISION, iteration, tool=action.name, args=self.text(args_json))
        previous = self.seen.get(key)
        if previous is not None:
            return self.refuse_repeat(action, iteration, previous)
        left = self.limits.budget_s - self.elapsed()
        if left <= 0 and action.name != REPORT_TOOL:  # deciding itself can take long (an LLM round trip)
            return self.guard(
                StopReason.BUDGET_EXHAUSTED,
                iteration,
                f"wall-clock budget of {self.limits.budget_s:g}s used up",
            )
        output = self.run_call(action, iteration, timeout_s=None if action.name == REPORT_TOOL else left)
        self.seen[key] = output
        if action.name == REPORT_TOOL and output.ok:
            return self.stop(StopReason.REPORTED, iteration, output.text)
        return None

    def run_call(self, action: CallTool, iteration: int, *, timeout_s: float | None) -> ToolOutput:
        started = self.loop.clock()
        ctx = ToolContext(deps=self.deps, iteration=iteration, clock=self.loop.clock)
        output = self.loop.registry.call(action.name, action.args, ctx, timeout_s=timeout_s)
        self.record(action, iteration, output, self.loop.clock() - started)
        if action.name == REPORT_TOOL and output.ok:
            self.report = output.typed(Report)
        return output

    def refuse_repeat(self, action: CallTool, iteration: int, previous: ToolOutput) -> AgentRun | None:
        self.repeats += 1
        note = (
            f"repeated call {action.name}({self.text(canonical_json(action.args))}) was not executed: "
            f"the same call was made before (repeat {self.repeats} of at most {self.limits.max_repeats}). "
            f"Its result was: {previous.text}"
        )
        output = ToolOutput.failure(note, kind=ToolErrorKind.REPEATED)
        self.record(action, iteration, output, 0.0)
        if self.repeats >= self.limits.max_repeats:
            return self.guard(
                StopReason.REPEATED_ACTIONS, iteration, f"{self.repeats} repeated calls; last: {action.name}"
            )
        return None

    def record(self, action: CallTool, iteration: int, output: ToolOutput, duration: float) -> None:
        outcome = "ok" if output.ok else (output.error or ToolErrorKind.FAILED).value
        self.emit(
            EventKind.RESULT,
            iteration,
            tool=action.name,
            outcome=outcome,
            duration_s=duration,
            message=self.text(output.text),
        )
        self.memory.record_action(
            action.name, _jsonable(action.args), outcome, iteration=iteration, duration_s=duration
        )
        self.memory.observe(action.name, output.text, ok=output.ok, iteration=iteration, value=output.value)
        for key, value in output.facts.items():  # learn
            self.memory.learn(key, value)
        self.last = LastCall(name=action.name, args=action.args, output=output, id=action.id)


def _jsonable(args: dict[str, Any]) -> dict[str, JsonValue]:
    # Policies may pass non-JSON values (paths, enums); memory keeps a JSON-safe copy.
    value = json.loads(canonical_json(args))
    return value if isinstance(value, dict) else {}
