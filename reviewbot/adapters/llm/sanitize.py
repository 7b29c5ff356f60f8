"""Hidden channels out of everything that enters a prompt (docs/security-probes.md, probe 52).

Text from a PR can carry instructions a human reviewer never sees: zero-width characters, bidi
controls, Unicode tag characters (U+E0000-E007F spell ASCII invisibly: "ASCII smuggling"),
variation selectors used the same way, HTML comments, image alt text and link titles that
GitHub hides or shows only on hover. The model must see what a human sees.

Two strengths:
- `clean_prose` (PR title/body, commit messages, branch names): hidden characters and HTML
  comments are removed, images become `[image]`, link titles go.
- `clean_code` (diff, file contents, tool output): the text is the thing under review, so
  nothing visible is changed, but runs of hidden characters become a visible marker
  (`[hidden U+202E]`) — a bidi override in code is itself worth a finding ("Trojan Source") —
  and terminal escape sequences and control characters are dropped.
"""

from __future__ import annotations

import re

# Zero-width and invisible formatting characters, bidi controls, fillers, interlinear
# annotation, variation selectors (incl. the supplement), and the whole tag block.
HIDDEN = re.compile(
    "["
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
    "]+"
)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK_TITLE = re.compile(r"(\[[^\]]*\]\(\s*[^\s)]+)\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\))\s*\)")
_HTML_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _marker(match: re.Match[str]) -> str:
    codes = sorted({f"U+{ord(c):04X}" for c in match.group()})
    shown = " ".join(codes[:3]) + (" ..." if len(codes) > 3 else "")
    return f"[hidden {shown}]"


def clean_prose(text: str) -> str:
    text = text.replace("\r\n", "\n")
    text = _HTML_COMMENT.sub("", text)
    text = HIDDEN.sub("", text)
    text = _HTML_IMG.sub("[image]", text)
    text = _IMAGE.sub("[image]", text)
    text = _LINK_TITLE.sub(r"\1)", text)
    text = _ANSI.sub("", text)
    return _CONTROL.sub("", text)


def clean_code(text: str) -> str:
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    return HIDDEN.sub(_marker, text)
