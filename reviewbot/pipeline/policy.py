"""The deterministic review policy (no LLM): analyze the changed files at head and at base, run the
tests, re-run new failures at the base, report what the change introduced.

Each `decide` first *learns* from the last tool result (stores it under the step that asked for
it), then *reasons* about the next step of the plan. A step whose preconditions do not hold is
skipped with its reason written to the ledger (the summary says what did not run and why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reviewbot.agent.loop import Action, AgentState, CallTool, Finish
from reviewbot.agent.report import REPORT_TOOL
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
from reviewbot.pipeline.deps import ReviewDeps
from reviewbot.pipeline.testrun import Coverage, cause_from_json, coverage_verdict

Step = Callable[[ReviewDeps], CallTool | None]

#: Above this many failing tests, the base re-run names their files instead of each test.
MAX_BASE_NODE_IDS = 300


def _findings(output: ToolOutput | None) -> list[Finding]:
    if output is None or not isinstance(output.data, dict):
        return []
    items = output.data.get("findings") or []
    return [Finding.model_validate(item) for item in items]  # type: ignore[union-attr]


def _failures(output: ToolOutput | None) -> list[FailedTest]:
    if output is None or not output.ok or not isinstance(output.data, dict):
        return []
    out = []
    for key, collection in (("failures", False), ("collection_errors", True)):
        for case in output.data.get(key) or []:  # type: ignore[union-attr]
            assert isinstance(case, dict)
            out.append(
                FailedTest(
                    nodeid=str(case["nodeid"]),
                    path=str(case["path"]),
                    line=case["line"] if isinstance(case["line"], int) else None,
                    message=str(case["message"] or ""),
                    detail=str(case["detail"] or ""),
                    collection=collection,
                    cause=cause_from_json(case.get("cause")),
                )
            )
    return out


def _ids(output: ToolOutput | None, key: str) -> set[str] | None:
    if output is None or not output.ok or not isinstance(output.data, dict):
        return None
    ids = {str(c["nodeid"]) for c in output.data.get(key) or []}  # type: ignore[union-attr, index, call-overload]
    if key == "failures":
        ids |= {str(c["nodeid"]) for c in output.data.get("collection_errors") or []}  # type: ignore[union-attr, index, call-overload]
    return ids


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


class DeterministicPolicy:
    """The default plan. One instance per review (it remembers which steps have answered)."""

    def __init__(self) -> None:
        self._results: dict[str, ToolOutput | None] = {}
        self._pending: str | None = None

    # -- the plan -------------------------------------------------------------------------------
    def _steps(self) -> list[tuple[str, Step]]:
        return [
            ("lint_head", self._lint_head),
            ("lint_base", self._lint_base),
            ("tests_head", self._tests_head),
            ("tests_base", self._tests_base),
            ("report", self._report),
        ]

    def decide(self, state: AgentState[ReviewDeps]) -> Action:
        if self._pending is not None and state.last is not None:
            self._results[self._pending] = state.last.output
            self._pending = None
        for key, step in self._steps():
            if key in self._results:
                continue
            action = step(state.deps)
            if action is None:
                self._results[key] = None
                continue
            self._pending = key
            return action
        return Finish(reason="plan complete")

    def _lint_head(self, deps: ReviewDeps) -> CallTool | None:
        if not (deps.settings.analyzers.ruff or deps.settings.analyzers.ruff_format):
            deps.ledger.skipped.append("ruff: disabled in the configuration")
            return None
        if not deps.python_paths:
            deps.ledger.skipped.append("ruff: no Python files in the change")
            return None
        return CallTool(name="analyze_code", args={"revision": "head"})

    def _lint_base(self, deps: ReviewDeps) -> CallTool | None:
        head = self._results.get("lint_head")
        if not (deps.scoped and deps.has_base and head is not None and _findings(head)):
            return None
        paths = [p for p in deps.python_paths if p in deps.base_paths]
        if not paths:
            return None
        return CallTool(name="analyze_code", args={"revision": "base", "paths": paths})

    def _tests_head(self, deps: ReviewDeps) -> CallTool | None:
        if not deps.settings.analyzers.tests:
            deps.ledger.skipped.append("tests: disabled in the configuration")
            return None
        return CallTool(name="run_tests", args={"revision": "head"})

    def _tests_base(self, deps: ReviewDeps) -> CallTool | None:
        failures = _failures(self._results.get("tests_head"))
        if not (deps.scoped and deps.has_base and failures):
            return None
        ids = sorted({t.nodeid for t in failures if base_path_of_head(deps.diff, t.path) is not None})
        if not ids:
            return None
        if len(ids) > MAX_BASE_NODE_IDS:  # a flood: re-run the files (a bounded command line, same answers)
            ids = sorted({i.partition("::")[0] for i in ids})
        return CallTool(name="run_tests", args={"revision": "base", "node_ids": ids})

    def salvage(self, deps: ReviewDeps) -> list[Finding]:
        """What the plan had established when a guard stopped the loop before `report`: a partial
        review keeps those findings (and says it is partial) instead of dropping them."""
        if "report" in self._results:
            return []
        if self._pending is not None:
            self._results[self._pending] = None  # the step that was cut off produced nothing usable
        call = self._report(deps)
        return [Finding.model_validate(item) for item in call.args["findings"]]

    # -- reasoning over what the tools returned --------------------------------------------------
    def _report(self, deps: ReviewDeps) -> CallTool:
        settings = deps.settings
        lint = select_lint(
            _findings(self._results.get("lint_head")),
            _findings(self._results.get("lint_base")),
            diff=deps.diff if deps.scoped else None,
            scope=settings.scope,
            include=settings.include,
            exclude=settings.exclude,
        )
        lint.extend(config_change_note(deps))
        tests = self._tests_findings(deps)
        test_findings, lint = merge_syntax_errors(tests.new, lint)
        kept, omitted = cap(dedupe([*test_findings, *lint]), settings.max_findings)
        deps.ledger.preexisting.extend(tests.preexisting)
        deps.ledger.omitted += omitted
        findings: list[dict[str, Any]] = [f.model_dump(mode="json") for f in kept]
        summary = f"{len(kept)} finding(s) introduced by the change"
        return CallTool(name=REPORT_TOOL, args={"findings": findings, "summary": summary})

    def _tests_findings(self, deps: ReviewDeps) -> TestAttribution:
        """The test failures the change introduced, grouped by cause; test modules that could not
        import because of the environment are not findings, and say so (or fail the review, when
        they leave the tests without meaning)."""
        head_out = self._results.get("tests_head")
        base_out = self._results.get("tests_base")
        compare = deps.scoped and deps.has_base  # --all: no base to compare with
        base_ran = _ids(base_out, "cases")
        environment = _environment(head_out)
        failures = [
            t
            for t in _failures(head_out)
            if not _environmental(t, environment, base_ran, deps, compare=compare)
        ]
        tests = attribute_tests(
            failures,
            base_failed=_ids(base_out, "failures"),
            base_ran=base_ran,
            head_to_base={t.path: base_path_of_head(deps.diff, t.path) for t in failures},
            compare=compare,
            base_broken=_broken_modules(base_out),
        )
        coverage = _coverage(head_out, environment)
        if coverage is not None:
            explained = any(
                f.rule_id == "test-collection-error" and f.severity is Severity.ERROR for f in tests.new
            )
            error, note = coverage_verdict(coverage, explained=explained)
            deps.ledger.errors.extend([error] if error else [])
            deps.ledger.skipped.extend([note] if note else [])
        return tests


def _environment(output: ToolOutput | None) -> dict[str, str]:
    """Test modules that failed to import at head for environment reasons -> why (and the fix)."""
    if output is None or not output.ok or not isinstance(output.data, dict):
        return {}
    out = {}
    for case in output.data.get("collection_errors") or []:  # type: ignore[union-attr]
        if isinstance(case, dict) and case.get("environment"):
            out[str(case["nodeid"])] = str(case["environment"])
    return out


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


def _broken_modules(output: ToolOutput | None) -> dict[str, str]:
    """Base test modules that failed to import there -> the cause, for "could not compare"."""
    if output is None or not output.ok or not isinstance(output.data, dict):
        return {}
    out = {}
    for case in output.data.get("collection_errors") or []:  # type: ignore[union-attr]
        if isinstance(case, dict):
            cause = cause_from_json(case.get("cause"))
            out[str(case["nodeid"])] = cause.summary if cause is not None else "collection failure"
    return out


def _items(output: ToolOutput, key: str) -> list[Any]:
    assert isinstance(output.data, dict)
    value = output.data.get(key)
    return list(value) if isinstance(value, list) else []


def _coverage(output: ToolOutput | None, environment: dict[str, str]) -> Coverage | None:
    if output is None or not output.ok or not isinstance(output.data, dict):
        return None
    cases = [c for c in _items(output, "cases") if isinstance(c, dict)]
    errors = [c for c in _items(output, "collection_errors") if isinstance(c, dict)]
    running = {str(n).partition("::")[0] for n in _items(output, "running")}
    return Coverage(
        ran=sum(1 for c in cases if c.get("outcome") != "skipped"),
        modules_ok=len({str(c.get("path")) for c in cases} | running),
        import_failures=[str(c["nodeid"]) for c in errors],
        environment=environment,
    )
