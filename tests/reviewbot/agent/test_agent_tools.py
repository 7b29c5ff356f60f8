"""Tool abstraction and registry: derived schemas, validation before execution, errors as outputs,
timeouts."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import BaseModel, Field

from reviewbot.adapters.llm.anthropic import to_wire_tools as anthropic_wire_tools
from reviewbot.adapters.llm.openai import to_wire_tools as openai_wire_tools
from reviewbot.agent.builtin_tools import builtin_tools
from reviewbot.agent.repo_deps import RepoContext
from reviewbot.agent.tools import (
    FunctionTool,
    InvalidArguments,
    Tool,
    ToolContext,
    ToolErrorKind,
    ToolOutput,
    ToolRegistry,
)
from reviewbot.errors import ToolError

SNAPSHOT = Path(__file__).parent / "snapshots" / "tool_schemas.json"


class AddParams(BaseModel):
    a: int = Field(description="first addend")
    b: int = Field(default=0, ge=0)


class Add(Tool[Any, AddParams]):
    """Add two integers."""

    name = "add"
    Params = AddParams

    def __init__(self) -> None:
        self.calls: list[AddParams] = []

    def run(self, params: AddParams, ctx: ToolContext[Any]) -> ToolOutput:
        self.calls.append(params)
        return ToolOutput.success(str(params.a + params.b), {"sum": params.a + params.b})


def ctx(deps: Any = None) -> ToolContext[Any]:
    return ToolContext(deps=deps)


def test_builtin_schemas_match_snapshot() -> None:
    schemas = ToolRegistry(builtin_tools()).schemas()
    rendered = json.dumps(schemas, indent=2, sort_keys=True) + "\n"
    if os.environ.get("REVIEWBOT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8"), (
        "tool schemas changed; if intended, rerun with REVIEWBOT_UPDATE_SNAPSHOTS=1 and review the diff"
    )


def test_schemas_are_derived_from_the_params_model() -> None:
    (schema,) = ToolRegistry([Add()]).schemas()
    assert schema["name"] == "add"
    assert schema["description"] == "Add two integers."
    assert schema["parameters"] == AddParams.model_json_schema()
    assert schema["parameters"]["required"] == ["a"]


def test_every_builtin_schema_is_a_valid_object_schema_in_both_provider_formats() -> None:
    schemas = ToolRegistry(builtin_tools()).schemas()
    assert [s["name"] for s in schemas] == ["read_file", "search_code", "get_diff", "report"]
    for s in schemas:
        jsonschema.Draft202012Validator.check_schema(s["parameters"])
        assert s["parameters"]["type"] == "object"
        assert s["description"]
    oa = openai_wire_tools(schemas)
    an = anthropic_wire_tools(schemas)
    assert oa[0] == {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": schemas[0]["description"],
            "parameters": schemas[0]["parameters"],
        },
    }
    assert an[3]["name"] == "report" and an[3]["input_schema"] == schemas[3]["parameters"]


def test_report_schema_accepts_what_the_report_tool_accepts() -> None:
    (report,) = [s for s in ToolRegistry(builtin_tools()).schemas() if s["name"] == "report"]
    args = {
        "findings": [
            {"tool": "llm", "rule_id": "bug", "path": "a.py", "start_line": 3, "message": "off by one"}
        ],
        "summary": "one bug",
    }
    jsonschema.validate(args, report["parameters"])
    out = ToolRegistry(builtin_tools()).call("report", args, ctx())
    assert out.ok, out.text
    bad = {
        "findings": [{"tool": "llm", "rule_id": "bug", "path": "a.py", "message": "x", "severity": "fatal"}]
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, report["parameters"])
    assert ToolRegistry(builtin_tools()).call("report", bad, ctx()).error is ToolErrorKind.INVALID_ARGS


def test_valid_call_runs_the_tool_with_validated_params() -> None:
    add = Add()
    out = ToolRegistry([add]).call("add", {"a": "2", "b": 3}, ctx())
    assert out.ok and out.text == "5" and out.value == {"sum": 5}
    assert add.calls == [AddParams(a=2, b=3)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"b": 1}, "a: Field required"),
        ({"a": 1, "b": -1}, "b: Input should be greater than or equal to 0"),
        ({"a": "x"}, "a: Input should be a valid integer"),
    ],
)
def test_invalid_args_are_an_error_output_and_the_tool_does_not_run(
    args: dict[str, Any], expected: str
) -> None:
    add = Add()
    out = ToolRegistry([add]).call("add", args, ctx())
    assert not out.ok
    assert out.error is ToolErrorKind.INVALID_ARGS
    assert expected in out.text
    invalid = out.typed(InvalidArguments)
    assert invalid is not None and any(expected in e for e in invalid.errors)
    assert add.calls == []


def test_non_object_args_are_invalid() -> None:
    out = ToolRegistry([Add()]).call("add", ["a", 1], ctx())
    assert out.error is ToolErrorKind.INVALID_ARGS and "JSON object" in out.text


def test_unknown_tool_is_an_error_output_listing_the_tools() -> None:
    out = ToolRegistry([Add()]).call("rm_rf", {}, ctx())
    assert not out.ok and out.error is ToolErrorKind.UNKNOWN_TOOL
    assert "'rm_rf'" in out.text and "add" in out.text


def _raising(exc: BaseException) -> FunctionTool[Any, AddParams]:
    def boom(params: AddParams, ctx: ToolContext[Any]) -> ToolOutput:
        raise exc

    return FunctionTool(boom, AddParams, name="boom")


def test_tool_error_becomes_a_failed_output() -> None:
    out = ToolRegistry([_raising(ToolError("no such thing"))]).call("boom", {"a": 1}, ctx())
    assert out.error is ToolErrorKind.FAILED and "no such thing" in out.text


def test_unexpected_exception_becomes_a_crashed_output() -> None:
    out = ToolRegistry([_raising(ZeroDivisionError("division by zero"))]).call("boom", {"a": 1}, ctx())
    assert out.error is ToolErrorKind.CRASHED and "ZeroDivisionError" in out.text


def test_a_tool_returning_the_wrong_type_is_reported_not_trusted() -> None:
    tool: FunctionTool[Any, AddParams] = FunctionTool(
        lambda p, c: "done",  # type: ignore[arg-type,return-value]
        AddParams,
        name="sloppy",
    )
    out = ToolRegistry([tool]).call("sloppy", {"a": 1}, ctx())
    assert out.error is ToolErrorKind.CRASHED and "str" in out.text


def test_function_tool_derives_name_and_description() -> None:
    def lookup_symbol(params: AddParams, ctx: ToolContext[Any]) -> ToolOutput:
        """Find where a symbol is defined."""
        return ToolOutput.success("x")

    (schema,) = ToolRegistry([FunctionTool(lookup_symbol, AddParams)]).schemas()
    assert schema["name"] == "lookup_symbol" and schema["description"] == "Find where a symbol is defined."


def test_register_rejects_duplicates_and_bad_names() -> None:
    reg = ToolRegistry([Add()])
    with pytest.raises(ValueError, match="already registered"):
        reg.register(Add())
    with pytest.raises(ValueError, match="identifier"):
        reg.register(FunctionTool(lambda p, c: ToolOutput.success(""), AddParams, name="bad name"))


def test_deps_reach_the_tool_through_the_typed_context(tmp_path: Path) -> None:
    seen: list[Path] = []

    def where(params: AddParams, ctx: ToolContext[RepoContext]) -> ToolOutput:
        seen.append(ctx.deps.root)
        return ToolOutput.success("ok")

    reg: ToolRegistry[RepoContext] = ToolRegistry([FunctionTool(where, AddParams)])
    assert reg.call("where", {"a": 1}, ToolContext(deps=RepoContext(root=tmp_path))).ok
    assert seen == [tmp_path]


class Hang(Tool[Any, AddParams]):
    """Blocks until cancelled (or the test releases it)."""

    name = "hang"
    Params = AddParams
    timeout_s = 0.05

    def __init__(self) -> None:
        self.saw_cancel = threading.Event()
        self.exited = threading.Event()

    def run(self, params: AddParams, ctx: ToolContext[Any]) -> ToolOutput:
        try:
            if ctx.cancel.wait(30):
                self.saw_cancel.set()
            ctx.check()  # raises ToolCancelled: nobody is waiting for the answer any more
            return ToolOutput.success("late")
        finally:
            self.exited.set()


def test_tool_timeout_returns_a_timeout_output_and_cancels_the_call() -> None:
    hang = Hang()
    out = ToolRegistry([hang]).call("hang", {"a": 1}, ctx())
    assert not out.ok and out.error is ToolErrorKind.TIMEOUT
    assert "timed out" in out.text and "abandoned" in out.text
    # The worker thread is told to stop; a cooperative tool does.
    assert hang.exited.wait(10)
    assert hang.saw_cancel.is_set()


def test_registry_default_timeout_and_caller_cap() -> None:
    add = Add()
    reg = ToolRegistry([add, Hang()], default_timeout_s=7.0)
    assert reg.timeout_for("add") == 7.0
    assert reg.timeout_for("hang") == 0.05
    # A caller cap (what is left of the loop's budget) wins when smaller.
    holder: list[float | None] = []

    def peek(params: AddParams, c: ToolContext[Any]) -> ToolOutput:
        holder.append(c.deadline)
        return ToolOutput.success("")

    reg.register(FunctionTool(peek, AddParams))
    clock_value = 100.0
    reg.call("peek", {"a": 1}, ToolContext(deps=None, clock=lambda: clock_value), timeout_s=2.0)
    assert holder == [102.0]
