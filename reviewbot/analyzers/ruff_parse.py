"""Turn `ruff check --output-format json` and `ruff format --diff` output into Findings. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from unidiff.patch import PatchSet

from reviewbot.core.finding import Finding, Severity, Suggestion
from reviewbot.core.lintconfig import file_exemptions
from reviewbot.errors import AnalyzerError

#: Errors: pyflakes (unused imports and variables, undefined names, redefinitions...), syntax
#: errors, pylint's error class, and the curated dangerous calls (exec, eval, shell=True, SQL built
#: from strings). A change that adds one of these is not ready as it is.
ERROR_PREFIXES = ("F", "E9", "PLE", "S102", "S307", "S602", "S604", "S605", "S608")
#: Warnings: likely bugs (bugbear) and other security rules; worth a reviewer's attention.
WARNING_PREFIXES = ("B", "S")
#: ruff's id for "this file does not parse" (older ruff versions gave no code at all).
SYNTAX_ERROR = "invalid-syntax"
#: The curated dangerous calls: a noqa comment never hides them from the review (a pull request
#: adding `eval(x)` with a noqa comment is exactly what a reviewer must see).
UNSUPPRESSIBLE = ("S102", "S307", "S602", "S604", "S605", "S608")


def severity_for(code: str) -> Severity:
    if code == SYNTAX_ERROR or code.startswith(ERROR_PREFIXES):
        return Severity.ERROR
    if code.startswith(WARNING_PREFIXES):
        return Severity.WARNING
    return Severity.NOTE


def _relative(filename: str, paths: Sequence[str]) -> str:
    """Map ruff's (absolute, sandbox-side) filename back to the repository path we asked about."""
    best = ""
    for path in paths:
        if (filename == path or filename.endswith("/" + path)) and len(path) > len(best):
            best = path
    return best or filename.removeprefix("./")


def _lines_of(text: str, start: int, end: int) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[start - 1 : end])


def _offset(lines: Sequence[str], row: int, column: int) -> int:
    """Character offset of a 1-based (row, column) in the joined text of `lines`."""
    return sum(len(line) for line in lines[: row - 1]) + column - 1


def fix_to_suggestion(text: str, edits: Sequence[Mapping[str, Any]], message: str) -> Suggestion | None:
    """Apply ruff's edits to the affected whole lines and return them as a line-range replacement."""
    if not edits:
        return None
    lines = text.splitlines(keepends=True)
    first = min(e["location"]["row"] for e in edits)
    last = 0
    for e in edits:
        end = e["end_location"]
        # An edit that ends at column 1 of a row stops before that row.
        last = max(
            last, end["row"] - 1 if end["column"] == 1 and end["row"] > e["location"]["row"] else end["row"]
        )
    last = max(min(last, len(lines)), first)
    if first > len(lines):
        return None
    region_start = _offset(lines, first, 1)
    region = "".join(lines[first - 1 : last])
    new = region
    for e in sorted(edits, key=lambda e: (e["location"]["row"], e["location"]["column"]), reverse=True):
        start = _offset(lines, e["location"]["row"], e["location"]["column"]) - region_start
        stop = _offset(lines, e["end_location"]["row"], e["end_location"]["column"]) - region_start
        if start < 0 or stop > len(region) or stop < start:
            return None
        new = new[:start] + e["content"] + new[stop:]
    if new == region:
        return None
    return Suggestion(start_line=first, end_line=last, replacement=new, description=message)


