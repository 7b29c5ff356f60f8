"""Model habits through the real CLI: `reviewbot local` in a subprocess, a real git repository, the
process sandbox, and a scripted model on loopback in either wire format.

What must hold whatever the model does: the review finishes and exits by its findings when the
model's side degraded (never 2), no fabricated quote is posted at error or warning, a context
error is followed by a really smaller request, no endpoint address or key leaks (checked on every
run by `cli_harness.run_cli`); only a misconfigured endpoint (401, unknown model) exits 2, and then
the deterministic review is still written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.llm_server import LLMServer, Wire
from tests.reviewbot.adapters.llm import habits
from tests.reviewbot.adapters.llm.cli_harness import CliResult, run_cli
from tests.reviewbot.adapters.llm.llm_harness import make_repo

WIRES = ["openai", "anthropic"]
SLOW_S = 1.0  # a slow model's answer time, small to keep the tests fast ...
SLOW_BUDGET_S = 9  # ... with a wall clock in proportion (the deterministic part runs first)


def review(
    tmp_path: Path, wire: str, handler: habits.Handler, head: dict[str, str] = habits.HEAD, **kw: object
) -> tuple[CliResult, LLMServer]:
    repo = make_repo(tmp_path, head)
    with LLMServer(wire, handler) as srv:  # type: ignore[arg-type]
        res = run_cli(repo, srv, **kw)  # type: ignore[arg-type]
    return res, srv


def assert_degraded_but_finished(res: CliResult, fail_on: str = "warning") -> None:
    assert res.code == res.expected_code(fail_on), res.stderr
    assert res.review is not None and res.review["errors"] == [], res.review
    for f in res.llm_findings():  # nothing the bot could not verify is posted above a note
        if f["severity"] in ("error", "warning"):
            assert f["evidenced"] and f["evidence"], f


@pytest.mark.parametrize("wire", WIRES)
def test_prose_after_investigation_is_kept_as_a_summary(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.prose_after_investigation())
    assert_degraded_but_finished(res)
    assert res.code == 0
    chosen = [srv.requests[i].get("tool_choice") for i in range(len(srv.requests))]
    assert len(srv.requests) == 4  # the investigation, two nudges, then the answer is used
    assert chosen[1] == chosen[2] != chosen[3]  # the last nudge forces the report tool
    assert (
        chosen[3] == {"type": "function", "function": {"name": "report"}}
        if wire == "openai"
        else chosen[3] == {"type": "tool", "name": "report"}
    )
    [summary] = res.llm_findings()
    assert summary["rule_id"] == "llm-summary" and summary["severity"] == "note" and not summary["evidenced"]
    assert "divide by zero" in summary["message"] and "evil.example" not in summary["message"]
    assert "prose" in res.llm_row["detail"] and res.llm_row["status"] == "ok"


@pytest.mark.parametrize("wire", WIRES)
def test_json_fence_findings_get_the_report_checks(tmp_path: Path, wire: str) -> None:
    res, _ = review(tmp_path, wire, habits.json_fence(), fail_on="error")
    assert_degraded_but_finished(res, "error")
    [bug] = res.llm_findings()
    assert (bug["severity"], bug["evidenced"], bug["start_line"]) == ("error", True, 7)
    assert "ZeroDivisionError" in bug["evidence"]
    assert res.code == 1  # the exit code follows the (proved) finding
    assert "JSON block" in res.llm_row["detail"]


@pytest.mark.parametrize("wire", WIRES)
def test_repeated_calls_wrap_up_with_a_note(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.repeated_calls())
    assert_degraded_but_finished(res)
    assert res.code == 0
    assert "repeated" in res.llm_row["detail"]
    assert any("repeated" in s for s in res.review["skipped"])  # type: ignore[index]
    assert "budget" not in res.llm_row["detail"]  # worded by what happened
    assert not res.review["partial"]  # type: ignore[index]
    # the wrap-up asked once more, forcing the report
    assert habits.forces_report(wire, srv.requests[-1])


@pytest.mark.parametrize("wire", WIRES)
def test_duplicates_in_one_batch_are_answered_once_and_not_repeats(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.duplicate_in_batch())
    assert_degraded_but_finished(res)
    assert res.code == 1
    assert "wrapped up" not in res.llm_row["detail"]
    assert "same call as another one in this turn" in str(srv.requests[1]["messages"][-1])


@pytest.mark.parametrize(("wire", "obeys"), [("openai", True), ("openai", False), ("anthropic", False)])
def test_slow_model_wraps_up_before_the_wall_clock_with_no_call_cut_off(
    tmp_path: Path, wire: str, obeys: bool
) -> None:
    slow = habits.slow_model(SLOW_S, obeys=obeys)
    res, srv = review(tmp_path, wire, slow, env={"REVIEWBOT_AGENT__BUDGET_S": str(SLOW_BUDGET_S)})
    assert_degraded_but_finished(res)
    assert res.code == 0
    detail = res.llm_row["detail"]
    # every request the model got was answered and used: none started that could not finish
    assert f"LLM: {len(srv.requests)} call" in detail and "without an answer" not in detail
    assert len(srv.requests) >= 2
    assert "s of the wall clock left" in detail  # the note says what stopped it
    if obeys:  # it was asked in time, and its report was used
        assert res.llm_row["status"] == "ok" and not res.review["partial"]  # type: ignore[index]
    else:  # it was not: the wall clock stopped it, and the review says so
        assert res.llm_row["status"] == "timeout" and res.review["partial"]  # type: ignore[index]
        assert f"wall-clock budget of {SLOW_BUDGET_S}s" in detail


@pytest.mark.parametrize("wire", WIRES)
def test_context_error_then_a_really_smaller_request(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.context_then_success(wire), habits.BIG_HEAD)  # type: ignore[arg-type]
    assert_degraded_but_finished(res)
    assert res.code == 1
    first, second = srv.requests[0], srv.requests[1]
    limit = int(srv.sizes[0] // 4 * habits.LIMIT_SHARE)  # tokens, as the fake counts them
    assert srv.sizes[1] < srv.sizes[0] and srv.sizes[1] // 4 < limit  # under the stated limit
    field = "max_tokens" if "max_tokens" in first else "max_completion_tokens"
    assert second[field] < first[field]
    assert len(second["tools"]) < len(first["tools"])
    assert "What you have done and learned so far" in json.dumps(second)  # memory survives the shrink
    assert "context window" in res.llm_row["detail"]
    assert any(s.startswith("table.py: not reviewed by the LLM") for s in res.review["skipped"])  # type: ignore[index]


@pytest.mark.parametrize("wire", WIRES)
def test_context_error_that_persists_wraps_up(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.context_always(wire))  # type: ignore[arg-type]
    assert_degraded_but_finished(res)
    assert all(later < earlier for earlier, later in zip(srv.sizes, srv.sizes[1:], strict=False))
    assert "context window" in res.llm_row["detail"] and res.llm_row["status"] == "error"


@pytest.mark.parametrize("wire", WIRES)
def test_fabricated_quote_is_never_an_error(tmp_path: Path, wire: str) -> None:
    res, _ = review(tmp_path, wire, habits.fabricated_quote())
    assert_degraded_but_finished(res)
    [made_up] = res.llm_findings()
    assert made_up["severity"] == "note" and not made_up["evidenced"] and made_up["start_line"] is None
    assert "not in the head revision" in made_up["message"]
    assert res.code == 0


@pytest.mark.parametrize("wire", WIRES)
def test_a_run_that_succeeded_proves_nothing(tmp_path: Path, wire: str) -> None:
    res, _ = review(tmp_path, wire, habits.success_only_evidence())
    assert_degraded_but_finished(res)
    [claim] = res.llm_findings()
    assert claim["severity"] == "note" and not claim["evidenced"] and claim["evidence"] is None
    assert res.code == 0


@pytest.mark.parametrize("wire", WIRES)
def test_missing_usage_is_estimated_and_the_token_budget_holds(tmp_path: Path, wire: str) -> None:
    res, srv = review(tmp_path, wire, habits.missing_usage(), env={"REVIEWBOT_LLM__TOKEN_BUDGET": "12000"})
    assert_degraded_but_finished(res)
    detail = res.llm_row["detail"]
    assert "token budget of 12,000" in detail
    assert len(srv.requests) < 10  # the budget stopped it, long before the iteration limit
    assert res.review["partial"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("habit", "message"),
    [(habits.refuses_key, "refused the API key"), (habits.unknown_model, "404 for model 'fake-model'")],
)
@pytest.mark.parametrize("wire", WIRES)
def test_misconfiguration_exits_2_and_still_writes_the_review(
    tmp_path: Path, wire: Wire, habit: object, message: str
) -> None:
    res, srv = review(tmp_path, wire, habit(wire))  # type: ignore[operator]
    assert res.code == 2 and message in res.stderr
    assert res.review is not None  # the deterministic review is written
    assert res.llm_row["status"] == "error" and message in res.llm_row["detail"]
    assert len(srv.requests) == 1
    assert any(r["name"].startswith("ruff") for r in res.review["runs"])


@pytest.mark.parametrize("wire", WIRES)
def test_an_endpoint_that_cannot_be_reached_exits_2_without_naming_it(tmp_path: Path, wire: Wire) -> None:
    repo = make_repo(tmp_path, habits.HEAD)
    srv = LLMServer(wire, habits.refuses_key(wire))  # bound, then closed: nothing listens there
    srv.close()
    res = run_cli(repo, srv, env={"REVIEWBOT_LLM__MAX_RETRIES": "1"})
    assert res.code == 2 and "could not connect" in res.stderr
    assert res.review is not None and res.llm_row["status"] == "error"
    assert srv.requests == []


@pytest.mark.parametrize("wire", WIRES)
def test_a_server_refusing_named_tool_choice_is_asked_for_any_tool(tmp_path: Path, wire: Wire) -> None:
    res, srv = review(tmp_path, wire, habits.refuses_named_tool_choice(wire), fail_on="error")
    assert_degraded_but_finished(res, "error")
    assert res.code == 1 and [f["rule_id"] for f in res.llm_findings()] == ["zero-division"]
    assert srv.requests[-1]["tool_choice"] == ("required" if wire == "openai" else {"type": "any"})
    assert "refused tool_choice forcing the report" in res.llm_row["detail"]


@pytest.mark.parametrize("wire", WIRES)
def test_a_request_refused_mid_review_wraps_up(tmp_path: Path, wire: Wire) -> None:
    res, srv = review(tmp_path, wire, habits.refuses_mid_review(wire))
    assert_degraded_but_finished(res)
    assert res.code == 0 and len(srv.requests) == 2
    assert res.llm_row["status"] == "error" and "rejected the request (HTTP 400)" in res.llm_row["detail"]
