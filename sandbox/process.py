"""The process backend: a subprocess with limits. Only for code you trust (local mode on your own repo).

Per session: a private temp directory (on /dev/shm when writable, see `session_parent`) holding
`work/` (files arrive as tars from `sandbox.archive`; the host repository is never touched),
`home/` and `tmp/`. Per command:
- argv only, never a shell; env built from the allowlist (`sandbox.environment`), PATH = the
  directory of reviewbot's own interpreter + /usr/local/bin:/usr/bin:/bin, so `python` and `ruff`
  of this environment are found;
- rlimits: CPU seconds, address space, file size, open files, and processes (RLIMIT_NPROC counts
  every process of the user, so it is set to "what the user already runs + spec.pids"; it is not
  enforced for root at all — that is the kernel's rule, and one reason Docker is the default);
- a new session (process group): on the wall clock, an output cap, or after the command returns,
  the whole group gets SIGKILL, so stragglers started with `&` do not outlive the call (a process
  that calls setsid() itself escapes the group: trusted code only, again);
- stdout/stderr read concurrently with `selectors`, capped by bytes, not lines;
- its own network namespace via `unshare -rn` (or `unshare -n` as root) when the machine allows
  it, detected once; otherwise the command has the host's network and `network_warning()` says so.
"""

from __future__ import annotations

import math
import os
import resource
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Unpack

from sandbox.archive import check_relative_path, extract_tar
from sandbox.backend import Command, RunOptions
from sandbox.environment import base_env, checked_extra_env
from sandbox.errors import SandboxError
from sandbox.spec import CommandResult, Outcome, SandboxSpec, append_capped

READ_CHUNK = 64 * 1024
DRAIN_AFTER_EXIT_S = 0.2
_unshare_lock = threading.Lock()
_unshare_prefix: list[str] | None = None
_unshare_checked = False


def sandbox_path() -> str:
    return f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin"


def network_prefix() -> list[str] | None:
    """argv prefix that puts a command in a new, empty network namespace, or None if impossible.

    Detected once per process by actually running it (containers and hardened kernels refuse)."""
    global _unshare_prefix, _unshare_checked
    with _unshare_lock:
        if not _unshare_checked:
            _unshare_checked = True
            unshare = shutil.which("unshare")
            candidates = [[unshare, "-rn", "--"], [unshare, "-n", "--"]] if unshare else []
            for prefix in candidates:
                try:
                    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
                except (OSError, subprocess.TimeoutExpired):
                    continue
                if probe.returncode == 0:
                    _unshare_prefix = prefix
                    break
        return _unshare_prefix


def network_warning() -> str | None:
    if network_prefix() is None:
        return "the process backend cannot isolate the network here (unshare refused); commands can reach it"
    return None


