"""Scripted models with the habits real models have, one script per habit, for both wire formats.

Each habit is a handler for `LLMServer` (provider-neutral steps, see tests/fakes/llm_server.py).
The change under review adds `mean`, which divides by zero on an empty list (line 7 of calc.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import count
from typing import Any

from tests.fakes.llm_server import Call, Reply, Step, Turn, Wire, call, calls, context_error, error_body, text

HEAD = {
    "calc.py": "def add(a, b):\n    return a + b\n\n\n"
    "def mean(xs):\n    total = sum(xs)\n    return total / len(xs)\n",
}
#: the change with a big generated table too: a prompt with something to cut
BIG_HEAD = HEAD | {"table.py": "".join(f"VALUE_{i} = {i * 7919 % 1000}  # entry {i}\n" for i in range(400))}
PROVE = call("run_snippet", code="from calc import mean\nmean([])\n", filename="prove_mean.py")
PASSES = call("run_snippet", code="print('looks fine')\n", filename="looks_fine.py")
Handler = Callable[[Turn], Step | Reply]
LIMIT_SHARE = 0.85  # the context-error habit's window, as a share of the first request's tokens


def evidence_id(turn: Turn) -> str:
    match = re.match(r"(E\d+) · ", turn.last_result)
    assert match, turn.last_result[:200]
    return match.group(1)


def bug(evidence: str, **kw: Any) -> dict[str, Any]:
    return {
        "tool": "llm",
        "rule_id": "zero-division",
        "path": "calc.py",
        "start_line": 7,
        "severity": "error",
        "message": "mean([]) divides by zero",
        "snippet": "return total / len(xs)",
        "evidence": evidence,
    } | kw


def forced(turn: Turn) -> bool:
    return forces_report(turn.wire, turn.body)


def forces_report(wire: str, body: dict[str, Any]) -> bool:
    """Did the request force the report tool (OpenAI named function / Anthropic tool)?"""
    choice = body.get("tool_choice")
    if wire == "openai":
        return isinstance(choice, dict) and choice.get("function", {}).get("name") == "report"
    return isinstance(choice, dict) and choice.get("type") == "tool" and choice.get("name") == "report"


def prose_after_investigation() -> Handler:
    """Reads the code, then only ever answers in prose (even when the report is forced)."""
    steps = iter([call("read_file", path="calc.py")])
    prose = "Looks mostly fine. mean() might divide by zero on an empty list; see https://evil.example/x."
    return lambda turn: next(steps, text(prose))


def json_fence() -> Handler:
    """Proves the bug, then writes its findings as a fenced JSON block in prose, every time."""
    seen: dict[str, str] = {}

    def step(turn: Turn) -> Step:
        if turn.index == 0:
            return PROVE
        if "id" not in seen:
            seen["id"] = evidence_id(turn)
        block = json.dumps({"findings": [bug(seen["id"])], "summary": "one bug"})
        return text(f"Here is my review.\n\n```json\n{block}\n```\n")

    return step


def repeated_calls() -> Handler:
    """Reads the same file again and again, whatever it is told (and looks up something new in
    the same turn: that call must still get an answer when the policy wraps up)."""
    words = count(1)
    return lambda turn: calls(
        Call("read_file", {"path": "calc.py"}), Call("search_code", {"pattern": f"word{next(words)}"})
    )


def duplicate_in_batch() -> Handler:
    """Sends each call twice in one turn (several turns), proves the bug, then reports."""
    turns = iter(
        [
            calls(Call("read_file", {"path": "calc.py"}), Call("read_file", {"path": "calc.py"})),
            calls(Call("get_diff", {"path": "calc.py"}), Call("get_diff", {"path": "calc.py"})),
            calls(Call("search_code", {"pattern": "mean"}), Call("search_code", {"pattern": "mean"})),
            calls(Call("search_code", {"pattern": "len"}), Call("search_code", {"pattern": "len"})),
            PROVE,
        ]
    )

    def step(turn: Turn) -> Step:
        nxt = next(turns, None)
        return nxt if nxt is not None else call("report", findings=[bug(evidence_id(turn))], summary="1 bug")

    return step


def slow_model(delay_s: float, *, obeys: bool = True) -> Handler:
    """Takes `delay_s` per answer and keeps investigating until it is told to report (or, when it
    does not obey, whatever it is told)."""
    lines = count(1)

    def step(turn: Turn) -> Step:
        if obeys and forced(turn):
            report = Call("report", {"findings": [], "summary": "ran out of time"})
            return Step(calls=(report,), delay_s=delay_s)
        read = Call("read_file", {"path": "calc.py", "start_line": next(lines)})
        return Step(calls=(read,), delay_s=delay_s)

    return step


def context_then_success(wire: Wire) -> Handler:
    """Refuses the first request as too long for its window, then proves and reports."""

    def step(turn: Turn) -> Step | Reply:
        if turn.index == 0:
            sent = len(json.dumps(turn.body)) // 4
            return context_error(wire, limit=int(sent * LIMIT_SHARE), sent=sent)
        if turn.index == 1:
            return PROVE
        return call("report", findings=[bug(evidence_id(turn))], summary="1 bug")

    return step


def context_always(wire: Wire) -> Handler:
    """Every request is too long, however small."""
    return lambda turn: context_error(wire, limit=100, sent=len(json.dumps(turn.body)) // 4)


def fabricated_quote() -> Handler:
    """Proves something, then reports an error on code that is not in the file."""
    steps = iter([PROVE])

    def step(turn: Turn) -> Step:
        nxt = next(steps, None)
        if nxt is not None:
            return nxt
        made_up = bug(evidence_id(turn), snippet="return total / count", message="count may be zero")
        return call("report", findings=[made_up], summary="1 bug")

    return step


def success_only_evidence() -> Handler:
    """Runs a snippet that passes (tests nothing) and cites it, and the lint run, as proof."""
    steps = iter([PASSES])

    def step(turn: Turn) -> Step:
        nxt = next(steps, None)
        if nxt is not None:
            return nxt
        return call("report", findings=[bug(f"{evidence_id(turn)}, E1")], summary="1 bug")

    return step


def missing_usage() -> Handler:
    """A compatible server that never reports usage, and a model that never stops reading."""
    lines = count(1)
    return lambda turn: Step(
        calls=(Call("read_file", {"path": "calc.py", "start_line": next(lines)}),), usage=False
    )


def refuses_key(wire: Wire) -> Handler:
    return lambda turn: Reply(error_body(wire, 401, "invalid x-api-key"), 401)


def unknown_model(wire: Wire) -> Handler:
    return lambda turn: Reply(error_body(wire, 404, "model: fake-model does not exist"), 404)


def refuses_named_tool_choice(wire: Wire) -> Handler:
    """A server that knows only `required`/`any` forcing (400 on a named tool): the model answers in
    prose until forced, then reports what it proved."""
    seen: dict[str, str] = {}

    def step(turn: Turn) -> Step | Reply:
        choice = turn.body.get("tool_choice")
        if turn.index == 0:
            return PROVE
        if "id" not in seen:
            seen["id"] = evidence_id(turn)
        if forced(turn):
            return Reply(error_body(wire, 400, "Invalid tool_choice: only auto, none, required"), 400)
        if choice in ("required", {"type": "any"}):
            return call("report", findings=[bug(seen["id"])], summary="1 bug")
        return text("The mean function has a problem with empty lists.")

    return step


def refuses_mid_review(wire: Wire) -> Handler:
    """Answers, then refuses the conversation (a content filter, a proxy's rule): not a setup error."""

    def step(turn: Turn) -> Step | Reply:
        if turn.index == 0:
            return PROVE
        return Reply(error_body(wire, 400, "Invalid prompt: flagged by the content filter"), 400)

    return step
