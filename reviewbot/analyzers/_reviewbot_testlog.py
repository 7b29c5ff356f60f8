"""A pytest plugin reviewbot ships into the sandbox: a streamed log of the test run.

Never imported by reviewbot itself: `runners.run_pytest` uploads this file next to the revisions
and loads it with `-p _reviewbot_testlog --reviewbot-testlog=PATH`. It appends one JSON object per
line to PATH and flushes each line, so a run killed at its time limit leaves every result it
reached, and the tests that were running when it was killed:

    {"event": "collected", "count": 784}                       after collection (the last one counts)
    {"event": "collecterror", "nodeid": "tests/test_x.py", "longrepr": "..."}
    {"event": "start", "nodeid": "tests/test_x.py::test_a", "path": "tests/test_x.py", "line": 12}
    {"event": "report", "nodeid": "...", "when": "setup|call|teardown", "outcome": "passed|failed|skipped",
     "message": "...", "longrepr": "..."}                     message/longrepr only when failed
    {"event": "finish", "exitstatus": 1}
    {"event": "deadline", "seconds": 590.0}                   then the process exits with DEADLINE_EXIT

`--reviewbot-deadline=SECONDS` makes the run stop itself (a "deadline" line, then exit code
DEADLINE_EXIT) a little before the sandbox's own wall clock would kill it: a sandbox may discard
everything a killed command wrote, and this way the log survives whatever the backend does.

`line` is 1-based. A progress display can count "tests so far" as the `report` lines with
`"when": "teardown"`, one per finished test (`reviewbot.analyzers.junit.finished_count`). Text
fields are bounded (LONGREPR_CHARS, from the end: the cause is at the end of a traceback). The
log is written by the PR's own test process, so it is as untrusted as the junit report: reviewbot
parses it with size caps and checks every field.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import pytest

LONGREPR_CHARS = 16000
MESSAGE_CHARS = 500
DEADLINE_EXIT = 124


class _Log:
    def __init__(self, path: str) -> None:
        self._fh = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - lives as long as pytest
        self._lock = threading.Lock()  # the deadline timer writes from its own thread

    def write(self, **record: Any) -> None:
        with self._lock:
            self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


_log: _Log | None = None


def pytest_addoption(parser: Any) -> None:
    parser.addoption("--reviewbot-testlog", default=None, help="reviewbot: stream test results to this file")
    parser.addoption("--reviewbot-deadline", default=None, help="reviewbot: stop the run after SECONDS")


def _expire(seconds: float) -> None:
    if _log is not None:
        _log.write(event="deadline", seconds=seconds)
    os._exit(DEADLINE_EXIT)


def pytest_configure(config: Any) -> None:
    global _log
    path = config.getoption("--reviewbot-testlog")
    if path and not hasattr(config, "workerinput"):  # xdist workers report through the controller
        _log = _Log(path)
        deadline = config.getoption("--reviewbot-deadline")
        if deadline:
            timer = threading.Timer(float(deadline), _expire, args=(float(deadline),))
            timer.daemon = True
            timer.start()


def _message(report: Any) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr or "").strip().splitlines()[-1:]
    return str(text[0] if isinstance(text, list) and text else text)[:MESSAGE_CHARS]


def pytest_collectreport(report: Any) -> None:
    if _log is not None and report.failed:
        _log.write(
            event="collecterror", nodeid=report.nodeid, longrepr=str(report.longrepr)[-LONGREPR_CHARS:]
        )


def pytest_collection_finish(session: Any) -> None:
    if _log is not None:
        _log.write(event="collected", count=len(session.items))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """With pytest-xdist the controller collects nothing itself; a worker's collection counts."""
    if _log is not None:
        _log.write(event="collected", count=len(ids))


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if _log is not None:
        line = location[1] + 1 if isinstance(location[1], int) else None
        _log.write(event="start", nodeid=nodeid, path=location[0], line=line)


def pytest_runtest_logreport(report: Any) -> None:
    if _log is None:
        return
    record: dict[str, Any] = {"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome}
    if report.failed:
        record.update(message=_message(report), longrepr=str(report.longrepr)[-LONGREPR_CHARS:])
    _log.write(event="report", **record)


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    global _log
    if _log is not None:
        _log.write(event="finish", exitstatus=int(exitstatus))
        _log.close()
        _log = None
