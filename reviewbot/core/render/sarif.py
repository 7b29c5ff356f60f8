"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

One run, tool "reviewbot"; one rule per (source tool, rule id), with id "<tool>/<rule>" so ids from
different tools never collide and stay stable across runs (GitHub tracks alerts by rule id and
path). Each result carries `partialFingerprints["reviewbotFingerprint/v1"]`, the line-shift-proof
fingerprint, so re-uploads match alerts up. Only findings of this change are results; what
already failed at the base is not (it would open alerts that belong to nobody's change).
"""

from __future__ import annotations

import json
from typing import Any

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review
from reviewbot.core.text import one_line, sanitize

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "reviewbotFingerprint/v1"
INFORMATION_URI = "https://github.com/reviewbot/reviewbot"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_URI_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
_MAX_DESCRIPTION = 1024  # GitHub's limit for short/full descriptions


def rule_key(finding: Finding) -> str:
    return f"{one_line(finding.tool)}/{one_line(finding.rule_id)}"


def artifact_uri(path: str) -> str:
    """A relative URI reference for a repository path (percent-encoded; raw bytes for non-UTF-8)."""
    # By hand: the core may not import urllib (an I/O package as far as the layer contract goes).
    return "".join(
        chr(b) if chr(b) in _URI_SAFE else f"%{b:02X}" for b in path.encode("utf-8", "surrogateescape")
    )


def _rule(finding: Finding) -> dict[str, Any]:
    tool, rule_id = one_line(finding.tool), one_line(finding.rule_id)
    short = f"{tool} {rule_id}"[:_MAX_DESCRIPTION]
    help_text = f"Reported by {tool} (rule {rule_id}) through reviewbot."
    rule: dict[str, Any] = {
        "id": rule_key(finding),
        "name": rule_id[:255],
        "shortDescription": {"text": short},
        "fullDescription": {"text": help_text[:_MAX_DESCRIPTION]},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"tool": tool},
    }
    if finding.rule_url and finding.rule_url.startswith(("https://", "http://")):
        rule["helpUri"] = finding.rule_url
        rule["help"] = {
            "text": f"{help_text} See {finding.rule_url}",
            "markdown": f"[{rule_id}]({finding.rule_url})",
        }
    return rule


def _region(finding: Finding) -> dict[str, Any] | None:
    if finding.start_line is None:
        return None
    region: dict[str, Any] = {"startLine": finding.start_line}
    if finding.start_column is not None:
        region["startColumn"] = finding.start_column
    if finding.end_line is not None:
        region["endLine"] = finding.end_line
    if finding.end_column is not None and (
        finding.end_line is None or finding.end_line >= finding.start_line
    ):
        region["endColumn"] = finding.end_column
    return region


def _location(finding: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"}
    }
    region = _region(finding)
    if region is not None:
        physical["region"] = region
    return {"physicalLocation": physical}


def _fix(finding: Finding) -> dict[str, Any] | None:
    s = finding.suggestion
    if s is None or not finding.path:
        return None
    return {
        "description": {"text": sanitize(s.description) or "Suggested replacement"},
        "artifactChanges": [
            {
                "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": "%SRCROOT%"},
                "replacements": [
                    {
                        # Whole lines: from the start of start_line to the start of the line after end_line.
                        "deletedRegion": {
                            "startLine": s.start_line,
                            "startColumn": 1,
                            "endLine": s.end_line + 1,
                            "endColumn": 1,
                        },
                        "insertedContent": {"text": sanitize(s.replacement)},
                    }
                ],
            }
        ],
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_key(finding),
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": sanitize(finding.message)},
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": "new",
        "properties": {"tool": one_line(finding.tool), "evidenced": finding.evidenced},
    }
    if finding.path:
        result["locations"] = [_location(finding)]
    if finding.evidence:
        result["properties"]["evidence"] = sanitize(finding.evidence)
    fix = _fix(finding)
    if fix is not None:
        result["fixes"] = [fix]
    return result


def _notifications(review: Review) -> list[dict[str, Any]]:
    out = [{"level": "error", "message": {"text": sanitize(e)}} for e in review.errors]
    out += [{"level": "note", "message": {"text": f"Skipped: {sanitize(s)}"}} for s in review.skipped]
    if review.partial:
        out.append({"level": "warning", "message": {"text": "A budget ran out before the review finished."}})
    return out


def render_sarif(review: Review, tool_version: str) -> dict[str, Any]:
    """The review as a SARIF 2.1.0 log (a dict ready for `json.dumps`)."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for finding in sorted(review.findings, key=Finding.sort_key):
        key = rule_key(finding)
        if key not in index:
            index[key] = len(rules)
            rules.append(_rule(finding))
        results.append(_result(finding, index[key]))
    backend = one_line(review.sandbox_backend) if review.sandbox_backend else None
    invocation: dict[str, Any] = {
        "executionSuccessful": review.complete,
        "properties": {"sandboxBackend": backend},
    }
    notifications = _notifications(review)
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "reviewbot",
                "version": tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": "reviewbot/"},
        "columnKind": "unicodeCodePoints",
        "invocations": [invocation],
        "results": results,
        "properties": {
            "base": one_line(review.base),
            "head": one_line(review.head),
            "filesReviewed": review.files_reviewed,
            "omitted": review.omitted,
            "complete": review.complete,
            "sandboxBackend": backend,
            "runs": [
                {
                    "name": one_line(r.name),
                    "status": r.status.value,
                    "durationSeconds": r.duration_s,
                    "detail": sanitize(r.detail),
                }
                for r in review.runs
            ],
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif_text(review: Review, tool_version: str) -> str:
    return json.dumps(render_sarif(review, tool_version), indent=2, ensure_ascii=False) + "\n"
