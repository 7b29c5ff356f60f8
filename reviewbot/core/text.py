"""Make text from findings safe to show: in a terminal, a GitHub comment, an Actions log.

Findings carry text written by tools run on untrusted code and by LLMs: messages, snippets,
evidence, file names. A terminal escape sequence in a test's output could rewrite the screen of
whoever reads the report; a bidi override could make a reviewer read code other than what runs
("Trojan Source"). Every renderer passes such text through `sanitize` first.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, 8-bit CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
# C0 except \t and \n, DEL, C1. "\r" is handled before (CRLF -> LF).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Explicit directional embeddings/overrides/isolates and marks: shown, never obeyed.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def sanitize(text: str) -> str:
    """Strip ANSI escapes and control characters (keeping newline and tab), show bidi controls
    as `<U+202E>`, and replace undecodable bytes (surrogate escapes) with U+FFFD."""
    text = text.replace("\r\n", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = _BIDI.sub(_visible, text)
    return _SURROGATE.sub("\ufffd", text)


def one_line(text: str) -> str:
    """`sanitize`, then fold line breaks and tabs into spaces (for table cells, titles, paths)."""
    return " ".join(sanitize(text).split())


def longest_run(text: str, char: str) -> int:
    """Length of the longest run of `char` in `text` (to pick a Markdown fence that cannot close early)."""
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def fence_for(text: str, char: str = "`") -> str:
    """A code fence longer than any run of `char` inside `text` (at least three)."""
    return char * max(3, longest_run(text, char) + 1)


def tail(text: str, limit: int, *, one_line: bool = False, mark_cut: bool = False) -> str:
    """The end of `text` (what a command said last), at most `limit` characters, NULs dropped.

    `one_line`: each line's whitespace collapsed and the lines joined with " | " (errors are printed
    on one line). `mark_cut`: a cut text starts with a note saying how much was cut."""
    text = text.replace("\x00", "")
    if one_line:
        text = " | ".join(line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line)
    if len(text) <= limit:
        return text
    return (f"[... {len(text) - limit} chars cut]\n" if mark_cut else "") + text[-limit:]
