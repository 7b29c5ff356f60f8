"""The Flask receiver: verify, parse, enqueue durably, answer 202. No review work in the request.

POST /webhook   401 bad/missing signature, 413 body over 25 MB, 400 malformed (bad JSON, nesting
                too deep, numbers too long, a delivery id other than [A-Za-z0-9_-]{1,100}, a
                repository name that is not owner/name), 202 enqueued, 200 duplicate / ignored /
                handled, 503 the queue or the GitHub API is down
GET  /healthz   200 when the queue and every extra check (data directory writable, Docker)
                answer, else 503 naming what failed
GET  /metrics   Prometheus text format, from this app's own registry
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from reviewbot.errors import CodeHostError, ConfigError
from reviewbot.settings import Settings
from webhooks.auth import TokenProvider, token_provider
from webhooks.errors import QueueUnavailable
from webhooks.events import BadPayload, Decision, GithubLookup, RepoLookup, decide
from webhooks.metrics import Metrics
from webhooks.payloads import Headers
from webhooks.queue import Queue
from webhooks.signature import verify

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub never sends more (docs/github-rules.md, "Webhook deliveries")

HealthCheck = Callable[[], None]
"""Raises (anything) when the dependency it checks is unreachable."""


def create_app(
    settings: Settings,
    *,
    queue: Queue,
    github_client_factory: TokenProvider | None = None,
    lookup: RepoLookup | None = None,
    health_checks: Mapping[str, HealthCheck] | None = None,
    review_drafts: bool = False,
    metrics: Metrics | None = None,
) -> Flask:
    """Wire a receiver. `github_client_factory` defaults to the credentials in `settings`."""
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise ConfigError(
            "webhook_secret is not set (REVIEWBOT_WEBHOOK_SECRET): deliveries cannot be verified"
        )
    tokens = github_client_factory if github_client_factory is not None else token_provider(settings)
    if lookup is None and tokens is not None:
        lookup = GithubLookup(tokens)
    m = metrics or Metrics(queue.stats)
    receiver = _Receiver(
        settings.webhook_secret.get_secret_value().encode(), queue, tokens, lookup, review_drafts, m
    )
    checks = dict(health_checks or {})

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["reviewbot.metrics"] = m
    app.extensions["reviewbot.queue"] = queue
    app.register_error_handler(RequestEntityTooLarge, receiver.too_large)
    app.add_url_rule("/webhook", "webhook", receiver.webhook, methods=["POST"])
    app.add_url_rule("/healthz", "healthz", lambda: _health(queue, checks), methods=["GET"])
    app.add_url_rule(
        "/metrics",
        "metrics",
        lambda: Response(generate_latest(m.registry), mimetype=CONTENT_TYPE_LATEST),
        methods=["GET"],
    )
    return app


@dataclass(frozen=True)
class _Receiver:
    """POST /webhook: verify, parse, decide, enqueue; every answer counted in the metrics."""

    secret: bytes
    queue: Queue
    tokens: TokenProvider | None
    lookup: RepoLookup | None
    review_drafts: bool
    metrics: Metrics

    def answer(self, event: str, outcome: str, status: int, message: str) -> tuple[Response, int]:
        self.metrics.delivery(event, outcome)
        return jsonify({"outcome": outcome, "message": message}), status

    def too_large(self, _: RequestEntityTooLarge) -> tuple[Response, int]:
        return self.answer("unverified", "too_large", 413, f"body over {MAX_BODY_BYTES} bytes")

    def webhook(self) -> tuple[Response, int]:
        body = _read_body()
        if not verify(self.secret, body, request.headers.get("X-Hub-Signature-256")):
            return self.answer("unverified", "bad_signature", 401, "missing or wrong X-Hub-Signature-256")
        try:
            headers = Headers(
                event=request.headers.get("X-GitHub-Event", ""),
                delivery=request.headers.get("X-GitHub-Delivery", ""),
            )
        except ValidationError:
            return self.answer("unknown", "bad_request", 400, _HEADERS_REQUIRED)
        event = headers.event
        try:
            payload = _parse_body(body, request.mimetype)
        except ValueError as exc:
            return self.answer(event, "bad_request", 400, str(exc))
        try:
            decision = decide(
                event, headers.delivery, payload, review_drafts=self.review_drafts, lookup=self.lookup
            )
        except (BadPayload, RecursionError) as exc:  # RecursionError: a model walking a deep value
            return self.answer(event, "bad_request", 400, str(exc))
        except CodeHostError as exc:
            # GitHub does not retry failed deliveries, but they show as failed and can be redelivered.
            log.warning("delivery %s: GitHub API failed: %s", headers.delivery, exc)
            return self.answer(event, "api_unavailable", 503, f"GitHub API failed: {exc}")
        return self._act(event, headers.delivery, decision)

    def _act(self, event: str, delivery: str, decision: Decision) -> tuple[Response, int]:
        if decision.forget_installation is not None and self.tokens is not None:
            self.tokens.forget(decision.forget_installation)
        if decision.kind != "enqueue" or decision.job is None:
            log.info("delivery %s (%s): %s: %s", delivery, event, decision.kind, decision.reason)
            prefix = "ignored: " if decision.kind == "ignored" else ""
            return self.answer(event, decision.kind, 200, prefix + decision.reason)
        try:
            result = self.queue.enqueue(decision.job)
        except QueueUnavailable as exc:
            log.error("delivery %s not enqueued: %s", delivery, exc)
            return self.answer(event, "queue_unavailable", 503, f"queue unavailable: {exc}")
        if result.status == "duplicate":
            return self.answer(event, "duplicate", 200, f"duplicate delivery {delivery}: already enqueued")
        log.info("delivery %s enqueued: %s", delivery, decision.reason)
        note = f" (superseded {result.superseded} older)" if result.superseded else ""
        return self.answer(event, "enqueued", 202, f"enqueued: {decision.reason}{note}")


_HEADERS_REQUIRED = (
    "X-GitHub-Event (1-100 characters) and X-GitHub-Delivery (a GUID: [A-Za-z0-9_-]{1,100}) are required"
)


def _health(queue: Queue, checks: Mapping[str, HealthCheck]) -> tuple[Response, int]:
    """GET /healthz: 200 when the queue and every check answer, else 503 naming what failed."""
    status: dict[str, str] = {}
    try:
        queue.ping()
        status["queue"] = "ok"
    except QueueUnavailable as exc:
        status["queue"] = f"unavailable: {exc}"
    for name, check in checks.items():
        try:
            check()
            status[name] = "ok"
        except Exception as exc:  # any failure of a probe means "unreachable"
            status[name] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
    healthy = all(v == "ok" for v in status.values())
    return jsonify({"healthy": healthy, **status}), 200 if healthy else 503


def _read_body() -> bytes:
    """The raw body, refusing more than MAX_BODY_BYTES with 413 — with or without Content-Length."""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        # With a length werkzeug refuses an oversized body up front; a stream the server does not
        # terminate reads as empty (and fails the signature): never an unbounded read.
        return request.get_data(cache=False)
    # Chunked: werkzeug would silently truncate at the cap; count the bytes ourselves instead.
    stream = request.environ["wsgi.input"]
    buf = bytearray()
    while chunk := stream.read(min(1 << 16, MAX_BODY_BYTES + 1 - len(buf))):
        buf += chunk
        if len(buf) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge()
    return bytes(buf)


def _parse_body(body: bytes, mimetype: str) -> dict[str, Any]:
    """JSON, or `payload=<json>` when the hook is configured as form-encoded. Raises ValueError."""
    if mimetype == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"form body could not be parsed: {exc}") from exc
        if len(form.get("payload", [])) != 1:
            raise ValueError("form body needs exactly one payload= field")
        text = form["payload"][0]
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError("body is not UTF-8") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not valid JSON: {exc.msg} at {exc.pos}") from exc
    except RecursionError as exc:  # `[[[[…` 100,000 deep: the C parser gives up
        raise ValueError("body is nested too deeply to be a GitHub payload") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits, and the like
        raise ValueError(f"body is not a usable JSON document: {str(exc)[:200]}") from exc
    if not isinstance(data, dict):
        raise ValueError("payload must be a JSON object")
    return data
