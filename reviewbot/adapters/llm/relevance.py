"""Does a cited tool result bear on a finding? (pure: the finding, the result, the file's lines)

A result backs a finding only when it *failed* and the failure is about the flagged code:
- `run_snippet` exited non-zero (or hung until its timeout) and the snippet imports the finding's
  module or calls its function, or its traceback runs through the finding's file or function —
  unless the snippet itself was broken (a syntax error, an unknown module or name, raised outside
  the finding's file);
- `run_tests` at head has failing tests whose output runs through the finding's file or function;
- `analyze_code` at head reported a finding on the flagged lines of that file.
A run that succeeded proves nothing about a bug, and a failure elsewhere proves nothing about
this line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from reviewbot.adapters.llm.evidence import Evidence
from reviewbot.adapters.llm.snippet_tool import SnippetResult
from reviewbot.core.finding import Finding
from reviewbot.pipeline.testrun import TestsResult
from reviewbot.pipeline.tools import AnalyzeResult

_DEF = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)")
_BROKEN = re.compile(r"^(?:SyntaxError|IndentationError|ModuleNotFoundError|NameError):", re.M)


@dataclass(frozen=True)
class Target:
    """What a relevant failure must mention: the file, its module names, the enclosing function."""

    path: str
    modules: tuple[str, ...]
    function: str | None
    lines: tuple[int, int] | None


def modules_of(path: str) -> tuple[str, ...]:
    """Import names a file may be reached by: `src/pkg/mod.py` -> mod, pkg.mod, src.pkg.mod."""
    p = PurePosixPath(path)
    if p.suffix != ".py":
        return ()
    parts = [*p.parent.parts, p.stem] if p.stem != "__init__" else list(p.parent.parts)
    return tuple(".".join(parts[i:]) for i in range(len(parts)) if parts[i:])


def enclosing_function(lines: Sequence[str] | None, line: int | None) -> str | None:
    """The nearest `def`/`class` at or above `line` (1-based), if any."""
    if not lines or line is None:
        return None
    for text in reversed(lines[: min(line, len(lines))]):
        if match := _DEF.match(text):
            return match.group(1)
    return None


def target_of(finding: Finding, lines: Sequence[str] | None) -> Target:
    span = None
    if finding.start_line is not None:
        span = (finding.start_line, finding.end_line or finding.start_line)
    return Target(finding.path, modules_of(finding.path), enclosing_function(lines, finding.start_line), span)


def _mentions_file(text: str, path: str) -> bool:
    return bool(path) and re.search(r"(?:^|[\s\"'/(])" + re.escape(path) + r"\b", text, re.M) is not None


def _mentions_function(text: str, name: str | None) -> bool:
    return bool(name) and re.search(rf"\b{re.escape(name or '')}\b", text) is not None


def _imports(code: str, modules: Sequence[str]) -> bool:
    for mod in modules:
        pattern = rf"^\s*(?:from\s+{re.escape(mod)}\s+import\b|import\s+[\w., ]*\b{re.escape(mod)}\b)"
        if re.search(pattern, code, re.M):
            return True
    return False


def _snippet_bears(entry: Evidence, result: SnippetResult, target: Target) -> bool:
    if not result.failed:
        return False
    if _BROKEN.search(entry.text) and not _mentions_file(entry.text, target.path):
        return False  # the snippet itself was broken: it never got to the flagged code
    code = str(entry.args.get("code", ""))
    calls = bool(target.function) and re.search(rf"\b{re.escape(target.function or '')}\s*\(", code)
    traced = _mentions_file(entry.text, target.path) or _mentions_function(entry.text, target.function)
    return bool(_imports(code, target.modules) or calls or traced)


def _tests_bear(result: TestsResult, target: Target) -> bool:
    if result.revision != "head":
        return False
    for test in result.failing:
        text = "\n".join((test.nodeid, test.message, test.detail))
        if _mentions_file(text, target.path) or _mentions_function(text, target.function):
            return True
    return False


def _lint_bears(result: AnalyzeResult, target: Target) -> bool:
    if result.revision != "head" or target.lines is None:
        return False
    first, last = target.lines
    for finding in result.findings:
        if finding.path != target.path:
            continue
        start = finding.start_line
        end = finding.end_line or start
        if start is not None and end is not None and start <= last and end >= first:
            return True
    return False


def bears_on(entry: Evidence, target: Target) -> bool:
    """True when `entry` is a failure that exercises the finding's code (see the module doc)."""
    value = entry.value
    if entry.tool == "run_snippet" and isinstance(value, SnippetResult):
        return _snippet_bears(entry, value, target)
    if entry.tool == "run_tests" and isinstance(value, TestsResult):
        return _tests_bear(value, target)
    if entry.tool == "analyze_code" and isinstance(value, AnalyzeResult):
        return _lint_bears(value, target)
    return False
