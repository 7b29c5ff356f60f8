"""Progress on stderr while a review works, driven by the agent's event stream.

On a terminal, one live status line, redrawn a few times a second: the phase, the elapsed time and
the tests run so far. Without a terminal (CI logs, pipes), one line per phase, printed when the
phase begins. `reviewbot local --quiet` turns it off.

It is an `EventSink`: the CLI hands it to the review as `trace` (next to `--trace FILE`), so the
phases are the agent's own decisions (lint, tests at head, tests re-run at base, the report) plus
the review's PHASE events for the steps before the loop (preparing, starting the sandbox).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # at run time events are matched by their kind's value: the first line comes
    from reviewbot.agent.events import AgentEvent  # before pydantic and the review stack load

REDRAW_S = 0.25
_TESTS = re.compile(r"(\d+) test")
_FAILING = re.compile(r"(\d+) failing")
_READING = {"read_file", "search_code", "get_diff"}


def _revision(args: str | None) -> str:
    try:
        value = json.loads(args or "{}").get("revision", "head")
    except (ValueError, AttributeError):
        value = "head"
    return str(value)


def phase_of(event: AgentEvent) -> str | None:
    """The phase an event starts, in words (None: the event does not change the phase)."""
    if event.kind == "phase":
        return event.message
    if event.kind != "decision" or event.tool is None:
        return None
    revision = _revision(event.args)
    if event.tool == "analyze_code":
        return f"linting ({revision})"
    if event.tool == "run_tests":
        return "running the tests (head)" if revision == "head" else "re-running failing tests at the base"
    if event.tool in _READING:
        return "reading the change"
    if event.tool == "report":
        return "writing the report"
    return f"running {event.tool}"


class Progress:
    """Shows the review's progress on `stream`; `live` redraws one line (a terminal)."""

    def __init__(self, stream: TextIO, *, live: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.live = live
        self.clock = clock
        self.started = clock()
        self.phase = ""
        self.tests = 0
        self.failing = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def emit(self, event: AgentEvent) -> None:
        if event.kind == "result" and event.tool == "run_tests":
            with self._lock:
                self._count(event.message)
        phase = phase_of(event)
        if phase is not None:
            self.show(phase)

    def show(self, phase: str) -> None:
        """Enter `phase` (shown once, however many events belong to it)."""
        with self._lock:
            if phase == self.phase:
                return
            self.phase = phase
            if self.live:
                self._draw()
            else:
                self._line(f"reviewbot: [{self.clock() - self.started:6.1f}s] {phase}")

    def _count(self, message: str) -> None:
        tests, failing = _TESTS.search(message), _FAILING.search(message)
        if tests:
            self.tests += int(tests.group(1))
        if failing:
            self.failing += int(failing.group(1))

    def status(self) -> str:
        text = f"reviewbot: {self.phase or 'starting'} - {self.clock() - self.started:.1f}s"
        if self.tests:
            text += f" - {self.tests} tests so far" + (f", {self.failing} failing" if self.failing else "")
        return text

    def _draw(self) -> None:
        self.stream.write("\r\x1b[2K" + self.status())
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_S):
            with self._lock:
                self._draw()

    def __enter__(self) -> Progress:
        if self.live:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, name="reviewbot-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.live:  # leave the terminal clean for the report and any warning
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
            elif exc_type is None:
                self._line(f"reviewbot: [{self.clock() - self.started:6.1f}s] done")
