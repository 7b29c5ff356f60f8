"""Hostile slow clients against a receiver, over real sockets (used by the tests and by
benchmarks/bench_webhooks.py).

`SlowClients(port, n)` keeps `n` connections open, re-opening any the server closes (as an attacker
would), spread over four kinds:
- `trickle`: a request line and a header that never ends, one byte every `interval`;
- `stall`: complete headers announcing a 1 MB body, 8 KB of it, then nothing;
- `silent`: connect and send nothing;
- `unread`: pipelined `GET /healthz` requests whose answers are never read.
`closed_by_server[kind]` counts the connections the server ended (EOF, reset or broken pipe).
"""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass, field

KINDS = ("trickle", "stall", "silent", "unread")


@dataclass
class _Slot:
    kind: str
    sock: socket.socket | None = None


@dataclass
class SlowClients:
    port: int
    n: int = 40
    interval: float = 0.5
    host: str = "127.0.0.1"
    closed_by_server: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    opened: int = 0

    def __post_init__(self) -> None:
        self._slots = [_Slot(KINDS[i % len(KINDS)]) for i in range(self.n)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="slow-clients", daemon=True)

    def __enter__(self) -> SlowClients:
        for slot in self._slots:
            self._open(slot)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for slot in self._slots:
            if slot.sock is not None:
                slot.sock.close()

    def open_now(self) -> int:
        return sum(slot.sock is not None for slot in self._slots)

    def _open(self, slot: _Slot) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
        except OSError:
            slot.sock = None  # the server is not accepting right now: try again next tick
            return
        sock.setblocking(False)
        slot.sock = sock
        self.opened += 1
        first = {
            "trickle": b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            "stall": b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-GitHub-Event: ping\r\nX-GitHub-Delivery: stall\r\nContent-Length: 1000000\r\n\r\n"
            + b"["
            * 8192,
            "silent": b"",
            "unread": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 4,
        }[slot.kind]
        self._send(slot, first)

    def _send(self, slot: _Slot, data: bytes) -> None:
        if not data or slot.sock is None:
            return
        try:
            slot.sock.send(data)
        except BlockingIOError:
            pass  # the server stopped reading us: fine, that is its right
        except OSError:
            self._closed(slot)

    def _closed(self, slot: _Slot) -> None:
        self.closed_by_server[slot.kind] += 1
        if slot.sock is not None:
            slot.sock.close()
        slot.sock = None

    def _server_closed(self, slot: _Slot) -> bool:
        """EOF or reset seen. `unread` connections never read their answers, so only a reset or a
        failed send tells us about them."""
        if slot.sock is None or slot.kind == "unread":
            return False
        readable, _, _ = select.select([slot.sock], [], [], 0)
        if not readable:
            return False
        try:
            return slot.sock.recv(65536) == b""  # an answer (e.g. 400) followed by EOF comes next
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for slot in self._slots:
                if slot.sock is None:
                    self._open(slot)
                elif self._server_closed(slot):
                    self._closed(slot)
                elif slot.kind == "trickle":
                    self._send(slot, b"a")
                elif slot.kind == "unread":
                    self._send(slot, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
