"""The output filter: everything the LLM wrote passes here before anything is posted.

The model read attacker-controlled text, so its output is attacker-influenced
(docs/security-probes.md, probes 49-54):
- token-like strings are redacted (`core.redact`, shared with the GitHub poster);
- images are removed (markdown, reference-style, HTML `<img>`): a rendered image is a request
  to any URL the attacker chose, with data in the query string (probe 53);
- links keep their text and lose their URL unless the host is allowlisted; bare and reference
  URLs likewise; other HTML tags are dropped;
- @mentions are neutralized (`@\u200buser`), hidden characters removed, GitHub Actions workflow
  commands (`::add-mask::`, `::error`) defused at line starts (probe 46);
- each text is capped in size, and the number of findings posted is capped (probe 54).
The target PR and the review event are the bot's decision, never the model's: `review_event`
returns COMMENT or REQUEST_CHANGES and there is no path to APPROVE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from reviewbot.adapters.llm.sanitize import HIDDEN
from reviewbot.core.filtering import priority_key
from reviewbot.core.finding import Finding
from reviewbot.core.redact import neutralize_mentions, redact_secrets
from reviewbot.settings import Settings

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?[^)\s>]*>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_IMAGE = re.compile(r"!\[([^\]]*)\]\[[^\]]*\]")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_DEF = re.compile(r"(?m)^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S+.*$")
_AUTOLINK = re.compile(r"<((?:https?|ftp|data|javascript):[^>\s]*)>", re.I)
_BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>)\]\"'`]+|\b(?:data|javascript):[^\s<>)\]\"'`]+", re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_WORKFLOW_COMMAND = re.compile(r"(?m)^([ \t]*)::")
_RULE_ID = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True)
class OutputLimits:
    max_comments: int = 20
    max_chars: int = 3000
    link_allowlist: tuple[str, ...] = ("docs.python.org",)

    @classmethod
    def from_settings(cls, settings: Settings) -> OutputLimits:
        llm = settings.llm
        return cls(
            max_comments=min(llm.max_comments, settings.github.max_inline_comments or llm.max_comments),
            max_chars=llm.max_comment_chars,
            link_allowlist=tuple(llm.link_allowlist),
        )


def _allowed(url: str, allow: Sequence[str]) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(host == a or host.endswith("." + a) for a in allow)


def cap_text(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    note = " … (truncated)"
    return text[: max(max_chars - len(note), 0)] + note


def filter_text(text: str, limits: OutputLimits) -> str:
    """Make one piece of model-written markdown safe to post."""
    allow = limits.link_allowlist
    text = _HTML_COMMENT.sub("", text)
    text = HIDDEN.sub("", text)
    text = _MD_IMAGE.sub(lambda m: f"[image removed{': ' + m.group(1) if m.group(1).strip() else ''}]", text)
    text = _REF_IMAGE.sub("[image removed]", text)
    text = _REF_DEF.sub("", text)
    text = _MD_LINK.sub(lambda m: m.group(0) if _allowed(m.group(2), allow) else m.group(1), text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if _allowed(m.group(1), allow) else "[link removed]", text)
    text = _HTML_TAG.sub("", text)
    text = _BARE_URL.sub(lambda m: m.group(0) if _allowed(m.group(0), allow) else "[link removed]", text)
    text = _WORKFLOW_COMMAND.sub(lambda m: m.group(1) + ":\u200b:", text)
    text = neutralize_mentions(redact_secrets(text))
    return cap_text(text, limits.max_chars)


def filter_code(text: str, limits: OutputLimits) -> str:
    """Quoted code and suggestions: rendered inside code blocks, so only secrets and size matter."""
    return cap_text(redact_secrets(text), limits.max_chars)


def safe_rule_id(rule_id: str) -> str:
    slug = _RULE_ID.sub("-", rule_id.lower()).strip("-")[:48]
    return slug or "llm-review"


def filter_finding(finding: Finding, limits: OutputLimits) -> Finding:
    rule_url = (
        finding.rule_url if finding.rule_url and _allowed(finding.rule_url, limits.link_allowlist) else None
    )
    suggestion = finding.suggestion
    if suggestion is not None:
        suggestion = suggestion.model_copy(
            update={
                "replacement": redact_secrets(suggestion.replacement),
                "description": filter_text(suggestion.description, limits),
            }
        )
    return finding.model_copy(
        update={
            "rule_id": safe_rule_id(finding.rule_id),
            "rule_url": rule_url,
            "message": filter_text(finding.message, limits) or "(empty message)",
            "snippet": filter_code(finding.snippet, limits),
            "evidence": filter_code(finding.evidence, limits) if finding.evidence else None,
            "suggestion": suggestion,
        }
    )


def filter_findings(findings: Iterable[Finding], limits: OutputLimits) -> tuple[list[Finding], int]:
    """Filter each finding; keep the most important `max_comments`. Returns (kept, omitted)."""
    cleaned = sorted((filter_finding(f, limits) for f in findings), key=priority_key)
    return cleaned[: limits.max_comments], max(len(cleaned) - limits.max_comments, 0)


def review_event(findings: Iterable[Finding], settings: Settings) -> Literal["COMMENT", "REQUEST_CHANGES"]:
    """The bot's choice. REQUEST_CHANGES only when configured and an *evidenced* finding reaches
    `fail_on`; otherwise COMMENT. Never APPROVE, whatever the model or the PR says."""
    threshold = settings.fail_on_severity
    if settings.github.review_event != "REQUEST_CHANGES" or threshold is None:
        return "COMMENT"
    if any(f.evidenced and f.severity.at_least(threshold) for f in findings):
        return "REQUEST_CHANGES"
    return "COMMENT"
