"""The LLM's line in the review's accounts: the "What ran" row (calls, tokens, time, what
happened), the note on what stopped the model early, and the files it never saw.

Every text written here may be posted, so it is scrubbed: no URL (an endpoint's address), no
token-like string, one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.adapters.llm.http import scrub_urls
from reviewbot.adapters.llm.model import UsageMeter
from reviewbot.adapters.llm.pacing import Stop
from reviewbot.core.redact import redact_secrets
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.core.text import one_line
from reviewbot.pipeline.review_deps import Ledger


def clean(text: str) -> str:
    return one_line(redact_secrets(scrub_urls(text)))


@dataclass
class LLMLedger:
    model_name: str
    meter: UsageMeter
    record: bool = True  # specialists of a multi-agent review leave the row to the coordinator
    failed: int = 0  # model calls that got no usable answer
    seconds: float = 0.0  # time spent in model calls, answered or not
    answered: bool = False  # the model's own answer (report, JSON block or prose) was used
    outcome: str | None = None
    notes: list[str] = field(default_factory=list)
    stop: Stop | None = None
    done: bool = False

    clean = staticmethod(clean)

    def usage(self) -> str:
        failed = f" ({self.failed} without an answer)" if self.failed else ""
        return self.meter.summary() + failed

    def lines(self) -> list[str]:
        """What the review's summary says about the model's part."""
        out = [self.outcome or ""]
        if self.stop is not None:
            out.append(f"The model's part was wrapped up early: {self.stop.text}.")
        return [clean(line) for line in (*out, *self.notes, self.usage()) if line]

    def status(self) -> RunStatus:
        if self.answered and (self.stop is None or self.stop.kind in ("repeats", "iterations", "refused")):
            return RunStatus.OK
        if self.stop is None:
            return RunStatus.OK
        return RunStatus.TIMEOUT if self.stop.kind == "time" else RunStatus.ERROR

    def finish(self, ledger: Ledger, notes: list[str], stop: Stop | None, not_reviewed: list[str]) -> None:
        """Write the row and notes once, when the policy reports."""
        self.stop = stop
        self.notes += [n for n in notes if n not in self.notes]
        if self.done:
            return
        self.done = True
        ledger.skipped.extend(clean(s) for s in not_reviewed)
        if stop is not None:
            ledger.skipped.append(clean(f"LLM review wrapped up early: {stop.text}; it reported what it had"))
        if self.record:
            outcome = self.outcome or ("reported" if stop is None else f"wrapped up: {stop.text}")
            detail = "; ".join([self.usage(), outcome, *self.notes])
            ledger.runs.append(self._row(self.status(), detail))

    def record_failure(self, ledger: Ledger, message: str) -> None:
        """The policy failed (a misconfigured endpoint): the row still says what ran."""
        if self.done:
            return
        self.done = True
        if self.record:
            ledger.runs.append(self._row(RunStatus.ERROR, f"{self.usage()}; failed: {message}"))

    def _row(self, status: RunStatus, detail: str) -> ToolRun:
        return ToolRun(
            name=f"llm {self.model_name}",
            status=status,
            duration_s=round(self.seconds, 3),
            detail=clean(detail),
        )
