"""Optional multi-agent mode (`llm.multi_agent = true`; off by default: it costs about one review
per specialist).

The coordinator is the policy of the review's own loop. It runs the deterministic plan there
first, then briefs each specialist (correctness, security, tests) — its own `LLMPolicy` with its
own focus, conversation, memory and agent loop, seeded with the deterministic results as evidence
— and runs them concurrently in threads. Each specialist's report is verified by its own policy
(evidence, lines, output filter); the coordinator merges them, deduplicating the same flagged code
found by several specialists (by fingerprint, rule-agnostic), and submits one report.
"""

from __future__ import annotations

import threading

from reviewbot.adapters.llm.evidence import EvidenceLog
from reviewbot.adapters.llm.ledger import clean
from reviewbot.adapters.llm.model import Model, ModelConfigError, UsageMeter
from reviewbot.adapters.llm.policy import LLMPolicy
from reviewbot.adapters.llm.prompt import PRInfo
from reviewbot.adapters.llm.snippet_tool import RunSnippet
from reviewbot.agent.builtin_tools import builtin_tools
from reviewbot.agent.loop import Action, AgentLoop, AgentRun, AgentState, CallTool, Limits, StopReason
from reviewbot.agent.memory import Memory
from reviewbot.agent.report import REPORT_TOOL
from reviewbot.agent.tools import ToolRegistry
from reviewbot.core.filtering import dedupe, priority_key
from reviewbot.core.finding import Finding, fingerprint_of
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.pipeline.plan import Plan, report_args
from reviewbot.pipeline.review_deps import ReviewDeps
from reviewbot.pipeline.tools import AnalyzeCode, RunTests
from reviewbot.settings import Settings

FOCUS = {
    "correctness": "logic errors, wrong edge cases, broken contracts and regressions in the changed code",
    "security": "injection, unsafe deserialization, path traversal, secrets, authz mistakes, subprocess use",
    "tests": "changed behaviour without tests, tests that cannot fail, tests the change breaks",
}


def merge(reports: list[list[Finding]]) -> list[Finding]:
    """The same flagged code from several specialists counts once (the most severe, evidenced first)."""
    best: dict[str, Finding] = {}
    for finding in sorted((f for r in reports for f in r), key=priority_key):
        key = fingerprint_of("", "", finding.path, finding.snippet or finding.message)
        best.setdefault(key, finding)
    return list(best.values())


class Coordinator:
    """The review loop's policy in multi-agent mode (a `ReviewPolicy`, no last word of its own)."""

    partial_reason: str | None = None

    def __init__(
        self, model: Model, settings: Settings, *, pr: PRInfo | None = None, meter: UsageMeter | None = None
    ) -> None:
        self.model = model
        self.settings = settings
        self.pr = pr
        self.meter = meter or UsageMeter(
            settings.llm.price_input_per_mtok, settings.llm.price_output_per_mtok
        )
        self.checks = Plan()
        self.evidence = EvidenceLog()
        self.runs: dict[str, AgentRun | BaseException] = {}
        self.base: list[Finding] = []

    def decide(self, state: AgentState[ReviewDeps]) -> Action:
        call = self.checks.advance(state)
        for done, out in self.checks.calls[len(self.evidence.entries) :]:
            self.evidence.add(done.name, done.args, ok=out.ok, text=out.text, value=out.value)
        if call is not None:
            return call
        self.base = self.checks.findings(state.deps)
        reports = self._run_specialists(state)
        merged = dedupe([*self.base, *merge(reports)])
        failed = [
            r.message
            for r in self.runs.values()
            if isinstance(r, AgentRun) and r.stop_reason is StopReason.POLICY_ERROR
        ]
        ledger = state.deps.ledger
        ledger.skipped[:] = list(dict.fromkeys(ledger.skipped))
        names = ", ".join(self.runs)
        status = RunStatus.ERROR if failed else RunStatus.OK
        detail = clean("; ".join([self.meter.summary(), *failed[:1]]))
        ledger.runs.append(ToolRun(name=f"llm {self.model.name} ({names})", status=status, detail=detail))
        if failed and len(failed) == len(self.runs):  # the endpoint is misconfigured: every one failed
            raise ModelConfigError(clean(failed[0]))
        summary = f"Multi-agent review ({len(self.runs)} specialists). {self.meter.summary()}"
        return CallTool(name=REPORT_TOOL, args=report_args(merged, summary))

    def wrap_up(self, state: AgentState[ReviewDeps], reason: StopReason, message: str) -> Action | None:
        return None

    def salvage(self, deps: ReviewDeps) -> list[Finding]:
        """The deterministic findings, when the specialists could not run (the policy failed)."""
        return list(self.base)

    def _run_specialists(self, state: AgentState[ReviewDeps]) -> list[list[Finding]]:
        s = self.settings
        registry: ToolRegistry[ReviewDeps] = ToolRegistry(
            [*builtin_tools(s), AnalyzeCode(), RunTests(), RunSnippet()],
            default_timeout_s=s.agent.tool_timeout_s,
        )
        limits = Limits.from_settings(s.agent)
        limits.budget_s = max(state.time_left_s, 1.0)
        seed = list(self.evidence.entries.values())
        lock = threading.Lock()

        def work(name: str) -> None:
            policy = LLMPolicy(
                self.model, s, pr=self.pr, meter=self.meter, focus=FOCUS[name], seed=seed, record_usage=False
            )
            try:
                run: AgentRun | BaseException = AgentLoop(registry, limits).run(
                    policy, state.deps, memory=Memory.from_settings(s.agent), context={"specialist": name}
                )
            except Exception as exc:  # a crashed specialist must not take the others down
                run = exc
            with lock:
                self.runs[name] = run

        threads = [
            threading.Thread(target=work, args=(n,), name=f"specialist-{n}") for n in s.llm.specialists
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ledger = state.deps.ledger
        out: list[list[Finding]] = []
        for name, run in self.runs.items():
            if isinstance(run, BaseException):
                ledger.errors.append(clean(f"LLM specialist {name} crashed: {type(run).__name__}: {run}"))
                continue
            if run.report is not None:
                out.append(list(run.report.findings))
            else:
                why = f"({run.stop_reason.value}): {run.message}"
                ledger.skipped.append(clean(f"LLM specialist {name} stopped without a report {why}"))
        return out
