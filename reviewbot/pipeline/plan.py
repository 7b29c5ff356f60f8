"""The deterministic review plan, as plain functions over typed tool results: analyze the changed
files at head and at base, run the tests, re-run new failures at the base, and decide what the
change introduced.

    results = PlanResults()
    step = next_step(results, deps)          # ("lint_head", CallTool(...)) or None when done
    results.record("lint_head", output)      # the call's ToolOutput, read as its typed result
    findings = findings_from(results, deps)  # what the change introduced (writes the ledger)

A step whose preconditions do not hold is skipped with its reason written to the ledger (the
summary says what did not run and why). `Plan` runs these inside an agent loop; the deterministic
policy, the LLM policy and the multi-agent coordinator each hold one (`reviewbot/pipeline/policy.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewbot.agent.loop import AgentState, CallTool
from reviewbot.agent.tools import ToolOutput
from reviewbot.core.attribution import (
    FailedTest,
    TestAttribution,
    attribute_tests,
    base_path_of_head,
    select_lint,
)
from reviewbot.core.filtering import cap, dedupe
from reviewbot.core.finding import Finding, Severity
from reviewbot.core.testverdicts import merge_syntax_errors
from reviewbot.pipeline.review_deps import ReviewDeps
from reviewbot.pipeline.testrun import Coverage, TestsResult, coverage_verdict
from reviewbot.pipeline.tools import AnalyzeResult

StepName = Literal["lint_head", "lint_base", "tests_head", "tests_base"]

#: Above this many failing tests, the base re-run names their files instead of each test.
MAX_BASE_NODE_IDS = 300


@dataclass
class PlanResults:
    """The typed results of the plan's steps; `done` holds every step decided (run or skipped).
    Lint findings count even when an analyzer reported errors; a test run only when it ran."""

    lint_head: AnalyzeResult | None = None
    lint_base: AnalyzeResult | None = None
    tests_head: TestsResult | None = None
    tests_base: TestsResult | None = None
    done: list[StepName] = field(default_factory=list)

    def record(self, step: StepName, output: ToolOutput | None) -> None:
        lint = output.typed(AnalyzeResult) if output is not None else None
        tests = output.typed(TestsResult) if output is not None and output.ok else None
        if step == "lint_head":
            self.lint_head = lint
        elif step == "lint_base":
            self.lint_base = lint
        elif step == "tests_head":
            self.tests_head = tests
        else:
            self.tests_base = tests


def _lint_head(results: PlanResults, deps: ReviewDeps) -> CallTool | None:
    if not (deps.settings.analyzers.ruff or deps.settings.analyzers.ruff_format):
        deps.ledger.skipped.append("ruff: disabled in the configuration")
        return None
    if not deps.python_paths:
        deps.ledger.skipped.append("ruff: no Python files in the change")
        return None
    return CallTool(name="analyze_code", args={"revision": "head"})


def _lint_base(results: PlanResults, deps: ReviewDeps) -> CallTool | None:
    head = results.lint_head
    if not (deps.scoped and deps.has_base and head is not None and head.findings):
        return None
    paths = [p for p in deps.python_paths if p in deps.base_paths]
    if not paths:
        return None
    return CallTool(name="analyze_code", args={"revision": "base", "paths": paths})


def _tests_head(results: PlanResults, deps: ReviewDeps) -> CallTool | None:
    if not deps.settings.analyzers.tests:
        deps.ledger.skipped.append("tests: disabled in the configuration")
        return None
    return CallTool(name="run_tests", args={"revision": "head"})


def _tests_base(results: PlanResults, deps: ReviewDeps) -> CallTool | None:
    failures = results.tests_head.failing if results.tests_head is not None else ()
    if not (deps.scoped and deps.has_base and failures):
        return None
    ids = sorted({t.nodeid for t in failures if base_path_of_head(deps.diff, t.path) is not None})
    if not ids:
        return None
    if len(ids) > MAX_BASE_NODE_IDS:  # a flood: re-run the files (a bounded command line, same answers)
        ids = sorted({i.partition("::")[0] for i in ids})
    return CallTool(name="run_tests", args={"revision": "base", "node_ids": ids})


_STEPS: tuple[tuple[StepName, Callable[[PlanResults, ReviewDeps], CallTool | None]], ...] = (
    ("lint_head", _lint_head),
    ("lint_base", _lint_base),
    ("tests_head", _tests_head),
    ("tests_base", _tests_base),
)


def next_step(results: PlanResults, deps: ReviewDeps) -> tuple[StepName, CallTool] | None:
    """The next tool call of the plan (marked done), or None when every step is decided."""
    for name, step in _STEPS:
        if name in results.done:
            continue
        results.done.append(name)
        call = step(results, deps)
        if call is not None:
            return name, call
    return None


def config_change_note(deps: ReviewDeps) -> list[Finding]:
    """A note on the change as a whole listing the lint/test configuration it edits: the review
    used the base's lint configuration, so those edits had no say in it; a human should look."""
    changes = deps.lint.config_changes
    if not changes:
        return []
    listing = "; ".join(changes)
    return [
        Finding(
            tool="reviewbot",
            rule_id="config-change",
            path="",
            severity=Severity.NOTE,
            message=(
                f"This change edits lint or test configuration: {listing}. The review linted with the "
                "base revision's configuration and ran the curated rules regardless, so these edits "
                "did not change its findings; check them by hand."
            ),
            snippet=listing,
            evidence="git diff: configuration files changed",
        )
    ]


