"""Probe 58 (docs/security.md): slow clients cannot stall `reviewbot serve` (the shipped default,
in a subprocess).

40 hostile connections — headers trickled a byte at a time, bodies stalled mid-way, silent
connections, pipelined requests whose answers are never read — stay open (re-opened by the
attacker whenever the server drops them) while validly signed deliveries must be acknowledged
within 2 s (GitHub allows 10) and /healthz must answer. The read deadlines must also actually end
the slow connections, or dozens more would pile up.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .wh_helpers import SECRET, answers, deliver, free_port, pr_payload, start_reviewbot, wait_until
from .wh_slowclients import SlowClients


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        "REVIEWBOT_WEBHOOK_SECRET": SECRET,
        "REVIEWBOT_DATA_DIR": str(tmp_path / "data"),
        "REVIEWBOT_GITHUB_TOKEN": "unused",
        "REVIEWBOT_GIT_URL": f"http://127.0.0.1:{free_port()}",  # nothing there: jobs just retry
        "REVIEWBOT_WEBHOOK_WORKERS": "1",
    }
    extra = ("--no-docker-check", "--header-timeout", "2", "--body-timeout", "4")
    proc = start_reviewbot("serve", port, env, log, *extra)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(url) or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, log.read_text()
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def test_forty_slow_connections_do_not_delay_acks_or_healthz(served: str) -> None:
    url = served
    with SlowClients(int(url.rsplit(":", 1)[1]), n=40) as slow:
        wait_until(lambda: slow.open_now() == 40, timeout=10)
        time.sleep(1)  # every kind has sent what it sends
        with httpx.Client(timeout=2.0) as client:  # GitHub allows 10 s; we hold ourselves to 2
            for i in range(6):
                payload = pr_payload(number=i + 1, head=f"{i:040x}", base="b" * 40)
                r = deliver(client, url, "pull_request", payload, delivery=f"slow-{uuid.uuid4()}")
                assert r.status_code == 202, r.text
                health = client.get(f"{url}/healthz")
                assert health.status_code == 200 and health.json()["data_dir"] == "ok"
                time.sleep(1)
        # The deadlines (2 s for headers, 4 s for a whole request) ended the slow connections,
        # again and again, although they kept sending: nothing accumulates.
        assert slow.closed_by_server["trickle"] >= 10, slow.closed_by_server
        assert slow.closed_by_server["stall"] >= 10, slow.closed_by_server
        assert slow.closed_by_server["silent"] >= 10, slow.closed_by_server
        assert slow.open_now() <= 40


def test_a_header_trickler_is_cut_off_by_the_deadline_not_by_idleness(served: str) -> None:
    port = int(served.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 15:  # a byte every 0.2 s: never idle
            try:
                sock.sendall(b"a")
            except OSError:
                closed = True
                break
            time.sleep(0.2)
        assert closed, "the server kept a header trickler open past its 2 s header deadline"


def test_pipelined_requests_whose_answers_are_never_read_hold_no_thread(served: str) -> None:
    # Twenty connections each send 200 requests and never read: the answers pile up in the
    # server's buffers (or the server stops reading them), not in its threads.
    port = int(served.rsplit(":", 1)[1])
    socks = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
        socks.append(s)
    try:
        with httpx.Client(timeout=2.0) as client:
            r = deliver(client, served, "ping", {"zen": "z", "hook_id": 1}, delivery="p-1")
            assert r.status_code == 200, r.text
    finally:
        for s in socks:
            s.close()
