"""The deterministic plan as plain functions over typed tool results (no sandbox: the results are
built by hand, in the shapes `analyze_code` and `run_tests` return), and the policy adapter."""

from __future__ import annotations

from pathlib import Path

from reviewbot.agent.loop import AgentState, CallTool, Finish, LastCall
from reviewbot.agent.memory import Memory
from reviewbot.agent.report import REPORT_TOOL
from reviewbot.agent.tools import ToolErrorKind, ToolOutput
from reviewbot.analyzers.junit import TestCase as JunitCase
from reviewbot.core.diff import parse_diff
from reviewbot.core.finding import Finding
from reviewbot.core.testgroups import Cause, FailedTest
from reviewbot.pipeline.plan import PlanResults, findings_from, next_step
from reviewbot.pipeline.policy import DeterministicPolicy
from reviewbot.pipeline.review_deps import ReviewDeps, Revision
from reviewbot.pipeline.testrun import TestsResult
from reviewbot.pipeline.tools import AnalyzeResult
from reviewbot.settings import load_settings
from sandbox import Session

DIFF = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,2 +1,3 @@
 import sys
+import os
 x = 1
diff --git a/tests/test_app.py b/tests/test_app.py
--- a/tests/test_app.py
+++ b/tests/test_app.py
@@ -1,2 +1,2 @@
 def test_x():
-    assert True
+    assert False
"""


class NoSessions:
    def get(self, revision: Revision) -> Session:
        raise AssertionError("the plan itself never opens a sandbox session")


def deps(tmp_path: Path) -> ReviewDeps:
    return ReviewDeps(
        root=tmp_path,
        sessions=NoSessions(),
        settings=load_settings(overrides={"analyzers": {"ruff_format": False}}),
        diff=parse_diff(DIFF),
        diff_text=DIFF,
        scoped=True,
        python_paths=("app.py", "tests/test_app.py"),
        base_paths={"app.py": "app.py", "tests/test_app.py": "tests/test_app.py"},
        head_texts={},
        base_texts={},
        has_base=True,
        uses_ruff_format=False,
        has_ruff_config=False,
    )


def lint(revision: Revision, *lines: int) -> AnalyzeResult:
    found = tuple(
        Finding(tool="ruff", rule_id="F401", path="app.py", start_line=n, message="unused", snippet=f"l{n}")
        for n in lines
    )
    return AnalyzeResult(revision, ("app.py",), found)


FAILING = FailedTest(
    "tests/test_app.py::test_x",
    "tests/test_app.py",
    1,
    "assert False",
    "E assert False",
    cause=Cause("AssertionError", "assert False", "tests/test_app.py", 2),
)
PASSED = JunitCase("tests/test_app.py::test_x", "tests/test_app.py", 1, "passed")


def test_the_plan_is_a_function_of_the_typed_results(tmp_path: Path) -> None:
    d, results = deps(tmp_path), PlanResults()
    step = next_step(results, d)
    assert step == ("lint_head", CallTool(name="analyze_code", args={"revision": "head"}))
    results.lint_head = lint("head", 1, 2)  # an import the base had, and the one the change adds
    name, call = next_step(results, d) or ("", None)
    assert name == "lint_base" and call is not None and call.args["paths"] == ["app.py", "tests/test_app.py"]
    results.lint_base = lint("base", 1)
    assert next_step(results, d) == ("tests_head", CallTool(name="run_tests", args={"revision": "head"}))
    results.tests_head = TestsResult("head", cases=(), failures=(FAILING,))
    name, call = next_step(results, d) or ("", None)
    assert name == "tests_base" and call is not None
    assert call.args == {"revision": "base", "node_ids": ["tests/test_app.py::test_x"]}
    results.tests_base = TestsResult("base", cases=(PASSED,))
    assert next_step(results, d) is None
    found = findings_from(results, d)
    assert sorted((f.rule_id, f.start_line) for f in found if f.tool == "ruff") == [("F401", 2)]
    [test] = [f for f in found if f.tool != "ruff"]
    assert test.path == "tests/test_app.py" and "passes at the base" in test.message


def test_a_failing_test_at_both_revisions_is_preexisting_not_a_finding(tmp_path: Path) -> None:
    d = deps(tmp_path)
    results = PlanResults(tests_head=TestsResult("head", failures=(FAILING,)))
    results.tests_base = TestsResult("base", cases=(PASSED,), failures=(FAILING,))
    assert findings_from(results, d) == []
    assert [f.path for f in d.ledger.preexisting] == ["tests/test_app.py"]


def state(d: ReviewDeps, iteration: int, last: LastCall | None) -> AgentState[ReviewDeps]:
    return AgentState(iteration, 10, 0.0, 100.0, Memory(), [], d, last)


def test_the_policy_files_typed_outputs_and_reports_findings_as_typed_values(tmp_path: Path) -> None:
    d, policy = deps(tmp_path), DeterministicPolicy()
    first = policy.decide(state(d, 1, None))
    assert isinstance(first, CallTool) and first.name == "analyze_code"
    out = ToolOutput(ok=False, text="ruff broke", value=lint("head", 2))  # errors: findings still count
    second = policy.decide(state(d, 2, LastCall(first.name, first.args, out)))
    assert isinstance(second, CallTool) and second.args["revision"] == "base"
    timed_out = ToolOutput.failure("timeout", kind=ToolErrorKind.TIMEOUT)  # no typed result: nothing
    third = policy.decide(state(d, 3, LastCall(second.name, second.args, timed_out)))
    assert isinstance(third, CallTool) and third.name == "run_tests"
    # a guard stops the loop here: the plan salvages what it established, once
    assert [(f.rule_id, f.start_line) for f in policy.salvage(d)] == [("F401", 2)]
    report = policy.decide(state(d, 4, None))
    assert isinstance(report, CallTool) and report.name == REPORT_TOOL
    assert all(isinstance(f, Finding) for f in report.args["findings"])  # typed, not dumped
    assert isinstance(policy.decide(state(d, 5, None)), Finish) and policy.salvage(d) == []
