"""Run ruff and pytest inside a sandbox session and turn what they print into results.

A runner never raises for the analyzer's own failure: it returns a result whose `error` says what
went wrong (ruff exit 2, a crash, a timeout, unparsable output), so the review reports the analyzer
as broken instead of clean, and the other analyzers still run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.analyzers import ruff_parse
from reviewbot.analyzers.junit import JunitReport, TestLog, parse_junit, parse_testlog
from reviewbot.core.finding import Finding
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.core.testgroups import INSTALL_FIX, names
from reviewbot.core.text import tail
from reviewbot.errors import AnalyzerError
from sandbox import CommandResult, Outcome, Session
from sandbox.archive import FileEntry, build_tar

RUFF_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    run: ToolRun
    error: str | None = None


@dataclass(frozen=True)
class TestRunResult:
    run: ToolRun
    report: JunitReport | None  # with an error: what finished before the run broke, if anything
    error: str | None = None
    exit_code: int | None = None
    progress: Progress = field(default_factory=lambda: Progress())


def _broken(name: str, result: CommandResult, what: str) -> str:
    if result.outcome is Outcome.TIMEOUT:
        return f"{name} did not finish within its time limit ({result.duration_s:.0f} s)"
    if result.outcome is Outcome.OOM:
        return f"{name} was killed by the sandbox's memory limit"
    if result.outcome is Outcome.TRUNCATED:
        return f"{name} printed more output than the sandbox allows; its result is unknown"
    if result.outcome is Outcome.ERROR:
        return f"the sandbox failed while running {name}: {result.detail}"
    said = result.text("stderr").strip() or result.text("stdout").strip()
    return f"{name} {what} (exit {result.exit_code}): {tail(said, 600)}"


#: What a repository without any ruff configuration is checked with (ruff's classic defaults), so a
#: project that never chose ruff is not buried in the style rules of ruff's newer default set.
CLASSIC_DEFAULT_RULES = ("E4", "E7", "E9", "F")


def ruff_check_argv(
    paths: Sequence[str],
    select: Sequence[str] = (),
    *,
    isolated: bool = False,
    target_version: str | None = None,
) -> list[str]:
    """`isolated`: exactly `select`, for `target_version`, reading no configuration file and no
    exclusion. Otherwise the configuration ruff finds from each file's directory decides, with
    `select` added on top. Always `--ignore-noqa`: the caller applies noqa comments itself
    (ruff_parse.honor_noqa), so a pull request cannot exempt its own files."""
    argv = ["ruff", "check", "--output-format", "json", "--no-fix", "--no-cache", "--ignore-noqa"]
    if isolated:
        argv += ["--isolated", "--select", ",".join(select)]
        argv += ["--target-version", target_version] if target_version else []
    else:
        argv += ["--force-exclude"] + (["--extend-select", ",".join(select)] if select else [])
    return [*argv, "--", *paths]


def ruff_format_argv(paths: Sequence[str]) -> list[str]:
    return ["ruff", "format", "--check", "--diff", "--no-cache", "--force-exclude", "--", *paths]


def ruff_check(
    session: Session,
    *,
    cwd: str,
    paths: Sequence[str],
    file_texts: Mapping[str, str],
    select: Sequence[str] = (),
    isolated: bool = False,
    target_version: str | None = None,
    trusted_texts: Mapping[str, str] | None = None,
    name: str = "ruff check",
) -> LintResult:
    """`ruff check` on `paths` (see ruff_check_argv). `trusted_texts`: the files whose file-level
    noqa exemptions count (the base's versions, under the paths asked about); default `file_texts`."""
    if not paths:
        return LintResult((), ToolRun(name=name, status=RunStatus.SKIPPED, detail="no Python files changed"))
    argv = ruff_check_argv(paths, select, isolated=isolated, target_version=target_version)
    result = session.run(argv, cwd=cwd, timeout_s=RUFF_TIMEOUT_S)
    if not result.completed or result.exit_code not in (0, 1):
        error = _broken(name, result, "could not check the code (bad configuration?)")
        return LintResult((), _run(name, result, RunStatus.ERROR, error), error)
    try:
        findings = ruff_parse.parse_check(result.text(), paths=paths, file_texts=file_texts)
    except AnalyzerError as exc:
        return LintResult((), _run(name, result, RunStatus.ERROR, str(exc)), str(exc))
    findings = ruff_parse.honor_noqa(
        findings, file_texts, file_texts if trusted_texts is None else trusted_texts
    )
    return LintResult(tuple(findings), _run(name, result, RunStatus.OK, f"{len(paths)} file(s)"))


def ruff_format(session: Session, *, cwd: str, paths: Sequence[str], name: str = "ruff format") -> LintResult:
    if not paths:
        return LintResult((), ToolRun(name=name, status=RunStatus.SKIPPED, detail="no Python files changed"))
    result = session.run(ruff_format_argv(paths), cwd=cwd, timeout_s=RUFF_TIMEOUT_S)
    if not result.completed or result.exit_code not in (0, 1):
        error = _broken(name, result, "could not check formatting")
        return LintResult((), _run(name, result, RunStatus.ERROR, error), error)
    try:
        findings = ruff_parse.parse_format_diff(result.text())
    except AnalyzerError as exc:
        return LintResult((), _run(name, result, RunStatus.ERROR, str(exc)), str(exc))
    return LintResult(tuple(findings), _run(name, result, RunStatus.OK, f"{len(paths)} file(s)"))


def pytest_argv(
    command: Sequence[str],
    junit_path: str,
    targets: Sequence[str],
    log_path: str | None = None,
    *,
    deadline: float | None = None,
) -> list[str]:
    """`log_path`: stream results with reviewbot's plugin (it must be importable: see run_pytest),
    which stops the run itself after `deadline` seconds."""
    # xunit1 carries file and line; collection errors must not stop the other tests from running;
    # no cache provider: the workspace is throwaway and may be read-only in places.
    extra = [
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",
        "--continue-on-collection-errors",
        f"--junitxml={junit_path}",
        "-q",
        "--color=no",
    ]
    if log_path is not None:
        extra += ["-p", PLUGIN_MODULE, f"--reviewbot-testlog={log_path}"]
        extra += [f"--reviewbot-deadline={deadline:.1f}"] if deadline is not None else []
    return [*command, *extra, *(["--", *targets] if targets else [])]


#: pytest's exit codes: 0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage, 5 none.
_PYTEST_TESTS_RAN = (0, 1)
PYTEST_NOTHING_COLLECTED = 5
PYTEST_USAGE_ERROR = 4
_PYTEST_EXITS = {2: "interrupted", 3: "internal error", 4: "usage error"}

#: Where reviewbot's test-log plugin is uploaded (relative to the work root), and its module name.
PLUGIN_DIR = ".reviewbot-pytest"
PLUGIN_MODULE = "_reviewbot_testlog"
PLUGIN_SOURCE = Path(__file__).with_name(f"{PLUGIN_MODULE}.py")
#: The setting that bounds a test run, as a user writes it (file key, environment variable).
TIMEOUT_SETTING = "analyzers.test_timeout_s (REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S)"
MAX_LOG_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Progress:
    """What the streamed log adds to a run: tests collected, and those cut off by a kill."""

    collected: int | None = None
    running: tuple[str, ...] = ()


def _relative(cwd: str, path: str) -> str:
    depth = len([p for p in cwd.split("/") if p and p != "."])
    return "/".join([".."] * depth + [path]) if depth else path


def _prepare_log(session: Session, log_path: str) -> None:
    """Upload the plugin (fresh each run: a previous run's code may have replaced it) and an empty log."""
    plugin = FileEntry(f"{PLUGIN_DIR}/{PLUGIN_MODULE}.py", PLUGIN_SOURCE.read_bytes())
    tar, _ = build_tar([plugin, FileEntry(log_path, b"")])
    session.upload(".", tar)


def _read_log(session: Session, log_path: str) -> TestLog | None:
    data = session.download(log_path, max_bytes=MAX_LOG_BYTES)
    if not data:
        return None
    try:
        return parse_testlog(data)
    except AnalyzerError:
        return None


def run_pytest(
    session: Session,
    *,
    cwd: str,
    command: Sequence[str],
    junit_path: str,
    timeout_s: float,
    targets: Sequence[str] = (),
    name: str = "pytest",
    env: Mapping[str, str] | None = None,
) -> TestRunResult:
    """Run the test command; `junit_path` is relative to the session's work root. The streamed log
    (`_reviewbot_testlog.py`, next to the junit report as `<junit stem>.log.jsonl`) keeps the
    results of a run that is killed, and counts what was collected."""
    log_path = junit_path.rsplit(".", 1)[0] + ".log.jsonl"
    _prepare_log(session, log_path)
    run_env = dict(env or {})
    run_env["PYTHONPATH"] = ":".join(p for p in (run_env.get("PYTHONPATH"), _relative(cwd, PLUGIN_DIR)) if p)
    argv = pytest_argv(
        command, _relative(cwd, junit_path), targets, _relative(cwd, log_path), deadline=deadline_s(timeout_s)
    )
    result = session.run(argv, cwd=cwd, timeout_s=timeout_s, env=run_env)
    log = _read_log(session, log_path)
    progress = Progress(log.collected, log.running) if log else Progress()
    if log is not None and log.deadline:
        return _timed_out(name, timeout_s, log, progress, result)
    if not result.completed or result.exit_code not in (*_PYTEST_TESTS_RAN, PYTEST_NOTHING_COLLECTED):
        return _pytest_broken(name, result, log, progress, timeout_s)
    if result.exit_code == PYTEST_NOTHING_COLLECTED:
        detail = f"no tests were collected: {pytest_said(result)}"
        return TestRunResult(
            _run(name, result, RunStatus.SKIPPED, detail), JunitReport((), ()), progress=progress
        )
    data = session.download(junit_path, max_bytes=MAX_LOG_BYTES)
    if data is None and log is not None and log.finished:
        report: JunitReport = log.report
    elif data is None:
        said = pytest_said(result)
        error = f"{name} ran but wrote no junit report (is the test command pytest?); it said: {said}"
        return TestRunResult(_run(name, result, RunStatus.ERROR, error), None, error, progress=progress)
    else:
        try:
            report = parse_junit(data)
        except AnalyzerError as exc:
            return TestRunResult(
                _run(name, result, RunStatus.ERROR, str(exc)), None, str(exc), progress=progress
            )
    failed = len(report.failures) + len(report.collection_errors)
    status = RunStatus.FAILED if failed else RunStatus.OK
    return TestRunResult(
        _run(name, result, status, coverage_detail(report, progress)), report, progress=progress
    )


def coverage_detail(report: JunitReport, progress: Progress) -> str:
    """How much of the suite ran: "312 of 320 collected test(s) ran, 4 failing, 8 skipped; 2 test
    module(s) failed to import"."""
    ran = [c for c in report.cases if c.outcome != "skipped"]
    total = max(progress.collected or 0, len(report.cases))
    text = f"{len(ran)} of {total} collected test(s) ran, {len(report.failures)} failing"
    skipped = len(report.cases) - len(ran)
    text += f", {skipped} skipped" if skipped else ""
    if report.collection_errors:
        text += f"; {len(report.collection_errors)} test module(s) failed to import"
    return text


def deadline_s(timeout_s: float) -> float:
    """When pytest stops itself: before the sandbox's wall clock, which may discard what it wrote."""
    # The margin covers interpreter start-up before the plugin's clock starts (seconds on a busy host).
    return max(1.0, timeout_s - min(10.0, max(2.0, timeout_s * 0.1)))


def _kept(log: TestLog | None) -> tuple[JunitReport | None, str]:
    if log is None or not (log.report.cases or log.report.collection_errors):
        return None, ""
    return log.report, f"; the {len(log.report.cases)} test(s) that finished before are kept"


def _timed_out(
    name: str, timeout_s: float, log: TestLog | None, progress: Progress, result: CommandResult
) -> TestRunResult:
    partial, kept = _kept(log)
    if log is None:
        running = "unknown (no test log survived the stop)"
    else:
        running = names(progress.running, limit=5) if progress.running else "none (stopped between tests)"
    error = (
        f"{name} did not finish within {timeout_s:.0f} s; running when it was stopped: {running}{kept}. "
        f"Raise {TIMEOUT_SETTING} if the suite needs longer"
    )
    return TestRunResult(_run(name, result, RunStatus.TIMEOUT, error), partial, error, progress=progress)


def _pytest_broken(
    name: str, result: CommandResult, log: TestLog | None, progress: Progress, timeout_s: float
) -> TestRunResult:
    """pytest did not finish its run: keep what the log gathered, and say why in pytest's words."""
    partial, kept = _kept(log)
    if result.outcome is Outcome.TIMEOUT:
        return _timed_out(name, timeout_s, log, progress, result)
    if not result.completed:
        error = _broken(name, result, "") + kept
        return TestRunResult(_run(name, result, RunStatus.ERROR, error), partial, error, progress=progress)
    code = result.exit_code
    meaning = _PYTEST_EXITS.get(code or 0, "crashed" if (code or 0) < 0 or (code or 0) > 5 else "failed")
    error = f"{name} could not run the tests (exit {code}, {meaning}); pytest said: {pytest_said(result)}"
    fix = pytest_fix(result.text("stderr") + "\n" + result.text("stdout"))
    error += f" -- to fix: {fix}" if fix else ""
    return TestRunResult(
        _run(name, result, RunStatus.ERROR, error + kept), partial, error + kept, code, progress
    )


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")
_IMPORTANT = re.compile(
    r"^(E\s|ERROR|INTERNALERROR>.*Error|.*error: |.*Error: |ImportError|.*No module named)"
)


_SANDBOX_PREFIX = re.compile(r"""[^\s'"(]*/(?:head|base)/""")


def pytest_said(result: CommandResult, max_lines: int = 8, max_chars: int = 800) -> str:
    """pytest's own last words, sanitized and bounded: its error lines if it printed any, else its
    last lines, with the sandbox's own directories cut from paths; joined with " | " (errors are
    printed on one line)."""
    text = (result.text("stderr") + "\n" + result.text("stdout")).replace("\r", "")
    text = _SANDBOX_PREFIX.sub("", text)
    lines = [" ".join(_ANSI.sub("", line).split()) for line in text.splitlines()]
    lines = [line for line in lines if line and not set(line) <= set("=_- ")]
    important = [line for line in lines if _IMPORTANT.match(line)]
    chosen = (important or lines)[-max_lines:]
    said = " | ".join(chosen)
    return (said[-max_chars:] if len(said) > max_chars else said) or "(nothing)"


#: Options a project's pytest configuration may use that belong to a plugin, and that plugin.
_PLUGIN_OPTIONS = {
    "--cov": "pytest-cov",
    "--numprocesses": "pytest-xdist",
    "-n": "pytest-xdist",
    "--dist": "pytest-xdist",
    "--timeout": "pytest-timeout",
    "--benchmark": "pytest-benchmark",
    "--reruns": "pytest-rerunfailures",
    "--mypy": "pytest-mypy",
    "--doctest-plus": "pytest-doctestplus",
    "--asyncio-mode": "pytest-asyncio",
}
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<args>[^\n|]+)")
_NO_MODULE = re.compile(r"No module named '(?P<name>[\w.]+)'")


def pytest_fix(text: str) -> str | None:
    """The fix for pytest failing before any test ran, when its output says what is missing."""
    if match := _UNRECOGNIZED.search(text):
        args = match["args"].split()
        plugins = sorted(
            {p for a in args for o, p in _PLUGIN_OPTIONS.items() if a.split("=")[0].startswith(o)}
        )
        needs = f"the plugin(s) {', '.join(plugins)}" if plugins else "a pytest plugin"
        return (
            f"the project's pytest configuration passes {' '.join(args)}, which needs {needs}, not installed "
            f"in the sandbox; {INSTALL_FIX}"
        )
    if match := _NO_MODULE.search(text):
        return f"`{match['name']}` is not installed in the sandbox; {INSTALL_FIX}"
    if "required plugins" in text or "Missing required plugins" in text:
        return f"the project's pytest configuration requires plugins that are not installed; {INSTALL_FIX}"
    return None


def _run(name: str, result: CommandResult, status: RunStatus, detail: str) -> ToolRun:
    return ToolRun(name=name, status=status, duration_s=round(result.duration_s, 3), detail=detail[:1000])
