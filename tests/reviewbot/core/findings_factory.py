"""Build findings for tests with little noise."""

from __future__ import annotations

from typing import Any

from reviewbot.core.finding import Finding, Severity, Suggestion
from reviewbot.core.review import Review, RunStatus, ToolRun


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


def sample_review(**update: Any) -> Review:
    """A review with a bit of everything: two files, a suggestion, evidence, runs, a skip."""
    findings = (
        make(
            "src/app.py",
            2,
            severity=Severity.ERROR,
            snippet="import os",
            message="`os` imported but unused",
            rule_url="https://docs.astral.sh/ruff/rules/unused-import",
            suggestion=(2, 2, ""),
        ),
        make("src/app.py", 4, rule="E711", snippet="if x == None:", message="Comparison to `None`"),
        make(
            "tests/test_a.py",
            5,
            7,
            tool="pytest",
            rule="test-failure",
            severity=Severity.ERROR,
            message="test_a fails with this change",
            evidence="E   assert 1 == 2",
        ),
        make(
            "my dir/caf\udce9.py",
            None,
            rule="W292",
            severity=Severity.NOTE,
            message="No newline at end of file",
        ),
    )
    base = Review(
        base="0123456789abcdef0123456789abcdef01234567",
        head="WORKTREE",
        findings=findings,
        preexisting=(
            make("tests/test_old.py", 3, tool="pytest", rule="test-failure", message="already broken"),
        ),
        runs=(
            ToolRun(name="ruff", status=RunStatus.OK, duration_s=0.42),
            ToolRun(name="pytest", status=RunStatus.FAILED, duration_s=3.1, detail="1 failed | 9 passed"),
        ),
        skipped=("huge.py: 2000000 bytes, above max_file_bytes",),
        files_reviewed=3,
    )
    return base.model_copy(update=update)
