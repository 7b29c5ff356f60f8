from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviewbot.settings import Settings, load_settings
from tests.shared_data import SHARED as SHARED_DATA
from webhooks.jobs import ReviewJob
from webhooks.signature import sign

SHARED = SHARED_DATA / "github" / "webhooks"
EXAMPLES = SHARED / "payload-examples" / "api.github.com"
SECRET = "It's a Secret to Everybody"


def example(rel: str) -> dict[str, Any]:
    path = SHARED / "derived" / rel if rel.endswith("DERIVED.json") else EXAMPLES / rel
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def pr_payload(
    *,
    action: str = "opened",
    repo: str = "octo/hello",
    number: int = 7,
    head: str = "a" * 40,
    base: str = "b" * 40,
    clone_url: str = "https://github.com/octo/hello.git",
    installation: int | None = 1,
    draft: bool = False,
) -> dict[str, Any]:
    """GitHub's real `pull_request.opened` example, pointed at our repo and shas."""
    p = copy.deepcopy(example("pull_request/opened.payload.json"))
    p["action"] = action
    p["number"] = number
    pr = p["pull_request"]
    pr.update(number=number, draft=draft)
    pr["head"]["sha"], pr["base"]["sha"] = head, base
    for side in ("head", "base"):
        pr[side]["repo"].update(full_name=repo, clone_url=clone_url)
    p["repository"].update(full_name=repo, clone_url=clone_url)
    if installation is None:
        p.pop("installation", None)
    else:
        p["installation"] = {"id": installation, "node_id": "x"}
    return p


def comment_payload(*, body: str, login: str, repo: str = "octo/hello", number: int = 7) -> dict[str, Any]:
    p = copy.deepcopy(example("issue_comment/created.on-pull-request.DERIVED.json"))
    p["comment"]["body"] = body
    p["comment"]["user"]["login"] = login
    p["issue"]["number"] = number
    p["repository"]["full_name"] = repo
    return p


def deliver(
    client: httpx.Client,
    url: str,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery: str | None = None,
    secret: str = SECRET,
    signature: str | None = None,
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature if signature is not None else sign(secret.encode(), body),
        "User-Agent": "GitHub-Hookshot/test",
    }
    return client.post(f"{url}/webhook", content=body, headers=headers)


def review_job(delivery: str, head: str = "a" * 40, pr: int = 1, base: str = "b" * 40) -> ReviewJob:
    """A pull_request job for octo/hello (installation 1)."""
    return ReviewJob(
        delivery_id=delivery,
        trigger="pull_request",
        repo_full_name="octo/hello",
        pr_number=pr,
        head_sha=head,
        base_sha=base,
        base_ref="main",
        installation_id=1,
    )


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"webhook_secret": SECRET, "data_dir": str(tmp / "data")}
    base.update(overrides)
    return load_settings(overrides=base)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


MAIN = "import sys; from reviewbot.cli.main import main; sys.exit(main(sys.argv[1:]))"


def start_reviewbot(
    command: str, port: int | None, env: dict[str, str], log: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """`reviewbot serve|worker` in a subprocess with only `env` (plus PATH/HOME), output to `log`."""
    full = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [os.environ.get("PYTHONPATH"), str(Path(__file__).parents[2])])
        ),
        **{k: v for k, v in os.environ.items() if k.startswith("REVIEWBOT_HOPS_")},  # scripts/hops.py
        **env,
    }
    where = ["--host", "127.0.0.1", "--port", str(port)] if port is not None else []
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", MAIN, command, *where, *extra],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Any WSGI app under werkzeug's server on a free loopback port, in a thread; yields its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextlib.contextmanager
def serve_receiver(app: Any, limits: Any = None) -> Iterator[str]:
    """A WSGI app under the server `reviewbot serve` uses (waitress + read deadlines), in a thread."""
    from waitress import wasyncore

    from webhooks.http_server import HttpLimits, make_server

    server = make_server(app, "127.0.0.1", 0, threads=4, limits=limits or HttpLimits())
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)
        thread.join(5)


def answers(url: str) -> bool:
    """/healthz answers at all (healthy or not)."""
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


class RedisServer:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (scripts/setup-services.sh installs it)")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
