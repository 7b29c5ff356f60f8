"""The pieces behind graceful degradation, on plain data and loopback HTTP: what a context-length
error says, how much smaller the next request gets, prose salvaged as findings, evidence
relevance, retries of a slow endpoint, and usage estimated when a server sends none."""

from __future__ import annotations

import json
from typing import Literal

import pytest

from reviewbot.adapters.llm.evidence import Evidence
from reviewbot.adapters.llm.fallback import fenced_report, prose_summary
from reviewbot.adapters.llm.http import context_numbers
from reviewbot.adapters.llm.model import ContextLengthError, ModelConfigError, ModelUnavailable, UserMessage
from reviewbot.adapters.llm.relevance import bears_on, enclosing_function, modules_of, target_of
from reviewbot.adapters.llm.safety import OutputLimits
from reviewbot.adapters.llm.shrink import compact, plan_shrink
from reviewbot.adapters.llm.snippet_tool import SnippetResult
from reviewbot.core.finding import Finding
from reviewbot.core.testgroups import FailedTest
from reviewbot.pipeline.testrun import TestsResult
from reviewbot.pipeline.tools import AnalyzeResult
from tests.fakes.llm_server import LLMServer, Reply, Step, context_error, error_body, scripted, text
from tests.support.models import model_for


@pytest.mark.parametrize(
    ("message", "want"),
    [
        (
            "This model's maximum context length is 8192 tokens. However, your messages resulted in "
            "9,000 tokens. Please reduce the length of the messages. (context_length_exceeded)",
            (8192, 9000),
        ),
        (
            "This model's maximum context length is 4097 tokens. However, you requested 4200 tokens "
            "(3200 in the messages, 1000 in the completion).",
            (4097, 4200),
        ),
        ("prompt is too long: 208310 tokens > 200000 maximum", (200000, 208310)),
        ("input length and `max_tokens` exceed context limit: 195000 + 8192 > 200000", (200000, 203192)),
        ("the context window is full", (None, None)),
    ],
)
def test_context_numbers_as_each_provider_states_them(
    message: str, want: tuple[int | None, int | None]
) -> None:
    assert context_numbers(message) == want


def test_shrink_targets_under_the_stated_limit_with_a_margin() -> None:
    err = ContextLengthError("too long", limit=8000, sent=12000)
    plan = plan_shrink(err, sent_chars=40_000, max_tokens=4096)  # our estimate: 10,000 tokens
    assert plan.max_tokens == 1000  # limit / 8
    # in the provider's tokens (1.2 per estimated token) the prompt and answer fit 80% of the limit
    assert (plan.context_tokens - plan.max_tokens) * 1.2 + plan.max_tokens <= 8000 * 0.8 + 1
    assert plan.fits(4 * 4000) and not plan.fits(4 * 6000)
    halved = plan_shrink(ContextLengthError("too long"), sent_chars=40_000, max_tokens=4096)
    assert halved.max_tokens == 2048 and halved.context_tokens - halved.max_tokens == 5000


def test_compact_schemas_drop_prose_but_keep_fields_named_like_keywords() -> None:
    schema = {
        "type": "object",
        "description": "long prose " * 50,
        "properties": {
            "description": {"type": "string", "description": "the suggestion's text"},
            "n": {"type": "integer", "default": 3, "title": "N"},
        },
        "required": ["description"],
    }
    small = compact({"name": "t", "description": "Do a thing. Then more words.", "parameters": schema})
    assert small["description"] == "Do a thing."
    assert small["parameters"] == {
        "type": "object",
        "properties": {"description": {"type": "string"}, "n": {"type": "integer", "default": 3}},
        "required": ["description"],
    }


def test_fenced_json_findings_are_found_in_prose() -> None:
    item = {"rule_id": "x", "path": "a.py", "message": "m"}
    assert fenced_report(f"see\n```json\n{json.dumps({'findings': [item]})}\n```") == {"findings": [item]}
    assert fenced_report(f"```\n{json.dumps([item])}\n```") == {"findings": [item]}
    assert fenced_report(f"```json\n{json.dumps(item)}\n```") == {"findings": [item]}
    assert fenced_report("```json\n{not json}\n```\nno findings here") is None
    assert fenced_report("```python\nprint(1)\n```") is None
    call = {"name": "report", "arguments": json.dumps({"findings": [item], "summary": "s"})}
    assert fenced_report(f"<tool_call>\n{json.dumps(call)}\n</tool_call>") == {
        "findings": [item],
        "summary": "s",
    }
    assert fenced_report(json.dumps({"findings": [item]})) == {"findings": [item]}
    note = prose_summary("Fine, see ![x](https://evil.example/p?q=1) @octocat", OutputLimits())
    assert note is not None and note.severity.value == "note" and not note.evidenced
    assert "evil.example" not in note.message and "@octocat" not in note.message
    assert prose_summary("   ", OutputLimits()) is None


CODE = ["import os", "", "def mean(xs):", "    total = sum(xs)", "    return total / len(xs)"]
FLAGGED = Finding(tool="llm", rule_id="zd", path="pkg/calc.py", start_line=5, message="m", snippet="x")


def snippet(code: str, exit_code: int, out: str = "") -> Evidence:
    result = SnippetResult("s.py", "python", "ok", exit_code, 0.1)
    return Evidence("E3", "run_snippet", {"code": code}, True, out, result)


