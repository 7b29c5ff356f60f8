"""The HTTP front of `reviewbot serve`: waitress, plus read deadlines.

Why waitress. A slow client must never hold a thread that acknowledges deliveries. gunicorn's
gthread worker hands a connection to a thread while its headers and body are still arriving, so
ten connections trickling headers and ten stalling mid-body took every thread. waitress (Pylons,
pure Python, well kept) reads each request — headers *and* body, spooled to a temp file past
512 KB — in one asynchronous loop, and gives a worker thread only a complete request; responses
are buffered the same way, so a client that never reads its answer holds no thread either. That
is the property we need, with years of production use, for the price of one small dependency.
A hand-written asyncio front would have to re-implement HTTP/1.1 framing (chunked bodies,
pipelining, `Expect: 100-continue`) to get the same; uvicorn has no header-read timeout, and its
WSGI adapters feed the body to the app thread as it arrives (a mid-body staller holds a thread);
gunicorn's gevent worker would monkey-patch the threads the embedded job workers and docker-py use.

What waitress lacks is a deadline for the request itself: its `channel_timeout` closes a
connection only after that long *without a byte*, so a client sending a byte a second is never
closed. `_DeadlineServer` adds it (in waitress's own maintenance pass, in the loop's thread): the
headers must be complete within `header_timeout_s` of the first byte (or of the connection opening),
and the whole request within `body_timeout_s`. Idle keep-alive connections close after
`idle_timeout_s`. Up to `connection_limit` connections are held at once (poll(), not select(), so
past 1024 descriptors too); beyond that waitress stops accepting until the deadlines free slots.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpLimits:
    header_timeout_s: float = 10.0  # first byte (or connect) -> end of headers
    body_timeout_s: float = 60.0  # first byte (or connect) -> end of body (25 MB at >0.5 MB/s)
    idle_timeout_s: int = 30  # keep-alive connection with no request in progress
    connection_limit: int = 1000
    max_body_bytes: int = 25 * 1024 * 1024 + 1  # the app answers its own 413 at exactly >25 MB
    max_header_bytes: int = 64 * 1024


class _DeadlineChannel(HTTPChannel):  # type: ignore[misc]  # waitress ships no type hints
    """Stamps when the request being read started; `None` while no request is in progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.request_started: float | None = time.monotonic()  # a silent connection times out too
        super().__init__(*args, **kwargs)

    def received(self, data: bytes) -> bool:
        if data and self.request is None and self.request_started is None:
            self.request_started = time.monotonic()
        done: bool = super().received(data)
        if self.request is None:  # every byte so far formed complete requests
            self.request_started = None
        return done


class _DeadlineServer(TcpWSGIServer):  # type: ignore[misc]
    channel_class = _DeadlineChannel
    limits = HttpLimits()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # waitress's idle timeout
        mono = time.monotonic()
        for channel in list(self.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is None or channel.will_close or channel.requests:
                continue  # nothing being read, already closing, or a request is being answered
            request = channel.request
            headers_done = request is not None and request.headers_finished
            limit = self.limits.body_timeout_s if headers_done else self.limits.header_timeout_s
            if mono - started > limit:
                what = "body" if headers_done else "headers"
                log.info("closing %s: %s not received within %.0f s", channel.addr, what, limit)
                channel.will_close = True


def make_server(app: Any, host: str, port: int, *, threads: int, limits: HttpLimits) -> Any:
    """A bound, listening server; call `.run()` to serve (returns after SystemExit/KeyboardInterrupt)."""
    _raise_fd_limit(limits.connection_limit + 256)
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        connection_limit=limits.connection_limit,
        channel_timeout=limits.idle_timeout_s,
        cleanup_interval=1,  # how often the deadlines are checked
        asyncore_use_poll=True,
        max_request_body_size=limits.max_body_bytes,
        max_request_header_size=limits.max_header_bytes,
        ident="reviewbot",
        expose_tracebacks=False,
    )
    server_class = type("ReceiverServer", (_DeadlineServer,), {"limits": limits})
    return server_class(app, map={}, adj=adj)


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
