"""Probes 59 and 60 (docs/security.md): hostile *signed* payloads (whoever holds the webhook
secret, or a replayed body) against the receiver under the real server, with each queue backend
(SQLite and a real redis-server): 4xx, never 500, and never the installation token sent anywhere
but the configured GitHub host."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.github_server import FakeGitHub
from webhooks.app import create_app
from webhooks.auth import StaticTokenProvider
from webhooks.queue import Queue
from webhooks.queue_sqlite import SqliteQueue, WorkerPool
from webhooks.signature import sign

from .wh_gitserver import make_pr_repo, serve_git
from .wh_helpers import SECRET, deliver, pr_payload, serve_receiver, settings_for, wait_until
from .wh_runners import clone_runner


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def receiver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Queue]]:
    queue: Queue
    if request.param == "redis":
        from webhooks.queue_redis import RedisQueue

        queue = RedisQueue(request.getfixturevalue("redis_server").url)
    else:
        queue = SqliteQueue(tmp_path / "q.sqlite3")
    app = create_app(settings_for(tmp_path), queue=queue, github_client_factory=None)
    with serve_receiver(app) as url:
        yield url, queue
    queue.close()


def _post(url: str, body: bytes, event: str = "pull_request", delivery: str = "d-1") -> httpx.Response:
    headers: dict[str, str | bytes] = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery.encode(),  # bytes: sent as they are, UTF-8 included
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
    }
    # httpx sends str and bytes values side by side; its hints allow one kind per mapping
    return httpx.post(f"{url}/webhook", content=body, headers=headers, timeout=30)  # type: ignore[arg-type]


HOSTILE_IDS = ["a.b", "a:b", "../x", "a/b", "a b", "é", "x" * 101, "a*", "{x}", "%2e", "a\tb"]


@pytest.mark.parametrize("delivery", HOSTILE_IDS, ids=repr)
def test_delivery_ids_outside_the_guid_charset_get_400_on_every_backend(
    receiver: tuple[str, Queue], delivery: str
) -> None:
    url, queue = receiver
    body = json.dumps(pr_payload()).encode()
    r = _post(url, body, delivery=delivery)
    assert r.status_code == 400, r.text
    assert "X-GitHub-Delivery" in r.json()["message"]
    assert queue.stats().queued == 0


def test_a_guid_delivery_id_is_enqueued_on_every_backend(receiver: tuple[str, Queue]) -> None:
    url, queue = receiver
    r = _post(url, json.dumps(pr_payload()).encode(), delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert r.status_code == 202, r.text
    assert queue.get("72d3162e-cc78-11e3-81ab-4c9367dc0958") is not None


PATHOLOGICAL = {
    "100k nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "100k nested arrays, unclosed": b"[" * 100_000,
    "100k nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deep value in an ignored field": b'{"zen":"z","hook_id":1,"x":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "a 100k-digit integer": b'{"zen":"z","hook_id":' + b"9" * 100_000 + b"}",
    "a float beyond double": b'{"zen":"z","hook_id":1e999999}',
    "NaN": b'{"zen":"z","hook_id":NaN}',
    "a string, not an object": b'"x"',
    "not UTF-8": b'{"zen":"\xff"}',
    "a lone surrogate escape": b'{"zen":"\\ud800"}',
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_json_gets_a_4xx_not_a_500(receiver: tuple[str, Queue], name: str) -> None:
    url, _ = receiver
    for event in ("ping", "pull_request"):
        r = _post(url, PATHOLOGICAL[name], event=event)
        assert 400 <= r.status_code < 500, (event, r.status_code, r.text[:300])


@pytest.mark.parametrize(
    "full_name",
    [
        "evil.example/x",
        "octo/hello.git/../../x",
        "@evil.example/x",
        "octo/..",
        "octo/.",
        "octo",
        "a/b/c",
        "-x/y",
        "octo/hello?x=1",
        "octo/hello#x",
        "octo/hel lo",
    ],
)
def test_repository_names_that_are_not_owner_name_get_400(
    receiver: tuple[str, Queue], full_name: str
) -> None:
    url, queue = receiver
    r = _post(url, json.dumps(pr_payload(repo=full_name)).encode())
    assert r.status_code == 400, r.text
    assert queue.stats().queued == 0


class _Trap:
    """An HTTP server that records every request (it stands for the attacker's host)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                trap.seen.append((self.path, self.headers.get("Authorization")))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def _pointing_at(payload: dict[str, Any], trap: str) -> dict[str, Any]:
    """Every URL of the payload's repositories points at the trap."""
    for repo in (
        payload["repository"],
        payload["pull_request"]["head"]["repo"],
        payload["pull_request"]["base"]["repo"],
    ):
        for key, value in list(repo.items()):
            if isinstance(value, str) and value.startswith("https://"):
                repo[key] = trap + "/steal" + value.split("github.com", 1)[-1]
    return payload


def test_a_signed_payload_pointing_elsewhere_never_receives_the_token(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    trap = _Trap()
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    try:
        with (
            FakeGitHub(pr.bare, full_name="octo/hello", token="tok") as gh,
            serve_git(tmp_path / "srv") as git,
        ):
            gh.open_pull(pr.number, pr.base_sha, pr.head_sha)
            runner = clone_runner(
                StaticTokenProvider(SecretStr("tok"), gh.base_url),
                gh.base_url,
                tmp_path / "jobs",
                git.url(""),
            )
            app = create_app(settings_for(tmp_path), queue=queue, github_client_factory=None)
            payload = _pointing_at(pr_payload(number=pr.number, head=pr.head_sha, base=pr.base_sha), trap.url)
            assert trap.url in json.dumps(payload)
            pool = WorkerPool(queue, runner, concurrency=1, poll_s=0.05)
            pool.start()
            with serve_receiver(app) as url, httpx.Client(timeout=30) as client:
                assert deliver(client, url, "pull_request", payload, delivery="evil-1").status_code == 202
                wait_until(lambda: queue.get("evil-1").state in ("done", "dead"), timeout=60)  # type: ignore[union-attr]
            pool.stop()
            assert queue.get("evil-1").state == "done", queue.get("evil-1")  # type: ignore[union-attr]
            assert len(gh.reviews) == 1  # reviewed from the configured host...
            assert git.seen_auth  # ...which got the token,
    finally:
        trap.server.shutdown()
        queue.close()
    assert trap.seen == []  # ...and the payload's host nothing at all