def findings_from(results: PlanResults, deps: ReviewDeps) -> list[Finding]:
    """What the change introduced, from the plan's results. Call it once per review: it writes the
    already-failing tests, the omitted count and the coverage verdict into the ledger."""
    settings = deps.settings
    lint = select_lint(
        results.lint_head.findings if results.lint_head is not None else (),
        results.lint_base.findings if results.lint_base is not None else (),
        diff=deps.diff if deps.scoped else None,
        scope=settings.scope,
        include=settings.include,
        exclude=settings.exclude,
    )
    lint.extend(config_change_note(deps))
    tests = _tests_findings(results.tests_head, results.tests_base, deps)
    test_findings, lint = merge_syntax_errors(tests.new, lint)
    kept, omitted = cap(dedupe([*test_findings, *lint]), settings.max_findings)
    deps.ledger.preexisting.extend(tests.preexisting)
    deps.ledger.omitted += omitted
    return kept


def _tests_findings(head: TestsResult | None, base: TestsResult | None, deps: ReviewDeps) -> TestAttribution:
    """The test failures the change introduced, grouped by cause; test modules that could not
    import because of the environment are not findings, and say so (or fail the review, when
    they leave the tests without meaning)."""
    compare = deps.scoped and deps.has_base  # --all: no base to compare with
    base_ran = {c.nodeid for c in base.cases} if base is not None else None
    environment = head.environment() if head is not None else {}
    failing = head.failing if head is not None else ()
    failures = [t for t in failing if not _environmental(t, environment, base_ran, deps, compare=compare)]
    tests = attribute_tests(
        failures,
        base_failed={t.nodeid for t in base.failing} if base is not None else None,
        base_ran=base_ran,
        head_to_base={t.path: base_path_of_head(deps.diff, t.path) for t in failures},
        compare=compare,
        base_broken=base.broken_modules() if base is not None else {},
    )
    if head is not None:
        explained = any(
            f.rule_id == "test-collection-error" and f.severity is Severity.ERROR for f in tests.new
        )
        error, note = coverage_verdict(_coverage(head, environment), explained=explained)
        deps.ledger.errors.extend([error] if error else [])
        deps.ledger.skipped.extend([note] if note else [])
    return tests


def _environmental(
    test: FailedTest,
    environment: dict[str, str],
    base_ran: set[str] | None,
    deps: ReviewDeps,
    *,
    compare: bool,
) -> bool:
    """A module failing to import for environment reasons is not a finding, unless the base imported
    it fine (then the change brought in what is missing, e.g. an undeclared dependency)."""
    if not test.collection or test.nodeid not in environment:
        return False
    base_file = base_path_of_head(deps.diff, test.path) if compare else None
    imported_at_base = base_file is not None and any(r.startswith(base_file + "::") for r in base_ran or ())
    if imported_at_base:
        environment.pop(test.nodeid)
    return not imported_at_base


def _coverage(head: TestsResult, environment: dict[str, str]) -> Coverage:
    running = {n.partition("::")[0] for n in head.running}
    return Coverage(
        ran=sum(1 for c in head.cases if c.outcome != "skipped"),
        modules_ok=len({c.path for c in head.cases} | running),
        import_failures=[t.nodeid for t in head.collection_errors],
        environment=environment,
    )


class Plan:
    """The plan run inside an agent loop: `advance` files the last call's result under the step that
    asked for it and returns the next call (None when the plan has no more); `findings` decides
    what the change introduced, once. `calls` keeps each step's call and result, in order, for a
    policy that hands them on (the LLM policy numbers them as evidence)."""

    def __init__(self) -> None:
        self.results = PlanResults()
        self.pending: StepName | None = None
        self.calls: list[tuple[CallTool, ToolOutput]] = []
        self._asked: CallTool | None = None
        self._findings: list[Finding] | None = None

    def advance(self, state: AgentState[ReviewDeps]) -> CallTool | None:
        if self.pending is not None and state.last is not None:
            self.results.record(self.pending, state.last.output)
            if self._asked is not None:
                self.calls.append((self._asked, state.last.output))
            self.pending = self._asked = None
        step = next_step(self.results, state.deps)
        if step is None:
            return None
        self.pending, self._asked = step
        return self._asked

    def findings(self, deps: ReviewDeps) -> list[Finding]:
        """What the change introduced; a step cut off by a guard counts as having produced nothing."""
        if self._findings is None:
            self.pending = self._asked = None
            self._findings = findings_from(self.results, deps)
        return list(self._findings)


def report_args(findings: list[Finding], summary: str) -> dict[str, Any]:
    """The `report` call's arguments: the typed findings as they are (the registry validates them)."""
    return {"findings": findings, "summary": summary}
