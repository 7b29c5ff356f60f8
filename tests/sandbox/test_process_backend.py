"""The process backend: limits, timeouts, caps and a scrubbed environment, on real subprocesses."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.archive import FileEntry, build_tar
from sandbox.errors import SandboxError
from sandbox.process import ProcessBackend, ProcessSession, network_prefix, network_warning
from sandbox.spec import CommandResult, Outcome, SandboxSpec

SPEC = SandboxSpec(
    timeout_s=20, max_output_bytes=64 * 1024, memory_mb=512, max_file_size_mb=8, max_open_files=64
)


@pytest.fixture
def session() -> Iterator[ProcessSession]:
    with ProcessBackend().session(SPEC) as s:
        yield s


def py(session: ProcessSession, code: str, timeout_s: float | None = None) -> CommandResult:
    return session.run([sys.executable, "-c", code], timeout_s=timeout_s)


def test_files_are_copied_in_and_read_back(session: ProcessSession, tmp_path: Path) -> None:
    tar, _ = build_tar([FileEntry("pkg/a.py", b"print('hi')\n")])
    session.upload("repo", tar)
    r = session.run(["python", "pkg/a.py"], cwd="repo")
    assert r.outcome is Outcome.OK and r.stdout == b"hi\n"
    session.run(["python", "-c", "open('out.json','w').write('{}')"], cwd="repo")
    assert session.download("repo/out.json", 100) == b"{}"
    assert session.download("repo/out.json", 1) is None
    assert session.download("repo/missing", 100) is None


def test_download_refuses_symlinks(session: ProcessSession) -> None:
    session.run(["ln", "-s", "/etc/passwd", "p"])
    assert session.download("p", 1_000_000) is None


def test_ruff_and_python_of_this_environment_are_on_path(session: ProcessSession) -> None:
    assert session.run(["ruff", "--version"]).outcome is Outcome.OK
    r = session.run(["python", "-c", "import sys; print(sys.executable)"])
    assert Path(r.text().strip()).parent == Path(sys.executable).parent


def test_environment_is_scrubbed(session: ProcessSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_NOTREAL123")
    r = py(session, "import os; print(sorted(os.environ))")
    assert "GITHUB_TOKEN" not in r.text()
    home = py(session, "import os; print(os.environ['HOME'])").text().strip()
    assert home != os.environ.get("HOME") and "reviewbot-sandbox-" in home


def test_caller_env_outside_the_allowlist_is_refused(session: ProcessSession) -> None:
    with pytest.raises(ValueError, match="GITHUB_TOKEN"):
        session.run(["true"], env={"GITHUB_TOKEN": "x"})
    r = session.run(
        ["python", "-c", "import os; print(os.environ['PYTHONHASHSEED'])"], env={"PYTHONHASHSEED": "7"}
    )
    assert r.text().strip() == "7"


def test_timeout_kills_the_whole_process_group(session: ProcessSession, tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    code = (
        "import os, signal, subprocess, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"p = subprocess.Popen(['sleep', '300']); open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(300)\n"
    )
    r = session.run([sys.executable, "-c", code], timeout_s=1.5)
    assert r.outcome is Outcome.TIMEOUT and "wall clock" in r.detail
    child = int(marker.read_text())
    assert not _alive(child)


def test_background_process_does_not_outlive_the_call(session: ProcessSession, tmp_path: Path) -> None:
    marker = tmp_path / "bg.pid"
    r = session.run(["sh", "-c", f"sleep 300 & echo $! > {marker}; echo started"])
    assert r.outcome is Outcome.OK and r.stdout == b"started\n"
    assert not _alive(int(marker.read_text()))


def _alive(pid: int) -> bool:
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(") ")[1].startswith("Z"):
                    return False
        except FileNotFoundError:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_is_capped_by_bytes_on_either_stream(session: ProcessSession, stream: str) -> None:
    # 100 MB on one line, no newline: the cap is by bytes, and the writer is stopped early.
    code = f"import sys\nfor _ in range(100): sys.{stream}.buffer.write(b'x' * 1024 * 1024)\n"
    r = py(session, code)
    assert r.outcome is Outcome.TRUNCATED and stream in r.detail
    assert len(getattr(r, stream)) == SPEC.max_output_bytes


@pytest.mark.parametrize("via", ["prlimit", "preexec"])
def test_rlimits_are_applied(session: ProcessSession, via: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    import sandbox.process

    if via == "preexec":  # a machine without util-linux's prlimit: the in-child hook sets them
        monkeypatch.setattr(sandbox.process, "prlimit_prefix", lambda limits: None)

    code = (
        "import resource as r\n"
        "print(r.getrlimit(r.RLIMIT_NOFILE)[0], r.getrlimit(r.RLIMIT_FSIZE)[0], r.getrlimit(r.RLIMIT_AS)[0],"
        " r.getrlimit(r.RLIMIT_CPU)[0])"
    )
    nofile, fsize, as_, cpu = map(int, py(session, code, timeout_s=5).text().split())
    assert (nofile, fsize, as_) == (64, 8 * 1024 * 1024, 512 * 1024 * 1024)
    assert cpu == 6
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] != 64  # the bot itself is untouched


def test_huge_file_hits_the_file_size_limit(session: ProcessSession) -> None:
    r = py(session, "open('big','wb').write(b'x' * 20 * 1024 * 1024)")
    assert r.outcome is Outcome.NONZERO and b"File too large" in r.stderr


def test_fd_exhaustion_stops_at_nofile(session: ProcessSession) -> None:
    code = (
        "fs = []\ntry:\n    while True: fs.append(open('/dev/null'))\n"
        "except OSError as e: print(len(fs), e.errno)"
    )
    opened, errno = map(int, py(session, code).text().split())
    assert opened < 64 and errno == 24


def test_memory_bomb_is_reported_as_oom(session: ProcessSession) -> None:
    r = py(session, "xs = []\nwhile True: xs.append(bytearray(50 * 1024 * 1024))")
    assert r.outcome is Outcome.OOM


def test_cpu_loop_is_killed(session: ProcessSession) -> None:
    r = py(session, "while True: pass", timeout_s=1)
    assert r.outcome is Outcome.TIMEOUT


def test_missing_command_is_a_nonzero_result_not_a_crash(session: ProcessSession) -> None:
    r = session.run(["definitely-not-a-command-xyz"])
    assert r.outcome is Outcome.NONZERO and r.exit_code == 127


def test_paths_cannot_leave_the_work_root(session: ProcessSession) -> None:
    with pytest.raises(SandboxError):
        session.run(["true"], cwd="../..")
    with pytest.raises(SandboxError):
        session.upload("../x", build_tar([FileEntry("a", b"")])[0])
    assert session.run(["true"], cwd="nope").outcome is Outcome.ERROR


def test_network_is_refused_unless_the_spec_allows_it(session: ProcessSession) -> None:
    with pytest.raises(SandboxError, match="network"):
        session.run(["true"], network=True)


def test_commands_have_no_network_or_the_backend_says_so(session: ProcessSession) -> None:
    if network_prefix() is None:  # this machine refuses unshare: then the backend must warn
        assert network_warning() is not None
        return
    code = (
        "import socket\ntry:\n    socket.create_connection(('10.255.255.1', 9), timeout=2)\n"
        "except OSError as e: print(e.errno)"
    )
    assert py(session, code).text().strip() == "101"
    devs = py(session, "print([l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]])")
    assert devs.text().strip() == "['lo']"


def test_session_directory_is_removed_on_exit() -> None:
    with ProcessBackend().session(SPEC) as s:
        root = s.root
        assert root.is_dir()
    assert not root.exists()
