"""`LLMPolicy`: the agent loop's Policy, with a model choosing the tool calls.

A review with an LLM first runs the deterministic plan (`prelude`: lint at head and base, tests,
attribution — the findings tools can prove), then hands over to the model: it sees the diff
(split by file within a token budget), those results (numbered as evidence), the tool schemas
from the registry, and its own observations, and it investigates until it calls `report`.

Per `decide`:
1. the result of the previous call (the loop's `state.last`) joins the conversation, numbered;
2. a tool call still queued from the model's last turn is returned; otherwise the model is asked
   (within the context budget, `prompt.fit_history`) and its calls are queued;
3. a `report` call is not passed through as the model wrote it: `findings.process_report`
   verifies evidence and lines and filters the text; the deterministic findings are merged in.
   Invalid report arguments and non-JSON arguments are answered by the policy itself, so the
   model sees the error and corrects its call.

Budgets: the review's token budget (`llm.token_budget`), the loop's iterations and wall clock.
When one is about to run out the model is told to report; when it has run out the policy reports
what it has (the deterministic findings) and writes why into the review's errors: a partial
review, clearly marked, never a silent "no findings". Nothing here relies on the model
behaving: everything it produces is checked by code.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from reviewbot.agent.loop import Action, AgentState, CallTool, Finish, Policy
from reviewbot.agent.report import REPORT_TOOL
from reviewbot.core.filtering import dedupe
from reviewbot.core.finding import Finding
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.errors import ModelError
from reviewbot.llm.evidence import Evidence, EvidenceLog
from reviewbot.llm.findings import Processed, process_report
from reviewbot.llm.model import (
    AssistantMessage,
    ContextLengthError,
    Message,
    Model,
    ModelResponse,
    TokenBudgetExhausted,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UsageMeter,
    UserMessage,
)
from reviewbot.llm.prompt import (
    SYSTEM_PROMPT,
    DiffPlan,
    Exchange,
    PRInfo,
    fit_history,
    plan_diff,
    render_result,
    split_diff,
    task_prompt,
)
from reviewbot.llm.safety import OutputLimits
from reviewbot.llm.tokens import estimate_tokens
from reviewbot.settings import Settings

MAX_NUDGES = 2  # text-only replies tolerated before the policy wraps up
MAX_INNER = 6  # answers the policy gives itself (bad JSON, invalid report) within one decision
WRAP_UP_SECONDS = 30.0
MAX_FILE_BYTES = 2_000_000


class LLMPolicy:
    """One LLM agent. Use one instance per review (it holds the conversation)."""

    def __init__(
        self,
        model: Model,
        settings: Settings,
        *,
        pr: PRInfo | None = None,
        meter: UsageMeter | None = None,
        prelude: Policy[Any] | None = None,
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
        self.prelude = prelude
        self.focus = focus
        self.record_usage = record_usage
        self.limits = OutputLimits.from_settings(settings)
        self.context_tokens = llm.context_tokens
        self.max_tokens = min(llm.max_tokens, llm.context_tokens // 4)
        self.token_budget = llm.token_budget
        self.max_result_tokens = max(llm.context_tokens // 10, 500)
        self.evidence = EvidenceLog()
        for entry in seed:
            self.evidence.add(entry.tool, entry.args, ok=entry.ok, text=entry.text, data=entry.data)
        self.base_findings: list[Finding] = list(base_findings)
        self.exchanges: list[Exchange] = []
        self.queue: list[ToolCall] = []
        self.pending: ToolCall | None = None
        self.prelude_pending: CallTool | None = None
        self.prelude_done = prelude is None
        self.plan: DiffPlan | None = None
        self.task: str | None = None
        self.nudges = 0
        self.partial_reason: str | None = None
        self.processed: Processed | None = None

    # -- the Policy protocol -------------------------------------------------------------------

    def decide(self, state: AgentState[Any]) -> Action:
        if not self.prelude_done:
            action = self._prelude_step(state)
            if action is not None:
                return action
        if self.pending is not None:
            call, self.pending = self.pending, None
            if state.last is not None:
                out = state.last.output
                self._answer(call, ok=out.ok, text=out.text, data=out.data, args=state.last.args)
        for _ in range(MAX_INNER):
            action = self._next(state)
            if action is not None:
                return action
        return self._wrap_up(state, "the model kept sending calls the bot had to refuse")

    def salvage(self, deps: Any) -> list[Finding]:
        """A guard stopped the loop before the report: keep the deterministic findings (from the
        prelude's report, or what its plan had when it was cut off)."""
        self.partial_reason = self.partial_reason or "the agent loop was stopped before the model reported"
        if self.prelude_done:
            return list(self.base_findings)
        salvage = getattr(self.prelude, "salvage", None)
        return list(salvage(deps)) if callable(salvage) else []

    # -- the deterministic prelude ------------------------------------------------------------

    def _prelude_step(self, state: AgentState[Any]) -> Action | None:
        assert self.prelude is not None
        if self.prelude_pending is not None and state.last is not None:
            out = state.last.output
            self.evidence.add(state.last.name, state.last.args, ok=out.ok, text=out.text, data=out.data)
            self.prelude_pending = None
        action = self.prelude.decide(state)
        if isinstance(action, CallTool) and action.name != REPORT_TOOL:
            self.prelude_pending = action
            return action
        if isinstance(action, CallTool):  # its report: keep the findings, the model goes next
            raw = action.args.get("findings") or []
            self.base_findings = [Finding.model_validate(f) for f in raw]
        self.prelude_done = True
        return None

    # -- the model's turns ----------------------------------------------------------------------

    def _next(self, state: AgentState[Any]) -> Action | None:
        if self.queue:
            call = self.queue.pop(0)
            action = self._translate(call, state)
            if action is not None and action.name != REPORT_TOOL:
                self.pending = call
            return action
        if state.iterations_left <= 1:
            return self._wrap_up(state, f"the agent's limit of {state.max_iterations} iterations was reached")
        if state.time_left_s < min(WRAP_UP_SECONDS, state.budget_s / 10):
            return self._wrap_up(state, "the review's wall-clock budget ran out")
        if self.meter.total_tokens >= self.token_budget:
            return self._wrap_up(state, f"the LLM token budget of {self.token_budget:,} tokens was used up")
        tools: list[ToolSpec] = [
            {"name": t["name"], "description": t["description"], "parameters": t["parameters"]}
            for t in state.tools
        ]
        self._warn_if_low(state)
        messages = self._messages(state, tools)
        needed = sum(estimate_tokens(_text(m)) for m in messages) + self.max_tokens
        if self.meter.total_tokens + needed > self.token_budget:
            return self._wrap_up(state, f"the LLM token budget of {self.token_budget:,} tokens was used up")
        response = self._ask(state, tools, messages)
        if response.tool_calls:
            self.exchanges.append(Exchange(AssistantMessage(response.text, response.tool_calls)))
            self.queue = list(response.tool_calls)
            return None
        self.nudges += 1
        if self.nudges > MAX_NUDGES:
            return self._wrap_up(state, "the model stopped answering with tool calls before it reported")
        self.exchanges.append(
            Exchange(
                AssistantMessage(response.text or "(no content)"),
                followup="Only tool calls are read. Investigate with the tools, or call report to finish.",
            )
        )
        return None

    def _ask(self, state: AgentState[Any], tools: list[ToolSpec], messages: list[Message]) -> ModelResponse:
        try:
            response = self.model.request(SYSTEM_PROMPT, messages, tools, max_tokens=self.max_tokens)
        except ContextLengthError:
            # Our estimate is approximate: retry once with half the context before giving up.
            self.context_tokens = max(self.context_tokens // 2, 2000)
            response = self.model.request(
                SYSTEM_PROMPT, self._messages(state, tools), tools, max_tokens=self.max_tokens
            )
        self.meter.add(response.usage)
        return response

    def _messages(self, state: AgentState[Any], tools: list[ToolSpec]) -> list[Message]:
        fixed = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(json.dumps(tools)) + self.max_tokens
        budget = max(self.context_tokens - fixed, 1000)
        if self.task is None:
            self.task = self._task(state, budget, [t["name"] for t in tools])
        return fit_history(self.task, self.exchanges, budget)

    def _task(self, state: AgentState[Any], budget: int, tool_names: list[str]) -> str:
        results = [
            render_result(e.id, e.tool, e.text, ok=e.ok, max_tokens=self.max_result_tokens)
            for e in self.evidence.entries.values()
        ]
        results_tokens = sum(estimate_tokens(r) for r in results)
        diff_budget = max(budget // 2 - results_tokens, budget // 5)
        self.plan = plan_diff(split_diff(str(getattr(state.deps, "diff_text", "") or "")), diff_budget)
        text = task_prompt(self.pr, self.plan, focus=self.focus, tools=tool_names)
        if results:
            text += "\n\n## Checks the bot already ran (cite their ids as evidence)\n" + "\n\n".join(results)
        return text

    def _warn_if_low(self, state: AgentState[Any]) -> None:
        if not self.exchanges or self.exchanges[-1].followup:
            return
        tokens_left = self.token_budget - self.meter.total_tokens
        low_tokens = tokens_left < 2 * (self.context_tokens + self.max_tokens)
        if state.iterations_left <= 3 or low_tokens:
            self.exchanges[
                -1
            ].followup = "The review's budget is nearly used up: call report now with the findings you have."

    # -- answering calls ------------------------------------------------------------------------

    def _answer(self, call: ToolCall, *, ok: bool, text: str, data: Any = None, args: Any = None) -> None:
        arguments = (
            args if isinstance(args, dict) else (call.arguments if isinstance(call.arguments, dict) else {})
        )
        entry = self.evidence.add(call.name, arguments, ok=ok, text=text, data=data)
        rendered = render_result(entry.id, call.name, text, ok=ok, max_tokens=self.max_result_tokens)
        first = text.strip().splitlines()[0][:160] if text.strip() else ""
        short = json.dumps(arguments, sort_keys=True)[:120]
        for ex in reversed(self.exchanges):
            if any(c.id == call.id for c in ex.assistant.tool_calls):
                ex.results.append(ToolResultMessage(call.id, call.name, rendered, is_error=not ok))
                ex.summaries.append(f"{entry.id} {call.name}({short}) -> {'ok' if ok else 'error'}: {first}")
                return

    def _translate(self, call: ToolCall, state: AgentState[Any]) -> CallTool | None:
        if not isinstance(call.arguments, dict):
            self._answer(
                call,
                ok=False,
                text=f"the arguments of {call.name} are not a JSON object: {call.arguments[:200]!r}. "
                "Send a JSON object matching the tool's schema.",
            )
            return None
        if call.name != REPORT_TOOL:
            return CallTool(name=call.name, args=call.arguments)
        processed = process_report(
            call.arguments,
            evidence=self.evidence,
            read_lines=lambda path: _read_lines(state.deps, path),
            changed_lines=lambda path: _changed_lines(state.deps, path),
            limits=self.limits,
        )
        if processed.errors:
            self._answer(call, ok=False, text="invalid report: " + "; ".join(processed.errors))
            return None
        self.processed = processed
        return self._report(state, processed.findings, processed.summary, processed.notes)

    # -- finishing ------------------------------------------------------------------------------

    def _report(
        self, state: AgentState[Any], findings: list[Finding], summary: str, notes: list[str]
    ) -> CallTool:
        merged = dedupe([*self.base_findings, *findings])
        ledger = getattr(state.deps, "ledger", None)
        if ledger is not None:
            seen = self.evidence.paths_seen()
            for patch in self.plan.omitted if self.plan else ():
                if patch.path not in seen:
                    ledger.skipped.append(
                        f"{patch.path}: not reviewed by the LLM (its diff did not fit the prompt budget "
                        f"of {self.context_tokens:,} tokens)"
                    )
            if self.record_usage:
                detail = "; ".join([self.meter.summary(), *notes])
                status = RunStatus.ERROR if self.partial_reason else RunStatus.OK
                ledger.runs.append(ToolRun(name=f"llm {self.model.name}", status=status, detail=detail))
        text = "\n\n".join(p for p in (summary, *notes, self.meter.summary()) if p)
        return CallTool(
            name=REPORT_TOOL,
            args={"findings": [f.model_dump(mode="json") for f in merged], "summary": text[:20_000]},
        )

    def _wrap_up(self, state: AgentState[Any], reason: str) -> Action:
        """Out of budget: report the deterministic findings and mark the LLM part as partial."""
        self.partial_reason = reason
        self.queue.clear()
        ledger = getattr(state.deps, "ledger", None)
        if ledger is None:
            if "token budget" in reason:
                raise TokenBudgetExhausted(reason)
            raise ModelError(f"the LLM review stopped early: {reason}")
        ledger.errors.append(f"the LLM review is partial: {reason} ({self.meter.summary()})")
        if not state.tools or REPORT_TOOL not in {t["name"] for t in state.tools}:
            return Finish(reason=reason)
        return self._report(state, [], f"Partial review: {reason}.", [])


# -- what the anchoring needs from the review's deps --------------------------------------------


def _read_lines(deps: object, path: str) -> list[str] | None:
    texts = getattr(deps, "head_texts", None)
    if isinstance(texts, dict) or hasattr(texts, "get"):
        text = texts.get(path) if texts is not None else None
        if isinstance(text, str):
            return text.splitlines()
    root = getattr(deps, "root", None)
    if not isinstance(root, Path) or not path or path.startswith("/"):
        return None
    base = root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file() or target.stat().st_size > MAX_FILE_BYTES:
        return None
    return target.read_bytes().decode("utf-8", "replace").splitlines()


def _changed_lines(deps: object, path: str) -> Collection[int]:
    diff = getattr(deps, "diff", None)
    change = diff.file(path) if diff is not None and hasattr(diff, "file") else None
    return change.added_lines if change is not None else ()


def _text(msg: Message) -> str:
    if isinstance(msg, AssistantMessage):
        return msg.text + "".join(json.dumps(c.arguments) for c in msg.tool_calls)
    assert isinstance(msg, UserMessage | ToolResultMessage)
    return msg.text
