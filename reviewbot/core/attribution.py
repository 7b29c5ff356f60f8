"""Decide what the change introduced. Pure: takes analyzer results, returns findings.

Lint: a finding counts when it sits on a changed line (per the scope setting), its fingerprint
has no counterpart at the base (the base's findings are renamed to head paths first, so a moved
file does not make old problems look new), and the same rule did not fire on the base lines the
diff pairs its lines with (a rename or a re-wrap is not a new problem). A syntax error in a changed
file that the base did not have counts wherever the parser reports it.

Tests: a test failing at head counts when it passes at the base, or does not exist there; failing
at both is "already failing" — reported separately, never as this change's finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reviewbot.core.diff import Diff
from reviewbot.core.filtering import Scope, in_scope, new_since_base, path_selected
from reviewbot.core.finding import Finding
from reviewbot.core.testgroups import FailedTest
from reviewbot.core.testverdicts import TestAttribution, attribute_tests

__all__ = ["FailedTest", "TestAttribution", "attribute_tests", "base_path_of_head", "select_lint"]


def select_lint(
    head: Iterable[Finding],
    base: Iterable[Finding],
    *,
    diff: Diff | None,
    scope: Scope,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[Finding]:
    """Head lint findings the change introduced. `diff=None` means no diff scope and no baseline (--all).

    The baseline is matched against *all* head findings before scoping: if the base had one
    `import os` flagged and the change adds a second identical one, the old occurrence absorbs the
    base's count and the added line is what remains new.
    """
    selected = [f for f in head if path_selected(f.path, include, exclude)]
    if diff is None:
        return selected
    new, _preexisting = new_since_base(selected, base, diff)
    return [f for f in new if in_scope(f, diff, scope) or _breaks_changed_file(f, diff)]


#: ruff's rule id for a file it cannot parse.
SYNTAX_ERROR_RULE = "invalid-syntax"


def _breaks_changed_file(finding: Finding, diff: Diff) -> bool:
    """A syntax error the change introduced counts wherever the parser noticed it: an unclosed
    bracket on an added line is often reported lines later, on an untouched one."""
    change = diff.file(finding.path)
    return finding.rule_id == SYNTAX_ERROR_RULE and change is not None and not change.is_deleted


def base_path_of_head(diff: Diff, head_path: str) -> str | None:
    """Where a head file lived at the base, or None if the change added it."""
    fc = diff.file(head_path)
    if fc is None:
        return head_path
    if fc.status == "added" or fc.old_path is None:
        return None
    return fc.old_path
