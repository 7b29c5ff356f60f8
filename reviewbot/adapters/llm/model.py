"""The `Model` port: one method, `request`, that every LLM provider implements.

A conversation is provider-neutral here (`UserMessage`, `AssistantMessage` with tool calls,
`ToolResultMessage`); each adapter (`openai.py`, `anthropic.py`) maps it to its wire format and
translates its errors into `ModelError` at that edge, like pydantic-ai's `Model.request`.

Token usage and cost are accounted per review by a `UsageMeter` shared by every call of that
review (thread-safe: the multi-agent mode runs specialists concurrently).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, Required, TypedDict, Unpack

from reviewbot.agent.tools import ToolSchema
from reviewbot.errors import ModelError

#: A tool as the model sees it: the agent's provider-neutral schema, as is.
ToolSpec = ToolSchema


@dataclass(frozen=True)
class ToolCall:
    """One tool call the model asked for. `arguments` is the decoded JSON object, or the raw
    string when the model sent something that is not a JSON object (the registry then answers
    with a validation error the model can correct)."""

    id: str
    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True)
class UserMessage:
    text: str
    role: Literal["user"] = "user"


@dataclass(frozen=True)
class AssistantMessage:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    role: Literal["assistant"] = "assistant"


@dataclass(frozen=True)
class ToolResultMessage:
    call_id: str
    name: str
    text: str
    is_error: bool = False
    role: Literal["tool"] = "tool"


Message = UserMessage | AssistantMessage | ToolResultMessage

StopKind = Literal["end", "tool_calls", "max_tokens", "refusal", "other"]


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class ModelResponse:
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    stop: StopKind
    model: str = ""


class RequestOptions(TypedDict):
    """How one `Model.request` is asked, beside the conversation itself (the keywords of every
    `request` and of an adapter's `build_body`)."""

    max_tokens: Required[int]
    force: NotRequired[str | None]  # default None: the model may answer without a tool call
    timeout_s: NotRequired[float | None]  # default None: only the adapter's own timeout


class Model(Protocol):
    """An LLM endpoint. `request` sends the whole conversation and returns one assistant turn.

    `force` names the one tool the model must call (the report, when the policy needs an answer
    it can use), or is `ANY_TOOL` (some tool call, whichever: for servers that know only that
    form); `timeout_s` caps this call's wait for the answer (what is left of the review's wall
    clock), below the adapter's own timeout."""

    name: str  # "provider:model", for summaries and traces

    def request(
        self,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        **options: Unpack[RequestOptions],
    ) -> ModelResponse: ...


ANY_TOOL = "*"  # `force` value: a tool call is required, the model picks which


class ModelConfigError(ModelError):
    """The endpoint refused us for a reason only the operator can fix (key, model name, URL):
    the review cannot be what was asked for, so it fails (exit 2). `status` is the HTTP status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ModelUnavailable(ModelError):
    """The endpoint did not answer usefully this time (timeouts, repeated 5xx/429, connection
    trouble). The policy reports what it has. `timed_out` says whether waiting was the problem."""

    def __init__(self, message: str, *, timed_out: bool = False, connect: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.connect = connect


class ContextLengthError(ModelError):
    """The prompt did not fit the model's context window. The policy retries with less.
    `limit` and `sent` are the token counts the provider's message states (None if it did not)."""

    def __init__(self, message: str, *, limit: int | None = None, sent: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.sent = sent


@dataclass
class UsageMeter:
    """Tokens, calls and cost of one review. Prices are USD per million tokens (None = unpriced)."""

    price_input_per_mtok: float | None = None
    price_output_per_mtok: float | None = None
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, usage: Usage) -> None:
        with self._lock:
            self.calls += 1
            self.input_tokens += usage.input_tokens
            self.output_tokens += usage.output_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> float | None:
        if self.price_input_per_mtok is None and self.price_output_per_mtok is None:
            return None
        return (
            self.input_tokens * (self.price_input_per_mtok or 0.0)
            + self.output_tokens * (self.price_output_per_mtok or 0.0)
        ) / 1_000_000

    def summary(self) -> str:
        """One line for the review summary: 'LLM: 7 calls, 41,230 tokens in / 2,110 out, $0.1234'."""
        plural = "s" if self.calls != 1 else ""
        line = f"LLM: {self.calls} call{plural}, {self.input_tokens:,} tokens in / {self.output_tokens:,} out"
        cost = self.cost_usd
        return line + (f", ${cost:.4f}" if cost is not None else "")
