"""Structured events: every decision of the agent loop, for `--trace FILE` and for tests.

Events carry only what is safe to write to a log: the tool name, the call's arguments as
truncated canonical JSON, and the tool's short `text` summary, truncated — never the structured
`data` of a result, and everything passes through `redact` (token-like strings masked) first.
"""

from __future__ import annotations

import json
import re
import threading
import time
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol

from pydantic import BaseModel, ConfigDict

MAX_EVENT_TEXT = 2000


class EventKind(StrEnum):
    START = "start"  # the run began; message lists tools and budgets
    DECISION = "decision"  # the policy chose an action (before it runs, so a hung tool still shows)
    RESULT = "result"  # a tool call finished (or was refused); outcome + duration
    STOP = "stop"  # the run ended; outcome is the stop reason
    PHASE = "phase"  # a step of the review outside the loop (preparing, starting the sandbox)


class AgentEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    timestamp: float  # wall-clock seconds since the epoch (the injected wall clock)
    kind: EventKind
    agent: str = "agent"  # which agent loop (specialists of a multi-agent review share a trace)
    iteration: int
    tool: str | None = None
    args: str | None = None  # canonical JSON, truncated and redacted
    outcome: str | None = None  # "ok", a ToolErrorKind value, "finish", or a StopReason value
    duration_s: float | None = None
    message: str = ""


class EventSink(Protocol):
    def emit(self, event: AgentEvent) -> None: ...


class ListSink:
    """Keeps events in memory (tests, and the loop's own record)."""

    def __init__(self) -> None:
        self.events: list[AgentEvent] = []

    def emit(self, event: AgentEvent) -> None:
        self.events.append(event)


class JsonLinesSink:
    """Writes one JSON object per event to `path` (truncated first unless `append`), flushed per
    event so a trace survives a crash or a kill mid-run. Safe to share between agents running in
    threads. Use as a context manager or call `close()`."""

    def __init__(self, path: Path | str, *, append: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fh: IO[str] | None = self.path.open("a" if append else "w", encoding="utf-8")

    def emit(self, event: AgentEvent) -> None:
        line = event.model_dump_json() + "\n"
        with self._lock:
            if self._fh is None:
                raise ValueError(f"trace {self.path} is closed")
            self._fh.write(line)
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def __enter__(self) -> JsonLinesSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FanoutSink:
    """Sends each event to several sinks (e.g. a ListSink and a JsonLinesSink)."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: AgentEvent) -> None:
        for sink in self.sinks:
            sink.emit(event)


def phase_event(message: str) -> AgentEvent:
    """A PHASE event ("starting the docker sandbox"), for steps of a review before the loop runs."""
    return AgentEvent(
        timestamp=time.time(), kind=EventKind.PHASE, agent="review", iteration=0, message=message
    )


def emit_phase(sink: EventSink | None, message: str) -> None:
    if sink is not None:
        sink.emit(phase_event(message))


def read_trace(path: Path | str) -> list[AgentEvent]:
    """Parse a JSON-lines trace back into events."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [AgentEvent.model_validate_json(line) for line in lines if line.strip()]


# Token shapes worth masking even though tools should never see secrets: GitHub tokens, OpenAI /
# Anthropic keys, AWS access keys, bearer/basic auth headers, PEM private keys, key=value secrets.
_SECRET_PATTERNS = [
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\bsk-(?:ant-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"(?i)\b((?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=\-]{12,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    re.compile(r"(?i)\b((?:api[_-]?key|secret|password|passwd|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]{6,}"),
]


def redact(text: str) -> str:
    """Mask token-like substrings. A safety net for logs, not a guarantee: no secret should reach
    a tool in the first place."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "[REDACTED]", text)
        else:
            text = pattern.sub("[REDACTED]", text)
    return text


def clip(text: str, limit: int = MAX_EVENT_TEXT) -> str:
    """Truncate to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    note = f"... [truncated {len(text) - limit} chars]"
    return text[: max(limit - len(note), 0)] + note


def canonical_json(value: Any) -> str:
    """Key-sorted compact JSON: equal arguments give equal strings (repeat detection, traces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: object) -> object:
    """Typed values in arguments (a Finding in a report call) as their JSON; anything else as text."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)


_SLACK = 1024  # longer than any token shape: a secret starting within `limit` is redacted whole


def safe_text(text: str, limit: int = MAX_EVENT_TEXT) -> str:
    # Redact before clipping so a truncation can not cut a token in half and leave a usable prefix.
    # Only the part that can be kept (plus slack) is redacted: long outputs cost no more than short.
    if len(text) <= limit + _SLACK:
        return clip(redact(text), limit)
    note = f"... [truncated {len(text) - limit} chars]"
    return redact(text[: limit + _SLACK])[: max(limit - len(note), 0)] + note
