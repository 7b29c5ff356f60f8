"""Why tests failed, and which failures share one cause. Pure: text in, data out.

pytest's traceback text (a junit `<failure>`/`<error>` body, or a test log's longrepr) is read for
the *real* cause: the exception on the last `E   Type: message` line, and where it sits — for a
SyntaxError the `File "...", line N` pytest quotes, otherwise the deepest frame in a repository
file (importlib, pytest and site-packages frames are not the project's). Absolute sandbox paths are
mapped back to repository paths by their longest suffix that names a repository file.

Grouping: the cases of one parametrized test (`test_x[1]`, `test_x[2]`, ...) are one group; failures
with the same exception type and message raised at the same in-repo frame are one group; test
modules that fail to import because of the same file:line are one group. A group is described in a
bounded text (distinct messages, the first traceback trimmed) with explicit "N more ..." notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

#: Bounds of a group's text: a screenful, whatever the number of cases.
MAX_DISTINCT_MESSAGES = 5
MAX_TRACEBACK_LINES = 30
MAX_MEMBER_NAMES = 8
MAX_LINE_CHARS = 200

#: Where to fix an environment that lacks what the tests import (settings in reviewbot/settings.py).
INSTALL_FIX = (
    "declare what is missing in the project's test dependencies, or set `[tool.reviewbot.sandbox] "
    "install_command = "
    '["python", "-m", "pip", "install", "--user", "-e", ".[test]"]` (env: REVIEWBOT_SANDBOX__INSTALL_COMMAND)'
)
PROJECT_INSTALL_FIX = (
    "install the project in the sandbox so its build backend generates it: `[tool.reviewbot.sandbox] "
    'install_command = ["python", "-m", "pip", "install", "--user", "-e", "."]` '
    "(env: REVIEWBOT_SANDBOX__INSTALL_COMMAND)"
)


@dataclass(frozen=True)
class Cause:
    """The exception behind a failure and the repository file:line where it was raised."""

    exc_type: str  # "" when the text names no exception
    message: str
    path: str | None = None
    line: int | None = None
    origin: str | None = None  # the innermost frame "path:line" wherever it is (stdlib included)

    @property
    def summary(self) -> str:
        text = f"{self.exc_type}: {self.message}" if self.exc_type else self.message
        return _clip(text)

    @property
    def where(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class FailedTest:
    """A failing test (or a test module that failed to import) as reported by the test run."""

    nodeid: str
    path: str
    line: int | None
    message: str
    detail: str
    collection: bool = False
    cause: Cause | None = None  # parsed already (with the repository's files), else parsed on demand
    environment: str | None = None  # a module that failed to import for an environment reason: why, fix


_FRAME = re.compile(r"^(?P<path>[^\s:<][^:]*?\.py):(?P<line>\d+):(?: (?P<rest>.*))?$")
_SYNTAX_AT = re.compile(r'^E\s+File "(?P<path>[^"]+)", line (?P<line>\d+)')
_EXC_LINE = re.compile(r"^E\s+(?P<type>[A-Za-z_][\w.]*): (?P<msg>.*)$")
_EXC_NAME = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Iteration|Warning|NotFound\w*)$")
_PARAMS = re.compile(r"\[.*\]$")


def _clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def repo_path(path: str, files: frozenset[str]) -> str | None:
    """The repository path a traceback path names (relative, or absolute inside the sandbox)."""
    path = path.replace("\\", "/")
    if path in files:
        return path
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts)):
        candidate = "/".join(parts[i:])
        if candidate in files:
            return candidate
    return None


def _exception(lines: Sequence[str], message: str) -> tuple[str, str]:
    for line in reversed(lines):
        match = _EXC_LINE.match(line)
        if match and _EXC_NAME.match(match["type"]):
            return match["type"].rsplit(".", 1)[-1], match["msg"].strip()
    first = message.strip().splitlines()[0] if message.strip() else ""
    head, sep, rest = first.partition(": ")
    if sep and _EXC_NAME.match(head):
        return head.rsplit(".", 1)[-1], rest
    for line in reversed(lines):  # long style ends with "path:N: ExceptionType"
        match = _FRAME.match(line)
        if match and match["rest"] and _EXC_NAME.match(match["rest"].strip()):
            return match["rest"].strip(), first
    return ("AssertionError", first) if first.startswith("assert") else ("", first)


def parse_cause(message: str, detail: str, files: frozenset[str]) -> Cause:
    """The real cause of one failure: exception, and the deepest repository frame (or the file:line
    of a SyntaxError)."""
    lines = detail.splitlines()
    exc_type, exc_message = _exception(lines, message)
    for line in reversed(lines):
        match = _SYNTAX_AT.match(line)
        if match:
            return Cause(exc_type, exc_message, repo_path(match["path"], files), int(match["line"]))
    frames = [m for m in map(_FRAME.match, reversed(lines)) if m]
    origin = f"{frames[0]['path']}:{frames[0]['line']}" if frames else None
    for match in frames:
        found = repo_path(match["path"], files)
        if found is not None:
            return Cause(exc_type, exc_message, found, int(match["line"]), origin)
    return Cause(exc_type, exc_message, origin=origin)


@dataclass(frozen=True)
class RepoLayout:
    """What the environment classification needs to know of the repository at head."""

    files: frozenset[str]  # repository paths of the head revision's files
    removed: frozenset[str] = frozenset()  # paths the change deleted or renamed away

    def packages(self) -> frozenset[str]:
        """Top-level module names the repository provides (flat, src/ and nested layouts)."""
        names: set[str] = set()
        for path in self.files:
            parts = path.split("/")
            for i, part in enumerate(parts[:4]):
                if part.endswith(".py") and i == len(parts) - 1:
                    names.add(part[:-3])
                elif i < len(parts) - 1 and "/".join([*parts[: i + 1], "__init__.py"]) in self.files:
                    names.add(part)
                    break
        return frozenset(names)

    def module_file(self, dotted: str) -> str | None:
        """The repository file (or the one the change removed) that would provide `dotted`."""
        tail = dotted.replace(".", "/")
        for suffix in (".py", "/__init__.py"):
            for path in (*self.files, *self.removed):
                if path == tail + suffix or path.endswith("/" + tail + suffix):
                    return path
        return None


FIX_SEPARATOR = " -- to fix: "


@dataclass(frozen=True)
class EnvironmentProblem:
    """A test module failed to import for a reason outside the code: what is missing, how to fix."""

    what: str
    fix: str

    @property
    def text(self) -> str:
        return f"{self.what}{FIX_SEPARATOR}{self.fix}"


_NO_MODULE = re.compile(r"No module named '(?P<name>[\w.]+)'")
_NO_METADATA = re.compile(r"No package metadata was found for (?P<name>\S+)")
_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")


def _missing_module(name: str, layout: RepoLayout) -> EnvironmentProblem | None:
    top = name.split(".")[0]
    if top not in layout.packages():
        return EnvironmentProblem(f"the module `{top}` is not installed in the sandbox", INSTALL_FIX)
    existing = layout.module_file(name)
    if existing is not None and existing in layout.removed:
        return None  # the change removed a module its tests still import: the change's doing
    if existing is not None:
        return EnvironmentProblem(
            f"the project's module `{name}` ({existing}) is not importable in the sandbox",
            PROJECT_INSTALL_FIX,
        )
    generated = name.replace(".", "/") + ".py"
    return EnvironmentProblem(
        f"`{generated}` is not in the repository (a file generated at build or install time, "
        "e.g. by setuptools-scm or hatch-vcs)",
        PROJECT_INSTALL_FIX,
    )


def environment_problem(cause: Cause, layout: RepoLayout) -> EnvironmentProblem | None:
    """Why a test module could not import when the reason is the environment, not the code; None
    when the cause is the repository's own code (a SyntaxError, a name its own module lacks, ...)."""
    if cause.exc_type == "ModuleNotFoundError" and (match := _NO_MODULE.search(cause.message)):
        return _missing_module(match["name"], layout)
    if cause.exc_type == "PackageNotFoundError" and (match := _NO_METADATA.search(cause.message)):
        return EnvironmentProblem(
            f"no installed distribution `{match['name']}` (importlib.metadata found no package metadata)",
            PROJECT_INSTALL_FIX,
        )
    match = _CANNOT_IMPORT.search(cause.message) if cause.exc_type == "ImportError" else None
    if match and match["module"].split(".")[0] not in layout.packages():
        return EnvironmentProblem(
            f"the installed `{match['module']}` has no `{match['name']}` (another version than the "
            "project expects?)",
            INSTALL_FIX,
        )
    return None


