"""docs/security-probes.md section 4: the probes 1-45 that concern the sandbox, against the real engine.

Each test asserts the safe outcome AND that the session survives and says what happened
(outcome class, detail), usually by running one more command afterwards."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.archive import FileEntry, build_tar, tar_directory
from sandbox.docker_spec import LABEL_RUN
from sandbox.reaper import reap
from sandbox.spec import CommandResult, Outcome
from tests.sandbox.probe_limits import PROBE_SPEC

pytestmark = pytest.mark.docker


def py(sbx: Any, code: str, timeout_s: float | None = None, cwd: str = ".") -> CommandResult:
    result: CommandResult = sbx.run(["python", "-c", code], timeout_s=timeout_s, cwd=cwd)
    return result


def still_usable(sbx: Any) -> None:
    r = sbx.run(["echo", "alive"])
    assert r.outcome is Outcome.OK and r.stdout == b"alive\n"


# -- resource exhaustion -------------------------------------------------------------------------
def test_01_fork_bomb_hits_pids_limit(sbx: Any) -> None:
    code = (
        "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n        n += 1\nexcept BlockingIOError:\n    print('EAGAIN', n)\n"
    )
    r = py(sbx, code, timeout_s=15)
    assert r.outcome is Outcome.OK and r.text().startswith("EAGAIN")
    assert int(r.text().split()[1]) < PROBE_SPEC.pids
    still_usable(sbx)


def test_02_memory_bomb_is_reported_as_oom_and_session_restarts(sbx: Any) -> None:
    r = py(sbx, "xs = []\nwhile True: xs.append(bytearray(50 * 1024 * 1024))")
    assert r.outcome is Outcome.OOM and r.exit_code == 137 and "memory" in r.detail
    still_usable(sbx)
    assert sbx.restarts == 1


@pytest.mark.parametrize(
    "code",
    [
        "while True: pass",  # 3: CPU loop
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)",  # 4
        "import time\ntime.sleep(600)",  # 14: silent hang
    ],
    ids=["03-cpu-loop", "04-sigterm-ignored", "14-silent-hang"],
)
def test_wall_clock_kills(sbx: Any, code: str) -> None:
    r = py(sbx, code, timeout_s=2)
    assert r.outcome is Outcome.TIMEOUT and "wall clock" in r.detail
    still_usable(sbx)
    assert sbx.restarts == 1


def test_05_cpu_quota_is_set(sbx: Any) -> None:
    r = sbx.run(["cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"])
    quota, period = map(int, r.text().split())
    assert quota == int(PROBE_SPEC.cpus * period)


def test_06_tmp_fill_stops_at_tmpfs_size(sbx: Any) -> None:
    code = (
        "import errno\ntry:\n    for i in range(3):\n"
        "        open(f'/tmp/f{i}', 'wb').write(b'x' * 10 * 2**20)\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])"
    )
    assert py(sbx, code).text().strip() == "ENOSPC"
    still_usable(sbx)


def test_07_08_work_fill_and_huge_file_are_capped(sbx: Any) -> None:
    code = (
        "import errno\ntry:\n    open('/work/big', 'wb').write(b'x' * 30 * 2**20)\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])"
    )
    assert py(sbx, code).text().strip() == "EFBIG"  # fsize ulimit (20 MB) below the volume size
    code = (
        "import errno\ntry:\n    for i in range(4):\n"
        "        open(f'/work/f{i}', 'wb').write(b'x' * 15 * 2**20)\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])"
    )
    assert py(sbx, code).text().strip() == "ENOSPC"  # 48 MB volume
    still_usable(sbx)


def test_09_inode_flood_stops_at_nr_inodes(sbx: Any) -> None:
    code = (
        "import errno, os\nos.mkdir('/work/many')\nn = 0\ntry:\n    while True:\n"
        "        open(f'/work/many/{n}', 'w').close(); n += 1\nexcept OSError as e:\n"
        "    print(n, errno.errorcode[e.errno])"
    )
    n, err = py(sbx, code, timeout_s=60).text().split()
    assert err == "ENOSPC" and int(n) < PROBE_SPEC.work_inodes
    still_usable(sbx)


def test_10_fd_exhaustion_stops_at_nofile(sbx: Any) -> None:
    code = (
        "fs = []\ntry:\n    while True: fs.append(open('/dev/null'))\n"
        "except OSError as e: print(len(fs), e.errno)"
    )
    n, errno_ = map(int, py(sbx, code).text().split())
    assert errno_ == 24 and n < PROBE_SPEC.max_open_files


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_11_12_hundred_megabytes_on_one_line_is_capped(sbx: Any, stream: str) -> None:
    code = f"import sys\nfor _ in range(100): sys.{stream}.buffer.write(b'x' * 2**20)"
    r = py(sbx, code)
    assert r.outcome is Outcome.TRUNCATED and stream in r.detail
    assert len(getattr(r, stream)) == PROBE_SPEC.max_output_bytes
    still_usable(sbx)
    assert sbx.restarts == 1


def test_13_binary_and_control_output_is_kept_as_bytes(sbx: Any) -> None:
    payload = bytes(range(256)) + "\x1b[31m\r\u202e".encode()
    r = py(sbx, f"import sys; sys.stdout.buffer.write({payload!r})")
    assert r.outcome is Outcome.OK and r.stdout == payload
    assert isinstance(r.text(), str)


def _processes(sbx: Any) -> list[str]:
    code = (
        "import os\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n        try:\n"
        "            s = open(f'/proc/{p}/stat').read(); c = open(f'/proc/{p}/cmdline').read()\n"
        "        except OSError: continue\n"
        "        print(s.rsplit(') ', 1)[1].split()[0], c.replace(chr(0), ' '))"
    )
    return py(sbx, code).text().splitlines()


def test_15_background_daemon_does_not_outlive_the_call(sbx: Any) -> None:
    r = sbx.run(["sh", "-c", "nohup sleep 1000 >/dev/null 2>&1 & setsid sleep 999 & echo started"])
    assert r.outcome is Outcome.OK
    procs = _processes(sbx)
    assert not any("sleep 1000" in p or "sleep 999" in p for p in procs), procs


def test_16_zombies_are_reaped_by_init(sbx: Any) -> None:
    code = (
        "import os\nfor _ in range(10):\n    if os.fork() == 0:\n"
        "        if os.fork() == 0: os._exit(0)\n        os._exit(0)"
    )
    py(sbx, code + "\nimport time; time.sleep(0.5)")
    assert not [p for p in _processes(sbx) if p.startswith("Z")]


def test_17_killed_bot_leaves_nothing_after_the_sweep(docker_client: Any) -> None:
    script = (
        "import sys, time\nfrom sandbox.docker_backend import connect\n"
        "from tests.sandbox.probe_limits import PROBE_SPEC\n"
        "b = connect(PROBE_SPEC.image)\nwith b.session(PROBE_SPEC) as s:\n"
        "    print(s.run_id, flush=True)\n    time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().decode().strip()
    assert run_id, "the child bot did not start a session"
    proc.kill()
    proc.wait()
    selector = {"label": f"{LABEL_RUN}={run_id}"}
    assert len(docker_client.containers.list(all=True, sparse=True, filters=selector)) == 1  # left behind
    assert reap(docker_client, now=time.time()) >= 1
    assert docker_client.containers.list(all=True, sparse=True, filters=selector) == []


def test_17_container_self_destructs_at_ttl(docker_backend: Any, docker_client: Any) -> None:
    spec = PROBE_SPEC.__class__(**{**PROBE_SPEC.__dict__, "ttl_s": 2})
    with docker_backend.session(spec) as s:
        selector = {"label": f"{LABEL_RUN}={s.run_id}"}
        for _ in range(100):
            if not docker_client.containers.list(all=True, sparse=True, filters=selector):
                break
            time.sleep(0.2)
        assert docker_client.containers.list(all=True, sparse=True, filters=selector) == []
        # the session notices and recovers instead of crashing
        r = s.run(["true"])
        assert r.outcome is Outcome.ERROR and "failed" in r.detail
        still_usable(s)


# -- network and host access ---------------------------------------------------------------------
def test_19_dns_fails(sbx: Any) -> None:
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n"
        "except socket.gaierror as e: print('gaierror')"
    )
    assert py(sbx, code).text().strip() == "gaierror"
    assert sbx.run(["cat", "/etc/resolv.conf"]).stdout.strip() == b""


@pytest.mark.parametrize("addr", ["169.254.169.254", "172.17.0.1", "10.0.0.1"])
def test_20_tcp_egress_is_unreachable(sbx: Any, addr: str) -> None:
    code = (
        f"import socket\ntry:\n    socket.create_connection(('{addr}', 2375), timeout=3)\n"
        "except OSError as e: print(e.errno)"
    )
    assert py(sbx, code).text().strip() == "101"
    assert sbx.run(["cat", "/proc/net/route"]).text().count("\n") <= 1


def test_21_no_docker_socket(sbx: Any) -> None:
    r = sbx.run(["ls", "/var/run/docker.sock", "/run/docker.sock"])
    assert r.outcome is Outcome.NONZERO


# -- privilege -----------------------------------------------------------------------------------
def test_22_no_host_ipc_or_abstract_sockets(sbx: Any) -> None:
    # Own IPC and network namespaces: the host's SysV IPC, /dev/shm and abstract unix sockets
    # (containerd's, dockerd's) are not reachable from inside.
    code = (
        "import os\nprint(os.readlink('/proc/self/ns/ipc'), os.readlink('/proc/self/ns/net'))\n"
        "print(len(open('/proc/net/unix').read().splitlines()) - 1, len(os.listdir('/dev/shm')))"
    )
    r = py(sbx, code)
    ns_line, counts = r.text().splitlines()
    ipc, net = ns_line.split()
    assert ipc != os.readlink("/proc/self/ns/ipc") and net != os.readlink("/proc/self/ns/net")
    assert counts == "0 0", "host sockets or shared memory are visible in the sandbox"
    still_usable(sbx)


def test_18_concurrent_sessions_keep_their_own_limits(docker_backend: Any) -> None:
    # One session blows its memory limit while another works: the limit is per sandbox, the
    # neighbour is unaffected, and both report clearly. (The bot-level cap on concurrent reviews
    # is the webhook worker pool's concurrency, tested in tests/webhooks.)
    import threading

    results: dict[str, CommandResult] = {}

    def bomb() -> None:
        with docker_backend.session(PROBE_SPEC) as s:
            results["bomb"] = py(s, "xs = []\nwhile True: xs.append(bytearray(50 * 1024 * 1024))")

    def worker() -> None:
        with docker_backend.session(PROBE_SPEC) as s:
            results["work"] = py(s, "import time\ntime.sleep(1.5)\nprint(sum(range(10**6)))")

    threads = [threading.Thread(target=bomb), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results["bomb"].outcome is Outcome.OOM
    assert results["work"].outcome is Outcome.OK and results["work"].text().strip() == str(sum(range(10**6)))


def test_23_27_no_capabilities_no_new_privileges_non_root(sbx: Any) -> None:
    status = dict(
        line.split(":\t", 1)
        for line in sbx.run(["cat", "/proc/self/status"]).text().splitlines()
        if ":\t" in line
    )
    assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1" and status["Seccomp"].strip() == "2"
    assert sbx.run(["id", "-u"]).text().strip() == "10001"


def test_24_no_setuid_binaries(sbx: Any) -> None:
    r = sbx.run(["find", "/", "-xdev", "-perm", "/6000", "-type", "f"], timeout_s=30)
    assert r.stdout == b""


@pytest.mark.parametrize("path", ["/etc/evil", "/opt/venv/lib/evil.pth", "/usr/local/lib/evil.pth"])
def test_25_root_is_read_only(sbx: Any, path: str) -> None:
    r = py(sbx, f"open('{path}', 'w')")
    assert r.outcome is Outcome.NONZERO and (b"Read-only file system" in r.stderr or b"ermission" in r.stderr)


def test_26_kernel_knobs_are_not_writable(sbx: Any) -> None:
    r = sbx.run(["sh", "-c", "echo '|/tmp/x' > /proc/sys/kernel/core_pattern"])
    assert r.outcome is Outcome.NONZERO


def test_28_29_30_environment_has_no_host_secrets(sbx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_NOTREAL123")
    env = sbx.run(["env"]).text()
    names = {line.split("=", 1)[0] for line in env.splitlines()}
    assert names <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PYTHONUSERBASE",
        "HOSTNAME",
        "PWD",
    }
    assert "ghs_" not in py(sbx, "print(open('/proc/1/environ').read())").text()


# -- filesystem and repository content -----------------------------------------------------------
def test_31_32_34_symlinks_are_filtered_and_the_upload_still_works(sbx: Any, tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    os.symlink("/etc/passwd", tmp_path / "abs")
    os.symlink("../../..", tmp_path / "up")
    os.symlink("../x", tmp_path / "rel")
    os.symlink("loop", tmp_path / "loop")
    tar, skipped = tar_directory(tmp_path, max_files=100, max_bytes=10_000)
    assert {p for p, _ in skipped} == {"abs", "up", "rel"}
    sbx.upload("repo", tar)
    names = sbx.run(["ls", "-A", "repo"]).text().split()
    assert sorted(names) == ["loop", "ok.py"]


def _raw_tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_33_37_hostile_tar_members_are_dropped(sbx: Any) -> None:
    escape = tarfile.TarInfo("../../../../tmp/escape")
    suid = tarfile.TarInfo("suid")
    suid.mode = 0o6755
    dev = tarfile.TarInfo("dev")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    link = tarfile.TarInfo("up")
    link.type, link.linkname = tarfile.SYMTYPE, "../../x"
    sbx.upload("in", _raw_tar((escape, b"x"), (suid, b"#!/bin/sh\n"), (dev, b""), (link, b"")))
    assert {p for p, _ in sbx.skipped} >= {"../../../../tmp/escape", "in/dev", "in/up"}
    assert sbx.run(["ls", "/tmp/escape"]).outcome is Outcome.NONZERO
    assert sbx.run(["stat", "-c", "%a %u", "in/suid"]).text().strip() == "755 10001"


def test_35_odd_path_names_round_trip(sbx: Any) -> None:
    names = ["new\nline.py", "sep\u2028.py", "esc\x1b[31m.py", "-rf", ".. .py"]
    tar, skipped = build_tar([FileEntry(f"repo/{n}", n.encode()) for n in names])
    assert skipped == []
    sbx.upload(".", tar)
    listed = py(sbx, "import os, json; print(json.dumps(sorted(os.listdir('repo'))))").text()
    import json

    assert json.loads(listed) == sorted(names)
    assert sbx.download("repo/-rf", 100) == b"-rf"


def test_38_writes_inside_never_reach_the_host(sbx: Any, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("original\n")
    tar, _ = tar_directory(tmp_path, max_files=10, max_bytes=1000)
    sbx.upload("repo", tar)
    assert py(sbx, "open('repo/a.py', 'w').write('tampered')").outcome is Outcome.OK
    assert (tmp_path / "a.py").read_text() == "original\n"
    assert sbx.download("repo/a.py", 100) == b"tampered"


def test_39_nothing_persists_between_sessions(docker_backend: Any) -> None:
    write = "for p in ['/tmp/p', '/dev/shm/p', '/work/p']: open(p, 'w').write('x')"
    with docker_backend.session(PROBE_SPEC) as s:
        assert py(s, write).outcome is Outcome.OK
    with docker_backend.session(PROBE_SPEC) as s:
        r = py(s, "import os; print([p for p in ['/tmp/p', '/dev/shm/p', '/work/p'] if os.path.exists(p)])")
        assert r.text().strip() == "[]"


# -- config-driven code execution ----------------------------------------------------------------
def test_40_41_conftest_and_addopts_plugins_run_only_inside(sbx: Any, tmp_path: Path) -> None:
    host_marker = tmp_path / "pwned"
    files = [
        FileEntry("conftest.py", f"open({str(host_marker)!r}, 'w').write('x')\n".encode()),
        FileEntry("evilplug.py", b"import os\nprint('PLUGIN-ENV', sorted(os.environ))\n"),
        FileEntry("pyproject.toml", b'[tool.pytest.ini_options]\naddopts = "-p evilplug"\n'),
        FileEntry("test_a.py", b"def test_a():\n    assert True\n"),
    ]
    sbx.upload("repo", build_tar(files)[0])
    r = sbx.run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd="repo", env={"PYTHONPATH": "."}
    )
    assert b"PLUGIN-ENV" in r.stdout and b"GITHUB_TOKEN" not in r.stdout
    assert not host_marker.exists()  # the conftest ran inside, where the host path does not exist


def test_42_ruff_extend_proc_environ_leaks_nothing_of_the_host(
    sbx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SECRET", "ghs_NOTREAL123")
    files = [
        FileEntry("pyproject.toml", b'[tool.ruff]\nextend = "/proc/self/environ"\n'),
        FileEntry("a.py", b""),
    ]
    sbx.upload("repo", build_tar(files)[0])
    r = sbx.run(["ruff", "check", "--no-cache", "."], cwd="repo")
    assert r.outcome is Outcome.NONZERO and r.exit_code == 2
    assert b"ghs_NOTREAL123" not in r.stdout + r.stderr


def test_43_sitecustomize_in_repo_is_contained(sbx: Any, tmp_path: Path) -> None:
    marker = tmp_path / "site-ran"
    files = [FileEntry("sitecustomize.py", f"open({str(marker)!r}, 'w')\n".encode())]
    sbx.upload("repo", build_tar(files)[0])
    sbx.run(["python", "-c", "import sitecustomize"], cwd="repo", env={"PYTHONPATH": "."})
    assert not marker.exists()


def test_45_pip_install_has_no_network_in_the_session(sbx: Any) -> None:
    r = sbx.run(
        [
            "python",
            "-m",
            "pip",
            "install",
            "--user",
            "--no-cache-dir",
            "--retries",
            "0",
            "--timeout",
            "3",
            "six",
        ],
        timeout_s=60,
    )
    assert r.outcome is Outcome.NONZERO
    assert sbx.run(["python", "-c", "import six"]).outcome is Outcome.NONZERO


def test_install_step_uses_a_separate_networked_container_then_tests_run_offline(docker_backend: Any) -> None:
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    spec = PROBE_SPEC.__class__(
        **{**PROBE_SPEC.__dict__, "network": True, "ca_bundle": ca.read_bytes() if ca.exists() else None}
    )
    with docker_backend.session(spec) as s:
        s.upload("repo", build_tar([FileEntry("test_a.py", b"import six\ndef test_a(): assert six\n")])[0])
        install = [
            "python",
            "-m",
            "pip",
            "install",
            "--user",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "six",
        ]
        r = s.run(install, cwd="repo", timeout_s=120, network=True)
        if r.outcome is not Outcome.OK and b"Could not find a version" in r.stderr:
            pytest.fail(f"PyPI unreachable from a bridge container here: {r.text('stderr')[-300:]}")
        assert r.outcome is Outcome.OK, r.text("stderr")[-500:]
        nets = s.run(["cat", "/proc/net/dev"]).text()
        assert [line.split(":")[0].strip() for line in nets.splitlines()[2:]] == ["lo"]
        t = s.run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd="repo")
        assert t.outcome is Outcome.OK, t.text()
