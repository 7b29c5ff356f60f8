"""Tools the agent can call, and the registry that validates and runs them.

A tool is a name, a description, a pydantic parameter model (`Params`) and `run(params, ctx)`.
The JSON schema the policy (or an LLM) sees is *derived* from `Params.model_json_schema()`; it is
never written by hand, so the schema and the validation can not drift apart.

`ToolRegistry.call` never raises: an unknown tool, arguments that fail validation, a tool that
raises or one that overruns its timeout all come back as an error `ToolOutput` — an observation
the policy can react to (an LLM sees the validation messages and corrects its call).

Timeouts: a call with a timeout runs in a daemon worker thread and the registry stops waiting
after the timeout. Python cannot kill a thread, so the work may go on in the background; tools
that do real work (tests, analyzers) run it in the sandbox, whose own wall clock kills the
process group. Cooperative tools (file walks) poll `ctx.check()` and stop early once the call is
cancelled or past its deadline.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, ValidationError

from reviewbot.errors import ToolError

DepsT = TypeVar("DepsT")
DepsT_co = TypeVar("DepsT_co", covariant=True)
DepsT_contra = TypeVar("DepsT_contra", contravariant=True)
ParamsT = TypeVar("ParamsT", bound=BaseModel)
T = TypeVar("T")


class ToolErrorKind(StrEnum):
    """Why a call produced no result. Policies and traces switch on this, not on message text."""

    UNKNOWN_TOOL = "unknown_tool"
    INVALID_ARGS = "invalid_args"
    TIMEOUT = "timeout"
    FAILED = "failed"  # the tool refused or could not do it (ToolError): a normal observation
    CRASHED = "crashed"  # the tool raised something unexpected: a bug in the tool
    REPEATED = "repeated"  # the loop refused to run the same call twice


class ToolOutput(BaseModel):
    """The result of one tool call.

    `text` is a short, human/LLM-readable summary: it is what goes to logs and prompts (truncated),
    the only form of a result a model reads. `value` is the tool's typed result (a pydantic model
    or a frozen dataclass: the `Report`, `pipeline.tools.AnalyzeResult`, `read_file.FileExcerpt`,
    ...) that policies and tests read as it is, never through JSON; `facts` are things learned that
    the loop stores in memory's knowledge.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    text: str
    value: SkipValidation[object] = None
    error: ToolErrorKind | None = None
    facts: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def success(
        cls, text: str, value: object = None, *, facts: Mapping[str, str] | None = None
    ) -> ToolOutput:
        return cls(ok=True, text=text, value=value, facts=dict(facts or {}))

    def typed(self, kind: type[T]) -> T | None:
        """The typed value when it is a `kind`, else None."""
        return self.value if isinstance(self.value, kind) else None

    @classmethod
    def failure(
        cls, text: str, *, kind: ToolErrorKind = ToolErrorKind.FAILED, value: object = None
    ) -> ToolOutput:
        return cls(ok=False, text=text, value=value, error=kind)


@dataclass(frozen=True)
class InvalidArguments:
    """The typed value of an INVALID_ARGS failure: one `loc: message` line per validation error."""

    errors: tuple[str, ...]


class ToolCancelled(ToolError):
    """Raised by `ToolContext.check()` inside a tool whose call was cancelled or hit its deadline."""


@dataclass(frozen=True)
class ToolContext(Generic[DepsT_co]):
    """What a tool gets besides its parameters: typed dependencies (like pydantic-ai's
    `RunContext[Deps]`) and the call's deadline. No globals: everything a tool touches is here.

    `clock` is monotonic seconds; `deadline` is on that clock. `cancel` is set by the registry when
    it stops waiting for the call.
    """

    deps: DepsT_co
    iteration: int = 0
    clock: Callable[[], float] = time.monotonic
    deadline: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def cancelled(self) -> bool:
        left = self.time_left()
        return self.cancel.is_set() or (left is not None and left <= 0)

    def check(self) -> None:
        """Raise ToolCancelled when the call should stop; cheap enough to call per file."""
        if self.cancelled():
            raise ToolCancelled("the tool call was cancelled (timeout)")


class Tool(ABC, Generic[DepsT_contra, ParamsT]):
    """Base class of a tool. Subclasses set `name`, `Params` and (optionally) `description` —
    the class docstring is the description when none is set — and implement `run`.

    Raise `ToolError` (or return `ToolOutput.failure`) for an expected refusal; the registry turns
    it into an observation.
    """

    name: str
    description: str = ""
    Params: type[ParamsT]
    timeout_s: float | None = None  # None = the registry's default

    def describe(self) -> str:
        return _unwrap(self.description or inspect.getdoc(type(self)) or self.name)

    @abstractmethod
    def run(self, params: ParamsT, ctx: ToolContext[DepsT_contra]) -> ToolOutput: ...


