"""OpenAI-compatible chat completions with tool calling.

One adapter covers OpenAI, Azure OpenAI (set `api_version`: the key then goes in an `api-key`
header and the base URL is the deployment's, `https://RES.openai.azure.com/openai/deployments/DEP`),
Ollama (`http://localhost:11434/v1`), vLLM, llama.cpp's server and OpenRouter: they all speak
`POST {base}/chat/completions`. Wire format:
`tests/reviewbot/adapters/llm/schemas/openai-chat-completions.schema.json`.

`max_completion_tokens` is what OpenAI and Azure want (`max_tokens` is deprecated there and refused
by reasoning models); compatible local servers mostly know only `max_tokens`, so the field depends
on the host.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

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
from reviewbot.adapters.llm.tokens import estimate_tokens
from reviewbot.errors import ModelError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_FINISH: dict[str, StopKind] = {
    "stop": "end",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "max_tokens",
    "content_filter": "refusal",
}


def _arguments_json(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def to_wire_messages(system: str, messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for msg in messages:
        if isinstance(msg, UserMessage):
            out.append({"role": "user", "content": msg.text})
        elif isinstance(msg, AssistantMessage):
            wire: dict[str, Any] = {"role": "assistant", "content": msg.text or None}
            if msg.tool_calls:
                wire["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": _arguments_json(c.arguments)},
                    }
                    for c in msg.tool_calls
                ]
            out.append(wire)
        elif isinstance(msg, ToolResultMessage):
            out.append({"role": "tool", "tool_call_id": msg.call_id, "content": msg.text})
    return out


def to_wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["parameters"]},
        }
        for t in tools
    ]


def _decode_arguments(raw: object) -> dict[str, Any] | str:
    if isinstance(raw, dict):  # some compatible servers send an object, not a string
        return raw
    if not isinstance(raw, str):
        return json.dumps(raw)
    try:
        value = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw
    return value if isinstance(value, dict) else raw


def parse_response(data: dict[str, Any], *, prompt_chars: int) -> ModelResponse:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelError("the chat completion response has no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ModelError("the chat completion response has no message")
    calls: list[ToolCall] = []
    for i, raw in enumerate(message.get("tool_calls") or []):
        fn = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise ModelError("a tool call in the response has no function name")
        calls.append(
            ToolCall(
                id=str(raw.get("id") or f"call_{i}"),
                name=fn["name"],
                arguments=_decode_arguments(fn.get("arguments")),
            )
        )
    text = message.get("content") or ""
    if not isinstance(text, str):
        text = json.dumps(text)
    usage = data.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        used = Usage(int(usage["prompt_tokens"]), int(usage.get("completion_tokens") or 0))
    else:  # some local servers omit usage; budgets still need a number (an estimate)
        used = Usage(
            prompt_chars // 4, estimate_tokens(text) + sum(estimate_tokens(str(c.arguments)) for c in calls)
        )
    stop = _FINISH.get(str(choices[0].get("finish_reason")), "other")
    if calls and stop == "end":
        stop = "tool_calls"
    return ModelResponse(
        text=text, tool_calls=tuple(calls), usage=used, stop=stop, model=str(data.get("model", ""))
    )


def _tool_choice(force: str | None) -> str | dict[str, Any]:
    if force is None:
        return "auto"
    if force == ANY_TOOL:
        return "required"
    return {"type": "function", "function": {"name": force}}


class OpenAIModel(WireModel):
    """`Model` for OpenAI-compatible chat completions."""

    wire_tools = staticmethod(to_wire_tools)
    tool_choice = staticmethod(_tool_choice)
    parse = staticmethod(parse_response)

    def __init__(
        self,
        poster: JsonPoster,
        *,
        model: str,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        api_version: str | None = None,
    ) -> None:
        self.poster = poster
        self.model = model
        self.name = f"openai:{model}"
        base = base_url.rstrip("/")
        self.url = f"{base}/chat/completions" + (
            f"?{urlencode({'api-version': api_version})}" if api_version else ""
        )
        host = (urlsplit(base).hostname or "").lower()
        self.token_field = (
            "max_completion_tokens"
            if api_version or host == "api.openai.com" or host.endswith(".openai.azure.com")
            else "max_tokens"
        )
        self.headers: dict[str, str] = {"content-type": "application/json"}
        if api_key:
            if api_version:
                self.headers["api-key"] = api_key
            else:
                self.headers["authorization"] = f"Bearer {api_key}"

    def conversation_body(self, system: str, messages: Sequence[Message], max_tokens: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": to_wire_messages(system, messages),
            self.token_field: max_tokens,
        }
