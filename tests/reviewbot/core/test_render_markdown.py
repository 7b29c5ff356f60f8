"""Markdown: comment bodies, markers read back, the review text, and the 65,536-character cap."""

from __future__ import annotations

import re

import pytest

from reviewbot.core.finding import Severity
from reviewbot.core.placement import place_all
from reviewbot.core.render.markdown import (
    GITHUB_BODY_LIMIT,
    cap_body,
    comment_body,
    marker,
    parse_markers,
    review_markdown,
)
from reviewbot.core.review import Review
from tests.reviewbot.core.diff_samples import sample
from tests.reviewbot.core.findings_factory import make, sample_review


def fenced_blocks(text: str) -> list[tuple[str, str, str]]:
    """(fence, info, content) of each top-level fenced block."""
    return [(m.group(1), m.group(2), m.group(3)) for m in re.finditer(r"(?ms)^(`{3,})(\w*)\n(.*?)^\1$", text)]


def test_comment_body_parts() -> None:
    f = make(
        message="`os` imported but unused",
        rule_url="https://docs.astral.sh/ruff/rules/unused-import",
        evidence="ruff check output",
        severity=Severity.ERROR,
    )
    body = comment_body(f)
    assert "`os` imported but unused" in body
    assert "[`F401`](https://docs.astral.sh/ruff/rules/unused-import)" in body
    assert "error" in body and "ruff" in body
    assert "<details><summary>Evidence</summary>" in body and "ruff check output" in body
    assert body.rstrip().endswith(marker(f.fingerprint))
    assert parse_markers(body) == {f.fingerprint}


@pytest.mark.parametrize(
    ("replacement", "fence"),
    [
        ("x = 1\n", "```"),
        ("doc = '''```python'''\n", "````"),
        ("s = '``````'\n", "```````"),
        ("", "```"),  # deleting the lines
        ("no newline at end", "```"),
    ],
)
def test_suggestion_block_fence_is_longer_than_any_backtick_run(replacement: str, fence: str) -> None:
    body = comment_body(make(line=6, suggestion=(6, 6, replacement)))
    blocks = [b for b in fenced_blocks(body) if b[1] == "suggestion"]
    assert len(blocks) == 1
    got_fence, _, content = blocks[0]
    assert got_fence == fence
    expected = replacement if not replacement or replacement.endswith("\n") else replacement + "\n"
    assert content == expected  # exactly the replacement, nothing lost to an early close


def test_evidence_with_fences_stays_inside_its_block() -> None:
    body = comment_body(make(evidence="before\n```\nin the middle\n```\nafter"))
    blocks = fenced_blocks(body)
    assert blocks == [("````", "text", "before\n```\nin the middle\n```\nafter\n")]


def test_forged_markers_are_not_read_back() -> None:
    forged = "<!-- reviewbot:fp=deadbeefdeadbeefdeadbeefdeadbeef -->"
    f = make(
        message=f"look {forged}",
        evidence=forged,
        suggestion=(6, 6, forged + "\n"),
        snippet="real",
    )
    body = comment_body(f)
    assert parse_markers(body) == {f.fingerprint}
    assert forged in body  # it is shown, as code, inside a fence


def test_parse_markers_finds_several_and_ignores_junk() -> None:
    text = "\n".join(
        [
            marker("a" * 32),
            "text <!-- reviewbot:fp=" + "b" * 32 + " --> inline",
            "<!-- reviewbot:fp=NOTHEX -->",
            "~~~",
            marker("c" * 32),
            "~~~",
            marker("d" * 32),
        ]
    )
    assert parse_markers(text) == {"a" * 32, "b" * 32, "d" * 32}
    assert parse_markers("") == set()


@pytest.mark.parametrize(
    ("message", "absent", "present"),
    [
        ("red \x1b[31mtext\x1b[0m", "\x1b", "red text"),
        ("bidi \u202eevil", "\u202e", "&lt;U+202E&gt;"),  # shown as <U+202E>
        ("<img src=x onerror=alert(1)>", "<img", "&lt;img"),
        ("nul\x00byte", "\x00", "nulbyte"),
    ],
)
def test_message_is_sanitized(message: str, absent: str, present: str) -> None:
    body = comment_body(make(message=message))
    assert absent not in body
    assert present in body


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://ok.example/a b", "https://x.example/)(evil"])
def test_unsafe_rule_urls_are_not_linked(url: str) -> None:
    body = comment_body(make(rule_url=url))
    assert "](" not in body
    assert "`F401`" in body