class FunctionTool(Tool[DepsT_contra, ParamsT]):
    """A tool from a plain function `fn(params, ctx) -> ToolOutput`; name and description default
    to the function's name and docstring."""

    def __init__(
        self,
        fn: Callable[[ParamsT, ToolContext[DepsT_contra]], ToolOutput],
        params: type[ParamsT],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self._fn = fn
        self.Params = params
        self.name = name or fn.__name__
        self.description = description or inspect.getdoc(fn) or ""
        self.timeout_s = timeout_s

    def run(self, params: ParamsT, ctx: ToolContext[DepsT_contra]) -> ToolOutput:
        return self._fn(params, ctx)


def _unwrap(doc: str) -> str:
    # Docstrings are wrapped for the source file; a prompt wants paragraphs, not line breaks.
    return re.sub(r"(?<!\n)\n(?!\n)", " ", doc.strip())


class ToolSchema(TypedDict):
    """Provider-neutral tool description: `parameters` is a JSON schema of an object."""

    name: str
    description: str
    parameters: dict[str, Any]


def tool_schema(tool: Tool[Any, Any]) -> ToolSchema:
    return {"name": tool.name, "description": tool.describe(), "parameters": params_schema(tool.Params)}


@functools.cache
def _schema_json(params: type[BaseModel]) -> str:
    return json.dumps(params.model_json_schema())


def params_schema(params: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a tool's parameters: generated once per model class (pydantic takes
    milliseconds per schema, every review), a fresh copy each time."""
    value: dict[str, Any] = json.loads(_schema_json(params))
    return value


def validation_messages(exc: ValidationError, *, limit: int = 10) -> list[str]:
    """`loc: message` lines, enough for a model to correct its call; input values are left out
    (they can be large, and they are the caller's own data anyway)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False)[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        out.append(f"{loc}: {err['msg']}")
    if exc.error_count() > limit:
        out.append(f"... and {exc.error_count() - limit} more error(s)")
    return out


class ToolRegistry(Generic[DepsT]):
    """The tools one agent may call. `default_timeout_s` applies to tools without their own."""

    def __init__(
        self, tools: Iterable[Tool[DepsT, Any]] = (), *, default_timeout_s: float | None = None
    ) -> None:
        self._tools: dict[str, Tool[DepsT, Any]] = {}
        self.default_timeout_s = default_timeout_s
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[DepsT, Any]) -> None:
        if not tool.name or not tool.name.replace("_", "").isalnum():
            raise ValueError(f"tool name must be a non-empty identifier, got {tool.name!r}")
        if tool.name in self._tools:
            raise ValueError(f"tool {tool.name!r} is already registered")
        if not (isinstance(tool.Params, type) and issubclass(tool.Params, BaseModel)):
            raise TypeError(f"tool {tool.name!r}: Params must be a pydantic model class")
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool[DepsT, Any] | None:
        return self._tools.get(name)

    def schemas(self) -> list[ToolSchema]:
        return [tool_schema(t) for t in self._tools.values()]

    def timeout_for(self, name: str) -> float | None:
        tool = self._tools.get(name)
        if tool is None:
            return None
        return tool.timeout_s if tool.timeout_s is not None else self.default_timeout_s

    def call(
        self, name: str, raw_args: object, ctx: ToolContext[DepsT], *, timeout_s: float | None = None
    ) -> ToolOutput:
        """Validate `raw_args` against the tool's `Params` and run it. Never raises.

        `timeout_s` caps the tool's own timeout (the loop passes what is left of its budget).
        """
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "(none)"
            return ToolOutput.failure(
                f"unknown tool {name!r}; available tools: {known}", kind=ToolErrorKind.UNKNOWN_TOOL
            )
        if not isinstance(raw_args, Mapping):
            return ToolOutput.failure(
                f"arguments of {name} must be a JSON object, got {type(raw_args).__name__}",
                kind=ToolErrorKind.INVALID_ARGS,
            )
        try:
            params = tool.Params.model_validate(dict(raw_args))
        except ValidationError as exc:
            messages = validation_messages(exc)
            return ToolOutput.failure(
                f"invalid arguments for {name}: " + "; ".join(messages),
                kind=ToolErrorKind.INVALID_ARGS,
                value=InvalidArguments(tuple(messages)),
            )
        limit = self.timeout_for(name)
        if timeout_s is not None:
            limit = timeout_s if limit is None else min(limit, timeout_s)
        if limit is None:
            return _run_guarded(tool, params, ctx)
        return _run_with_timeout(tool, params, ctx, max(limit, 0.0))


def _run_guarded(tool: Tool[DepsT, Any], params: BaseModel, ctx: ToolContext[DepsT]) -> ToolOutput:
    try:
        out = tool.run(params, ctx)
    except ToolCancelled as exc:
        return ToolOutput.failure(f"{tool.name}: {exc}", kind=ToolErrorKind.TIMEOUT)
    except ToolError as exc:
        return ToolOutput.failure(f"{tool.name} failed: {exc}")
    except Exception as exc:  # a tool bug must not take the review down; it is reported instead
        return ToolOutput.failure(
            f"{tool.name} crashed: {type(exc).__name__}: {exc}", kind=ToolErrorKind.CRASHED
        )
    if not isinstance(out, ToolOutput):
        return ToolOutput.failure(
            f"{tool.name} returned {type(out).__name__}, not a ToolOutput", kind=ToolErrorKind.CRASHED
        )
    return out


def _run_with_timeout(
    tool: Tool[DepsT, Any], params: BaseModel, ctx: ToolContext[DepsT], timeout_s: float
) -> ToolOutput:
    cancel = threading.Event()
    deadline = ctx.clock() + timeout_s
    if ctx.deadline is not None:
        deadline = min(deadline, ctx.deadline)
    call_ctx = dataclasses.replace(ctx, deadline=deadline, cancel=cancel)
    box: list[ToolOutput] = []
    # A daemon thread: if the tool never returns, it must not keep the interpreter alive at exit.
    worker = threading.Thread(
        target=lambda: box.append(_run_guarded(tool, params, call_ctx)), name=f"tool-{tool.name}", daemon=True
    )
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive() or not box:
        cancel.set()  # cooperative tools stop at their next ctx.check()
        return ToolOutput.failure(
            f"{tool.name} timed out after {timeout_s:g}s and was abandoned", kind=ToolErrorKind.TIMEOUT
        )
    return box[0]
