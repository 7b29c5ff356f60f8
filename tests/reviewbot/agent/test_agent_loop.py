"""The agent loop's guards and bookkeeping, driven by scripted policies and a fake clock."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from reviewbot.agent.events import EventKind, JsonLinesSink, ListSink, read_trace
from reviewbot.agent.loop import (
    Action,
    AgentLoop,
    AgentState,
    CallTool,
    Finish,
    Limits,
    PolicyBudgetExhausted,
    StopReason,
)
from reviewbot.agent.memory import Memory
from reviewbot.agent.report import ReportTool
from reviewbot.agent.testing import FakeClock, ScriptedPolicy, call
from reviewbot.agent.tools import FunctionTool, Tool, ToolContext, ToolErrorKind, ToolOutput, ToolRegistry
from reviewbot.core.finding import Finding, Severity
from reviewbot.errors import ModelError
from reviewbot.settings import AgentSettings


class EchoParams(BaseModel):
    text: str = ""
    n: int = Field(default=0, ge=0)


class Echo(Tool[Any, EchoParams]):
    """Echo the text back."""

    name = "echo"
    Params = EchoParams

    def __init__(self, clock: FakeClock | None = None, cost_s: float = 0.0) -> None:
        self.calls: list[EchoParams] = []
        self.clock = clock
        self.cost_s = cost_s
        self.time_left: list[float | None] = []

    def run(self, params: EchoParams, ctx: ToolContext[Any]) -> ToolOutput:
        self.calls.append(params)
        self.time_left.append(ctx.time_left())
        if self.clock is not None:
            self.clock.advance(self.cost_s)  # the work "takes" cost_s on the fake clock
        return ToolOutput.success(
            f"echo {params.text} {params.n}", {"n": params.n}, facts={"last_echo": params.text}
        )


def make_loop(*tools: Tool[Any, Any], clock: FakeClock | None = None, **limits: Any) -> AgentLoop[None]:
    clock = clock or FakeClock()
    return AgentLoop(
        ToolRegistry([*tools, ReportTool()]), limits=Limits(**limits), clock=clock, wall_clock=clock
    )


FINDING = {
    "tool": "llm",
    "rule_id": "bug",
    "path": "a.py",
    "start_line": 2,
    "message": "broken",
    "severity": "error",
}


def test_report_ends_the_run_with_validated_findings() -> None:
    echo = Echo()
    policy = ScriptedPolicy.of([call("echo", text="hi"), call("report", findings=[FINDING], summary="one")])
    run = make_loop(echo).run(policy, None)
    assert run.stop_reason is StopReason.REPORTED and run.complete
    assert run.iterations == 2
    assert run.report is not None and run.report.summary == "one"
    assert run.report.findings == [Finding.model_validate(FINDING)]
    assert run.report.findings[0].severity is Severity.ERROR
    assert len(echo.calls) == 1


def test_finish_stops_without_a_report() -> None:
    run = make_loop(Echo()).run(ScriptedPolicy.of([Finish(reason="nothing to review")]), None)
    assert run.stop_reason is StopReason.FINISHED and run.report is None
    assert run.message == "nothing to review"
    assert run.iterations == 1


def test_iteration_limit_stops_a_policy_that_never_finishes() -> None:
    echo = Echo()
    counter = iter(range(1000))
    policy = ScriptedPolicy(lambda state: call("echo", n=next(counter)))
    run = make_loop(echo, max_iterations=5).run(policy, None)
    assert run.stop_reason is StopReason.MAX_ITERATIONS and not run.complete
    assert run.iterations == 5
    assert [p.n for p in echo.calls] == [0, 1, 2, 3, 4]
    assert [s.iteration for s in policy.states] == [1, 2, 3, 4, 5]
    assert policy.states[-1].iterations_left == 1


def test_repeated_call_is_not_executed_and_the_policy_is_told() -> None:
    echo = Echo()
    # Same arguments in a different key order are the same call.
    policy = ScriptedPolicy.of(
        [
            CallTool(name="echo", args={"text": "a", "n": 1}),
            CallTool(name="echo", args={"n": 1, "text": "a"}),
            call("echo", text="b", n=1),
            Finish(reason="done"),
        ]
    )
    run = make_loop(echo, max_repeats=3).run(policy, None)
    assert run.stop_reason is StopReason.FINISHED
    assert [(p.text, p.n) for p in echo.calls] == [("a", 1), ("b", 1)]
    seen = policy.states[2].last
    assert seen is not None and seen.output.error is ToolErrorKind.REPEATED
    assert "not executed" in seen.output.text and "echo a 1" in seen.output.text  # the earlier result
    assert policy.states[2].repeats == 1
    assert [a.outcome for a in run.memory.actions] == ["ok", "repeated", "ok"]


def test_too_many_repeats_stop_the_loop() -> None:
    echo = Echo()
    run = make_loop(echo, max_repeats=2, max_iterations=50).run(
        ScriptedPolicy(lambda s: call("echo", text="x")), None
    )
    assert run.stop_reason is StopReason.REPEATED_ACTIONS
    assert len(echo.calls) == 1
    assert run.iterations == 3  # one real call, two refused repeats
    assert run.events[-1].kind is EventKind.STOP and run.events[-1].outcome == "repeated_actions"


def test_repeat_detection_survives_memory_pruning() -> None:
    echo = Echo()
    memory = Memory(max_items=1)
    script: list[Action] = [
        call("echo", n=1),
        call("echo", n=2),
        call("echo", n=3),
        call("echo", n=1),
        Finish(),
    ]
    run = make_loop(echo).run(ScriptedPolicy.of(script), None, memory=memory)
    assert [p.n for p in echo.calls] == [1, 2, 3]
    assert len(run.memory.actions) == 1 and run.memory.actions[0].outcome == "repeated"


def test_invalid_args_become_an_observation_and_the_policy_corrects_itself() -> None:
    echo = Echo()

    def policy_fn(state: AgentState[Any]) -> Action:
        if state.last is None:
            return call("echo", text="x", n=-3)
        if state.last.output.error is ToolErrorKind.INVALID_ARGS:
            assert "n: Input should be greater than or equal to 0" in state.last.output.text
            return call("echo", text="x", n=3)
        return call("report", findings=[], summary=f"fixed after: {state.last.output.text}")

    run = make_loop(echo).run(ScriptedPolicy(policy_fn), None)
    assert run.stop_reason is StopReason.REPORTED
    assert [p.n for p in echo.calls] == [3]
    assert run.report is not None and run.report.summary == "fixed after: echo x 3"
    assert [o.ok for o in run.memory.observations] == [False, True, True]


def test_invalid_report_is_an_observation_not_the_end() -> None:
    bad = {**FINDING, "start_line": 5, "end_line": 2}
    policy = ScriptedPolicy.of([call("report", findings=[bad]), call("report", findings=[FINDING])])
    run = make_loop().run(policy, None)
    assert run.stop_reason is StopReason.REPORTED and run.iterations == 2
    last = policy.states[1].last
    assert last is not None and last.output.error is ToolErrorKind.INVALID_ARGS
    assert "end_line precedes start_line" in last.output.text


def test_unknown_tool_is_an_observation_and_the_loop_continues() -> None:
    policy = ScriptedPolicy.of([call("delete_repo", force=True), call("echo", text="ok")])
    run = make_loop(Echo()).run(policy, None)
    assert run.stop_reason is StopReason.FINISHED and run.message == "script exhausted"
    first = run.memory.observations[0]
    assert not first.ok and "unknown tool 'delete_repo'" in first.text and "echo" in first.text
    results = [e for e in run.events if e.kind is EventKind.RESULT]
    assert [e.outcome for e in results] == ["unknown_tool", "ok"]


class Stuck(Tool[Any, EchoParams]):
    """Never returns on its own."""

    name = "stuck"
    Params = EchoParams
    timeout_s = 0.05

    def __init__(self) -> None:
        self.release = threading.Event()

    def run(self, params: EchoParams, ctx: ToolContext[Any]) -> ToolOutput:
        self.release.wait(30)
        return ToolOutput.success("too late")


def test_tool_timeout_is_an_observation_and_the_loop_continues() -> None:
    stuck = Stuck()
    try:
        policy = ScriptedPolicy.of([call("stuck"), call("echo", text="after")])
        run = make_loop(stuck, Echo()).run(policy, None)
    finally:
        stuck.release.set()
    assert run.stop_reason is StopReason.FINISHED
    results = [e for e in run.events if e.kind is EventKind.RESULT]
    assert [(e.tool, e.outcome) for e in results] == [("stuck", "timeout"), ("echo", "ok")]
    assert "timed out after 0.05s" in run.memory.observations[0].text


def test_wall_clock_budget_stops_the_run_and_caps_tool_timeouts() -> None:
    clock = FakeClock(start=500.0)
    echo = Echo(clock=clock, cost_s=10.0)
    counter = iter(range(1000))
    run = make_loop(echo, clock=clock, budget_s=25.0, max_iterations=100).run(
        ScriptedPolicy(lambda s: call("echo", n=next(counter))), None
    )
    assert run.stop_reason is StopReason.BUDGET_EXHAUSTED
    assert len(echo.calls) == 3  # at 0s, 10s, 20s; at 30s the budget is gone
    assert run.iterations == 3
    assert run.elapsed_s == 30.0
    # Each call's deadline was what was left of the budget.
    assert echo.time_left == [25.0, 15.0, 5.0]
    assert run.events[-1].outcome == "budget_exhausted"


def test_policy_error_stops_the_run_with_the_reason() -> None:
    def failing(state: AgentState[Any]) -> Action:
        if state.iteration == 2:
            raise ModelError("provider returned 401: bad key")
        return call("echo", text="x")

    run = make_loop(Echo()).run(ScriptedPolicy(failing), None)
    assert run.stop_reason is StopReason.POLICY_ERROR
    assert run.iterations == 1 and "401" in run.message


def test_memory_holds_context_actions_observations_and_learned_facts() -> None:
    run = make_loop(Echo()).run(
        ScriptedPolicy.of([call("echo", text="first"), call("echo", text="second")]),
        None,
        context={"base": "main", "changed_files": ["a.py"]},
    )
    mem = run.memory
    assert mem.context == {"base": "main", "changed_files": ["a.py"]}
    assert mem.knowledge == {"last_echo": "second"}
    assert [(a.iteration, a.tool, a.args) for a in mem.actions] == [
        (1, "echo", {"text": "first"}),
        (2, "echo", {"text": "second"}),
    ]
    assert [o.value for o in mem.observations] == [{"n": 0}, {"n": 0}]


def test_limits_from_settings() -> None:
    limits = Limits.from_settings(AgentSettings(max_iterations=7, budget_s=60))
    assert (limits.max_iterations, limits.budget_s) == (7, 60)
    memory = Memory.from_settings(AgentSettings(memory_max_items=5, memory_max_age_s=9))
    assert (memory.max_items, memory.max_age_s) == (5, 9)


def test_events_go_to_the_sink_and_a_json_lines_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    listed = ListSink()
    clock = FakeClock(start=1_700_000_000.0)
    policy = ScriptedPolicy.of(
        [call("echo", text="hi", n=2), call("nope"), call("report", findings=[], summary="s")]
    )
    with JsonLinesSink(trace) as sink:
        tools: list[Tool[Any, Any]] = [Echo(), ReportTool()]
        loop: AgentLoop[None] = AgentLoop(ToolRegistry(tools), sink=sink, clock=clock, wall_clock=clock)
        run = loop.run(policy, None)
        loop.sink = listed
        loop.run(ScriptedPolicy.of([Finish()]), None)
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    events = read_trace(trace)
    assert events == run.events
    assert [(e.kind.value, e.tool, e.outcome) for e in events] == [
        ("start", None, None),
        ("decision", "echo", None),
        ("result", "echo", "ok"),
        ("decision", "nope", None),
        ("result", "nope", "unknown_tool"),
        ("decision", "report", None),
        ("result", "report", "ok"),
        ("stop", None, "reported"),
    ]
    assert events[1].args == '{"n":2,"text":"hi"}' and events[1].iteration == 1
    assert events[2].message == "echo hi 2" and events[2].duration_s == 0.0
    assert events[0].timestamp == 1_700_000_000.0
    assert [e.kind.value for e in listed.events] == ["start", "decision", "stop"]


def test_events_never_carry_secrets_or_unbounded_text(tmp_path: Path) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    leak: FunctionTool[Any, EchoParams] = FunctionTool(
        lambda p, c: ToolOutput.success(
            f"found Authorization: Bearer {p.text} " + "x" * 10_000, {"secret": p.text}
        ),
        EchoParams,
        name="leak",
    )
    trace = tmp_path / "t.jsonl"
    with JsonLinesSink(trace) as sink:
        loop = AgentLoop(ToolRegistry([leak]), limits=Limits(max_event_chars=500), sink=sink)
        loop.run(ScriptedPolicy.of([call("leak", text=token)]), None)
    text = trace.read_text(encoding="utf-8")
    assert token not in text and "A1b2C3d4E5f6" not in text
    assert "[REDACTED]" in text
    assert '"secret"' not in text  # structured data is never logged
    for event in read_trace(trace):
        assert len(event.message) <= 500 and len(event.args or "") <= 500
    assert any("truncated" in e.message for e in read_trace(trace))


def test_a_slow_decision_that_uses_up_the_budget_runs_no_tool() -> None:
    clock = FakeClock(start=0.0)
    echo = Echo()

    def slow(state: AgentState[Any]) -> Action:
        clock.advance(100)  # e.g. an LLM round trip
        return call("echo", text="late")

    run = make_loop(echo, clock=clock, budget_s=60).run(ScriptedPolicy(slow), None)
    assert run.stop_reason is StopReason.BUDGET_EXHAUSTED
    assert echo.calls == []


def test_policy_budget_exhaustion_is_a_budget_stop() -> None:
    def tokens_gone(state: AgentState[Any]) -> Action:
        if state.iteration == 3:
            raise PolicyBudgetExhausted("200000 tokens used")
        return call("echo", n=state.iteration)

    run = make_loop(Echo()).run(ScriptedPolicy(tokens_gone), None)
    assert run.stop_reason is StopReason.BUDGET_EXHAUSTED and not run.complete
    assert run.iterations == 2 and "200000 tokens" in run.message


def test_call_ids_reach_the_policy_with_the_result() -> None:
    policy = ScriptedPolicy.of([CallTool(name="echo", args={"text": "a"}, id="call_1")])
    make_loop(Echo()).run(policy, None)
    last = policy.states[1].last
    assert last is not None and last.id == "call_1" and last.output.text == "echo a 0"


def test_loop_from_settings_wires_budgets_memory_and_tool_timeout() -> None:
    settings = AgentSettings(max_iterations=3, budget_s=50, tool_timeout_s=12, memory_max_items=2)
    registry: ToolRegistry[None] = ToolRegistry([Echo()])
    loop = AgentLoop.from_settings(registry, settings, clock=FakeClock())
    assert registry.timeout_for("echo") == 12
    counter = iter(range(100))
    run = loop.run(ScriptedPolicy(lambda s: call("echo", n=next(counter))), None)
    assert run.stop_reason is StopReason.MAX_ITERATIONS and run.iterations == 3
    assert len(run.memory.observations) == 2 and run.memory.dropped.observations == 1


def test_agents_sharing_a_trace_from_threads_write_whole_lines(tmp_path: Path) -> None:
    trace = tmp_path / "shared.jsonl"
    trace.write_text("stale line from an earlier run\n")
    with JsonLinesSink(trace) as sink:
        loops = [
            AgentLoop(
                ToolRegistry([Echo()]), sink=sink, limits=Limits(max_iterations=50), name=f"specialist-{i}"
            )
            for i in range(4)
        ]

        def drive(loop: AgentLoop[None]) -> None:
            counter = iter(range(1000))
            loop.run(ScriptedPolicy(lambda s: call("echo", text="x" * 500, n=next(counter))), None)

        threads = [threading.Thread(target=drive, args=(loop,)) for loop in loops]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    events = read_trace(trace)  # every line parses: no interleaved writes, stale content gone
    by_agent = {name: [e for e in events if e.agent == name] for name in {e.agent for e in events}}
    assert sorted(by_agent) == [f"specialist-{i}" for i in range(4)]
    for evs in by_agent.values():
        assert len(evs) == 1 + 2 * 50 + 1 and evs[-1].outcome == "max_iterations"


class WrapsUp:
    """A policy that never finishes on its own but has a last word when a guard stops it."""

    def __init__(self, inner: ScriptedPolicy) -> None:
        self.inner = inner
        self.wrapped: list[tuple[StopReason, str]] = []

    def decide(self, state: AgentState[Any]) -> Action:
        return self.inner.decide(state)

    def wrap_up(self, state: AgentState[Any], reason: StopReason, message: str) -> Action:
        self.wrapped.append((reason, message))
        return call("report", findings=[FINDING], summary=f"stopped: {message}")


def test_a_guard_stop_gives_a_policy_with_wrap_up_the_last_word() -> None:
    forever = WrapsUp(ScriptedPolicy(lambda s: call("echo", n=s.iteration)))
    run = make_loop(Echo(), max_iterations=4).run(forever, None)
    assert run.stop_reason is StopReason.REPORTED and run.complete
    assert run.report is not None and [f.rule_id for f in run.report.findings] == ["bug"]
    assert forever.wrapped == [(StopReason.MAX_ITERATIONS, "stopped after 4 iterations")]
    assert "reported after a guard stop" in run.message

    repeats = WrapsUp(ScriptedPolicy(lambda s: call("echo", n=1)))
    run = make_loop(Echo(), max_repeats=2).run(repeats, None)
    assert run.stop_reason is StopReason.REPORTED
    assert repeats.wrapped[0][0] is StopReason.REPEATED_ACTIONS


def test_wall_clock_guard_wraps_up_and_a_report_is_never_refused_for_time() -> None:
    clock = FakeClock(start=0.0)

    def slow_step(s: AgentState[Any]) -> Action:
        clock.advance(100)
        return call("echo", n=s.iteration)

    slow = WrapsUp(ScriptedPolicy(slow_step))
    run = make_loop(Echo(), clock=clock, budget_s=60).run(slow, None)
    assert run.stop_reason is StopReason.REPORTED
    assert slow.wrapped[0][0] is StopReason.BUDGET_EXHAUSTED

    def late_report(state: AgentState[Any]) -> Action:
        clock.advance(100)  # the model's last answer came late: its report still counts
        return call("report", findings=[FINDING])

    run = make_loop(Echo(), clock=clock, budget_s=60).run(ScriptedPolicy(late_report), None)
    assert run.stop_reason is StopReason.REPORTED and run.report is not None
