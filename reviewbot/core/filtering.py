"""Keep what the change introduced, once, most important first.

Order of use in a review: `new_since_base` on the *whole* findings of the changed files at head
and at base (multiplicity only means something over whole files), then `in_scope` to the changed
lines, then `dedupe`, then `cap`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from reviewbot.core.diff import Diff
from reviewbot.core.finding import Finding, fingerprint_of, normalize_snippet
from reviewbot.core.pairing import LineMap, line_map

Scope = Literal["added", "context"]


def in_scope(finding: Finding, diff: Diff, scope: Scope = "added") -> bool:
    """True if the finding touches a changed line of a file that exists at head.

    scope "added": one of its lines was added; "context": one of its lines is shown in a hunk
    (added or context). A file-level finding (no line) is in scope if its file changed at all
    (a mode-only change or a pure rename counts as a change).
    """
    change = diff.file(finding.path)
    if change is None or change.is_deleted:
        return False
    if finding.start_line is None:
        return True
    lines = change.added_lines if scope == "added" else change.head_lines
    first, last = finding.start_line, finding.last_line or finding.start_line
    if last - first + 1 <= len(lines):
        return any(line in lines for line in range(first, last + 1))
    return any(first <= line <= last for line in lines)


def _base_key(finding: Finding, renames: dict[str, str]) -> str:
    new_path = renames.get(finding.path)
    if new_path is None:
        return finding.fingerprint
    # A base finding in a file the change renamed is the same problem under the new name.
    return fingerprint_of(finding.tool, finding.rule_id, new_path, finding.snippet or finding.message)


def _similarity(a: Finding, b: Finding) -> float:
    return SequenceMatcher(None, normalize_snippet(a.snippet), normalize_snippet(b.snippet)).ratio()


def _paired_with_base(new: list[Finding], unmatched: list[Finding], diff: Diff) -> set[int]:
    """Indexes into `new` of findings whose rule fired on the base lines their lines pair with.

    Each base finding answers for one head finding; among several candidates the one whose flagged
    text is most alike wins (so a rewritten line keeps its own base counterpart).
    """
    renames = {f.old_path: f.path for f in diff.files if f.status == "renamed" and f.old_path}
    maps: dict[str, LineMap] = {}
    pairs: list[tuple[float, int, int]] = []
    for hi, head in enumerate(new):
        change = diff.file(head.path)
        if change is None or head.start_line is None:
            continue
        lines = maps.setdefault(head.path, line_map(change))
        region = lines.region(head.start_line, head.last_line or head.start_line)
        for bi, base in enumerate(unmatched):
            same_rule = (base.tool, base.rule_id) == (head.tool, head.rule_id)
            if not same_rule or renames.get(base.path, base.path) != head.path or base.start_line is None:
                continue
            if region.intersection(range(base.start_line, (base.last_line or base.start_line) + 1)):
                pairs.append((_similarity(head, base), hi, bi))
    taken_head: set[int] = set()
    taken_base: set[int] = set()
    for _ratio, hi, bi in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if hi not in taken_head and bi not in taken_base:
            taken_head.add(hi)
            taken_base.add(bi)
    return taken_head


def new_since_base(
    head_findings: Iterable[Finding], base_findings: Iterable[Finding], diff: Diff | None = None
) -> tuple[list[Finding], list[Finding]]:
    """Split head findings into (new, preexisting).

    First by fingerprint, counting occurrences: if the base had 2 findings with a fingerprint and
    the head has 3, one of the 3 is new. With `diff`, base findings in renamed files are matched
    under their new path, and the occurrences reported as new are preferably the ones on added
    lines (the ones the change wrote). Then, with `diff`, by rule and line: a finding left over is
    not new when the same rule fired, at the base, on a line its own lines replace (a renamed
    variable or a re-wrapped call changes the flagged text, not the problem).
    """
    renames: dict[str, str] = {}
    if diff is not None:
        renames = {f.old_path: f.path for f in diff.files if f.status == "renamed" and f.old_path}
    remaining: dict[str, list[Finding]] = {}
    for base in base_findings:
        remaining.setdefault(_base_key(base, renames), []).append(base)

    head = list(head_findings)

    def on_added_line(item: tuple[int, Finding]) -> tuple[bool, int]:
        if diff is None:
            return (False, item[0])
        return (in_scope(item[1], diff, "added") and item[1].start_line is not None, item[0])

    # Match base occurrences against untouched lines first, so added lines are what is left over.
    is_new: dict[int, bool] = {}
    for index, finding in sorted(enumerate(head), key=on_added_line):
        same = remaining.get(finding.fingerprint)
        is_new[index] = not same
        if same:
            same.pop()
    if diff is not None:
        candidates = [i for i in range(len(head)) if is_new[i]]
        unmatched = [f for group in remaining.values() for f in group]
        for k in _paired_with_base([head[i] for i in candidates], unmatched, diff):
            is_new[candidates[k]] = False
    new = [f for i, f in enumerate(head) if is_new[i]]
    old = [f for i, f in enumerate(head) if not is_new[i]]
    return new, old


def _dedupe_key(finding: Finding) -> tuple[str, str, int | None, int | None, int | None]:
    return (finding.fingerprint, finding.path, finding.start_line, finding.last_line, finding.start_column)


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop repeats of the same finding at the same place (e.g. two ruff runs with overlapping rule sets).

    The first occurrence is kept, upgraded to the highest severity seen and to a suggestion if a
    repeat had one and it had none.
    """
    kept: dict[tuple[str, str, int | None, int | None, int | None], Finding] = {}
    for finding in findings:
        key = _dedupe_key(finding)
        first = kept.get(key)
        if first is None:
            kept[key] = finding
            continue
        update: dict[str, object] = {}
        if finding.severity.rank > first.severity.rank:
            update["severity"] = finding.severity
        if first.suggestion is None and finding.suggestion is not None:
            update["suggestion"] = finding.suggestion
        if update:
            kept[key] = first.model_copy(update=update)
    return list(kept.values())


