"""What a review policy is (`ReviewPolicy`), and the default one: the deterministic plan
(`reviewbot/pipeline/plan.py`) with no LLM.

`run_review` needs from a policy, besides deciding: its last word when a guard stops the loop
(`wrap_up`), the findings it had established when the loop ended without a report (`salvage`), and
whether it finished on its own terms yet reported only part of what it meant to (`partial_reason`,
e.g. an LLM policy whose token budget ran out).
"""

from __future__ import annotations

from typing import Protocol

from reviewbot.agent.loop import Action, AgentState, CallTool, Finish, Policy, StopReason
from reviewbot.agent.report import REPORT_TOOL
from reviewbot.core.finding import Finding
from reviewbot.pipeline.plan import MAX_BASE_NODE_IDS, Plan, config_change_note, report_args
from reviewbot.pipeline.review_deps import ReviewDeps

__all__ = ["MAX_BASE_NODE_IDS", "DeterministicPolicy", "ReviewPolicy", "config_change_note"]


class ReviewPolicy(Policy[ReviewDeps], Protocol):
    """The policy contract of `reviewbot.pipeline.run.run_review`."""

    @property
    def partial_reason(self) -> str | None:
        """Why the policy's own report is partial (a budget ran out), or None."""
        ...

    def salvage(self, deps: ReviewDeps) -> list[Finding]:
        """The findings established before the loop ended without a report."""
        ...


class DeterministicPolicy:
    """The default plan, a thin adapter of `Plan`. One instance per review."""

    partial_reason: str | None = None

    def __init__(self) -> None:
        self.plan = Plan()
        self.reported = False

    def decide(self, state: AgentState[ReviewDeps]) -> Action:
        call = self.plan.advance(state)
        if call is not None:
            return call
        if self.reported:
            return Finish(reason="plan complete")
        self.reported = True
        findings = self.plan.findings(state.deps)
        summary = f"{len(findings)} finding(s) introduced by the change"
        return CallTool(name=REPORT_TOOL, args=report_args(findings, summary))

    def wrap_up(self, state: AgentState[ReviewDeps], reason: StopReason, message: str) -> Action | None:
        """No last word: run_review salvages what the plan had established."""
        return None

    def salvage(self, deps: ReviewDeps) -> list[Finding]:
        """What the plan had established when a guard stopped the loop before `report`: a partial
        review keeps those findings (and says it is partial) instead of dropping them."""
        return [] if self.reported else self.plan.findings(deps)
