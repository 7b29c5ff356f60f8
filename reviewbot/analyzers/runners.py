"""Run ruff and pytest inside a sandbox session and turn what they print into results.

A runner never raises for the analyzer's own failure: it returns a result whose `error` says what
went wrong (ruff exit 2, a crash, a timeout, unparsable output), so the review reports the analyzer
as broken instead of clean, and the other analyzers still run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reviewbot.analyzers import ruff_parse
from reviewbot.analyzers.junit import JunitReport, parse_junit
from reviewbot.core.finding import Finding
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.errors import AnalyzerError
from sandbox import CommandResult, Outcome, Session

RUFF_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    run: ToolRun
    error: str | None = None


@dataclass(frozen=True)
class TestRunResult:
    run: ToolRun
    report: JunitReport | None
    error: str | None = None
    exit_code: int | None = None


def _tail(result: CommandResult, limit: int = 600) -> str:
    text = (result.text("stderr").strip() or result.text("stdout").strip()).replace("\x00", "")
    return text[-limit:]


def _broken(name: str, result: CommandResult, what: str) -> str:
    if result.outcome is Outcome.TIMEOUT:
        return f"{name} did not finish within its time limit ({result.duration_s:.0f} s)"
    if result.outcome is Outcome.OOM:
        return f"{name} was killed by the sandbox's memory limit"
    if result.outcome is Outcome.TRUNCATED:
        return f"{name} printed more output than the sandbox allows; its result is unknown"
    if result.outcome is Outcome.ERROR:
        return f"the sandbox failed while running {name}: {result.detail}"
    return f"{name} {what} (exit {result.exit_code}): {_tail(result)}"


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


def pytest_argv(command: Sequence[str], junit_path: str, targets: Sequence[str]) -> list[str]:
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
    return [*command, *extra, *(["--", *targets] if targets else [])]


#: pytest's exit codes: 0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage, 5 none.
_PYTEST_TESTS_RAN = (0, 1)
PYTEST_NOTHING_COLLECTED = 5
PYTEST_USAGE_ERROR = 4


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
    """Run the test command; `junit_path` is relative to the session's work root."""
    depth = len([p for p in cwd.split("/") if p and p != "."])
    rel_junit = "/".join([".."] * depth + [junit_path]) if depth else junit_path
    result = session.run(
        pytest_argv(command, rel_junit, targets), cwd=cwd, timeout_s=timeout_s, env=dict(env or {})
    )
    if result.outcome is Outcome.TIMEOUT:
        error = _broken(name, result, "")
        return TestRunResult(_run(name, result, RunStatus.TIMEOUT, error), None, error)
    if result.completed and result.exit_code == PYTEST_NOTHING_COLLECTED:
        return TestRunResult(
            _run(name, result, RunStatus.SKIPPED, "no tests were collected"), JunitReport((), ())
        )
    if not result.completed or result.exit_code not in _PYTEST_TESTS_RAN:
        error = _broken(name, result, "could not run the tests")
        return TestRunResult(_run(name, result, RunStatus.ERROR, error), None, error, result.exit_code)
    data = session.download(junit_path, max_bytes=20 * 1024 * 1024)
    if data is None:
        error = f"{name} ran but wrote no junit report (is the test command pytest?)"
        return TestRunResult(_run(name, result, RunStatus.ERROR, error), None, error)
    try:
        report = parse_junit(data)
    except AnalyzerError as exc:
        return TestRunResult(_run(name, result, RunStatus.ERROR, str(exc)), None, str(exc))
    failed = len(report.failures) + len(report.collection_errors)
    status = RunStatus.FAILED if failed else RunStatus.OK
    detail = f"{len(report.cases)} test(s), {failed} failing" + (
        f", {len(report.collection_errors)} module(s) failed to import" if report.collection_errors else ""
    )
    return TestRunResult(_run(name, result, status, detail), report)


def _run(name: str, result: CommandResult, status: RunStatus, detail: str) -> ToolRun:
    return ToolRun(name=name, status=status, duration_s=round(result.duration_s, 3), detail=detail[:1000])
