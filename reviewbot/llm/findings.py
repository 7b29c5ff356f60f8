"""Turn the model's `report` arguments into findings the bot stands behind.

For each finding: fields the bot decides are overwritten (tool = "llm", `evidenced`, the
evidence text, the fingerprint) and keys that are not Finding fields are dropped — a model told by
a PR to add `"event": "APPROVE"` or a target repository gets nowhere, because nothing reads them.
Then: evidence is resolved against the log (no proof -> an opinion: `evidenced=False`, severity
note); the line is verified against the file (`core.anchoring`: kept, moved, or demoted to the
review body); and everything passes the output filter (`safety`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reviewbot.core.anchoring import reanchor
from reviewbot.core.finding import Finding, Severity
from reviewbot.llm.evidence import EvidenceLog
from reviewbot.llm.safety import OutputLimits, filter_findings, filter_text

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


def process_report(
    args: dict[str, Any],
    *,
    evidence: EvidenceLog,
    read_lines: ReadLines,
    changed_lines: ChangedLines,
    limits: OutputLimits,
) -> Processed:
    items, summary = clean_args(args)
    out = Processed(summary=filter_text(summary, limits))
    parsed: list[Finding] = []
    for i, item in enumerate(items):
        try:
            parsed.append(Finding.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False)[:5]:
                loc = ".".join(str(p) for p in err["loc"])
                out.errors.append(f"findings.{i}.{loc}: {err['msg']}")
    if out.errors:
        return out
    moved = demoted = opinions = 0
    checked: list[Finding] = []
    for finding in parsed:
        cited = evidence.cited(finding.evidence)
        if cited:
            finding = finding.model_copy(
                update={"evidenced": True, "evidence": "\n\n".join(e.describe() for e in cited)}
            )
        else:
            opinions += 1
            finding = finding.model_copy(
                update={"evidenced": False, "evidence": None, "severity": Severity.NOTE}
            )
        if finding.start_line is not None:
            finding, where = reanchor(finding, read_lines(finding.path), changed=changed_lines(finding.path))
            moved += where.how == "moved"
            demoted += where.how == "demoted"
        checked.append(finding)
    out.findings, out.omitted = filter_findings(checked, limits)
    if moved:
        out.notes.append(f"{moved} LLM finding(s) moved to the line their quoted code is on")
    if demoted:
        out.notes.append(
            f"{demoted} LLM finding(s) whose quoted code was not at a verifiable line went to the review body"
        )
    if opinions:
        out.notes.append(f"{opinions} LLM finding(s) not backed by a tool run are marked as opinions (note)")
    if out.omitted:
        out.notes.append(
            f"{out.omitted} LLM finding(s) over the cap of {limits.max_comments} were not posted"
        )
    return out
