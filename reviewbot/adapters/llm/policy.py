"""`LLMPolicy`: the agent loop's Policy, with a model choosing the tool calls.

A review with an LLM first runs the deterministic plan (`checks`, a `pipeline.plan.Plan`: lint at
head and base, tests, attribution — the findings tools can prove); its typed results seed the
model (numbered as evidence) and its findings seed the report. Then the model goes: it sees the
diff (split by file within a token budget), those results, the tool schemas from the registry,
and the agent's memory (what it has done and learned, bounded by `agent.memory_max_*`, rendered
by `agent.render`), and it investigates until it calls `report`.

Per `decide`:
1. the result of the previous call (the loop's `state.last`) joins the conversation, numbered;
2. a tool call still queued from the model's last turn is dispatched; otherwise the model is
   asked (within the context budget, `prompt.fit_history`) and its calls are queued. A call the
   model already made in an earlier turn is answered with its earlier result, not run again (a
   repeat); an exact duplicate within one turn is answered once (not a repeat);
3. a `report` call is not passed through as the model wrote it: `findings.process_report`
   verifies lines and evidence and filters the text; the deterministic findings are merged in.
   Invalid report arguments and non-JSON arguments are answered by the policy itself, so the
   model sees the error and corrects its call.

The model's answer is always used. Prose instead of tool calls is nudged; the last nudge forces
the `report` tool (by name; a server that refuses that is asked for any tool, then not forced);
prose after that is read for a fenced JSON findings block, else kept (filtered) as the model's
summary. Guards end in a wrap-up, never a failed review: repeated calls,
the iteration limit, the wall clock (the margin is the measured latency of the model's answers)
and the token budget make the policy ask once for the report when it can still afford it, and
otherwise report what it has, with a note saying what stopped it (`pacing.Stop`). A context-length
error shrinks the request (`shrink.py`). Only a misconfigured endpoint (key refused, unknown model,
nothing listening, not speaking the API) fails the review; the deterministic findings are still
reported. The "What ran" table always gets an LLM
row (`ledger.LLMLedger`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from typing import Any

from reviewbot.adapters.llm.evidence import Evidence, EvidenceLog
from reviewbot.adapters.llm.fallback import fenced_report, prose_summary
from reviewbot.adapters.llm.findings import Processed, process_report
from reviewbot.adapters.llm.head import changed_lines, read_lines
from reviewbot.adapters.llm.ledger import LLMLedger
from reviewbot.adapters.llm.model import (
    ANY_TOOL,
    AssistantMessage,
    ContextLengthError,
    Message,
    Model,
    ModelConfigError,
    ModelResponse,
    ModelUnavailable,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UsageMeter,
    UserMessage,
)
from reviewbot.adapters.llm.pacing import Pace, Stop, StopKind
from reviewbot.adapters.llm.prompt import (
    SYSTEM_PROMPT,
    DiffPlan,
    Exchange,
    PRInfo,
    fit_history,
    memory_section,
    plan_diff,
    render_result,
    split_diff,
    task_prompt,
)
from reviewbot.adapters.llm.safety import OutputLimits
from reviewbot.adapters.llm.shrink import ESSENTIAL_TOOLS, compact, plan_shrink
from reviewbot.adapters.llm.tokens import estimate_tokens
from reviewbot.agent.events import canonical_json
from reviewbot.agent.loop import Action, AgentState, CallTool, Finish, StopReason
from reviewbot.agent.report import REPORT_TOOL
from reviewbot.core.filtering import dedupe
from reviewbot.core.finding import Finding
from reviewbot.errors import ModelError
from reviewbot.pipeline.plan import Plan, report_args
from reviewbot.pipeline.review_deps import ReviewDeps
from reviewbot.settings import Settings

MAX_NUDGES = 2  # prose replies nudged; the last nudge forces the report tool
MAX_REPEATS = 3  # calls repeated from earlier turns answered before the policy wraps up
MAX_SHRINKS = 2  # smaller retries after a context-length error
MAX_INNER = 6  # answers the policy gives itself (bad JSON, invalid report) within one decision
REPORT_RESERVE_S = 1.0  # wall clock kept for submitting the report after the last model call
NUDGE = "Only tool calls are read. Investigate with the tools, or call report to finish."
FORCED = "Call report now with your findings (as tool arguments, not prose)."
LOW = "The review's budget is nearly used up: call report now with the findings you have."


class LLMPolicy:
    """One LLM agent. Use one instance per review (it holds the conversation)."""

    def __init__(
        self,
        model: Model,
        settings: Settings,
        *,
        pr: PRInfo | None = None,
        meter: UsageMeter | None = None,
        checks: Plan | None = None,
        focus: str = "",
        seed: Sequence[Evidence] = (),
        base_findings: Sequence[Finding] = (),
        record_usage: bool = True,
    ) -> None:
        llm = settings.llm
        self.model = model
        self.settings = settings
        self.pr = pr or PRInfo()
        self.meter = meter or UsageMeter(llm.price_input_per_mtok, llm.price_output_per_mtok)
        self.checks = checks  # the deterministic plan, run first; its results seed the model
        self.seeded = 0  # how many of its calls are in the evidence log
        self.focus = focus
        self.limits = OutputLimits.from_settings(settings)
        self.context_tokens = llm.context_tokens
        self.max_tokens = min(llm.max_tokens, llm.context_tokens // 4)
        self.token_budget = llm.token_budget
        self.max_result_tokens = max(llm.context_tokens // 10, 500)
        self.evidence = EvidenceLog()
        self.results: dict[str, str] = {}  # canonical call -> its result, as the model saw it
        for entry in seed:
            self._remember(entry.tool, entry.args, ok=entry.ok, text=entry.text, value=entry.value)
        self.base_findings: list[Finding] = list(base_findings)
        self.exchanges: list[Exchange] = []
        self.queue: list[ToolCall] = []
        self.batch: set[str] = set()  # canonical calls of the model's current turn
        self.pending: ToolCall | None = None
        self.checks_done = checks is None
        self.plan: DiffPlan | None = None
        self.task: str | None = None
        self.tool_filter: Collection[str] | None = None  # set when the context is tight
        self.compact_tools = False  # likewise: schemas without their prose
        self.nudges = self.repeats = 0
        self.force_next = False
        self.forcing: str | None = REPORT_TOOL  # how a report is forced (what the server accepts)
        self.final_asked = False
        self.pace = Pace()
        self.deadline = float("inf")
        self.ledger = LLMLedger(model.name, self.meter, record=record_usage)
        self.stop: Stop | None = None
        self.partial_reason: str | None = None  # read by run_review: a budget ran out
        self.processed: Processed | None = None
        self._current: AgentState[ReviewDeps] | None = None

    # -- the Policy protocol -------------------------------------------------------------------

    def decide(self, state: AgentState[ReviewDeps]) -> Action:
        self._current = state
        self.deadline = time.monotonic() + state.time_left_s
        if not self.checks_done:
            action = self._checks_step(state)
            if action is not None:
                return action
        self._answer_pending(state)
        try:
            for _ in range(MAX_INNER):
                action = self._next(state)
                if action is not None:
                    return action
        except ModelError as exc:
            return self._on_model_error(state, exc)
        return self._wrap_up(state, Stop("refused", "the model kept sending calls the bot had to refuse"))

    def wrap_up(self, state: AgentState[ReviewDeps], reason: StopReason, message: str) -> Action:
        """The loop's guard stopped the run (see `agent.loop`): report what there is, now."""
        self._current = state
        kinds: dict[StopReason, StopKind] = {
            StopReason.MAX_ITERATIONS: "iterations",
            StopReason.REPEATED_ACTIONS: "repeats",
        }
        if not self.checks_done:  # cut off during the deterministic plan: keep what it had
            self.base_findings = self.salvage(state.deps)
            self.checks_done = True
        return self._wrap_up(state, Stop(kinds.get(reason, "time"), message), ask=False)

    def salvage(self, deps: ReviewDeps) -> list[Finding]:
        """The run ended without a report (the policy failed): keep the deterministic findings."""
        if self.checks_done:
            return list(self.base_findings)
        return self.checks.findings(deps) if self.checks is not None else []

    # -- the deterministic checks, first ------------------------------------------------------

    def _checks_step(self, state: AgentState[ReviewDeps]) -> Action | None:
        """Run the deterministic plan (`pipeline.plan`): its calls are numbered as evidence, and its
        findings seed the report; then the model goes."""
        assert self.checks is not None
        call = self.checks.advance(state)
        for done, out in self.checks.calls[self.seeded :]:
            self._remember(done.name, done.args, ok=out.ok, text=out.text, value=out.value)
        self.seeded = len(self.checks.calls)
        if call is not None:
            return call
        self.base_findings = self.checks.findings(state.deps)
        self.checks_done = True
        return None

    def _remember(
        self, tool: str, args: dict[str, Any], *, ok: bool, text: str, value: object = None
    ) -> Evidence:
        entry = self.evidence.add(tool, args, ok=ok, text=text, value=value)
        rendered = render_result(entry.id, tool, text, ok=ok, max_tokens=self.max_result_tokens)
        self.results.setdefault(_key(tool, args), rendered)  # fenced as data, like any result
        return entry

    # -- the model's turns ----------------------------------------------------------------------

    def _next(self, state: AgentState[ReviewDeps]) -> Action | None:
        if self.queue:
            return self._dispatch(self.queue.pop(0), state)
        stop = self._guard(state)
        if stop is not None:
            return self._wrap_up(state, stop)
        tools = self._tools(state)
        self._warn_if_low(state)
        messages = self._messages(state, tools)
        needed = sum(estimate_tokens(_text(m)) for m in messages) + self.max_tokens
        if self.meter.total_tokens + needed > self.token_budget:
            return self._wrap_up(state, self._tokens_stop())
        force = self.forcing if self.force_next else None
        response = self._ask(state, tools, messages, force=force)
        return self._take(state, response, forced=force is not None)

    def _guard(self, state: AgentState[ReviewDeps]) -> Stop | None:
        if state.iterations_left <= 1:
            return Stop("iterations", f"the agent's limit of {state.max_iterations} iterations was reached")
        left = self._time_left()
        expected = self.pace.expected_s()
        if left - REPORT_RESERVE_S < max(expected, REPORT_RESERVE_S):
            return Stop(
                "time",
                f"the review's wall-clock budget of {state.budget_s:g}s had {max(left, 0):.1f}s left: "
                f"not enough for another answer (about {expected:.1f}s each so far, and "
                f"{REPORT_RESERVE_S:g}s kept to submit the report)",
            )
        if self.meter.total_tokens >= self.token_budget:
            return self._tokens_stop()
        return None

    def _tokens_stop(self) -> Stop:
        return Stop("tokens", f"the LLM token budget of {self.token_budget:,} tokens was used up")

    def _time_left(self) -> float:
        return self.deadline - time.monotonic()

    def _take(self, state: AgentState[ReviewDeps], response: ModelResponse, *, forced: bool) -> Action | None:
        if response.tool_calls:
            self.exchanges.append(Exchange(AssistantMessage(response.text, response.tool_calls)))
            self.queue = list(response.tool_calls)
            self.batch = set()
            return None
        self.nudges += 1
        if forced or self.nudges > MAX_NUDGES or self.final_asked:  # prose even when forced
            return self._from_prose(state, response.text)
        self.force_next = self.force_next or self.nudges == MAX_NUDGES
        followup = FORCED if self.force_next else NUDGE
        self.exchanges.append(Exchange(AssistantMessage(response.text or "(no content)"), followup=followup))
        return None

    def _tools(self, state: AgentState[ReviewDeps]) -> list[ToolSpec]:
        wanted = self.tool_filter
        specs: list[ToolSpec] = [t for t in state.tools if wanted is None or t["name"] in wanted]
        return [compact(t) for t in specs] if self.compact_tools else specs

    def _ask(
        self,
        state: AgentState[ReviewDeps],
        tools: list[ToolSpec],
        messages: list[Message],
        *,
        force: str | None,
    ) -> ModelResponse:
        size = _size(messages, tools)
        shrinks = 0
        while True:
            timeout = max(min(self._time_left() - REPORT_RESERVE_S, self.settings.llm.timeout_s), 0.5)
            try:
                response = self._timed(messages, tools, force=force, timeout_s=timeout)
            except ContextLengthError as exc:
                if shrinks == MAX_SHRINKS:
                    raise
                shrinks += 1
                tools, messages, size = self._shrink(state, exc, size, force)
                continue
            except ModelConfigError as exc:
                force = self._weaker_force(force, exc)
                continue
            self.meter.add(response.usage)
            return response

    def _weaker_force(self, force: str | None, exc: ModelConfigError) -> str | None:
        """Some servers refuse a named tool choice (or any forcing) with a 400: ask again with
        the next weaker form — any tool, then none — and remember what the server takes."""
        if force is None or exc.status not in (400, 422):
            raise exc
        weaker = ANY_TOOL if force != ANY_TOOL else None
        self.forcing = weaker
        self.ledger.notes.append(
            f"the endpoint refused tool_choice forcing {'the report' if force != ANY_TOOL else 'a tool'} "
            f"(HTTP {exc.status}); asked {'for any tool call' if weaker else 'without forcing'}"
        )
        return weaker

    def _timed(
        self, messages: list[Message], tools: list[ToolSpec], *, force: str | None, timeout_s: float
    ) -> ModelResponse:
        """One model call, timed: answers (and refusals of a too long prompt, which took the
        provider a round trip too) teach the pace; every call counts in the LLM row's time."""
        started = time.monotonic()
        try:
            response = self.model.request(
                SYSTEM_PROMPT, messages, tools, max_tokens=self.max_tokens, force=force, timeout_s=timeout_s
            )
        except ModelError as exc:
            self.ledger.failed += 1
            if isinstance(exc, ContextLengthError):
                self.pace.observe(time.monotonic() - started)
            raise
        finally:
            self.ledger.seconds += time.monotonic() - started
        self.pace.observe(time.monotonic() - started)
        return response

    def _shrink(
        self, state: AgentState[ReviewDeps], exc: ContextLengthError, size: int, force: str | None
    ) -> tuple[list[ToolSpec], list[Message], int]:
        """A smaller request after a context-length error, or the error again if none is smaller."""
        plan = plan_shrink(exc, sent_chars=size, max_tokens=self.max_tokens)
        self.context_tokens, self.max_tokens = plan.context_tokens, plan.max_tokens
        self.max_result_tokens = plan.result_tokens
        self.tool_filter = {REPORT_TOOL} if force else ESSENTIAL_TOOLS
        self.compact_tools = True
        self.task = None  # rebuilt within the new budget (fewer diff files, shorter results)
        tools = self._tools(state)
        messages = self._messages(state, tools)
        smaller = _size(messages, tools)
        if smaller >= size or not plan.fits(smaller):
            raise ContextLengthError(
                f"the request could not be made small enough: {smaller:,} characters after shrinking",
                limit=exc.limit,
                sent=exc.sent,
            )
        self.ledger.notes.append(
            f"context window exceeded ({_said(exc)}): request cut from {size:,} to {smaller:,} characters"
        )
        return tools, messages, smaller

    def _messages(self, state: AgentState[ReviewDeps], tools: list[ToolSpec]) -> list[Message]:
        fixed = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(json.dumps(tools)) + self.max_tokens
        budget = max(self.context_tokens - fixed, 400)
        if self.task is None:
            self.task = self._task(state, budget, [t["name"] for t in tools])
        return fit_history(self.task + memory_section(state.memory, budget), self.exchanges, budget)

    def _task(self, state: AgentState[ReviewDeps], budget: int, tool_names: list[str]) -> str:
        results = [
            render_result(e.id, e.tool, e.text, ok=e.ok, max_tokens=self.max_result_tokens)
            for e in self.evidence.entries.values()
        ]
        results_tokens = sum(estimate_tokens(r) for r in results)
        diff_budget = max(budget // 2 - results_tokens, budget // 5)
        self.plan = plan_diff(split_diff(state.deps.diff_text, state.deps.diff), diff_budget)
        text = task_prompt(self.pr, self.plan, focus=self.focus, tools=tool_names)
        if results:
            text += "\n\n## Checks the bot already ran (cite their ids as evidence)\n" + "\n\n".join(results)
        return text

    def _warn_if_low(self, state: AgentState[ReviewDeps]) -> None:
        if self.force_next or not self.exchanges or self.exchanges[-1].followup:
            return
        why = self._low(state)
        if why:
            self.exchanges[-1].followup = LOW
            self.force_next = True
            self.ledger.notes.append(f"the model was asked to report early: {why}")

    def _low(self, state: AgentState[ReviewDeps]) -> str:
        """Which budget is nearly used up ('' when none is)."""
        tokens_left = self.token_budget - self.meter.total_tokens
        left = self._time_left()
        if state.iterations_left <= 3:
            return f"{state.iterations_left} of {state.max_iterations} iterations left"
        if tokens_left < 2 * (self.context_tokens + self.max_tokens):
            return f"{max(tokens_left, 0):,} of {self.token_budget:,} tokens left"
        if left < 2 * self.pace.expected_s() + 2 * REPORT_RESERVE_S:
            return f"{left:.1f}s of the wall clock left, about {self.pace.expected_s():.1f}s per answer"
        return ""

    # -- answering calls ------------------------------------------------------------------------

    def _answer_pending(self, state: AgentState[ReviewDeps]) -> None:
        if self.pending is None:
            return
        call, self.pending = self.pending, None
        if state.last is not None:
            out = state.last.output
            self._answer(call, ok=out.ok, text=out.text, value=out.value, args=state.last.args)

    def _answer(
        self, call: ToolCall, *, ok: bool, text: str, value: object = None, args: Any = None, log: bool = True
    ) -> None:
        arguments = (
            args if isinstance(args, dict) else (call.arguments if isinstance(call.arguments, dict) else {})
        )
        if log:
            entry = self._remember(call.name, arguments, ok=ok, text=text, value=value)
            rendered = render_result(entry.id, call.name, text, ok=ok, max_tokens=self.max_result_tokens)
            label = entry.id
        else:
            rendered, label = text, "-"
        first = text.strip().splitlines()[0][:160] if text.strip() else ""
        short = json.dumps(arguments, sort_keys=True)[:120]
        for ex in reversed(self.exchanges):
            if any(c.id == call.id for c in ex.assistant.tool_calls):
                ex.results.append(ToolResultMessage(call.id, call.name, rendered, is_error=not ok))
                ex.summaries.append(f"{label} {call.name}({short}) -> {'ok' if ok else 'error'}: {first}")
                return

    def _dispatch(self, call: ToolCall, state: AgentState[ReviewDeps]) -> Action | None:
        if not isinstance(call.arguments, dict):
            self._answer(
                call,
                ok=False,
                text=f"the arguments of {call.name} are not a JSON object: {call.arguments[:200]!r}. "
                "Send a JSON object matching the tool's schema.",
            )
            return None
        if call.name == REPORT_TOOL:
            return self._take_report(call, state)
        key = _key(call.name, call.arguments)
        if key in self.batch:  # the same call twice in one turn: answered once, not a repeat
            self._answer(
                call,
                ok=True,
                text=f"(same call as another one in this turn; its result:)\n{self.results[key]}",
                log=False,
            )
            return None
        self.batch.add(key)
        if key in self.results:
            return self._repeat(call, key, state)
        self.pending = call
        return CallTool(name=call.name, args=call.arguments, id=call.id)

    def _repeat(self, call: ToolCall, key: str, state: AgentState[ReviewDeps]) -> Action | None:
        self.repeats += 1
        self._answer(
            call,
            ok=False,
            text=f"not run again: the same call was made before (repeat {self.repeats} of at most "
            f"{MAX_REPEATS}). Its result was:\n{self.results[key]}",
            log=False,
        )
        if self.repeats >= MAX_REPEATS:
            return self._wrap_up(
                state, Stop("repeats", f"the model repeated earlier tool calls {self.repeats} times")
            )
        return None

    def _take_report(self, call: ToolCall, state: AgentState[ReviewDeps]) -> Action | None:
        assert isinstance(call.arguments, dict)
        processed = self._process(call.arguments, lenient=self.final_asked)
        if processed.errors:
            self._answer(call, ok=False, text="invalid report: " + "; ".join(processed.errors), log=False)
            self.force_next = True
            return None
        self.processed = processed
        self.ledger.answered = True
        return self._report(state, processed.findings, processed.summary, processed.notes)

    def _process(self, args: dict[str, Any], *, lenient: bool) -> Processed:
        return process_report(
            args,
            evidence=self.evidence,
            read_lines=lambda path: read_lines(self._deps, path),
            changed_lines=lambda path: changed_lines(self._deps, path),
            limits=self.limits,
            lenient=lenient,
        )

    # -- finishing ------------------------------------------------------------------------------

    def _from_prose(self, state: AgentState[ReviewDeps], text: str) -> Action:
        """Prose after the forced report: a fenced JSON findings block, else the prose as summary."""
        fenced = fenced_report(text)
        if fenced is not None:
            processed = self._process(fenced, lenient=True)
            note = "the model's findings were read from a JSON block in its prose answer"
            self.ledger.outcome = note
            self.ledger.answered = True
            return self._report(state, processed.findings, processed.summary, [note, *processed.notes])
        summary = prose_summary(text, self.limits)
        self.ledger.outcome = "the model answered in prose; kept as its summary (a note)"
        self.ledger.answered = True
        return self._report(state, [summary] if summary else [], "", [self.ledger.outcome])

    def _wrap_up(self, state: AgentState[ReviewDeps], stop: Stop, *, ask: bool = True) -> Action:
        """A guard stopped the model: ask once more for the report if that is affordable, else
        report the deterministic findings. Either way the review finishes."""
        self.stop = stop
        if stop.budget:
            self.partial_reason = stop.text
        for call in self.queue:  # every call of a turn gets an answer, or the API refuses the next
            self._answer(call, ok=False, text="not run: the review is wrapping up", log=False)
        self.queue.clear()
        if ask and not self.final_asked and self._can_ask_once_more(state):
            self.final_asked = True
            self._say(f"{stop.text[0].upper()}{stop.text[1:]}. {FORCED}")
            try:
                self.tool_filter = {REPORT_TOOL}
                tools = self._tools(state)
                response = self._ask(state, tools, self._messages(state, tools), force=self.forcing)
            except ModelError as exc:
                return self._on_model_error(state, exc)
            if response.tool_calls:
                report = next((c for c in response.tool_calls if c.name == REPORT_TOOL), None)
                action = self._take_report(report, state) if report else None
                if action is not None:
                    return action
            elif response.text.strip():
                return self._from_prose(state, response.text)
        return self._report(state, [], "", [])

    def _can_ask_once_more(self, state: AgentState[ReviewDeps]) -> bool:
        if stop_kind_blocks_asking(self.stop):
            return False
        left = self._time_left() - REPORT_RESERVE_S
        affordable_time = left >= max(self.pace.expected_s(), REPORT_RESERVE_S)
        affordable_tokens = self.meter.total_tokens + self.max_tokens * 2 < self.token_budget
        return affordable_time and affordable_tokens and state.tools is not None

    def _say(self, text: str) -> None:
        if self.exchanges:
            last = self.exchanges[-1]
            last.followup = f"{last.followup}\n\n{text}".strip()
        else:
            self.exchanges.append(Exchange(AssistantMessage("(no content)"), followup=text))

    def _on_model_error(self, state: AgentState[ReviewDeps], exc: ModelError) -> Action:
        """A misconfigured endpoint fails the review after its LLM row is written; a flaky or slow
        one, a request refused mid-review, or a prompt that cannot be made to fit ends the model's
        part with what there is."""
        if _is_setup_error(exc, answered=self.meter.calls > 0):
            self.ledger.record_failure(state.deps.ledger, str(exc))
            raise ModelConfigError(self.ledger.clean(str(exc))) from exc
        if isinstance(exc, ContextLengthError):
            why = f"the prompt stayed too long for the model's context window ({_said(exc)})"
            stop = Stop("context", why)
        elif isinstance(exc, ModelUnavailable) and exc.timed_out:
            stop = Stop("time", f"the model did not answer in time: {exc}")
        else:
            stop = Stop("unavailable", f"the model endpoint failed: {exc}")
        return self._wrap_up(state, stop, ask=False)

    def _report(
        self, state: AgentState[ReviewDeps], findings: list[Finding], summary: str, notes: list[str]
    ) -> Action:
        merged = dedupe([*self.base_findings, *findings])
        self.ledger.finish(state.deps.ledger, notes, self.stop, self._not_reviewed())
        if REPORT_TOOL not in {t["name"] for t in state.tools}:
            return Finish(reason="; ".join(self.ledger.lines()))
        text = "\n\n".join(p for p in (summary, *self.ledger.lines()) if p)
        return CallTool(name=REPORT_TOOL, args=report_args(merged, text[:20_000]))

    def _not_reviewed(self) -> list[str]:
        seen = self.evidence.paths_seen()
        return [
            f"{patch.path}: not reviewed by the LLM (its diff did not fit the prompt budget "
            f"of {self.context_tokens:,} tokens)"
            for patch in (self.plan.omitted if self.plan else ())
            if patch.path not in seen
        ]

    @property
    def _deps(self) -> ReviewDeps:
        assert self._current is not None, "the policy reads the deps of the decision it is making"
        return self._current.deps


def stop_kind_blocks_asking(stop: Stop | None) -> bool:
    """Asking the model once more makes no sense when it is the model that cannot answer."""
    return stop is not None and stop.kind in ("time", "tokens", "context", "unavailable", "prose")


# -- helpers ----------------------------------------------------------------------------------------


def _is_setup_error(exc: ModelError, *, answered: bool) -> bool:
    """Key refused, model unknown: always. Before the endpoint ever answered, also nothing
    listening, something that does not speak the API, or a request refused as malformed. After it
    answered, a refused request is about this conversation, not the setup."""
    if isinstance(exc, ContextLengthError):
        return False
    if isinstance(exc, ModelConfigError):
        return exc.status in (401, 403, 404) or not answered
    if isinstance(exc, ModelUnavailable):
        return exc.connect and not answered
    return not answered


def _key(tool: str, args: dict[str, Any]) -> str:
    return f"{tool}\x00{canonical_json(args)}"


def _said(exc: ContextLengthError) -> str:
    if exc.limit and exc.sent:
        return f"{exc.sent:,} tokens sent, limit {exc.limit:,}"
    return f"limit {exc.limit:,} tokens" if exc.limit else "no limit stated"


def _size(messages: Sequence[Message], tools: Sequence[ToolSpec]) -> int:
    """Characters of a request, provider-neutral (what `shrink` compares)."""
    return len(SYSTEM_PROMPT) + len(json.dumps(list(tools))) + sum(len(_text(m)) + 16 for m in messages)


def _text(msg: Message) -> str:
    if isinstance(msg, AssistantMessage):
        return msg.text + "".join(json.dumps(c.arguments) for c in msg.tool_calls)
    assert isinstance(msg, UserMessage | ToolResultMessage)
    return msg.text
