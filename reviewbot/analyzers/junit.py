"""Parse pytest's junit XML (xunit1 family: carries file and line) from an untrusted test run.

The XML comes out of a sandbox that ran the PR's code, so it is hostile: parsed with defusedxml
(no entity expansion, no external entities) and refused above a size cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from reviewbot.errors import AnalyzerError

MAX_JUNIT_BYTES = 20 * 1024 * 1024
MAX_DETAIL_CHARS = 4000


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
            mod_path = name.replace(".", "/") + ".py" if name else path
            collection.append(
                TestCase(mod_path, mod_path, None, "error", message or "collection failed", detail)
            )
            continue
        if not path:
            path = classname.rsplit(".", 1)[0].replace(".", "/") + ".py" if "." in classname else classname
        cases.append(TestCase(_nodeid(path, classname, name), path, line, outcome, message, detail))
    return JunitReport(tuple(cases), tuple(collection))
