"""sanitize: no terminal escapes, no control characters, no hidden bidi overrides in output."""

from __future__ import annotations

import pytest

from reviewbot.core.text import fence_for, longest_run, one_line, sanitize

CASES = [
    ("plain text", "plain text"),
    ("keeps\nnewlines\tand tabs", "keeps\nnewlines\tand tabs"),
    ("crlf\r\nline", "crlf\nline"),
    ("lone\rcarriage", "lonecarriage"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b[2J\x1b[1;1Hcleared", "cleared"),
    ("\x1b]0;evil title\x07after", "after"),
    ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x1bPdevice control\x1b\\x", "x"),
    ("\x9b31mc1 csi", "c1 csi"),
    ("nul\x00bell\x07bs\x08del\x7f", "nulbellbsdel"),
    ("c1\x85\x9f", "c1"),
    ("ESC alone \x1b", "ESC alone "),
    (
        "access = 'user\u202e \u2066// admin\u2069\u2066'",
        "access = 'user<U+202E> <U+2066>// admin<U+2069><U+2066>'",
    ),
    ("rlm\u200f lrm\u200e alm\u061c", "rlm<U+200F> lrm<U+200E> alm<U+061C>"),
    ("bad byte \udce4", "bad byte \ufffd"),
    ("caf\u00e9 \u65e5\u672c \U0001f600", "caf\u00e9 \u65e5\u672c \U0001f600"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean


def test_sanitize_output_has_no_controls_for_any_byte() -> None:
    raw = (
        "".join(chr(c) for c in range(0x00, 0x250)) + "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )
    out = sanitize(raw)
    bad = [c for c in out if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
    assert bad == []
    assert not any(c in out for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_one_line() -> None:
    assert one_line("a\nb\t c\x1b[1m d") == "a b c d"


@pytest.mark.parametrize(
    ("text", "run", "fence"), [("none", 0, "```"), ("a ``` b", 3, "````"), ("`````", 5, "``````")]
)
def test_fence(text: str, run: int, fence: str) -> None:
    assert longest_run(text, "`") == run
    assert fence_for(text) == fence
