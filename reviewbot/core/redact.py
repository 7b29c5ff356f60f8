"""Make text safe to post where strangers read it: no secrets, no mass @mentions.

Findings quote tool output and source text from the PR; a test that prints a token, or a
docstring full of @handles, must not leak the token nor ping a hundred people. Pure functions.
"""

from __future__ import annotations

import re

from reviewbot.core.finding import Finding
from reviewbot.core.review import Review

REDACTED = "[REDACTED]"
ZWSP = "\u200b"

# Token shapes that are unambiguous enough to redact anywhere (prefixes documented by the issuers).
_SECRET_PATTERNS = (
    # A token shown abbreviated (pytest's assertion diffs: 'ghp_Z9y8X7w6...8N7m6L5k4J3i2') still
    # leaks most of it: masked whole, the part after the ellipsis included.
    re.compile(
        r"\b(?:github_pat_|gh[pousr]_|sk-(?:ant-|proj-)?|glpat-|xox[abposr]-)[A-Za-z0-9_-]{4,}\.{3}[A-Za-z0-9_-]*"
    ),
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{20,}"),  # ghp_ gho_ ghu_ ghs_ (+ stateless) ghr_
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
)

# GitHub usernames: alphanumerics and single hyphens; teams: @org/team.
_MENTION = re.compile(r"(?<![\w`@/.])@(?=[A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_.-]+)?)")
# Fenced blocks (``` or ~~~, any length) and inline code spans: GitHub does not notify for
# mentions inside them, and changing them would corrupt suggestions (`@property`).
_CODE = re.compile(r"(?ms)^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[`~]*[ \t]*$|(`+)[^`\n].*?\2")


def redact_secrets(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def neutralize_mentions(markdown: str) -> str:
    """`@user` -> `@\u200buser` outside code, so nobody is pinged by what a PR contained."""
    out: list[str] = []
    pos = 0
    for match in _CODE.finditer(markdown):
        out.append(_MENTION.sub("@" + ZWSP, markdown[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_MENTION.sub("@" + ZWSP, markdown[pos:]))
    return "".join(out)


def scrub(markdown: str) -> str:
    """Everything posted to GitHub passes here last."""
    return neutralize_mentions(redact_secrets(markdown))


def _redact_finding(finding: Finding) -> Finding:
    # The snippet (and so the fingerprint) stays: it is never shown, and markers must match.
    update: dict[str, object] = {"message": redact_secrets(finding.message)}
    if finding.evidence:
        update["evidence"] = redact_secrets(finding.evidence)
    if finding.suggestion is not None:
        s = finding.suggestion
        update["suggestion"] = s.model_copy(
            update={
                "replacement": redact_secrets(s.replacement),
                "description": redact_secrets(s.description),
            }
        )
    return finding.model_copy(update=update)


def redact_review(review: Review) -> Review:
    """The review with every shown text secret-free: what the text, JSON and SARIF outputs render,
    so no output carries a token that the posted markdown would have redacted."""
    return review.model_copy(
        update={
            "findings": tuple(_redact_finding(f) for f in review.findings),
            "preexisting": tuple(_redact_finding(f) for f in review.preexisting),
            "runs": tuple(r.model_copy(update={"detail": redact_secrets(r.detail)}) for r in review.runs),
            "errors": tuple(redact_secrets(e) for e in review.errors),
            "skipped": tuple(redact_secrets(s) for s in review.skipped),
        }
    )