def sort(findings: Iterable[Finding]) -> list[Finding]:
    """By location: path, line, column, rule."""
    return sorted(findings, key=Finding.sort_key)


def priority_key(finding: Finding) -> tuple[int, int, tuple[str, int, int, str]]:
    """Most severe first, evidenced before opinion, then by location."""
    return (-finding.severity.rank, 0 if finding.evidenced else 1, finding.sort_key())


def cap(findings: Sequence[Finding], max_findings: int) -> tuple[list[Finding], int]:
    """Keep the `max_findings` most important findings (sorted by location) and count the rest."""
    if max_findings < 0:
        raise ValueError("max_findings must be >= 0")
    ranked = sorted(findings, key=priority_key)
    return sort(ranked[:max_findings]), max(0, len(ranked) - max_findings)


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """fnmatch-style glob over POSIX paths: `*` and `?` as in fnmatch (`*` may cross '/'),
    `**/` also matches no directory at all, `[...]`/`[!...]` character classes."""
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        elif c == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(".*")
            continue
        elif c == "?":
            out.append(".")
        elif c == "[":
            start = i + 1
            start += pattern.startswith("!", start)
            start += pattern.startswith("]", start)  # a leading "]" is a member, not the end
            end = pattern.find("]", start)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                # Backslashes and what `re` reads as set operations are members, not syntax.
                body = re.sub(r"([\\\[&~|])", r"\\\1", body)
                if body.startswith("!"):
                    body = "^" + body[1:]
                elif body.startswith("^"):
                    body = "\\" + body
                out.append("[" + body + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z")


def glob_match(path: str, pattern: str) -> bool:
    """True if `pattern` matches `path` or one of its parent directories ("vendor" selects vendor/**)."""
    pattern = pattern.strip().lstrip("/").removeprefix("./")
    if not pattern:
        return False
    regex = _glob_regex(pattern.rstrip("/"))
    parts = path.split("/")
    return any(regex.match("/".join(parts[:k])) for k in range(len(parts), 0, -1))


def path_selected(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Include patterns (empty = everything) then exclude patterns, both globs over POSIX paths."""
    if include and not any(glob_match(path, p) for p in include):
        return False
    return not any(glob_match(path, p) for p in exclude)
