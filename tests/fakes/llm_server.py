"""Loopback HTTP servers speaking the OpenAI chat-completions and Anthropic Messages wire formats.

Scripted turn by turn: a handler is a plain function from the request JSON to the response JSON
(or a `Reply` with a status and headers). Every request reviewbot sends is validated against the
published schemas (copies in `tests/reviewbot/adapters/llm/schemas/`, see its SOURCE-*.md); so is every
scripted 200 response, so the fake cannot drift from the real format. A violation is answered with
a 400 and recorded, and leaving the `with` block raises AssertionError: the test fails.

    with LLMServer("openai", scripted(lambda turn: call("read_file", path="a.py"), ...)) as srv:
        model = build_model(LLMSettings(provider="openai", model="m", base_url=srv.base_url), {})

`scripted(*steps)` takes provider-neutral steps: each gets a `Turn` (what the model was shown:
system, all text, the latest tool results, the tool names) and returns `call(...)`, `calls(...)`,
`text(...)` or a raw `Reply`. The same script therefore drives both wire formats.

Model habits: a `Step` may take `delay_s` to answer (a slow model) and may leave out `usage` (some
compatible servers do); `context_error(wire, limit, sent)` is the provider's own refusal of a too
long prompt, worded as each provider words it. `sizes` records the byte size of every request, so
a test can check that a request really got smaller.

Replay: `LLMServer.replay(wire, path)` answers with the responses recorded in a JSON file (made by
`server.save(path)`) in order, and checks each request still matches the recorded one.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # ships no type hints

Wire = Literal["openai", "anthropic"]
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "reviewbot" / "adapters" / "llm" / "schemas"
_FILES = {"openai": "openai-chat-completions.schema.json", "anthropic": "anthropic-messages.schema.json"}
_validators: dict[tuple[str, str], Draft202012Validator] = {}
_lock = threading.Lock()


def validator(wire: Wire, root: Literal["request", "response", "error"]) -> Draft202012Validator:
    with _lock:
        key = (wire, root)
        if key not in _validators:
            doc = json.loads((SCHEMA_DIR / _FILES[wire]).read_text())
            _validators[key] = Draft202012Validator({"$ref": doc["x-roots"][root], "$defs": doc["$defs"]})
        return _validators[key]


def pairing_errors(wire: Wire, body: dict[str, Any]) -> list[str]:
    """Both APIs refuse a conversation in which a tool call of the model is not answered by a tool
    result (OpenAI: `tool` messages after the assistant turn; Anthropic: `tool_result` blocks in the
    next user turn). The schemas cannot say that, so it is checked here."""
    errors: list[str] = []
    messages = body.get("messages") or []
    for i, msg in enumerate(messages):
        if msg.get("role") != "assistant":
            continue
        if wire == "openai":
            wanted = {c.get("id") for c in msg.get("tool_calls") or []}
            answered = set()
            for later in messages[i + 1 :]:
                if later.get("role") != "tool":
                    break
                answered.add(later.get("tool_call_id"))
        else:
            content = msg.get("content") if isinstance(msg.get("content"), list) else []
            wanted = {b.get("id") for b in content if b.get("type") == "tool_use"}
            nxt = messages[i + 1] if i + 1 < len(messages) else {}
            blocks = following if isinstance(following := nxt.get("content"), list) else []
            answered = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if wanted - answered:
            errors.append(f"messages/{i}: tool calls without a result: {sorted(map(str, wanted - answered))}")
    return errors


def schema_errors(wire: Wire, root: Literal["request", "response", "error"], body: Any) -> list[str]:
    errs = sorted(validator(wire, root).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errs[:5]]


@dataclass
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


# -- provider-neutral script steps ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, Any] | str  # a str is sent verbatim as the arguments (malformed-JSON tests)


@dataclass(frozen=True)
class Step:
    text: str = ""
    calls: tuple[Call, ...] = ()
    input_tokens: int | None = None
    output_tokens: int = 20
    usage: bool = True  # False: the response has no usage block
    delay_s: float = 0.0  # how long the model "thinks" before answering


def call(name: str, **args: Any) -> Step:
    return Step(calls=(Call(name, args),))


def calls(*items: Call) -> Step:
    return Step(calls=items)


def text(value: str) -> Step:
    return Step(text=value)


@dataclass
class Turn:
    """What the model was shown on one request, in a wire-neutral form."""

    wire: Wire
    body: dict[str, Any]
    system: str
    texts: list[str]  # every text the model saw, user turns and tool results alike, in order
    tool_results: list[str]  # the tool results of the last user turn (the latest observations)
    tools: list[str]
    index: int  # 0-based request number

    @property
    def all_text(self) -> str:
        return "\n".join([self.system, *self.texts])

    @property
    def last_result(self) -> str:
        return self.tool_results[-1] if self.tool_results else ""


def _turn(wire: Wire, body: dict[str, Any], index: int) -> Turn:
    texts: list[str] = []
    results: list[str] = []
    if wire == "openai":
        system = ""
        tools = [t["function"]["name"] for t in body.get("tools", [])]
        for m in body["messages"]:
            content = m.get("content")
            value = content if isinstance(content, str) else json.dumps(content) if content else ""
            if m["role"] == "system":
                system = value
                continue
            if m["role"] == "tool":
                results.append(value)
            elif m["role"] == "user":
                results = []
            texts.append(value)
    else:
        system = (
            body.get("system", "") if isinstance(body.get("system"), str) else json.dumps(body.get("system"))
        )
        tools = [t["name"] for t in body.get("tools", [])]
        for m in body["messages"]:
            content = m["content"]
            if isinstance(content, str):
                texts.append(content)
                continue
            if m["role"] == "user":
                results = []
            for block in content:
                if block.get("type") == "text":
                    texts.append(block["text"])
                elif block.get("type") == "tool_result":
                    c = block.get("content")
                    value = c if isinstance(c, str) else json.dumps(c)
                    texts.append(value)
                    results.append(value)
    return Turn(wire, body, system, texts, results, tools, index)


def render(wire: Wire, step: Step, request: dict[str, Any], ids: itertools.count[int]) -> dict[str, Any]:
    """The wire response for a neutral step."""
    out = _render(wire, step, request, ids)
    if not step.usage:
        del out["usage"]
    return out


def _render(wire: Wire, step: Step, request: dict[str, Any], ids: itertools.count[int]) -> dict[str, Any]:
    prompt_tokens = step.input_tokens if step.input_tokens is not None else len(json.dumps(request)) // 4
    if wire == "openai":
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None, "refusal": None}
        if step.calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{next(ids)}",
                    "type": "function",
                    "function": {
                        "name": c.name,
                        "arguments": c.args if isinstance(c.args, str) else json.dumps(c.args),
                    },
                }
                for c in step.calls
            ]
        return {
            "id": f"chatcmpl-{next(ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if step.calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": step.output_tokens,
                "total_tokens": prompt_tokens + step.output_tokens,
            },
        }
    content: list[dict[str, Any]] = []
    if step.text:
        content.append({"type": "text", "text": step.text})
    for c in step.calls:
        args = c.args if isinstance(c.args, dict) else {"_raw": c.args}
        content.append({"type": "tool_use", "id": f"toolu_{next(ids):04d}", "name": c.name, "input": args})
    return {
        "id": f"msg_{next(ids)}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "fake"),
        "content": content,
        "stop_reason": "tool_use" if step.calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": prompt_tokens, "output_tokens": step.output_tokens},
    }


def error_body(wire: Wire, status: int, message: str) -> dict[str, Any]:
    if wire == "openai":
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    kind = {
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }
    return {
        "type": "error",
        "error": {
            "type": kind.get(status, "api_error" if status >= 500 else "invalid_request_error"),
            "message": message,
        },
    }


def context_error(wire: Wire, limit: int, sent: int) -> Reply:
    """The provider's 400 for a prompt over the context window, in its own words."""
    if wire == "openai":
        body = {
            "error": {
                "message": f"This model's maximum context length is {limit} tokens. However, your "
                f"messages resulted in {sent} tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }
        return Reply(body, 400)
    message = f"prompt is too long: {sent} tokens > {limit} maximum"
    return Reply({"type": "error", "error": {"type": "invalid_request_error", "message": message}}, 400)


ScriptFn = Callable[[Turn], "Step | Reply"]


def scripted(
    *steps: ScriptFn | Step | Reply, then: ScriptFn | Step | Reply | None = None
) -> Callable[[Turn], Step | Reply]:
    """Steps in order, one per request; after the last, `then` (default: fail the test)."""
    pending = list(steps)

    def next_step(turn: Turn) -> Step | Reply:
        item = pending.pop(0) if pending else then
        if item is None:
            raise AssertionError(f"the script has no step for request #{turn.index + 1}")
        return item(turn) if callable(item) else item

    return next_step


class LLMServer:
    """A fake provider on 127.0.0.1. `handler(turn)` answers each request. Use as a context manager."""

    def __init__(self, wire: Wire, handler: Callable[[Turn], Step | Reply], *, validate: bool = True) -> None:
        self.wire = wire
        self.handler = handler
        self.validate = validate
        self.requests: list[dict[str, Any]] = []
        self.sizes: list[int] = []  # bytes of each request body
        self.raw: list[bytes] = []  # each request as received: headers and body
        self.abandoned = 0  # answers the client no longer waited for (it timed out)
        self.headers: list[dict[str, str]] = []
        self.exchanges: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.paths: list[str] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                status, headers, body, delay = server._answer(self.path, dict(self.headers.items()), raw)
                time.sleep(delay)  # outside the lock: other requests are not held up
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    server.abandoned += 1

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @classmethod
    def replay(
        cls,
        wire: Wire,
        path: Path | str,
        *,
        compare: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
    ) -> LLMServer:
        recorded = json.loads(Path(path).read_text())
        queue = list(recorded)
        same = compare or (lambda got, want: got == want)

        def answer(turn: Turn) -> Reply:
            if not queue:
                raise AssertionError(f"replay: no recorded exchange for request #{turn.index + 1}")
            ex = queue.pop(0)
            if not same(turn.body, ex["request"]):
                raise AssertionError(f"replay: request #{turn.index + 1} differs from the recording")
            return Reply(ex["response"], ex.get("status", 200), ex.get("headers", {}))

        return cls(wire, answer)

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.exchanges, indent=1, sort_keys=True))

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if self.wire == "openai" else root

    def _answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any, float]:
        with self._lock:
            index = len(self.requests)
            self.raw.append(("\n".join(f"{k}: {v}" for k, v in headers.items()) + "\n\n").encode() + raw)
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"request #{index + 1} is not JSON")
                return 400, {}, error_body(self.wire, 400, "not JSON"), 0.0
            self.requests.append(body)
            self.sizes.append(len(raw))
            self.headers.append({k.lower(): v for k, v in headers.items()})
            self.paths.append(path)
            want = "/v1/chat/completions" if self.wire == "openai" else "/v1/messages"
            if path.split("?")[0] != want:
                self.violations.append(f"request #{index + 1} went to {path}, not {want}")
            if self.validate:
                for err in schema_errors(self.wire, "request", body) + pairing_errors(self.wire, body):
                    self.violations.append(f"request #{index + 1}: {err}")
            if self.violations:
                return 400, {}, error_body(self.wire, 400, "; ".join(self.violations[-3:])), 0.0
            try:
                out = self.handler(_turn(self.wire, body, index))
            except AssertionError as exc:
                self.violations.append(str(exc))
                return 400, {}, error_body(self.wire, 400, str(exc)), 0.0
            reply = out if isinstance(out, Reply) else Reply(render(self.wire, out, body, self._ids))
            if self.validate:
                root: Literal["response", "error"] = "response" if reply.status == 200 else "error"
                for err in schema_errors(self.wire, root, reply.body):
                    if isinstance(out, Step) and not out.usage and "usage" in err:
                        continue  # left out on purpose: the habit of some compatible servers
                    self.violations.append(f"scripted {root} #{index + 1}: {err}")
            self.exchanges.append(
                {"request": body, "response": reply.body, "status": reply.status, "headers": reply.headers}
            )
            delay = out.delay_s if isinstance(out, Step) else 0.0
            return reply.status, reply.headers, reply.body, delay

    def __enter__(self) -> LLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self.violations and exc[0] is None:
            raise AssertionError("the LLM fake saw wire-format violations:\n" + "\n".join(self.violations))

    def close(self) -> None:
        """Stop listening without ever serving (a test of an endpoint nobody answers at)."""
        self._httpd.server_close()

    def check(self) -> None:
        assert not self.violations, "\n".join(self.violations)
