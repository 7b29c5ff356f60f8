"""Build findings for tests with little noise."""

from __future__ import annotations

from typing import Any

from reviewbot.core.finding import Finding, Severity, Suggestion


def make(
    path: str = "src/app.py",
    line: int | None = 6,
    end: int | None = None,
    *,
    rule: str = "F401",
    tool: str = "ruff",
    severity: Severity = Severity.WARNING,
    snippet: str | None = None,
    message: str = "something is off",
    suggestion: tuple[int, int, str] | None = None,
    **extra: Any,
) -> Finding:
    return Finding(
        tool=tool,
        rule_id=rule,
        path=path,
        start_line=line,
        end_line=end,
        severity=severity,
        message=message,
        snippet=snippet if snippet is not None else f"code at {path}:{line}",
        suggestion=Suggestion(start_line=suggestion[0], end_line=suggestion[1], replacement=suggestion[2])
        if suggestion
        else None,
        **extra,
    )