# -- grouping -------------------------------------------------------------------------------------
def function_id(nodeid: str) -> str:
    """The node id without its parameters: `t.py::test_x[1-2]` -> `t.py::test_x`."""
    return _PARAMS.sub("", nodeid)


def _keys(test: FailedTest, cause: Cause) -> list[tuple[str, ...]]:
    if test.collection:
        if cause.path is None:
            return [("module", test.nodeid)]
        return [("import", cause.path, str(cause.line), cause.exc_type, cause.message)]
    keys: list[tuple[str, ...]] = [("function", function_id(test.nodeid))]
    where = cause.where or cause.origin
    if where and cause.exc_type:
        keys.append(("raised", where, cause.exc_type, cause.message))
    return keys


def group_failures(
    tests: Sequence[FailedTest], cause_of: Callable[[FailedTest], Cause]
) -> list[list[FailedTest]]:
    """Failures that share a cause, in first-seen order (union of: same parametrized test, same
    exception at the same in-repo frame, same import failure location)."""
    parent = list(range(len(tests)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, ...], int] = {}
    for i, test in enumerate(tests):
        for key in _keys(test, cause_of(test)):
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[FailedTest]] = {}
    for i, test in enumerate(tests):
        groups.setdefault(find(i), []).append(test)
    return list(groups.values())


