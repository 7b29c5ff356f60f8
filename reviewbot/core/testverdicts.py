"""Which failing tests the change introduced, grouped by cause. Pure.

Each failure at head gets a verdict from the base re-run, then failures with the same verdict that
share a cause (see `reviewbot.core.testgroups`) become one finding:

- passes at the base / imports at the base      -> error, the change's
- a new test file, a new test in an existing file -> error, the change's
- failing at the base too                         -> note, "already failing" (never this change's)
- its module failed to import at the base         -> warning, "could not compare, because ..."
- no base run, or the base run did not reach it   -> warning, unverified
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.testgroups import (
    Cause,
    FailedTest,
    distinct_messages,
    function_id,
    group_failures,
    names,
    parse_cause,
    project_frames,
    trim_traceback,
)

MAX_EVIDENCE_CHARS = 4000


class Verdict(Enum):
    NOT_COMPARED = "not-compared"
    NEW_FILE = "new-file"
    PASSES_AT_BASE = "passes-at-base"
    IMPORTS_AT_BASE = "imports-at-base"
    NEW_TEST = "new-test"
    BASE_BROKEN = "base-broken"
    UNVERIFIED = "unverified"
    NOT_RUN_AT_BASE = "not-run-at-base"
    PREEXISTING = "preexisting"


_COMPARE = " could not compare with the base"
#: verdict -> (severity, the text after "fails" for one test, for several)
_WORDING: dict[Verdict, tuple[Severity, str, str]] = {
    Verdict.NOT_COMPARED: (Severity.ERROR, ".", "."),
    Verdict.NEW_FILE: (Severity.ERROR, "; it is a new test file.", "; they are in a new test file."),
    Verdict.PASSES_AT_BASE: (
        Severity.ERROR,
        " with this change; it passes at the base.",
        " with this change; they pass at the base.",
    ),
    Verdict.IMPORTS_AT_BASE: (
        Severity.ERROR,
        " with this change; it imports at the base.",
        " with this change; they import at the base.",
    ),
    Verdict.NEW_TEST: (
        Severity.ERROR,
        "; it does not exist at the base (a new test).",
        "; they do not exist at the base (new tests).",
    ),
    Verdict.BASE_BROKEN: (
        Severity.WARNING,
        f" with this change;{_COMPARE}, because {{why}}.",
        f" with this change;{_COMPARE}, because {{why}}.",
    ),
    Verdict.UNVERIFIED: (
        Severity.WARNING,
        " with this change (it could not be re-run at the base to compare).",
        " with this change (they could not be re-run at the base to compare).",
    ),
    Verdict.NOT_RUN_AT_BASE: (
        Severity.WARNING,
        f" with this change;{_COMPARE}: the base run did not run it.",
        f" with this change;{_COMPARE}: the base run did not run them.",
    ),
    Verdict.PREEXISTING: (
        Severity.NOTE,
        " at the base too (already failing).",
        " at the base too (already failing).",
    ),
}


@dataclass(frozen=True)
class TestAttribution:
    new: tuple[Finding, ...]
    preexisting: tuple[Finding, ...]


@dataclass(frozen=True)
class _Base:
    failed: set[str] | None
    ran: set[str] | None
    broken: Mapping[str, str]
    head_to_base: Mapping[str, str | None]

    def ran_file(self, base_file: str) -> bool:
        return any(r.startswith(base_file + "::") for r in self.ran or ())


def cause_of(test: FailedTest, files: frozenset[str]) -> Cause:
    return test.cause if test.cause is not None else parse_cause(test.message, test.detail, files)


def _verdict(test: FailedTest, base: _Base) -> tuple[Verdict, str]:
    path, sep, rest = test.nodeid.partition("::")
    base_file = base.head_to_base.get(path, path)
    if base_file is None:
        return Verdict.NEW_FILE, ""
    if base.failed is None or base.ran is None:
        return Verdict.UNVERIFIED, ""
    base_id = base_file + sep + rest
    if base_id in base.failed:
        return Verdict.PREEXISTING, ""
    if base_file in base.broken:
        why = f"at the base `{base_file}` failed to import ({base.broken[base_file]})"
        return (Verdict.PREEXISTING, "") if test.collection else (Verdict.BASE_BROKEN, why)
    if test.collection:
        return (Verdict.IMPORTS_AT_BASE, "") if base.ran_file(base_file) else (Verdict.NOT_RUN_AT_BASE, "")
    if base_id in base.ran:
        return Verdict.PASSES_AT_BASE, ""
    return (Verdict.NEW_TEST, "") if base.ran_file(base_file) else (Verdict.NOT_RUN_AT_BASE, "")


def _subject(group: Sequence[FailedTest], cause: Cause) -> tuple[str, bool]:
    """What fails, and whether it reads as plural."""
    first = group[0]
    if first.collection:
        modules = names(t.nodeid for t in group)
        noun = "test module" if len(group) == 1 else "test modules"
        what = modules if cause.path is None else f"`{cause.where}`: {cause.summary} -- {noun} {modules}"
        return (f"{what} fails to import", False) if len(group) == 1 else (f"{what} fail to import", True)
    if len(group) == 1:
        return f"`{first.nodeid}` fails", False
    functions = {function_id(t.nodeid) for t in group}
    if len(functions) == 1:
        return f"`{function_id(first.nodeid)}` fails in {len(group)} cases", True
    shown = names(function_id(t.nodeid) for t in group)
    return f"{len(group)} tests fail with the same error ({shown})", True


def _evidence(group: Sequence[FailedTest], cause: Cause, files: frozenset[str]) -> str | None:
    first = group[0]
    traceback = trim_traceback(project_frames(first.detail, files) if first.collection else first.detail)
    if len(group) == 1:
        text = "\n".join(part for part in (_headline(first, cause), traceback) if part)
    else:
        parts = [f"{len(group)} failing" + (" test modules" if first.collection else " cases") + ":"]
        parts.append(distinct_messages(group, lambda t: cause_of(t, files)))
        parts.append(f"\nFirst traceback ({first.nodeid}):\n{traceback}")
        text = "\n".join(parts)
    if len(text) > MAX_EVIDENCE_CHARS:
        text = text[:MAX_EVIDENCE_CHARS] + f"\n... {len(text) - MAX_EVIDENCE_CHARS} more characters"
    return text.strip() or cause.summary or None


def _headline(test: FailedTest, cause: Cause) -> str:
    if test.collection:
        return f"{cause.summary} ({cause.where})" if cause.where else cause.summary
    return test.message.strip()


def _location(group: Sequence[FailedTest], cause: Cause) -> tuple[str, int | None, str]:
    """Where the finding sits, and the text its fingerprint hashes (stable across pushes)."""
    first = group[0]
    if first.collection and cause.path is not None:
        return cause.path, cause.line, f"import {cause.path} {cause.exc_type}: {cause.message}"
    functions = {function_id(t.nodeid) for t in group}
    if len(functions) > 1 and cause.path is not None:
        return cause.path, cause.line, f"raised {cause.path} {cause.exc_type}: {cause.message}"
    if len(group) > 1:
        return first.path, first.line, function_id(first.nodeid)
    return first.path, first.line, first.nodeid


def _finding(group: Sequence[FailedTest], verdict: Verdict, why: str, files: frozenset[str]) -> Finding:
    first = group[0]
    cause = cause_of(first, files)
    subject, plural = _subject(group, cause)
    severity, one, many = _WORDING[verdict]
    path, line, snippet = _location(group, cause)
    return Finding(
        tool="pytest",
        rule_id="test-collection-error" if first.collection else "test-failure",
        path=path,
        start_line=line,
        severity=severity,
        message=subject + (many if plural else one).format(why=why),
        snippet=snippet,
        evidence=_evidence(group, cause, files),
    )


def attribute_tests(
    head_failures: Sequence[FailedTest],
    *,
    base_failed: set[str] | None,
    base_ran: set[str] | None,
    head_to_base: Mapping[str, str | None],
    compare: bool = True,
    base_broken: Mapping[str, str] | None = None,
    files: frozenset[str] = frozenset(),
) -> TestAttribution:
    """Split head failures into new and already failing, one finding per verdict and cause.

    `base_failed` / `base_ran`: node ids (base names; a module that failed to import is its path)
    that failed / ran at the base; None when the base run did not happen or broke.
    `head_to_base`: head test file -> base file (None: the file is new).
    `base_broken`: base test module -> why it failed to import there.
    `files`: the head revision's repository paths (to name the file:line of a cause).
    `compare=False` (reviewing every file, no base): each failure is reported as it is.
    """
    base = _Base(base_failed, base_ran, base_broken or {}, head_to_base)
    by_verdict: dict[tuple[Verdict, str], list[FailedTest]] = {}
    for test in head_failures:
        key = (Verdict.NOT_COMPARED, "") if not compare else _verdict(test, base)
        by_verdict.setdefault(key, []).append(test)
    new: list[Finding] = []
    pre: list[Finding] = []
    for (verdict, why), tests in by_verdict.items():
        for group in group_failures(tests, lambda t: cause_of(t, files)):
            (pre if verdict is Verdict.PREEXISTING else new).append(_finding(group, verdict, why, files))
    return TestAttribution(tuple(new), tuple(pre))


#: Rule ids a linter gives a syntax error (ruff's current and older spellings).
SYNTAX_RULES = frozenset({"invalid-syntax", "syntax-error", "E999"})


def merge_syntax_errors(
    tests: Sequence[Finding], lint: Sequence[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """One root cause, one finding: a SyntaxError that makes test modules fail to import and that
    the linter reports too becomes the linter's finding (which also stands with --no-tests), told
    which tests it breaks and raised to the higher severity of the two."""
    lint_out = list(lint)
    tests_out: list[Finding] = []
    for test in tests:
        match = _syntax_twin(test, lint_out) if test.rule_id == "test-collection-error" else None
        if match is None:
            tests_out.append(test)
            continue
        severity = test.severity if test.severity.at_least(match.severity) else match.severity
        merged = match.model_copy(
            update={
                "severity": severity,
                "message": f"{match.message.rstrip('.')}. It breaks the tests: {test.message}",
            }
        )
        lint_out[lint_out.index(match)] = merged
    return tests_out, lint_out


def _syntax_twin(test: Finding, lint: Sequence[Finding]) -> Finding | None:
    if "SyntaxError" not in test.message and "IndentationError" not in test.message:
        return None
    same_file = [f for f in lint if f.path == test.path and f.rule_id in SYNTAX_RULES and f.start_line]
    if not same_file or test.start_line is None:
        return None
    line = test.start_line
    nearest = min(same_file, key=lambda f: abs((f.start_line or 0) - line))
    return nearest if abs((nearest.start_line or 0) - line) <= 2 else None
