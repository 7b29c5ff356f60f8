"""POST a JSON body to an LLM endpoint with bounded retries; translate failures into ModelError.

Retried (at most `max_retries` times): 408, 409, 429, 5xx (Anthropic's 529 "overloaded" too),
timeouts and connection errors. The wait honours `Retry-After` (seconds or an HTTP date) and
OpenAI's `retry-after-ms`, capped at `max_retry_wait_s`; without one it backs off exponentially.
Not retried, and explained: 401/403 (key), 404 (model or endpoint), context length (the prompt is
too long: `ContextLengthError`, so the policy can shrink it), other 4xx.

The key is only ever in request headers; error messages are built from status and the server's
own message, with the key masked in case a proxy echoes it.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from reviewbot.errors import ModelError
from reviewbot.llm.model import ContextLengthError

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context length",
    "context window",
    "prompt is too long",
    "too many tokens",
    "exceeds the available context",
)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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


class JsonPoster:
    """One provider's HTTP edge. `client` may be injected (tests, connection reuse); `sleep` is
    injectable so retry tests do not wait."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        timeout_s: float,
        max_retries: int,
        max_retry_wait_s: float,
        secret: str | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.provider = provider
        self.model = model
        self.max_retries = max_retries
        self.max_retry_wait_s = max_retry_wait_s
        self._secret = secret
        self._sleep = sleep
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        self.attempts = 0  # total HTTP attempts, for tests and benchmarks

    def _mask(self, text: str) -> str:
        return text.replace(self._secret, "[REDACTED]") if self._secret else text

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return float(min(exc.retry_after, self.max_retry_wait_s))
        return float(min(0.5 * 2 ** (state.attempt_number - 1), self.max_retry_wait_s))

    def post(self, url: str, headers: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, Any]:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            result: dict[str, Any] = retrying(self._once, url, headers, body)
            return result
        except _Retryable as exc:
            raise ModelError(
                f"{self.provider} at {url} kept failing after {self.max_retries + 1} attempts: {exc}"
            ) from exc

    def _once(self, url: str, headers: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, Any]:
        self.attempts += 1
        try:
            response = self._client.post(url, headers=dict(headers), json=body)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})", None) from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"could not connect: {self._mask(str(exc))}", None) from exc
        status = response.status_code
        if status == 200:
            try:
                data = response.json()
            except ValueError as exc:
                raise ModelError(f"{self.provider} at {url} returned a body that is not JSON") from exc
            if not isinstance(data, dict):
                raise ModelError(f"{self.provider} at {url} returned JSON that is not an object")
            return data
        message = self._mask(server_message(response))
        if status in RETRY_STATUS:
            raise _Retryable(f"HTTP {status}: {message}", parse_retry_after(response.headers))
        if status in (401, 403):
            raise ModelError(
                f"{self.provider} refused the API key (HTTP {status}) at {url}: {message}. "
                "Check REVIEWBOT_LLM_API_KEY (or OPENAI_API_KEY / ANTHROPIC_API_KEY)."
            )
        if status == 404:
            raise ModelError(
                f"{self.provider} at {url} answered 404 for model {self.model!r}: {message}. "
                "Check --llm-base-url and --llm-model."
            )
        if status == 413 or any(m in message.lower() for m in _CONTEXT_MARKERS):
            raise ContextLengthError(
                f"the prompt is too long for {self.model!r} (HTTP {status}): {message}. "
                "Lower llm.context_tokens."
            )
        raise ModelError(f"{self.provider} at {url} rejected the request (HTTP {status}): {message}")

    def close(self) -> None:
        self._client.close()