def _count_user_processes(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if os.stat(entry.path).st_uid == uid:
                count += 1
        except OSError:
            continue
    return count


def _limits(spec: SandboxSpec, timeout_s: float) -> list[tuple[int, int]]:
    mb = 1024 * 1024
    cpu = math.ceil(timeout_s) + 1  # a CPU-bound loop dies even if the wall clock were missed
    limits = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, spec.memory_mb * mb),
        (resource.RLIMIT_FSIZE, spec.max_file_size_mb * mb),
        (resource.RLIMIT_NOFILE, spec.max_open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    uid = os.geteuid()
    if uid != 0:  # root ignores RLIMIT_NPROC; for others it counts all of the user's processes
        limits.append((resource.RLIMIT_NPROC, _count_user_processes(uid) + spec.pids))
    return limits


def _capped(limits: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each limit, no higher than the hard limit this process (and so the child) already has."""
    out = []
    for which, value in limits:
        _soft, hard = resource.getrlimit(which)
        out.append((which, value if hard == resource.RLIM_INFINITY else min(value, hard)))
    return out


def _preexec(limits: list[tuple[int, int]]) -> Callable[[], None]:
    def apply() -> None:
        for which, cap in _capped(limits):
            resource.setrlimit(which, (cap, cap))

    return apply


_PRLIMIT_FLAGS = {
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_FSIZE: "--fsize",
    resource.RLIMIT_NOFILE: "--nofile",
    resource.RLIMIT_CORE: "--core",
    resource.RLIMIT_NPROC: "--nproc",
}


def prlimit_prefix(limits: list[tuple[int, int]]) -> list[str] | None:
    """`prlimit --cpu=N ... --` setting the same limits, or None when prlimit is missing.

    Preferred over a `preexec_fn`: with one, Python must fork() the whole interpreter for every
    command (page tables copied, so the cost grows with reviewbot's memory — a big repository's
    files in memory made each spawn measurably slower); without one it can use vfork/posix_spawn."""
    tool = shutil.which("prlimit")
    if tool is None:
        return None
    return [tool, *(f"{_PRLIMIT_FLAGS[which]}={cap}" for which, cap in _capped(limits)), "--"]


class _Capture:
    """Reads stdout and stderr together until EOF, a deadline, or a byte cap."""

    def __init__(self, proc: subprocess.Popen[bytes], cap: int, deadline: float) -> None:
        self.proc, self.cap, self.deadline = proc, cap, deadline
        self.out = bytearray()
        self.err = bytearray()
        self.timed_out = False
        self.overflow: str | None = None
        self._exited_at: float | None = None

    def run(self) -> None:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, (self.out, "stdout"))
        sel.register(self.proc.stderr, selectors.EVENT_READ, (self.err, "stderr"))
        try:
            while sel.get_map():
                now = time.monotonic()
                if self._exited_at is None and self.proc.poll() is not None:
                    # The command is done; a background child may still hold the pipes open, so
                    # drain briefly instead of waiting for an EOF that may never come.
                    self._exited_at = now
                if self._exited_at is not None and now - self._exited_at > DRAIN_AFTER_EXIT_S:
                    return
                remaining = self.deadline - now
                if remaining <= 0:
                    self.timed_out = True
                    return
                for key, _ in sel.select(timeout=min(remaining, 0.1)):
                    buf, name = key.data
                    chunk = os.read(key.fd, READ_CHUNK)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    if not append_capped(buf, chunk, self.cap):
                        self.overflow = name
                        return
        finally:
            sel.close()


class ProcessSession:
    backend_name = "process"

    def __init__(self, spec: SandboxSpec, root: Path) -> None:
        self.spec = spec
        self.root = root
        self.work = root / "work"
        self.home = root / "home"
        self.tmp = root / "tmp"
        for d in (self.work, self.home, self.tmp):
            d.mkdir(mode=0o700)

    def _inside(self, rel: str) -> Path:
        path = self.work if rel in ("", ".") else self.work / check_relative_path(rel)
        resolved = path.resolve()
        if not resolved.is_relative_to(self.work.resolve()):
            raise SandboxError(f"path leaves the work root: {rel!r}")
        return path

    def upload(self, dest: str, tar_data: bytes) -> None:
        extract_tar(tar_data, self._inside(dest))

    def download(self, path: str, max_bytes: int) -> bytes | None:
        try:
            target = self._inside(path)
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
        except (OSError, SandboxError):
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                return None
            return fh.read(max_bytes + 1)[:max_bytes]

    def run(self, argv: Sequence[str], **options: Unpack[RunOptions]) -> CommandResult:
        command = Command.checked(self.spec, argv, options)
        full_env = base_env(path=sandbox_path(), home=str(self.home), tmpdir=str(self.tmp))
        full_env.update(checked_extra_env(self.spec.env, command.env))
        workdir = self._inside(command.cwd)
        if not workdir.is_dir():
            return CommandResult(
                Outcome.ERROR, None, b"", b"", 0.0, f"no such directory in the sandbox: {command.cwd}"
            )
        start = time.monotonic()
        try:
            proc = self._start(command, workdir, full_env)
        except FileNotFoundError as exc:
            msg = f"command not found: {argv[0]}: {exc}".encode()
            return CommandResult(
                Outcome.NONZERO, 127, b"", msg, time.monotonic() - start, "command not found"
            )
        except OSError as exc:
            return CommandResult(
                Outcome.ERROR, None, b"", b"", time.monotonic() - start, f"could not start: {exc}"
            )
        capture = _Capture(proc, self.spec.max_output_bytes, start + command.timeout_s)
        try:
            capture.run()
        finally:
            # Kill the whole group: on timeout/cap, and also after a normal exit (stragglers).
            _kill_group(proc.pid)
            rc = proc.wait()
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            proc.stderr.close()
        duration = time.monotonic() - start
        return _classify(rc, capture, command.timeout_s, duration)

    def _start(self, command: Command, workdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start the command in a process group of its own, offline unless asked, under rlimits."""
        prefix = [] if command.network else (network_prefix() or [])
        limits = _limits(self.spec, command.timeout_s)
        rlimit_prefix = prlimit_prefix(limits)
        return subprocess.Popen(
            [*(rlimit_prefix or []), *prefix, *command.argv],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # rlimits are set in the child: by prlimit, or (without it) by a preexec hook
            preexec_fn=None if rlimit_prefix is not None else _preexec(limits),
            close_fds=True,
        )

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _classify(rc: int, cap: _Capture, timeout: float, duration: float) -> CommandResult:
    out, err = bytes(cap.out), bytes(cap.err)
    if cap.timed_out:
        return CommandResult(
            Outcome.TIMEOUT, rc, out, err, duration, f"killed at the {timeout:g}s wall clock"
        )
    if cap.overflow:
        detail = f"{cap.overflow} exceeded {cap.cap} bytes; the command was killed"
        return CommandResult(Outcome.TRUNCATED, rc, out, err, duration, detail)
    if rc == -signal.SIGXCPU:
        return CommandResult(Outcome.TIMEOUT, rc, out, err, duration, "CPU time limit reached")
    if rc != 0 and err.rstrip().endswith(b"MemoryError"):
        return CommandResult(Outcome.OOM, rc, out, err, duration, "MemoryError under the address-space limit")
    if rc == 0:
        return CommandResult(Outcome.OK, rc, out, err, duration)
    detail = f"killed by signal {-rc}" if rc < 0 else ""
    return CommandResult(Outcome.NONZERO, rc, out, err, duration, detail)


def session_parent() -> str | None:
    """Where session directories go: /dev/shm (a tmpfs, like the Docker sandbox's work volume;
    unpacking a repository there is ~4x faster than on a disk-backed /tmp), else the default
    temporary directory. The review caps what is copied in (max_files, max_repo_mb)."""
    shm = "/dev/shm"  # noqa: S108 - a parent for mkdtemp, which makes a private 0700 directory
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class ProcessBackend:
    """Backend for trusted code: see the module docstring for what it does and does not contain."""

    name = "process"

    @contextmanager
    def session(self, spec: SandboxSpec) -> Iterator[ProcessSession]:
        root = Path(tempfile.mkdtemp(prefix="reviewbot-sandbox-", dir=session_parent()))
        session = ProcessSession(spec, root)
        try:
            yield session
        finally:
            session.close()
