"""The LLM policy end to end: a real git repo, the process sandbox, the agent loop, and a scripted
model behind a loopback server speaking the real wire format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewbot.agent.loop import Limits, StopReason
from reviewbot.core.finding import Severity
from tests.fakes.llm_server import Call, LLMServer, Step, Turn, call, calls, scripted, text
from tests.reviewbot.adapters.llm.llm_harness import make_repo, review_with_llm, settings_for

HEAD = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\n"
    "def mean(xs):\n    total = sum(xs)\n    return total / len(xs)\n",
}
QUICK = {"analyzers": {"tests": False, "ruff": False, "ruff_format": False}}


def last_id(turn: Turn) -> str:
    match = re.match(r"(E\d+) · ", turn.last_result)
    assert match, turn.last_result[:200]
    return match.group(1)


def finding(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "tool": "llm",
        "rule_id": "zero-division",
        "path": "calc.py",
        "start_line": 7,
        "severity": "error",
        "message": "mean([]) divides by zero",
        "snippet": "return total / len(xs)",
    }
    return base | kw


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_proved_finding_is_evidenced_and_reanchored(tmp_path: Path, wire: str) -> None:
    repo = make_repo(tmp_path, HEAD)
    script = scripted(
        call("run_snippet", code="from calc import mean\nmean([])\n", filename="prove_mean.py"),
        # the model cites the snippet run, but misnumbers the line (3 instead of 7)
        lambda t: call(
            "report", findings=[finding(start_line=3, evidence=f"{last_id(t)} shows it")], summary="1 bug"
        ),
    )
    with LLMServer(wire, script) as srv:  # type: ignore[arg-type]
        res = review_with_llm(repo, settings_for(srv.base_url, wire))
    assert res.run.stop_reason is StopReason.REPORTED
    [f] = res.findings
    assert (f.tool, f.path, f.start_line, f.severity, f.evidenced) == (
        "llm",
        "calc.py",
        7,
        Severity.ERROR,
        True,
    )
    # the evidence is the bot's record of the run, not the model's words
    assert f.evidence is not None and "run_snippet" in f.evidence and "exit code 1" in f.evidence
    assert "ZeroDivisionError" in f.evidence and "shows it" not in f.evidence
    # the model saw the diff fenced as data, and the tool schemas derived from the tools
    first = srv.requests[0]
    names = [t["function"]["name"] if wire == "openai" else t["name"] for t in first["tools"]]
    assert {"read_file", "run_snippet", "report", "get_diff", "search_code", "run_tests"} <= set(names)
    assert res.meter.calls == 2 and res.meter.input_tokens > 0
    assert any(r.name.startswith("llm ") and "2 calls" in r.detail for r in res.ledger.runs)


def test_unevidenced_finding_is_an_opinion_and_a_wrong_quote_is_demoted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)
    report = call(
        "report",
        findings=[
            finding(evidence="trust me, E99"),  # unknown id: not evidence
            finding(rule_id="naming", snippet="def nonexistent():", start_line=2, message="bad name"),
        ],
    )
    with LLMServer("openai", scripted(call("read_file", path="calc.py"), report)) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "openai"))
    by_rule = {f.rule_id: f for f in res.findings}
    assert by_rule["zero-division"].evidenced is False and by_rule["zero-division"].severity is Severity.NOTE
    assert by_rule["zero-division"].start_line == 7 and by_rule["zero-division"].evidence is None
    assert by_rule["naming"].start_line is None  # demoted to the review body


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_invalid_tool_args_are_seen_by_the_model_which_corrects(tmp_path: Path, wire: str) -> None:
    repo = make_repo(tmp_path, HEAD)
    seen: list[str] = []

    def correct(turn: Turn) -> Step:
        seen.append(turn.last_result)
        return call("read_file", path="calc.py")

    def report(turn: Turn) -> Step:
        seen.append(turn.last_result)
        return call("report", findings=[], summary="ok")

    script = scripted(
        call("read_file", file="calc.py"),  # wrong parameter name
        correct,
        Step(calls=(Call("search_code", '{"pattern": '),)),  # not even JSON
        report,
    )
    with LLMServer(wire, script) as srv:  # type: ignore[arg-type]
        res = review_with_llm(repo, settings_for(srv.base_url, wire, max_retries=0))
    assert res.run.stop_reason is StopReason.REPORTED
    assert "invalid arguments for read_file" in seen[0] and "path: Field required" in seen[0]
    # OpenAI carries arguments as a string, which may not be JSON; Anthropic always sends an object
    assert ("not a JSON object" if wire == "openai" else "invalid arguments for search_code") in seen[1]
    assert "def mean(xs):" in str(srv.requests[2]["messages"][-1])


def test_invalid_report_is_answered_and_corrected(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)
    bad = call("report", findings=[{"path": "calc.py", "message": ""}])
    with LLMServer("openai", scripted(bad, lambda t: call("report", findings=[finding()]))) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "openai"))
    assert "invalid report" in srv.requests[1]["messages"][-1]["content"]
    assert [f.rule_id for f in res.findings] == ["zero-division"]


def test_repeated_calls_are_answered_by_the_policy_then_wrapped_up(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        HEAD,
    )
    with LLMServer("openai", scripted(then=call("read_file", path="calc.py"))) as srv:
        res = review_with_llm(
            repo,
            settings_for(srv.base_url, "openai").model_copy(
                update={
                    "analyzers": settings_for(srv.base_url, "openai").analyzers.model_copy(
                        update={"tests": False, "ruff": False, "ruff_format": False}
                    )
                }
            ),
        )
    assert res.run.stop_reason is StopReason.REPORTED  # a wrap-up, not a failed review
    [repeat] = [m["content"] for m in srv.requests[2]["messages"] if "not run again" in str(m["content"])]
    assert "<<<DATA read_file output" in repeat  # the earlier result, still fenced as data
    assert res.review.errors == () and not res.review.partial
    assert any("repeated earlier tool calls 3 times" in s for s in res.review.skipped)
    read_events = [e for e in res.run.events if e.tool == "read_file" and e.kind == "result"]
    assert len(read_events) == 1  # executed once


def test_max_iterations_wraps_up_with_a_partial_report(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)
    n = iter(range(1, 1000))
    with LLMServer(
        "openai", scripted(then=lambda t: call("read_file", path="calc.py", start_line=next(n)))
    ) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "openai"), limits=Limits(max_iterations=6))
    assert res.run.stop_reason is StopReason.REPORTED  # the policy reported what it had
    assert res.review.errors == () and res.review.partial
    [row] = [r for r in res.review.runs if r.name.startswith("llm ")]
    assert "6 iterations" in row.detail
    assert any("nearly used up" in str(r["messages"]) for r in srv.requests)
    assert srv.requests[-1]["tool_choice"] == {"type": "function", "function": {"name": "report"}}


def test_token_budget_exhaustion_mid_review_is_a_marked_partial_review(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        HEAD,
    )
    n = iter(range(1, 1000))

    def step(t):
        return Step(calls=(Call("read_file", {"path": "calc.py", "start_line": next(n)}),), input_tokens=900)

    with LLMServer("anthropic", scripted(then=step)) as srv:
        res = review_with_llm(
            repo,
            settings_for(srv.base_url, "anthropic", token_budget=2000, context_tokens=2000, max_tokens=100),
        )
    assert res.run.stop_reason is StopReason.REPORTED
    assert len(srv.requests) == 2  # the third call would overrun the budget: not made
    assert res.review.errors == () and res.review.partial
    [row] = [r for r in res.review.runs if r.name.startswith("llm ")]
    assert "token budget of 2,000" in row.detail and row.status.value == "error"
    assert res.meter.input_tokens == 1800


def test_tool_timeout_is_an_observation(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)
    slow = call("run_snippet", code="import time\ntime.sleep(30)\n", timeout_s=1)
    seen: list[str] = []

    def report(turn: Turn) -> Step:
        seen.append(turn.last_result)
        return call("report", findings=[])

    script = scripted(slow, report)
    with LLMServer("openai", script) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "openai"))
    assert res.run.stop_reason is StopReason.REPORTED
    assert "(timeout)" in seen[0]


def test_text_only_replies_are_nudged_then_kept_as_the_summary(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)
    with LLMServer("anthropic", scripted(then=text("LGTM!"))) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "anthropic"))
    assert len(srv.requests) == 3
    assert "Only tool calls are read" in srv.requests[1]["messages"][-1]["content"][-1]["text"]
    assert srv.requests[1]["tool_choice"] == {"type": "auto"}
    assert srv.requests[2]["tool_choice"] == {"type": "tool", "name": "report"}  # the last nudge
    assert res.review.errors == () and not res.review.partial
    [summary] = res.findings
    assert summary.rule_id == "llm-summary" and "LGTM!" in summary.message and not summary.evidenced


def test_files_that_did_not_fit_are_listed_as_not_reviewed(tmp_path: Path) -> None:
    big = {f"pkg/mod{i}.py": "".join(f"VALUE_{i}_{j} = {j}\n" for j in range(150)) for i in range(6)}
    repo = make_repo(tmp_path, big)
    with LLMServer(
        "openai", scripted(call("get_diff", path="pkg/mod5.py"), call("report", findings=[]))
    ) as srv:
        res = review_with_llm(repo, settings_for(srv.base_url, "openai", context_tokens=12000))
    prompt = srv.requests[0]["messages"][1]["content"]
    assert "Not shown, to stay within the token budget" in prompt
    not_reviewed = [s for s in res.ledger.skipped if "not reviewed by the LLM" in s]
    assert not_reviewed and all(s.startswith("pkg/mod") for s in not_reviewed)
    assert not any(s.startswith("pkg/mod5.py") for s in not_reviewed)  # the model fetched it itself
    shown = set(re.findall(r"<<<DATA diff (pkg/mod\d\.py)", prompt))
    assert shown and shown.isdisjoint({s.split(":")[0] for s in not_reviewed})


def test_multi_agent_specialists_run_and_are_merged(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, HEAD)

    def specialist(turn: Turn) -> Step:
        focus = re.search(r"Your focus as a specialist: (\w+)", turn.all_text)
        assert focus is not None
        if not turn.tool_results:
            return call(
                "run_snippet", code="from calc import mean\nmean([])\n", filename=f"p_{focus.group(1)}.py"
            )
        return call("report", findings=[finding(rule_id=f"bug-{focus.group(1)}", evidence=last_id(turn))])

    with LLMServer("openai", specialist) as srv:
        settings = settings_for(srv.base_url, "openai", multi_agent=True)
        settings = settings.model_copy(
            update={"analyzers": settings.analyzers.model_copy(update=QUICK["analyzers"])}
        )
        res = review_with_llm(repo, settings)
    assert len(srv.requests) == 6  # three specialists, two turns each
    [f] = res.findings  # the same flagged code from three specialists counts once
    assert f.evidenced and f.start_line == 7
    assert res.meter.calls == 6
    _ = calls


def test_multi_agent_with_a_refused_key_fails_with_its_llm_row(tmp_path: Path) -> None:
    from tests.fakes.llm_server import Reply, error_body

    repo = make_repo(tmp_path, HEAD)
    refused = Reply(error_body("openai", 401, "bad key"), 401)
    with LLMServer("openai", scripted(then=refused)) as srv:
        settings = settings_for(srv.base_url, "openai", multi_agent=True)
        res = review_with_llm(repo, settings)
    assert res.run.stop_reason is StopReason.POLICY_ERROR
    assert any("refused the API key" in e for e in res.review.errors)
    [row] = [r for r in res.review.runs if r.name.startswith("llm ")]
    assert row.status.value == "error" and "refused the API key" in row.detail
    assert srv.base_url not in " ".join(res.review.errors)


def test_the_model_reasons_from_the_agents_memory_bounded_by_the_settings(tmp_path: Path) -> None:
    """Each request carries the loop's Memory, rendered (fenced as data) into the task; the
    `agent.memory_max_items` setting bounds it: with 2, the oldest action is forgotten and said so."""
    repo = make_repo(tmp_path, HEAD)
    steps = [
        call("read_file", path="calc.py"),
        call("search_code", pattern="total"),
        call("read_file", path="calc.py", start_line=1, end_line=2),
        call("report", findings=[], summary="nothing found"),
    ]
    seen: list[Turn] = []

    def script(turn: Turn) -> Step:
        seen.append(turn)
        return steps[turn.index]

    with LLMServer("openai", script) as srv:
        settings = settings_for(srv.base_url, "openai")
        settings = settings.model_copy(
            update={
                "analyzers": settings.analyzers.model_copy(update=QUICK["analyzers"]),
                "agent": settings.agent.model_copy(update={"memory_max_items": 2}),
            }
        )
        res = review_with_llm(repo, settings)
    assert res.run.stop_reason is StopReason.REPORTED
    first, last = seen[0].texts[0], seen[-1].texts[0]
    assert "What you have done and learned so far" in first
    assert "## Task\n- base: " in first and "- head: " in first  # the task context, from memory
    assert "## Actions so far" not in first  # nothing done yet
    memory = last.partition("What you have done and learned so far")[2]
    # bounded by the settings: two actions kept, the first one forgotten (and the prompt says so)
    assert "## Actions so far (1 earlier not shown)" in memory
    assert "#2 search_code(" in memory and "#3 read_file(" in memory and "#1 read_file(" not in memory
    assert "read_file (ok):" in memory  # what the tools answered, newest kept
    assert len(res.run.memory.actions) == 2 and res.run.memory.dropped.actions >= 2