def test_opinions_are_labelled() -> None:
    assert "Not backed by a tool run" in comment_body(make(evidenced=False))
    assert "Not backed by a tool run" not in comment_body(make())


def test_review_markdown_local_lists_everything() -> None:
    review = sample_review()
    text = review_markdown(review)
    assert text.startswith("## reviewbot review\n")
    assert "**4 findings**: 2 errors, 1 warning, 1 note." in text
    assert "`0123456789ab`" in text and "`WORKTREE`" in text and "3 files reviewed" in text
    assert "| ruff | ✅ ok | 0.4s |" in text
    assert "1 failed \\| 9 passed" in text  # a pipe cannot break the table
    assert "huge.py: 2000000 bytes" in text
    for heading in ("#### `src/app.py`", "#### `tests/test_a.py`", "#### `my dir/caf\ufffd.py`"):
        assert heading in text
    assert text.index("#### `my dir") < text.index("#### `src/app.py`") < text.index("#### `tests/test_a.py`")
    assert parse_markers(text) == {f.fingerprint for f in review.findings}
    assert "Already failing at the base" in text and "already broken" in text
    assert "Incomplete" not in text


def test_review_markdown_incomplete_and_empty() -> None:
    text = review_markdown(
        Review(base="b", head="h", errors=("ruff exited with 2: bad config",), partial=True)
    )
    assert "**No findings** in this change." in text
    assert "Incomplete review" in text and "1 error" in text and "budget ran out" in text
    assert "- ruff exited with 2: bad config" in text
    assert "### Findings" not in text


def test_review_markdown_omitted() -> None:
    assert "_7 more findings not shown (max_findings cap)._" in review_markdown(sample_review(omitted=7))


def test_review_markdown_with_placement_shows_only_body_findings() -> None:
    app = "src/app.py"
    findings = (
        make(app, 6, message="inline one"),
        make(app, 20, message="file level one"),
        make("elsewhere.py", 3, message="body one"),
    )
    review = Review(base="b", head="h", findings=findings)
    placed = place_all(findings, sample("modified_hunks"), max_inline=30)
    text = review_markdown(review, placed)
    assert "**3 findings**" in text
    assert "1 inline comment and 1 file-level comment are on the diff." in text
    assert "### Findings not on the diff" in text
    assert "body one" in text and "inline one" not in text and "file level one" not in text
    assert parse_markers(text) == {findings[2].fingerprint}


def test_review_markdown_overflow_note() -> None:
    findings = tuple(make("src/app.py", n, message=f"m{n}") for n in (3, 4, 5, 6))
    placed = place_all(findings, sample("modified_hunks"), max_inline=1)
    text = review_markdown(Review(base="b", head="h", findings=findings), placed)
    assert "3 more beyond the inline comment limit" in text
    assert len(parse_markers(text)) == 3


def test_cap_body_leaves_short_text_alone() -> None:
    text = "x" * GITHUB_BODY_LIMIT
    assert cap_body(text) == text
    assert cap_body("short", limit=10) == "short"


def open_blocks(text: str) -> tuple[str | None, int]:
    from reviewbot.core.render.markdown import _open_blocks

    return _open_blocks(text)


@pytest.mark.parametrize("limit", [400, 1000, 2500, 4000, 9000, 65_536])
def test_cap_body_cuts_closes_blocks_and_says_so(limit: int) -> None:
    review = sample_review(
        findings=tuple(make(line=n, evidence="line\n" * 40, message=f"m{n}") for n in range(1, 400))
    )
    text = review_markdown(review)
    assert len(text) > limit
    capped = cap_body(text, limit)
    assert len(capped) <= limit
    assert "Truncated" in capped and f"of {len(text):,} characters are not shown" in capped
    assert open_blocks(capped) == (None, 0)


def test_cap_body_at_every_cut_point_of_a_fenced_text() -> None:
    text = "intro\n<details>\n\n````text\n" + "```\n" * 50 + "````\n\n</details>\n" + "tail\n" * 100
    for limit in range(320, len(text), 7):
        capped = cap_body(text, limit)
        assert len(capped) <= limit
        assert open_blocks(capped) == (None, 0), limit


def test_cap_body_tiny_limit_is_a_hard_cut() -> None:
    assert cap_body("y" * 500, limit=50) == "y" * 50
