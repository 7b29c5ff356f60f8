"""Make text safe to post where strangers read it: no secrets, no mass @mentions.

Findings quote tool output and source text from the PR; a test that prints a token, or a
docstring full of @handles, must not leak the token nor ping a hundred people. Pure functions.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"
ZWSP = "\u200b"

# Token shapes that are unambiguous enough to redact anywhere (prefixes documented by the issuers).
_SECRET_PATTERNS = (
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