def failed(nodeid: str, message: str, detail: str) -> FailedTest:
    return FailedTest(nodeid, nodeid.partition("::")[0], 1, message, detail)


def lint_at(revision: Literal["head", "base"], *spans: tuple[int, int | None]) -> AnalyzeResult:
    findings = tuple(
        Finding(tool="ruff", rule_id="F", path="pkg/calc.py", start_line=s, end_line=e, message="m")
        for s, e in spans
    )
    return AnalyzeResult(revision, ("pkg/calc.py",), findings)


def test_relevance_of_snippets() -> None:
    target = target_of(FLAGGED, CODE)
    assert modules_of("pkg/calc.py") == ("pkg.calc", "calc") and enclosing_function(CODE, 5) == "mean"
    assert bears_on(snippet("from pkg.calc import mean\nmean([])", 1), target)
    assert bears_on(snippet("import pkg.calc", 1), target)
    assert bears_on(snippet("x = other()", 1, 'File "/work/head/pkg/calc.py", line 5, in mean'), target)
    assert not bears_on(snippet("from pkg.calc import mean\nprint(mean([1]))", 0), target)  # it passed
    assert not bears_on(snippet("assert 1 == 2", 1, "AssertionError"), target)  # fails, on nothing of it
    assert not bears_on(snippet("import pkg.calculator", 1), target)
    broken = 'File "/work/head/.reviewbot_snippets/s.py", line 1\nSyntaxError: invalid syntax'
    assert not bears_on(snippet("from pkg.calc import mean\nmean([]", 1, broken), target)
    missing = "ModuleNotFoundError: No module named 'pkg'"
    assert not bears_on(snippet("from pkg.calc import mean", 1, missing), target)
    tests_file = target_of(FLAGGED.model_copy(update={"path": "tests/test_calc.py"}), CODE)
    assert not bears_on(snippet("x()", 1, "File test_calc.py"), target)  # a different file
    assert tests_file.path == "tests/test_calc.py"


def test_relevance_of_test_runs_and_lint() -> None:
    target = target_of(FLAGGED, CODE)
    failing = failed("tests/test_c.py::test_mean", "ZeroDivisionError", "pkg/calc.py:5")
    other = failed("tests/test_io.py::test_read", "OSError", "io.py:3")
    run = Evidence("E2", "run_tests", {}, True, "", TestsResult("head", failures=(failing,)))
    assert bears_on(run, target)
    assert not bears_on(
        Evidence("E2", "run_tests", {}, True, "", TestsResult("base", failures=(failing,))), target
    )
    assert not bears_on(
        Evidence("E2", "run_tests", {}, True, "", TestsResult("head", failures=(other,))), target
    )
    assert not bears_on(Evidence("E2", "run_tests", {}, True, "1 passed", TestsResult("head")), target)
    lint = lint_at("head", (5, 5))
    assert bears_on(Evidence("E1", "analyze_code", {}, True, "", lint), target)
    elsewhere = lint_at("head", (1, None))
    assert not bears_on(Evidence("E1", "analyze_code", {}, True, "", lint_at("base", (5, 5))), target)
    assert not bears_on(Evidence("E1", "analyze_code", {}, True, "", elsewhere), target)
    assert not bears_on(Evidence("E4", "read_file", {"path": "pkg/calc.py"}, True, "return total"), target)


def test_a_read_timeout_is_retried_once_and_never_past_the_deadline() -> None:
    slow = Step(text="late", delay_s=1.5)
    with LLMServer("openai", scripted(then=slow)) as srv:
        model = model_for(srv, timeout_s=0.3, max_retries=4)
        with pytest.raises(ModelUnavailable, match="after 2 attempts") as info:
            model.request("s", [UserMessage("u")], [], max_tokens=5)
        assert info.value.timed_out and len(srv.requests) == 2  # not five
        with pytest.raises(ModelUnavailable, match="after 1 attempt"):
            model.request("s", [UserMessage("u")], [], max_tokens=5, timeout_s=0.4)  # the review's clock
        assert len(srv.requests) == 3 and srv.base_url not in str(info.value)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_errors_name_no_endpoint_and_context_errors_carry_numbers(wire: str) -> None:
    replies = [
        Reply(error_body(wire, 401, f"bad key for {'http://127.0.0.1:1/v1'}"), 401),  # type: ignore[arg-type]
        context_error(wire, limit=1000, sent=1500),  # type: ignore[arg-type]
    ]
    with LLMServer(wire, scripted(*replies)) as srv:  # type: ignore[arg-type]
        model = model_for(srv)
        with pytest.raises(ModelConfigError) as info:
            model.request("s", [UserMessage("u")], [], max_tokens=5)
        assert "http" not in str(info.value) and "127.0.0.1" not in str(info.value)
        with pytest.raises(ContextLengthError) as ctx:
            model.request("s", [UserMessage("u")], [], max_tokens=5)
        assert (ctx.value.limit, ctx.value.sent) == (1000, 1500)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_missing_usage_is_estimated(wire: str) -> None:
    with LLMServer(wire, scripted(Step(text="hello there", usage=False), text("x"))) as srv:  # type: ignore[arg-type]
        out = model_for(srv).request("s", [UserMessage("u" * 4000)], [], max_tokens=5)
    assert out.usage.input_tokens >= 1000 and out.usage.output_tokens >= 2
