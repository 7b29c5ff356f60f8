"""What to make of a model that answers in prose when the review needs its `report`.

First choice: a fenced JSON block in the prose (```json ... ```) holding the findings — as
`{"findings": [...], "summary": "..."}`, a bare list of findings, or one finding; also a `report`
call written out as text (`{"name": "report", "arguments": {...}}`, in `<tool_call>` tags as some
local models do), or an answer that is nothing but that JSON. It goes through
the same checks as the `report` tool (`findings.process_report`, leniently: invalid items are
dropped, not sent back). Failing that, the prose itself is kept, through the output filter, as
the model's summary: one note about the change as a whole, marked as opinion.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reviewbot.adapters.llm.safety import OutputLimits, filter_text
from reviewbot.core.finding import Finding, Severity

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|jsonc)?[ \t]*\r?\n(.*?)```", re.S)
_TAG = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
SUMMARY_RULE = "llm-summary"
_FINDING_KEYS = frozenset({"rule_id", "path", "message"})


def _unwrap_call(value: Any) -> Any:
    """`{"name": "report", "arguments": {...}}` (arguments maybe a JSON string) -> the arguments."""
    if not (isinstance(value, dict) and value.get("name") == "report"):
        return value
    inner = next((value[k] for k in ("arguments", "parameters", "input") if k in value), None)
    if isinstance(inner, str):
        try:
            inner = json.loads(inner)
        except ValueError:
            return None
    return inner


def _as_report(value: Any) -> dict[str, Any] | None:
    value = _unwrap_call(value)
    if isinstance(value, dict) and isinstance(value.get("findings"), list):
        return value
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return {"findings": value}
    if isinstance(value, dict) and set(value) >= _FINDING_KEYS:
        return {"findings": [value]}
    return None


def fenced_report(text: str) -> dict[str, Any] | None:
    """The first JSON block of `text` that holds findings, as `report` arguments."""
    stripped = (text or "").strip()
    whole = [stripped] if stripped.startswith(("{", "[")) else []
    for block in [*_FENCE.findall(text or ""), *_TAG.findall(text or ""), *whole]:
        try:
            value = json.loads(block)
        except ValueError:
            continue
        report = _as_report(value)
        if report is not None:
            return report
    return None


def prose_summary(text: str, limits: OutputLimits) -> Finding | None:
    """The model's prose, filtered, as a note about the change as a whole (None if empty)."""
    cleaned = filter_text((text or "").strip(), limits).strip()
    if not cleaned:
        return None
    return Finding(
        tool="llm",
        rule_id=SUMMARY_RULE,
        path="",
        severity=Severity.NOTE,
        message="The model answered in prose instead of a structured report; its words, unverified:\n\n"
        + cleaned,
        evidenced=False,
    )
