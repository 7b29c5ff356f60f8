"""Anthropic Messages API with tool use: `POST {base}/v1/messages`.

Headers `x-api-key` and `anthropic-version: 2023-06-01` (the documented contract; wire format:
`tests/reviewbot/adapters/llm/schemas/anthropic-messages.schema.json`). Tool results travel in *user* turns as
`tool_result` blocks, and the API wants user and assistant turns to alternate, so consecutive tool
results (and a user note after them) are merged into one user turn here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reviewbot.adapters.llm.http import JsonPoster, WireModel
from reviewbot.adapters.llm.model import (
    ANY_TOOL,
    AssistantMessage,
    Message,
    ModelResponse,
    StopKind,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    Usage,
    UserMessage,
)
from reviewbot.adapters.llm.tokens import CHARS_PER_TOKEN, estimate_tokens
from reviewbot.errors import ModelError

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_STOP: dict[str, StopKind] = {
    "end_turn": "end",
    "stop_sequence": "end",
    "tool_use": "tool_calls",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
}


def _user_blocks(msg: UserMessage | ToolResultMessage) -> dict[str, Any]:
    if isinstance(msg, UserMessage):
        return {"type": "text", "text": msg.text or "(empty)"}
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": msg.call_id,
        "content": msg.text or "(empty)",
    }
    if msg.is_error:
        block["is_error"] = True
    return block


def to_wire_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for msg in messages:
        if isinstance(msg, AssistantMessage):
            blocks: list[dict[str, Any]] = []
            if msg.text:
                blocks.append({"type": "text", "text": msg.text})
            for call in msg.tool_calls:
                # A malformed (non-object) argument string cannot be echoed as `input`; the tool
                # result that follows carries the validation error instead.
                args = call.arguments if isinstance(call.arguments, dict) else {}
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": args})
            out.append({"role": "assistant", "content": blocks or [{"type": "text", "text": "(no content)"}]})
            continue
        block = _user_blocks(msg)
        if out and out[-1]["role"] == "user":
            out[-1]["content"].append(block)
        else:
            out.append({"role": "user", "content": [block]})
    return out


def to_wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]} for t in tools
    ]


def _usage(data: dict[str, Any], prompt_chars: int, texts: list[str], calls: list[ToolCall]) -> Usage:
    """The provider's count; when a (compatible) server sends none, an estimate, so the review's
    token budget keeps working."""
    usage = data.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("input_tokens"), int):
        out = sum(estimate_tokens(t) for t in texts)
        out += sum(estimate_tokens(json.dumps(c.arguments)) for c in calls)
        return Usage((prompt_chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN, out)
    return Usage(
        int(usage.get("input_tokens") or 0)
        + int(usage.get("cache_read_input_tokens") or 0)
        + int(usage.get("cache_creation_input_tokens") or 0),
        int(usage.get("output_tokens") or 0),
    )


def parse_response(data: dict[str, Any], *, prompt_chars: int = 0) -> ModelResponse:
    content = data.get("content")
    if not isinstance(content, list):
        raise ModelError("the Anthropic response has no content list")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            if not isinstance(block.get("name"), str) or not isinstance(block.get("id"), str):
                raise ModelError("a tool_use block in the response has no id or name")
            args = block.get("input")
            calls.append(
                ToolCall(
                    id=block["id"],
                    name=block["name"],
                    arguments=args if isinstance(args, dict) else json.dumps(args),
                )
            )
    used = _usage(data, prompt_chars, texts, calls)
    stop = _STOP.get(str(data.get("stop_reason")), "other")
    return ModelResponse(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        usage=used,
        stop=stop,
        model=str(data.get("model", "")),
    )


def _tool_choice(force: str | None) -> dict[str, Any]:
    if force is None:
        return {"type": "auto"}
    if force == ANY_TOOL:
        return {"type": "any"}
    return {"type": "tool", "name": force}


class AnthropicModel(WireModel):
    """`Model` for the Anthropic Messages API."""

    wire_tools = staticmethod(to_wire_tools)
    tool_choice = staticmethod(_tool_choice)
    parse = staticmethod(parse_response)

    def __init__(
        self, poster: JsonPoster, *, model: str, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None
    ) -> None:
        self.poster = poster
        self.model = model
        self.name = f"anthropic:{model}"
        base = base_url.rstrip("/")
        self.url = f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"
        self.headers = {"content-type": "application/json", "anthropic-version": API_VERSION}
        if api_key:
            self.headers["x-api-key"] = api_key

    def conversation_body(self, system: str, messages: Sequence[Message], max_tokens: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": max_tokens,
            "system": system,
            "messages": to_wire_messages(messages),
        }
