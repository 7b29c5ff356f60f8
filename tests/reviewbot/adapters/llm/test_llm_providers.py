"""The httpx adapters against loopback servers speaking the published wire formats."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reviewbot.adapters.llm.http import JsonPoster
from reviewbot.adapters.llm.model import (
    AssistantMessage,
    ContextLengthError,
    Message,
    ToolResultMessage,
    ToolSpec,
    UsageMeter,
    UserMessage,
)
from reviewbot.adapters.llm.resolve import build_model, resolve_api_key
from reviewbot.errors import ConfigError, ModelError
from reviewbot.settings import LLMSettings
from tests.fakes.llm_server import LLMServer, Reply, Step, call, error_body, scripted, text
from tests.support.models import model_for as make

TOOLS: list[ToolSpec] = [
    {
        "name": "read_file",
        "description": "Read a file",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    }
]
WIRES = ["openai", "anthropic"]


@pytest.mark.parametrize("wire", WIRES)
def test_tool_call_round_trip_is_valid_wire_format(wire: str) -> None:
    script = scripted(call("read_file", path="a.py"), text("done"))
    with LLMServer(wire, script) as srv:  # type: ignore[arg-type]
        model = make(srv)
        first = model.request("sys", [UserMessage("review this")], TOOLS, max_tokens=100)
        assert first.stop == "tool_calls"
        assert [(c.name, c.arguments) for c in first.tool_calls] == [("read_file", {"path": "a.py"})]
        history: list[Message] = [
            UserMessage("review this"),
            AssistantMessage("", first.tool_calls),
            ToolResultMessage(first.tool_calls[0].id, "read_file", "print('x')"),
        ]
        second = model.request("sys", history, TOOLS, max_tokens=100)
        assert second.text == "done" and second.stop == "end" and not second.tool_calls
        assert second.usage.input_tokens > 0 and second.usage.output_tokens == 20
    # what went over the wire: the tool result is tied to the call id, the key is in a header only
    sent = srv.requests[1]
    assert "sk-test-secret" not in json.dumps(srv.requests)
    if wire == "openai":
        assert sent["messages"][-1] == {
            "role": "tool",
            "tool_call_id": first.tool_calls[0].id,
            "content": "print('x')",
        }
        assert srv.headers[0]["authorization"] == "Bearer sk-test-secret-123456789"
        assert sent["max_tokens"] == 100  # a local/compatible server: the widely known field
    else:
        assert sent["messages"][-1]["content"][0]["tool_use_id"] == first.tool_calls[0].id
        assert srv.headers[0]["x-api-key"] == "sk-test-secret-123456789"
        assert srv.headers[0]["anthropic-version"] == "2023-06-01"
        assert sent["system"] == "sys" and sent["max_tokens"] == 100


@pytest.mark.parametrize("wire", WIRES)
def test_a_request_violating_the_schema_fails_the_test(wire: str) -> None:
    srv = LLMServer(wire, scripted(text("x")))  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="violations"), srv:
        httpx.post(
            srv.base_url + ("/chat/completions" if wire == "openai" else "/v1/messages"), json={"bogus": 1}
        )
    assert srv.violations


@pytest.mark.parametrize("wire", WIRES)
def test_retries_429_honouring_retry_after_then_succeeds(wire: str) -> None:
    busy = Reply(error_body(wire, 429, "slow down"), 429, {"retry-after": "7"})  # type: ignore[arg-type]
    sleeps: list[float] = []
    with LLMServer(wire, scripted(busy, busy, text("ok"))) as srv:  # type: ignore[arg-type]
        out = make(srv, sleeps).request("s", [UserMessage("u")], [], max_tokens=10)
    assert out.text == "ok"
    assert sleeps == [7.0, 7.0]
    assert len(srv.requests) == 3


def test_retry_after_is_capped_and_5xx_retries_are_bounded() -> None:
    down = Reply(error_body("anthropic", 529, "overloaded"), 529, {"retry-after": "3600"})
    sleeps: list[float] = []
    with LLMServer("anthropic", scripted(then=down)) as srv:
        model = make(srv, sleeps, max_retries=2, max_retry_wait_s=5)
        with pytest.raises(ModelError, match=r"kept failing after 3 attempts: HTTP 529: overloaded"):
            model.request("s", [UserMessage("u")], [], max_tokens=10)
    assert sleeps == [5.0, 5.0] and len(srv.requests) == 3


def test_5xx_without_retry_after_backs_off_exponentially() -> None:
    down = Reply(error_body("openai", 503, "unavailable"), 503)
    sleeps: list[float] = []
    with LLMServer("openai", scripted(down, down, down, text("fine"))) as srv:
        assert make(srv, sleeps).request("s", [UserMessage("u")], [], max_tokens=10).text == "fine"
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("status", "message", "match", "kind"),
    [
        (401, "invalid x-api-key", "refused the API key", ModelError),
        (404, "model: nope", "404 for model 'test-model'", ModelError),
        (400, "prompt is too long: 250000 tokens > 200000 maximum", "prompt is too long", ContextLengthError),
        (400, "This model's maximum context length is 8192 tokens", "too long", ContextLengthError),
        (400, "messages: bad", r"rejected the request \(HTTP 400\)", ModelError),
    ],
)
@pytest.mark.parametrize("wire", WIRES)
def test_clear_errors_without_retry(wire: str, status: int, message: str, match: str, kind: type) -> None:
    sleeps: list[float] = []
    srv = LLMServer(wire, scripted(Reply(error_body(wire, status, message), status)))  # type: ignore[arg-type]
    with srv, pytest.raises(kind, match=match) as info:
        make(srv, sleeps).request("s", [UserMessage("u")], [], max_tokens=10)
    assert sleeps == [] and len(srv.requests) == 1
    assert "sk-test-secret" not in str(info.value)


def test_connection_refused_is_a_model_error_after_bounded_retries() -> None:
    with LLMServer("openai", scripted()) as srv:
        url = srv.base_url
    settings = LLMSettings(provider="openai", model="m", base_url=url, max_retries=1)
    model = build_model(settings, {}, sleep=lambda s: None)
    assert model is not None
    with pytest.raises(ModelError, match="could not connect"):
        model.request("s", [UserMessage("u")], [], max_tokens=5)


def test_malformed_tool_arguments_are_kept_raw_for_the_registry_to_reject() -> None:
    bad = Step(
        calls=(__import__("tests.fakes.llm_server", fromlist=["Call"]).Call("read_file", '{"path": '),)
    )
    with LLMServer("openai", scripted(bad)) as srv:
        out = make(srv).request("s", [UserMessage("u")], TOOLS, max_tokens=10)
    assert out.tool_calls[0].arguments == '{"path": '


def test_openai_hosted_and_azure_use_max_completion_tokens_and_azure_api_key_header() -> None:
    settings = LLMSettings(
        provider="openai",
        model="dep",
        base_url="https://r.openai.azure.com/openai/deployments/dep",
        api_version="2024-10-21",
    )
    model = build_model(settings, {"AZURE_IGNORED": "x", "OPENAI_API_KEY": "k-azure"})
    body = model.build_body("s", [UserMessage("u")], TOOLS, {"max_tokens": 9})  # type: ignore[union-attr]
    assert body["max_completion_tokens"] == 9 and "max_tokens" not in body
    assert model.url.endswith("/chat/completions?api-version=2024-10-21")  # type: ignore[union-attr]
    assert model.headers["api-key"] == "k-azure" and "authorization" not in model.headers  # type: ignore[union-attr]


def test_usage_meter_accounts_tokens_and_cost_per_review() -> None:
    meter = UsageMeter(price_input_per_mtok=3.0, price_output_per_mtok=15.0)
    with LLMServer(
        "anthropic", scripted(Step(text="a", input_tokens=1000, output_tokens=100), then=text("b"))
    ) as srv:
        model = make(srv)
        meter.add(model.request("s", [UserMessage("u")], [], max_tokens=10).usage)
    assert (meter.calls, meter.input_tokens, meter.output_tokens) == (1, 1000, 100)
    assert meter.cost_usd == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    assert meter.summary() == "LLM: 1 call, 1,000 tokens in / 100 out, $0.0045"
    assert UsageMeter().cost_usd is None


def test_resolver_key_precedence_and_no_model_without_provider() -> None:
    env = {"REVIEWBOT_LLM_API_KEY": "a", "OPENAI_API_KEY": "b", "ANTHROPIC_API_KEY": "c"}
    assert resolve_api_key(LLMSettings(provider="openai"), env) == "a"
    assert (
        resolve_api_key(LLMSettings(provider="openai"), {"OPENAI_API_KEY": "b", "ANTHROPIC_API_KEY": "c"})
        == "b"
    )
    assert (
        resolve_api_key(LLMSettings(provider="anthropic"), {"OPENAI_API_KEY": "b", "ANTHROPIC_API_KEY": "c"})
        == "c"
    )
    assert resolve_api_key(LLMSettings(provider="anthropic", api_key="s"), env) == "s"
    assert build_model(LLMSettings(), env) is None  # provider "none": nothing is built, even with keys around
    with pytest.raises(ConfigError, match="no model is set"):
        build_model(LLMSettings(provider="openai"), env)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        build_model(LLMSettings(provider="anthropic", model="m"), {})
    # a local endpoint may run without a key
    assert build_model(
        LLMSettings(provider="openai", model="llama3", base_url="http://127.0.0.1:11434/v1"), {}
    )


@pytest.mark.parametrize("wire", WIRES)
def test_replay_mode_answers_recorded_exchanges_and_checks_requests(wire: str, tmp_path: Path) -> None:
    path = tmp_path / "rec.json"
    with LLMServer(wire, scripted(call("read_file", path="x.py"), text("fin"))) as rec:  # type: ignore[arg-type]
        m = make(rec)
        first = m.request("s", [UserMessage("u")], TOOLS, max_tokens=10)
        m.request(
            "s",
            [
                UserMessage("u"),
                AssistantMessage("", first.tool_calls),
                ToolResultMessage(first.tool_calls[0].id, "read_file", "data"),
            ],
            TOOLS,
            max_tokens=10,
        )
    rec.save(path)
    with LLMServer.replay(wire, path) as srv:  # type: ignore[arg-type]
        m = make(srv)
        again = m.request("s", [UserMessage("u")], TOOLS, max_tokens=10)
        assert again.tool_calls == first.tool_calls
        hist: list[Message] = [
            UserMessage("u"),
            AssistantMessage("", again.tool_calls),
            ToolResultMessage(again.tool_calls[0].id, "read_file", "data"),
        ]
        assert m.request("s", hist, TOOLS, max_tokens=10).text == "fin"
    srv2 = LLMServer.replay(wire, path)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="differs from the recording"), srv2, pytest.raises(ModelError):
        make(srv2).request("s", [UserMessage("something else")], TOOLS, max_tokens=10)


SECRET_KEY = "sk-repr-0123456789SECRET"


def test_the_http_edge_keeps_its_key_out_of_its_repr() -> None:
    poster = JsonPoster(
        provider="openai", model="m", timeout_s=1.0, max_retries=0, max_retry_wait_s=0.0, secret=SECRET_KEY
    )
    try:
        assert SECRET_KEY not in repr(poster) and "openai" in repr(poster)
        assert (
            poster.clean(f"echo {SECRET_KEY} from http://10.0.0.1/v1") == "echo [REDACTED] from [url removed]"
        )
    finally:
        poster.close()
