"""Turn the model's `report` arguments into findings the bot stands behind.

For each finding: fields the bot decides are overwritten (tool = "llm", `evidenced`, the
evidence text, the fingerprint) and keys that are not Finding fields are dropped — a model told by
a PR to add `"event": "APPROVE"` or a target repository gets nowhere, because nothing reads them.
Then: the line is verified against the file (`core.anchoring`: kept, moved, or demoted to the
review body when the quoted code is not there); the cited evidence is resolved against the log and
kept only when it bears on the flagged code (`relevance`: a failure that exercises it, or a tool
finding on that line). A finding whose quote is not at head, or without relevant evidence, is an
opinion: `evidenced=False`, severity note — never an error or warning. Everything passes the
output filter (`safety`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reviewbot.adapters.llm.evidence import EvidenceLog
from reviewbot.adapters.llm.relevance import bears_on, target_of
from reviewbot.adapters.llm.safety import OutputLimits, filter_findings, filter_text
from reviewbot.core.anchoring import anchor, reanchor
from reviewbot.core.finding import Finding, Severity

LLM_TOOL = "llm"
_MODEL_FIELDS = frozenset(Finding.model_fields) - {"tool", "evidenced"}
ReadLines = Callable[[str], Sequence[str] | None]
ChangedLines = Callable[[str], Collection[int]]


@dataclass
class Processed:
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""
    notes: list[str] = field(default_factory=list)
    omitted: int = 0
    errors: list[str] = field(default_factory=list)  # validation errors to send back to the model


def clean_args(args: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The findings (only Finding's own, model-settable keys) and the summary; nothing else."""
    raw = args.get("findings")
    items = raw if isinstance(raw, list) else []
    findings = [
        {k: v for k, v in item.items() if k in _MODEL_FIELDS} | {"tool": LLM_TOOL}
        for item in items
        if isinstance(item, dict)
    ]
    summary = args.get("summary")
    return findings, summary if isinstance(summary, str) else ""


def _parse(items: list[dict[str, Any]], out: Processed, *, lenient: bool) -> list[Finding]:
    parsed: list[Finding] = []
    dropped = 0
    for i, item in enumerate(items):
        try:
            parsed.append(Finding.model_validate(item))
        except ValidationError as exc:
            dropped += 1
            if not lenient:
                for err in exc.errors(include_url=False, include_input=False)[:5]:
                    loc = ".".join(str(p) for p in err["loc"])
                    out.errors.append(f"findings.{i}.{loc}: {err['msg']}")
    if lenient and dropped:
        out.notes.append(f"{dropped} LLM finding(s) that were not valid findings were dropped")
    return parsed


@dataclass
class _Tally:
    moved: int = 0
    fabricated: int = 0
    irrelevant: int = 0
    unbacked: int = 0


def _check(
    finding: Finding, evidence: EvidenceLog, read_lines: ReadLines, changed: ChangedLines, tally: _Tally
) -> Finding:
    """The finding at its verified line, evidenced only by cited failures that bear on that code."""
    lines = read_lines(finding.path)
    if finding.start_line is not None:
        finding, where = reanchor(finding, lines, changed=changed(finding.path))
        quote_ok = where.how != "demoted"
        tally.moved += where.how == "moved"
    else:
        quote_ok = anchor(lines, 1, None, finding.snippet).how != "demoted"
    cited = evidence.cited(finding.evidence)
    target = target_of(finding, lines)
    backing = [e for e in cited if bears_on(e, target)] if quote_ok else []
    if backing:
        return finding.model_copy(
            update={"evidenced": True, "evidence": "\n\n".join(e.describe() for e in backing)}
        )
    update: dict[str, Any] = {"evidenced": False, "evidence": None, "severity": Severity.NOTE}
    if not quote_ok:
        tally.fabricated += 1
        update["message"] = f"{finding.message}\n\n(The code this quotes is not in the head revision.)"
    elif cited:
        tally.irrelevant += 1
    else:
        tally.unbacked += 1
    return finding.model_copy(update=update)


def _notes(tally: _Tally, out: Processed, limits: OutputLimits) -> None:
    if tally.moved:
        out.notes.append(f"{tally.moved} LLM finding(s) moved to the line their quoted code is on")
    if tally.fabricated:
        out.notes.append(
            f"{tally.fabricated} LLM finding(s) whose quoted code is not in the head revision went to "
            "the review body as opinions (note)"
        )
    if tally.irrelevant:
        out.notes.append(
            f"{tally.irrelevant} LLM finding(s) citing runs that did not fail on the flagged code are "
            "marked as opinions (note)"
        )
    if tally.unbacked:
        out.notes.append(
            f"{tally.unbacked} LLM finding(s) not backed by a tool run are marked as opinions (note)"
        )
    if out.omitted:
        out.notes.append(
            f"{out.omitted} LLM finding(s) over the cap of {limits.max_comments} were not posted"
        )


def process_report(
    args: dict[str, Any],
    *,
    evidence: EvidenceLog,
    read_lines: ReadLines,
    changed_lines: ChangedLines,
    limits: OutputLimits,
    lenient: bool = False,
) -> Processed:
    """Check the model's report. Strict (the `report` tool): any invalid finding makes `errors`
    for the model to correct. Lenient (findings salvaged from prose): invalid ones are dropped."""
    items, summary = clean_args(args)
    out = Processed(summary=filter_text(summary, limits))
    parsed = _parse(items, out, lenient=lenient)
    if out.errors:
        return out
    tally = _Tally()
    checked = [_check(f, evidence, read_lines, changed_lines, tally) for f in parsed]
    out.findings, out.omitted = filter_findings(checked, limits)
    _notes(tally, out, limits)
    return out