def parse_check(stdout: str, *, paths: Sequence[str], file_texts: Mapping[str, str]) -> list[Finding]:
    """Parse ruff's JSON; `paths` are the repository-relative paths ruff was asked to check."""
    try:
        items = json.loads(stdout or "[]")
    except json.JSONDecodeError as exc:
        raise AnalyzerError(f"ruff printed output that is not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise AnalyzerError("ruff's JSON output is not a list of diagnostics")
    findings: list[Finding] = []
    broken: set[str] = set()
    for item in items:
        code = item.get("code") or SYNTAX_ERROR
        path = _relative(str(item.get("filename", "")), paths)
        if code == SYNTAX_ERROR:
            if path in broken:
                continue  # ruff reports each error the parser recovers from; the first is the cause
            broken.add(path)
        start, end = item["location"], item["end_location"]
        text = file_texts.get(path, "")
        start_line, end_line = max(1, start["row"]), max(1, end["row"], start["row"])
        message = str(item.get("message", code))
        suggestion = None
        fix = item.get("fix")
        if fix and fix.get("applicability") == "safe" and text:
            suggestion = fix_to_suggestion(text, fix.get("edits") or [], str(fix.get("message") or ""))
        elif fix and fix.get("message"):
            message += f" (ruff has an unsafe fix, not suggested: {fix['message']})"
        if suggestion is not None:
            start_line = min(start_line, suggestion.start_line)
            end_line = max(end_line, suggestion.end_line)
        same_line = start_line == end_line
        findings.append(
            Finding(
                tool="ruff",
                rule_id=code,
                rule_url=item.get("url"),
                path=path,
                start_line=start_line,
                end_line=end_line,
                start_column=max(1, start["column"]) if same_line else None,
                end_column=max(1, end["column"]) if same_line and end["row"] == start["row"] else None,
                severity=severity_for(code),
                message=message,
                snippet=_lines_of(text, start["row"], max(end["row"], start["row"])) or message,
                suggestion=suggestion,
                evidence=f"ruff check: {code} {item.get('name') or ''}".strip(),
            )
        )
    return findings


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def _line_noqa(line: str) -> set[str] | None:
    """Codes a line's `# noqa` comment names (empty set: a blanket `# noqa`); None without one."""
    match = _NOQA.search(line)
    if match is None:
        return None
    return set(re.split(r"[\s,]+", (match.group("codes") or "").upper())) - {""}


def _silences(codes: set[str] | None, rule: str) -> bool:
    return codes is not None and (not codes or any(rule.startswith(c) for c in codes))


def honor_noqa(
    findings: Iterable[Finding], file_texts: Mapping[str, str], trusted_texts: Mapping[str, str]
) -> list[Finding]:
    """Apply noqa comments for a run made with `--ignore-noqa`, so that a pull request cannot
    exempt its own files: a per-line noqa comment (visible in the diff, next to the code) silences
    its line as ruff would; a file-level exemption (`ruff: noqa` / `flake8: noqa` on a line of
    its own) counts only if `trusted_texts` (the file at the base) has it too. Nothing silences
    the dangerous calls in UNSUPPRESSIBLE."""
    kept: list[Finding] = []
    for finding in findings:
        text = file_texts.get(finding.path, "")
        exempt = set(file_exemptions(text)) & set(file_exemptions(trusted_texts.get(finding.path, "")))
        lines = text.splitlines()
        silenced = any(_silences(set(codes), finding.rule_id) for _line, codes in exempt)
        if finding.start_line is not None:
            for row in {finding.start_line, finding.last_line or finding.start_line}:
                silenced |= _silences(
                    _line_noqa(lines[row - 1]) if 0 < row <= len(lines) else None, finding.rule_id
                )
        if not silenced or finding.rule_id.startswith(UNSUPPRESSIBLE):
            kept.append(finding)
    return kept


def _change_groups(lines: list[Any]) -> list[list[Any]]:
    """Split a hunk into runs of changed lines, each with at least one base-side line to anchor on
    (a pure insertion borrows the context line before it, or after it at the top of a file)."""
    groups: list[list[Any]] = []
    i = 0
    while i < len(lines):
        if lines[i].is_context:
            i += 1
            continue
        j = i
        while j < len(lines) and not lines[j].is_context:
            j += 1
        group = lines[i:j]
        if not any(ln.is_removed for ln in group):
            if i > 0:
                group = [lines[i - 1], *group]
            elif j < len(lines):
                group = [*group, lines[j]]
        groups.append(group)
        i = j
    return groups


def parse_format_diff(stdout: str) -> list[Finding]:
    """Each change of `ruff format --diff` becomes a note whose suggestion is the formatted text.

    Context lines are not part of a suggestion, so it replaces only what the formatter touches.
    """
    findings: list[Finding] = []
    if not stdout.strip():
        return findings
    try:
        patch = PatchSet(stdout)
    except Exception as exc:  # unidiff raises UnidiffParseError (a ValueError subclass) and others
        raise AnalyzerError(f"could not parse `ruff format --diff` output: {exc}") from exc
    for patched in patch:
        path = patched.source_file.removeprefix("a/").removeprefix("./")
        for hunk in patched:
            lines = [ln for ln in hunk if ln.line_type in ("+", "-", " ")]
            for group in _change_groups(lines):
                olds = [ln for ln in group if not ln.is_added]
                if not olds:
                    continue
                first, last = olds[0].source_line_no, olds[-1].source_line_no
                original = "".join(ln.value for ln in olds)
                findings.append(
                    Finding(
                        tool="ruff-format",
                        rule_id="format",
                        rule_url="https://docs.astral.sh/ruff/formatter/",
                        path=path,
                        start_line=first,
                        end_line=last,
                        severity=Severity.NOTE,
                        message="`ruff format` would reformat this.",
                        snippet=original,
                        suggestion=Suggestion(
                            start_line=first,
                            end_line=last,
                            replacement="".join(ln.value for ln in group if not ln.is_removed),
                            description="ruff format",
                        ),
                        evidence="ruff format --check --diff",
                    )
                )
    return findings
