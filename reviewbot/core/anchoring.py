"""Verify the line numbers of a finding against the file it points at (pure; no I/O).

LLMs misnumber lines. A finding quotes the code it flags (`Finding.snippet`); the quote decides
where the finding goes, not the number:
- the quote is at the claimed line -> kept ("exact");
- it is elsewhere in the file -> moved to the occurrence nearest the claimed line, preferring
  lines the change touched ("moved");
- it is nowhere, there is no quote, or the file does not exist at head -> the finding loses its
  line and goes to the review body ("demoted").

Comparison ignores indentation and blank lines (`normalize_snippet`), and a one-line quote may be
a fragment of the line (models often quote just the expression).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from reviewbot.core.finding import Finding, normalize_snippet

MIN_FRAGMENT = 8  # shorter one-line fragments match too much to anchor anything


@dataclass(frozen=True)
class Anchor:
    start_line: int | None
    end_line: int | None
    how: Literal["exact", "moved", "demoted"]
    reason: str = ""


def _occurrences(lines: Sequence[str], quote: list[str]) -> list[tuple[int, int]]:
    """(first, last) 1-based head lines of each place the normalized quote occurs."""
    numbered = [(i + 1, normalize_snippet(text)) for i, text in enumerate(lines)]
    numbered = [(n, t) for n, t in numbered if t]
    texts = [t for _, t in numbered]
    out: list[tuple[int, int]] = []
    k = len(quote)
    for i in range(len(texts) - k + 1):
        if texts[i : i + k] == quote:
            out.append((numbered[i][0], numbered[i + k - 1][0]))
    if not out and k == 1 and len(quote[0]) >= MIN_FRAGMENT:
        out = [(n, n) for n, t in numbered if quote[0] in t]
    return out


def anchor(
    lines: Sequence[str] | None,
    start_line: int | None,
    end_line: int | None,
    snippet: str,
    *,
    changed: Collection[int] = (),
) -> Anchor:
    if start_line is None:
        return Anchor(None, None, "demoted", "no line given")
    if lines is None:
        return Anchor(None, None, "demoted", "the file does not exist in the head revision")
    quote = normalize_snippet(snippet).splitlines()
    if not quote:
        return Anchor(None, None, "demoted", "no quoted code to verify the line against")
    found = _occurrences(lines, quote)
    if not found:
        return Anchor(
            None, None, "demoted", f"the quoted code is not in the file (claimed line {start_line})"
        )
    for first, last in found:
        if first == start_line:
            end = end_line if end_line is not None and end_line >= last else last
            end = min(end, len(lines))
            return Anchor(first, end if end != first else None, "exact")

    def distance(span: tuple[int, int]) -> tuple[int, int]:
        return (0 if span[0] in changed else 1, abs(span[0] - start_line))

    first, last = min(found, key=distance)
    return Anchor(
        first, last if last != first else None, "moved", f"claimed line {start_line}, quoted code at {first}"
    )


def reanchor(
    finding: Finding, lines: Sequence[str] | None, *, changed: Collection[int] = ()
) -> tuple[Finding, Anchor]:
    """The finding at its verified place (lines dropped when demoted; a suggestion whose lines no
    longer hold is dropped too, since it would replace the wrong code)."""
    where = anchor(lines, finding.start_line, finding.end_line, finding.snippet, changed=changed)
    if where.how == "exact":
        return finding, where
    update: dict[str, object] = {
        "start_line": where.start_line,
        "end_line": where.end_line,
        "start_column": None,
        "end_column": None,
        "suggestion": None,
    }
    return finding.model_copy(update=update), where
