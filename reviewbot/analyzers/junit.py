"""Parse what an untrusted pytest run reports: junit XML (xunit1 family: carries file and line),
and reviewbot's streamed test log (`reviewbot/analyzers/_reviewbot_testlog.py`), which survives a
run killed at its time limit and says which tests were running then.

Both come out of a sandbox that ran the PR's code, so they are hostile: the XML is parsed with
defusedxml (no entity expansion, no external entities), the log line by line with every field
checked, and both are refused above a size cap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from reviewbot.errors import AnalyzerError

MAX_JUNIT_BYTES = 20 * 1024 * 1024
MAX_DETAIL_CHARS = 16000  # the end of a traceback: the frames that locate the cause (trimmed later)


@dataclass(frozen=True)
class TestCase:
    nodeid: str
    path: str
    line: int | None  # 1-based line of the test function, when pytest reported it
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")


@dataclass(frozen=True)
class JunitReport:
    cases: tuple[TestCase, ...]
    collection_errors: tuple[TestCase, ...]

    @property
    def failures(self) -> tuple[TestCase, ...]:
        return tuple(c for c in self.cases if c.failed)


def _nodeid(path: str, classname: str, name: str) -> str:
    """pytest's node id from xunit1 attributes: classname is the dotted module path + classes."""
    module = path[:-3].replace("/", ".") if path.endswith(".py") else ""
    classes = classname[len(module) + 1 :] if module and classname.startswith(module + ".") else ""
    parts = [path, *[c for c in classes.split(".") if c], name]
    return "::".join(parts)


def _outcome(case: Element) -> tuple[str, str, str]:
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            detail = (child.text or "")[-MAX_DETAIL_CHARS:]
            return outcome, child.get("message", "")[:500], detail
    return "passed", "", ""


def parse_junit(data: bytes) -> JunitReport:
    if len(data) > MAX_JUNIT_BYTES:
        raise AnalyzerError(f"the test report is {len(data)} bytes, above the {MAX_JUNIT_BYTES}-byte cap")
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise AnalyzerError(f"the test report (junit XML) is malformed or unsafe: {exc}") from exc
    cases: list[TestCase] = []
    collection: list[TestCase] = []
    for case in root.iter("testcase"):
        path = case.get("file", "") or ""
        classname = case.get("classname", "") or ""
        name = case.get("name", "") or ""
        line_attr = case.get("line")
        line = int(line_attr) + 1 if line_attr and line_attr.isdigit() else None
        outcome, message, detail = _outcome(case)
        if not classname and outcome == "error":
            # pytest records a module that failed to import as a nameless error case.
            mod_path = path or (name.replace(".", "/") + ".py" if name else "")
            collection.append(
                TestCase(mod_path, mod_path, None, "error", message or "collection failed", detail)
            )
            continue
        if not path:
            path = classname.rsplit(".", 1)[0].replace(".", "/") + ".py" if "." in classname else classname
        cases.append(TestCase(_nodeid(path, classname, name), path, line, outcome, message, detail))
    return JunitReport(tuple(cases), tuple(collection))


@dataclass(frozen=True)
class TestLog:
    """What the streamed log says: every finished test, collection errors, how many tests were
    collected (None: collection did not finish), and the tests started but not finished."""

    report: JunitReport
    collected: int | None
    running: tuple[str, ...]
    finished: bool
    deadline: bool = False  # the run stopped itself at its deadline (a timeout)


def _records(data: bytes) -> list[dict[str, Any]]:
    if len(data) > MAX_JUNIT_BYTES:
        raise AnalyzerError(f"the test log is {len(data)} bytes, above the {MAX_JUNIT_BYTES}-byte cap")
    out = []
    for raw in data.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            continue  # a line cut by the kill, or noise: the others still count
        if isinstance(record, dict) and isinstance(record.get("nodeid", ""), str):
            out.append(record)
    return out


def _text(record: dict[str, Any], key: str, limit: int) -> str:
    value = record.get(key)
    return value[-limit:] if isinstance(value, str) else ""


class _Case:
    """One test's phases folded into one outcome (a failing setup/teardown is an error)."""

    def __init__(self, nodeid: str, line: int | None) -> None:
        self.nodeid, self.line = nodeid, line
        self.outcome, self.message, self.detail, self.done = "passed", "", "", False

    def add(self, record: dict[str, Any]) -> None:
        when, outcome = record.get("when"), record.get("outcome")
        if outcome == "failed" and self.outcome not in ("failed", "error"):
            self.outcome = "failed" if when == "call" else "error"
            self.message = _text(record, "message", 500)
            self.detail = _text(record, "longrepr", MAX_DETAIL_CHARS)
        elif outcome == "skipped" and self.outcome == "passed":
            self.outcome = "skipped"
        self.done = self.done or when == "teardown"

    def case(self) -> TestCase:
        path = self.nodeid.partition("::")[0]
        return TestCase(self.nodeid, path, self.line, self.outcome, self.message, self.detail)


def parse_testlog(data: bytes) -> TestLog:
    cases: dict[str, _Case] = {}
    collection: list[TestCase] = []
    collected: int | None = None
    finished = deadline = False
    for record in _records(data):
        event, nodeid = record.get("event"), str(record.get("nodeid", ""))
        if event == "collected" and isinstance(record.get("count"), int):
            collected = record["count"]
        elif event == "collecterror":
            detail = _text(record, "longrepr", MAX_DETAIL_CHARS)
            collection.append(TestCase(nodeid, nodeid, None, "error", "collection failure", detail))
        elif event == "start" and nodeid:
            line = record.get("line")
            cases.setdefault(nodeid, _Case(nodeid, line if isinstance(line, int) and line > 0 else None))
        elif event == "report" and nodeid:
            cases.setdefault(nodeid, _Case(nodeid, None)).add(record)
        elif event == "finish":
            finished = True
        elif event == "deadline":
            deadline = True
    done = tuple(c.case() for c in cases.values() if c.done)
    running = tuple(c.nodeid for c in cases.values() if not c.done)
    return TestLog(JunitReport(done, tuple(collection)), collected, running, finished, deadline)


def finished_count(data: bytes) -> int:
    """How many tests a (possibly still growing) test log says have finished: cheap, for progress."""
    return data.count(b'"when": "teardown"')
