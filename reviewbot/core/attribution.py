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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reviewbot.core.diff import Diff
from reviewbot.core.filtering import Scope, in_scope, new_since_base, path_selected
from reviewbot.core.finding import Finding, Severity


@dataclass(frozen=True)
class FailedTest:
    """A failing test (or a test module that failed to import) as reported by the test run."""

    nodeid: str
    path: str
    line: int | None
    message: str
    detail: str
    collection: bool = False


@dataclass(frozen=True)
class TestAttribution:
    new: tuple[Finding, ...]
    preexisting: tuple[Finding, ...]


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


def _test_finding(test: FailedTest, message: str, severity: Severity) -> Finding:
    evidence = "\n".join(part for part in (test.message, test.detail) if part).strip()
    return Finding(
        tool="pytest",
        rule_id="test-collection-error" if test.collection else "test-failure",
        path=test.path,
        start_line=test.line,
        severity=severity,
        message=message,
        snippet=test.nodeid,
        evidence=evidence[-3000:] or None,
    )


def attribute_tests(
    head_failures: Sequence[FailedTest],
    *,
    base_failed: set[str] | None,
    base_ran: set[str] | None,
    head_to_base: Mapping[str, str | None],
    compare: bool = True,
) -> TestAttribution:
    """Split head failures into new and already failing.

    `base_failed` / `base_ran`: node ids (base names) that failed / ran at the base; None when the
    base run did not happen or broke (then failures are reported, marked as unverified).
    `head_to_base`: head test file -> base file (None: the file is new).
    `compare=False` (reviewing every file, no base): each failure is reported as it is.
    """
    new: list[Finding] = []
    pre: list[Finding] = []
    for test in head_failures:
        what = "fails to import" if test.collection else "fails"
        if not compare:
            new.append(_test_finding(test, f"`{test.nodeid}` {what}.", Severity.ERROR))
            continue
        path, sep, rest = test.nodeid.partition("::")
        base_file = head_to_base.get(path, path)
        if base_file is None:
            new.append(_test_finding(test, f"`{test.nodeid}` {what}; it is a new test file.", Severity.ERROR))
            continue
        base_id = base_file + sep + rest
        if base_failed is None or base_ran is None:
            new.append(
                _test_finding(
                    test,
                    f"`{test.nodeid}` {what} with this change "
                    "(it could not be re-run at the base to compare).",
                    Severity.WARNING,
                )
            )
        elif base_id in base_failed:
            pre.append(
                _test_finding(
                    test, f"`{test.nodeid}` {what} at the base too (already failing).", Severity.NOTE
                )
            )
        elif base_id in base_ran:
            new.append(
                _test_finding(
                    test, f"`{test.nodeid}` {what} with this change; it passes at the base.", Severity.ERROR
                )
            )
        else:
            new.append(
                _test_finding(
                    test,
                    f"`{test.nodeid}` {what}; it does not exist at the base (a new test).",
                    Severity.ERROR,
                )
            )
    return TestAttribution(tuple(new), tuple(pre))
