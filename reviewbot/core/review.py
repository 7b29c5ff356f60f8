"""The result of one review: what every renderer and every code host adapter consumes."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.core.finding import Finding, Severity


class RunStatus(StrEnum):
    OK = "ok"  # ran, result parsed (findings or not)
    FAILED = "failed"  # ran; the thing it checks failed (e.g. tests failed) — results parsed
    ERROR = "error"  # could not do its job: crash, bad config, unparsable output
    TIMEOUT = "timeout"
    SKIPPED = "skipped"  # deliberately not run; `detail` says why


class ToolRun(BaseModel):
    """What ran during the review, for the summary ("what ran, what was skipped and why")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    status: RunStatus
    duration_s: float = 0.0
    detail: str = ""


class Review(BaseModel):
    """One review of one change. Frozen; built once at the end of the agent loop."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: str = Field(description="Base revision (sha or name) the change is compared with")
    head: str = Field(description="Head revision, or 'WORKTREE' for the working tree")
    findings: tuple[Finding, ...] = ()
    preexisting: tuple[Finding, ...] = Field(
        default=(),
        description="Problems that exist at the base too (already-failing tests): not this change's",
    )
    runs: tuple[ToolRun, ...] = ()
    errors: tuple[str, ...] = Field(
        default=(), description="Analyzer/sandbox failures: the review is incomplete"
    )
    skipped: tuple[str, ...] = Field(default=(), description="Files or steps not reviewed, with the reason")
    omitted: int = Field(default=0, ge=0, description="Findings dropped by the max-findings cap")
    files_reviewed: int = 0
    partial: bool = Field(default=False, description="A budget ran out before the review finished")
    sandbox_backend: str | None = Field(
        default=None,
        description="The sandbox backend the code ran in ('docker', 'process'); None when nothing ran",
    )

    @property
    def complete(self) -> bool:
        return not self.errors and not self.partial

    def counts(self) -> dict[Severity, int]:
        out = dict.fromkeys(Severity, 0)
        for f in self.findings:
            out[f.severity] += 1
        return out

    def fails(self, fail_on: Severity | None) -> bool:
        """True when a finding is at or above `fail_on` (None = never fail on findings)."""
        if fail_on is None:
            return False
        return any(f.severity.at_least(fail_on) and f.evidenced for f in self.findings)
