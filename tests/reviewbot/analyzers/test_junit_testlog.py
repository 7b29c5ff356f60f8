"""reviewbot's streamed test log and `run_pytest`, with real pytest runs in the process sandbox:
results survive a stopped run, pytest's own failures are quoted, hostile logs are refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.analyzers import junit
from reviewbot.analyzers.junit import finished_count, parse_testlog
from reviewbot.analyzers.runners import PLUGIN_SOURCE, pytest_argv, run_pytest
from reviewbot.core.review import RunStatus
from reviewbot.errors import AnalyzerError
from sandbox import SandboxSpec, Session
from sandbox.archive import FileEntry, build_tar
from sandbox.process import ProcessBackend

SUITE = {
    "tests/test_a.py": (
        "import pytest\n\n\ndef test_ok():\n    pass\n\n\ndef test_bad():\n    assert 1 == 2\n\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('setup broke')\n\n\n"
        "def test_setup_error(broken):\n    pass\n\n\n"
        "@pytest.mark.skip(reason='no')\ndef test_skipped():\n    pass\n"
    ),
    "tests/test_b.py": "import not_installed_anywhere\n",
}
HANG = {"tests/test_zz.py": "import time\n\n\ndef test_zz_hangs():\n    time.sleep(600)\n"}


@pytest.fixture
def session() -> Iterator[Session]:
    with ProcessBackend().session(SandboxSpec(timeout_s=60)) as s:
        yield s


def upload(session: Session, files: dict[str, str]) -> None:
    tar, _ = build_tar([FileEntry(name, text.encode()) for name, text in files.items()])
    session.upload("head", tar)


def pytest_cmd() -> list[str]:
    return [sys.executable, "-m", "pytest"]


def test_the_log_agrees_with_junit_and_counts_what_was_collected(session: Session) -> None:
    upload(session, SUITE)
    result = run_pytest(session, cwd="head", command=pytest_cmd(), junit_path="junit.xml", timeout_s=60)
    assert result.error is None and result.report is not None
    outcomes = {c.nodeid: c.outcome for c in result.report.cases}
    assert outcomes == {
        "tests/test_a.py::test_ok": "passed",
        "tests/test_a.py::test_bad": "failed",
        "tests/test_a.py::test_setup_error": "error",
        "tests/test_a.py::test_skipped": "skipped",
    }
    assert result.progress.collected == 4 and result.progress.running == ()
    assert (
        result.run.detail
        == "3 of 4 collected test(s) ran, 2 failing, 1 skipped; 1 test module(s) failed to import"
    )
    data = session.download("junit.log.jsonl", 10_000_000) or b""
    assert finished_count(data) == 4
    log = parse_testlog(data)
    assert {c.nodeid: c.outcome for c in log.report.cases} == outcomes
    assert [c.nodeid for c in log.report.collection_errors] == ["tests/test_b.py"]
    assert "not_installed_anywhere" in log.report.collection_errors[0].detail and log.finished


def test_a_run_past_its_time_keeps_results_and_names_the_running_test(session: Session) -> None:
    upload(session, {**SUITE, **HANG})
    result = run_pytest(session, cwd="head", command=pytest_cmd(), junit_path="junit.xml", timeout_s=6)
    assert result.run.status is RunStatus.TIMEOUT and result.error is not None
    assert "running when it was stopped: `tests/test_zz.py::test_zz_hangs`" in result.error
    assert "analyzers.test_timeout_s (REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S)" in result.error
    assert result.report is not None
    assert {c.nodeid for c in result.report.failures} == {
        "tests/test_a.py::test_bad",
        "tests/test_a.py::test_setup_error",
    }
    assert result.progress.collected == 5


def test_a_killed_run_leaves_a_readable_log(tmp_path: Path) -> None:
    for name, text in {**SUITE, **HANG}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    argv = pytest_argv(pytest_cmd(), "junit.xml", [], "log.jsonl")
    env = {"PYTHONPATH": str(PLUGIN_SOURCE.parent), "PATH": "/usr/bin:/bin"}
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, timeout=5, check=False)
    log = parse_testlog((tmp_path / "log.jsonl").read_bytes())
    assert log.running == ("tests/test_zz.py::test_zz_hangs",) and not log.finished
    assert len(log.report.cases) == 4 and not (tmp_path / "junit.xml").exists()


def test_pytest_usage_error_is_quoted_with_the_fix(session: Session) -> None:
    upload(session, {**SUITE, "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "--cov=lib -n 4"\n'})
    result = run_pytest(session, cwd="head", command=pytest_cmd(), junit_path="junit.xml", timeout_s=60)
    assert result.run.status is RunStatus.ERROR and result.error is not None
    assert "exit 4, usage error" in result.error
    assert "unrecognized arguments: --cov=lib -n" in result.error
    assert "pytest-cov, pytest-xdist" in result.error and "install_command" in result.error
    assert len(result.error) < 2000


def test_a_missing_plugin_named_by_the_config_is_quoted(session: Session) -> None:
    upload(session, {**SUITE, "pytest.ini": "[pytest]\naddopts = -p no_such_plugin_mod\n"})
    result = run_pytest(session, cwd="head", command=pytest_cmd(), junit_path="junit.xml", timeout_s=60)
    assert result.error is not None and "No module named 'no_such_plugin_mod'" in result.error
    assert "`no_such_plugin_mod` is not installed in the sandbox" in result.error


def test_a_broken_conftest_shows_its_real_error(session: Session) -> None:
    upload(
        session, {**SUITE, "tests/conftest.py": "import json\nraise ValueError('conftest is broken here')\n"}
    )
    result = run_pytest(session, cwd="head", command=pytest_cmd(), junit_path="junit.xml", timeout_s=60)
    assert result.error is not None and "ValueError: conftest is broken here" in result.error
    assert "ImportError while loading conftest 'tests/conftest.py'" in result.error  # no sandbox paths


def test_hostile_logs_are_parsed_defensively(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (
        b'{"event": "collected", "count": "many"}\nnot json\n[1, 2]\n'
        b'{"event": "start", "nodeid": "t.py::a", "line": -5}\n'
        b'{"event": "report", "nodeid": "t.py::a", "when": "call", "outcome": "failed", "longrepr": 7}\n'
        b'{"event": "report", "nodeid": "t.py::a", "when": "teardown", "outcome": "passed"}\n'
        b'{"event": "start", "nodeid": "t.py::b"\n'
    )
    log = parse_testlog(data)
    assert log.collected is None and log.running == ()
    [case] = log.report.cases
    assert (case.nodeid, case.line, case.outcome, case.detail) == ("t.py::a", None, "failed", "")
    monkeypatch.setattr(junit, "MAX_JUNIT_BYTES", 10)
    with pytest.raises(AnalyzerError, match="cap"):
        parse_testlog(data)