def trim_traceback(detail: str, limit: int = MAX_TRACEBACK_LINES) -> str:
    """The first and last lines of a traceback (the cause is at the end), with what was cut said."""
    lines = [line[:MAX_LINE_CHARS] for line in detail.strip().splitlines()]
    if len(lines) <= limit:
        return "\n".join(lines)
    head, tail = lines[: limit // 6], lines[-(limit - limit // 6) :]
    return "\n".join([*head, f"... {len(lines) - len(head) - len(tail)} more lines ...", *tail])


def project_frames(detail: str, files: frozenset[str]) -> str:
    """A traceback from the first frame in a repository file on (or from its `E   ` lines when no
    frame is the project's): importlib's and pytest's own frames say nothing about the cause."""
    lines = detail.strip().splitlines()
    for i, line in enumerate(lines):
        match = _FRAME.match(line)
        if match and repo_path(match["path"], files) is not None:
            return "\n".join(lines[i:])
    for i, line in enumerate(lines):
        if line.startswith("E "):
            return "\n".join(lines[i:])
    return "\n".join(lines)


def _first_line(test: FailedTest, cause: Cause) -> str:
    text = cause.summary if test.collection else (test.message.strip().splitlines() or [""])[0]
    return _clip(text or cause.summary or "(no message)")


def distinct_messages(tests: Sequence[FailedTest], cause_of: Callable[[FailedTest], Cause]) -> str:
    """One line per distinct failure message (bounded), with the cases that show it."""
    seen: dict[str, list[str]] = {}
    for test in tests:
        seen.setdefault(_first_line(test, cause_of(test)), []).append(test.nodeid.rpartition("::")[2])
    out = []
    for message, names in list(seen.items())[:MAX_DISTINCT_MESSAGES]:
        who = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
        out.append(f"- {message} ({who})")
    if len(seen) > MAX_DISTINCT_MESSAGES:
        out.append(f"- ... {len(seen) - MAX_DISTINCT_MESSAGES} more distinct messages")
    return "\n".join(out)


def names(items: Iterable[str], limit: int = MAX_MEMBER_NAMES) -> str:
    """`a`, `b` and 3 more (bounded list of names for a message)."""
    unique = list(dict.fromkeys(items))
    shown = ", ".join(f"`{n}`" for n in unique[:limit])
    return shown + (f" and {len(unique) - limit} more" if len(unique) > limit else "")
