"""The sticky summary comment: one issue comment per PR, found again by a hidden marker and
edited in place on every run.

It says what the review found (counts by severity), what ran and how long it took, what was
skipped and why, what broke (an incomplete review must look incomplete), and what got fixed since
the last review. The open findings are remembered in a hidden state marker, so the next run can
tell which ones disappeared. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review, RunStatus

SUMMARY_MARKER = "<!-- reviewbot:summary -->"
_STATE = re.compile(r"<!-- reviewbot:state h=([0-9A-Za-z]*) o=([^ >]*) x=([^ >]*) -->")
_ICONS = {Severity.ERROR: "🔴 error", Severity.WARNING: "🟡 warning", Severity.NOTE: "🔵 note"}
_RUN_ICONS = {
    RunStatus.OK: "✅",
    RunStatus.FAILED: "❌",
    RunStatus.ERROR: "⚠️",
    RunStatus.TIMEOUT: "⏱️",
    RunStatus.SKIPPED: "⏭️",
}


@dataclass(frozen=True)
class Remembered:
    """A finding as the state marker remembers it: enough to say what got fixed."""

    fingerprint: str
    rule_id: str
    path: str

    @classmethod
    def of(cls, finding: Finding) -> Remembered:
        return cls(finding.fingerprint, finding.rule_id, finding.path)


@dataclass(frozen=True)
class SummaryState:
    head: str = ""
    open: tuple[Remembered, ...] = ()
    fixed: tuple[Remembered, ...] = ()

    def encode(self) -> str:
        def enc(items: Iterable[Remembered]) -> str:
            return ",".join(
                f"{r.fingerprint}:{quote(r.rule_id, safe='')}:{quote(r.path, safe='')}" for r in items
            )

        return f"<!-- reviewbot:state h={self.head} o={enc(self.open)} x={enc(self.fixed)} -->"


def _dec(text: str) -> tuple[Remembered, ...]:
    out = []
    for item in filter(None, text.split(",")):
        parts = item.split(":")
        if len(parts) == 3 and re.fullmatch(r"[0-9a-f]{8,64}", parts[0]):
            out.append(Remembered(parts[0], unquote(parts[1]), unquote(parts[2])))
    return tuple(out)


def parse_state(body: str) -> SummaryState | None:
    match = _STATE.search(body)
    if match is None:
        return None
    return SummaryState(match.group(1), _dec(match.group(2)), _dec(match.group(3)))


def next_state(previous: SummaryState | None, head: str, findings: Iterable[Finding]) -> SummaryState:
    """Open findings now, and what was fixed since the last review. A re-run on the same head keeps
    the fixed list it had, so the summary does not forget it."""
    current = tuple(dict.fromkeys(Remembered.of(f) for f in findings))
    if previous is None:
        return SummaryState(head, current, ())
    if previous.head == head:
        return SummaryState(head, current, previous.fixed)
    now = {r.fingerprint for r in current}
    return SummaryState(head, current, tuple(r for r in previous.open if r.fingerprint not in now))


@dataclass(frozen=True)
class SummaryFacts:
    """What the summary reports beyond the Review itself."""

    head_sha: str
    new: int = 0
    already_posted: int = 0
    inline: int = 0
    file_level: int = 0
    in_body: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _capped_list(title: str, items: list[str], cap: int) -> list[str]:
    """A `###` section listing at most `cap` items, then how many more there are."""
    more = [f"- … and {len(items) - cap} more"] if len(items) > cap else []
    return ["", f"### {title}", *(f"- {item}" for item in items[:cap]), *more]


def render_summary(review: Review, state: SummaryState, facts: SummaryFacts) -> str:
    counts = review.counts()
    # The state goes first: if the body is ever truncated, the memory of open findings survives.
    lines = [SUMMARY_MARKER, state.encode(), "## reviewbot"]
    if not review.complete:
        lines.append(
            "> [!WARNING]\n> **This review is incomplete**: "
            + ("a budget ran out before it finished. " if review.partial else "")
            + "See *Errors* below; the absence of a finding is not a clean bill."
        )
    lines.append(f"Reviewed `{facts.head_sha[:12]}` ({review.files_reviewed} file(s)).")
    lines += ["", "| severity | open findings |", "| --- | ---: |"]
    lines += [f"| {_ICONS[s]} | {counts[s]} |" for s in Severity]
    posted = (
        f"{facts.new} new this run ({facts.inline} inline, {facts.file_level} on files, "
        f"{facts.in_body} in the review body); {facts.already_posted} already on this PR."
    )
    lines += ["", posted]
    if review.omitted:
        lines.append(f"{review.omitted} more finding(s) were dropped by the max-findings cap.")
    if review.preexisting:
        lines.append(f"{len(review.preexisting)} problem(s) exist at the base too and are not this PR's.")
    if state.fixed:
        fixed = [f"`{_cell(r.rule_id)}` in `{_cell(r.path) or '(change)'}`" for r in state.fixed]
        lines += _capped_list(f"Fixed since the last review ({len(state.fixed)})", fixed, 50)
    if review.runs:
        lines += ["", "### What ran", "| check | status | time | detail |", "| --- | --- | ---: | --- |"]
        lines += [
            f"| {_cell(r.name)} | {_RUN_ICONS[r.status]} {r.status.value} | {r.duration_s:.1f} s | "
            f"{_cell(r.detail)[:300]} |"
            for r in review.runs
        ]
    if review.skipped:
        lines += _capped_list(
            f"Skipped ({len(review.skipped)})", [_cell(s)[:300] for s in review.skipped], 30
        )
    if review.errors:
        lines += ["", "### Errors"]
        lines += [f"- {_cell(e)[:500]}" for e in review.errors[:20]]
    if facts.notes:
        lines += ["", "### Notes"]
        lines += [f"- {_cell(n)}" for n in facts.notes]
    return "\n".join(lines) + "\n"
