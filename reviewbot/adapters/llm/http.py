"""POST a JSON body to an LLM endpoint with bounded retries; translate failures into ModelError.

Retried (at most `max_retries` times): 408, 409, 429, 5xx (Anthropic's 529 "overloaded" too) and
connection errors. The wait honours `Retry-After` (seconds or an HTTP date) and OpenAI's
`retry-after-ms`, capped at `max_retry_wait_s`; without one it backs off exponentially.
A read timeout is retried at most once: the model may have been generating the whole time, and
asking again pays for the same generation again.

Each call may carry its own deadline (`timeout_s`, what is left of the review's wall clock): no
attempt waits past it, and no retry starts that could not finish before it.

Not retried, and explained: 401/403 (key) and 404 (model or endpoint) are `ModelConfigError`;
context length (the prompt is too long) is `ContextLengthError` with the limit and size the
provider stated, so the policy can shrink the request; other 4xx.

What gets out of here is said without the endpoint's URL and with the key masked: error texts end
up in posted reviews. The key is only ever in request headers.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import httpx

from reviewbot.adapters.llm.model import (
    ContextLengthError,
    Message,
    ModelConfigError,
    ModelResponse,
    ModelUnavailable,
    RequestOptions,
    ToolSpec,
)
from reviewbot.errors import ModelError

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
MAX_TIMEOUT_RETRIES = 1
MIN_ATTEMPT_S = 1.0  # a retry with less time than this left is not started
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "exceeds the available context",
    "exceed context limit",
    "exceed the configured limit",
)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>)\]]+", re.I)
# OpenAI: "maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens"
#         (or "you requested 9100 tokens (9000 in the messages, 100 in the completion)")
_OPENAI_LIMIT = re.compile(r"(?:maximum context length is|configured limit of) (\d[\d,]*) tokens", re.I)
_OPENAI_SENT = re.compile(r"(?:resulted in|requested) (\d[\d,]*) tokens", re.I)
# Anthropic: "prompt is too long: 208310 tokens > 200000 maximum"
#            "input length and `max_tokens` exceed context limit: 195000 + 8192 > 200000"
_ANTHROPIC = re.compile(r"(\d[\d,]*) tokens > (\d[\d,]*) maximum", re.I)
_ANTHROPIC_SUM = re.compile(r"(\d[\d,]*) \+ (\d[\d,]*) > (\d[\d,]*)")


def scrub_urls(text: str) -> str:
    """Every URL in `text` replaced by a marker (an endpoint's address is nobody's business)."""
    return _URL.sub("[url removed]", text)


def _int(value: str) -> int:
    return int(value.replace(",", ""))


def context_numbers(message: str) -> tuple[int | None, int | None]:
    """(limit, sent) in tokens, as the provider's context-length message states them."""
    if match := _ANTHROPIC.search(message):
        return _int(match.group(2)), _int(match.group(1))
    if match := _ANTHROPIC_SUM.search(message):
        return _int(match.group(3)), _int(match.group(1)) + _int(match.group(2))
    limit = _OPENAI_LIMIT.search(message)
    sent = _OPENAI_SENT.search(message)
    return (_int(limit.group(1)) if limit else None), (_int(sent.group(1)) if sent else None)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timed_out = timed_out
        self.connect = not timed_out and message.startswith("could not connect")


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait according to the response headers, or None when they do not say."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def server_message(response: httpx.Response) -> str:
    """The error text from either provider's error envelope, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip()
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            kind = err.get("code") or err.get("type")
            return f"{err['message']}" + (f" ({kind})" if isinstance(kind, str) else "")
        if isinstance(err, str):
            return err
    return json.dumps(body)[:300]


@dataclass(kw_only=True, eq=False)
class JsonPoster:
    """One provider's HTTP edge. `client` may be injected (tests, connection reuse); `sleep` and
    `clock` are injectable so retry tests do not wait."""

    provider: str
    model: str
    timeout_s: float
    max_retries: int
    max_retry_wait_s: float
    secret: str | None = field(default=None, repr=False)
    client: httpx.Client | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    attempts: int = field(default=0, init=False)  # total HTTP attempts, for tests and benchmarks

    def __post_init__(self) -> None:
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0))
        self._client = self.client or httpx.Client(timeout=timeout)

    def clean(self, text: str) -> str:
        """`text` without the key or any URL: safe for an error message."""
        if self.secret:
            text = text.replace(self.secret, "[REDACTED]")
        return scrub_urls(text)

    def _wait(self, exc: _Retryable, attempt: int) -> float:
        if exc.retry_after is not None:
            return float(min(exc.retry_after, self.max_retry_wait_s))
        return float(min(0.5 * 2 ** (attempt - 1), self.max_retry_wait_s))

    def post(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], *, timeout_s: float | None = None
    ) -> dict[str, Any]:
        deadline = None if timeout_s is None else self.clock() + timeout_s
        timeouts = 0
        for attempt in range(1, self.max_retries + 2):
            left = None if deadline is None else deadline - self.clock()
            try:
                return self._once(url, headers, body, left)
            except _Retryable as exc:
                timeouts += exc.timed_out
                wait = self._wait(exc, attempt)
                out_of_time = deadline is not None and deadline - self.clock() - wait < MIN_ATTEMPT_S
                if attempt > self.max_retries or timeouts > MAX_TIMEOUT_RETRIES or out_of_time:
                    raise self._give_up(exc, attempt) from exc
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _give_up(self, exc: _Retryable, attempts: int) -> ModelUnavailable:
        plural = "s" if attempts != 1 else ""
        return ModelUnavailable(
            f"the {self.provider} endpoint kept failing after {attempts} attempt{plural}: {exc}",
            timed_out=exc.timed_out,
            connect=exc.connect,
        )

    def _once(
        self, url: str, headers: Mapping[str, str], body: Mapping[str, Any], left: float | None
    ) -> dict[str, Any]:
        self.attempts += 1
        read = self.timeout_s if left is None else max(min(self.timeout_s, left), 0.1)
        timeout = httpx.Timeout(read, connect=min(read, 10.0))
        try:
            response = self._client.post(url, headers=dict(headers), json=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise _Retryable(
                f"no answer within {read:.1f}s ({type(exc).__name__})", None, timed_out=True
            ) from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"could not connect: {self.clean(str(exc))}", None) from exc
        if response.status_code == 200:
            return self._json(response)
        self._fail(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise ModelError(f"the {self.provider} endpoint returned a body that is not JSON") from exc
        if not isinstance(data, dict):
            raise ModelError(f"the {self.provider} endpoint returned JSON that is not an object")
        return data

    def _fail(self, response: httpx.Response) -> None:
        status = response.status_code
        message = self.clean(server_message(response))
        if status in RETRY_STATUS:
            raise _Retryable(f"HTTP {status}: {message}", parse_retry_after(response.headers))
        if status in (401, 403):
            raise ModelConfigError(
                f"{self.provider} refused the API key (HTTP {status}): {message}. "
                "Check REVIEWBOT_LLM_API_KEY (or OPENAI_API_KEY / ANTHROPIC_API_KEY).",
                status=status,
            )
        if status == 404:
            raise ModelConfigError(
                f"{self.provider} answered 404 for model {self.model!r}: {message}. "
                "Check --llm-base-url and --llm-model.",
                status=status,
            )
        if status == 413 or any(m in message.lower() for m in _CONTEXT_MARKERS):
            limit, sent = context_numbers(message)
            raise ContextLengthError(
                f"the prompt is too long for {self.model!r} (HTTP {status}): {message}",
                limit=limit,
                sent=sent,
            )
        raise ModelConfigError(
            f"{self.provider} rejected the request (HTTP {status}): {message}", status=status
        )

    def close(self) -> None:
        self._client.close()


class WireModel(ABC):
    """The send step every provider adapter shares (the `Model.request` of both): build the
    provider's body, note its size (the context shrink compares it), post it, parse the answer.
    A subclass sets `poster`, `url`, `headers` and `name`, and speaks its wire format: the body
    without tools, the tool list, `tool_choice`, the answer's parser."""

    poster: JsonPoster
    url: str
    headers: dict[str, str]
    name: str
    last_request_chars: int = 0  # size of the last body sent

    @abstractmethod
    def conversation_body(self, system: str, messages: Sequence[Message], max_tokens: int) -> dict[str, Any]:
        """The provider's request body without tools: the model, the conversation, the output cap."""

    @staticmethod
    @abstractmethod
    def wire_tools(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        """The provider's form of the tool list."""

    @staticmethod
    @abstractmethod
    def tool_choice(force: str | None) -> str | dict[str, Any]:
        """The provider's `tool_choice` for `force` (see `Model`)."""

    @staticmethod
    @abstractmethod
    def parse(data: dict[str, Any], *, prompt_chars: int) -> ModelResponse:
        """The answer as a `ModelResponse`; `prompt_chars` (the body's size) estimates missing usage."""

    def build_body(
        self, system: str, messages: Sequence[Message], tools: Sequence[ToolSpec], options: RequestOptions
    ) -> dict[str, Any]:
        """The provider's request body (a JSON object) for one request; `options["timeout_s"]` is
        the post's, not the body's."""
        body = self.conversation_body(system, messages, options["max_tokens"])
        if tools:
            body["tools"] = self.wire_tools(tools)
            body["tool_choice"] = self.tool_choice(options.get("force"))
        return body

    def request(
        self,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        **options: Unpack[RequestOptions],
    ) -> ModelResponse:
        body = self.build_body(system, messages, tools, options)
        self.last_request_chars = len(json.dumps(body))
        data = self.poster.post(self.url, self.headers, body, timeout_s=options.get("timeout_s"))
        return self.parse(data, prompt_chars=self.last_request_chars)
