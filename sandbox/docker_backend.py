"""The Docker backend: one hardened, throwaway container per session; many execs in it.

Lifecycle. `connect(image)` checks that an engine answers and the image exists (never pulls),
and sweeps leftovers (`sandbox.reaper`). A session creates one container (`docker_spec`: no
network, read-only root, no capabilities, user 10001, limits, `sleep <ttl>` + auto_remove, a tmpfs
volume at /work) and removes it on exit. Files go in with `put_archive` (re-packed by
`archive.sanitize_tar`) and come out with `get_archive`; no host path is ever mounted.

Each command runs as `sh -c WRAPPER <timeout> argv...`: `timeout -s KILL` inside, then the wrapper
kills what the command left running. The host reads the demuxed stream in a thread with a byte cap
and its own deadline (timeout + grace); on either, it closes the stream *before* killing the
container (killing with an undrained stream open hangs ~10 s on this engine).

Restart policy: after a timeout, an OOM kill, an output-cap breach or a container that died, the
container is discarded at once and the result says so (TIMEOUT / OOM / TRUNCATED / ERROR). The
session then restarts *transparently* on the next call: a fresh container, into which every upload
so far (including the install step's result, see below) is replayed. Files written by earlier
commands are gone; `restarts` counts how often this happened.

The install step (`run(argv, network=True)`, allowed only when `spec.network` is set) runs in a
*separate* container that has a bridge network but is otherwise hardened the same way; the session
container never gets a network. Design, so that no secret enters and the network is cut before any
test runs:
1. a fresh "install" container is started; all uploads are replayed into it; when
   `spec.ca_bundle` is set it goes to /work/.reviewbot/ca.pem and SSL_CERT_FILE/PIP_CERT/
   REQUESTS_CA_BUNDLE point at it (a CA certificate is public, not a secret);
2. the command runs there with the same allowlisted environment (no tokens exist to leak), the
   same wall clock and output caps; dependencies land in /work/.local (PYTHONUSERBASE; the image's
   venv sees the user site) since the root is read-only;
3. /work is read back with `get_archive` (capped at the volume size), re-packed through the same
   tar rules, copied into the network-less session container and recorded as an upload, and the
   install container is removed. Only then can a test command run — in a container that has
   only `lo`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Unpack

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from sandbox.archive import FileEntry, build_tar, check_relative_path, read_single_file, sanitize_tar
from sandbox.backend import Command, RunOptions
from sandbox.docker_spec import (
    ENV_ROOT,
    OOM_COUNTER_ARGV,
    SANDBOX_USER,
    WORK,
    container_kwargs,
    exec_argv,
    host_deadline,
    killed_by_wall_clock,
    parse_oom_kills,
)
from sandbox.environment import checked_extra_env
from sandbox.errors import SandboxError, SandboxStartError
from sandbox.reaper import new_owner_id, reap
from sandbox.spec import CommandResult, Outcome, SandboxSpec, append_capped

# Go os.FileMode type bits (dir, symlink, device, pipe, socket, char device, irregular): a
# `get_archive` stat with any of them is not a regular file.
_GO_TYPE_BITS = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
CA_PATH = f"{WORK}/.reviewbot/ca.pem"
#: One .pth line (executed by `site` at start-up): add the layer's site dir (its own .pth files
#: included) and move what that added *before* the first site-packages on sys.path, so the
#: project's pinned packages (another pytest, say) win over the image's.
ENV_PTH = (
    "import site, sys; n = len(sys.path); site.addsitedir(%r); new = sys.path[n:]; del sys.path[n:]; "
    "i = next((k for k, p in enumerate(sys.path) if p.endswith('-packages')), len(sys.path)); "
    "sys.path[i:i] = new\n"
)
#: Writes <user site>/00-reviewbot-env.pth with ENV_PTH for the same site dir under /env.
ACTIVATE_ENV_PY = (
    "import os, site\n"
    "u = site.getusersitepackages(); os.makedirs(u, exist_ok=True)\n"
    f"e = {ENV_ROOT!r} + u[len(site.getuserbase()):]\n"
    f"open(os.path.join(u, '00-reviewbot-env.pth'), 'w').write({ENV_PTH!r} % e)\n"
)


def connect(image: str, *, client: Any = None) -> DockerBackend:
    """A backend on the local engine (DOCKER_HOST etc. respected). Raises SandboxStartError."""
    try:
        client = client or docker.from_env(timeout=60)
        client.ping()
    except (DockerException, OSError) as exc:
        raise SandboxStartError(f"no Docker engine answered ({type(exc).__name__})") from exc
    try:
        client.images.get(image)
    except ImageNotFound as exc:
        raise SandboxStartError(
            f"the sandbox image {image} is missing; build it with `reviewbot sandbox build`"
        ) from exc
    except (DockerException, OSError) as exc:
        raise SandboxStartError(f"the Docker engine failed: {exc}") from exc
    reap(client, now=time.time())
    return DockerBackend(client)


class DockerBackend:
    name = "docker"

    def __init__(self, client: Any) -> None:
        self.client = client
        self.owner = new_owner_id()

    @contextmanager
    def session(self, spec: SandboxSpec) -> Iterator[DockerSession]:
        session = DockerSession(self.client, spec, owner=self.owner)
        try:
            session.start()
            yield session
        finally:
            session.close()


class _Reader(threading.Thread):
    """Drains a demuxed exec stream into two byte-capped buffers."""

    def __init__(self, stream: Any, cap: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.out, self.err = bytearray(), bytearray()
        self.overflow: str | None = None

    def run(self) -> None:
        try:
            for out, err in self.stream:
                for chunk, buf, name in ((out, self.out, "stdout"), (err, self.err, "stderr")):
                    if chunk and not append_capped(buf, chunk, self.cap):
                        self.overflow = name
                        return
        except (OSError, ValueError, DockerException):
            return  # the stream was closed under us (deadline or discard)


class DockerSession:
    backend_name = "docker"

    def __init__(self, client: Any, spec: SandboxSpec, *, owner: str) -> None:
        self.client, self.api, self.spec, self.owner = client, client.api, spec, owner
        self.run_id = uuid.uuid4().hex[:12]
        self.container_id: str | None = None
        self.restarts = 0
        self.skipped: list[tuple[str, str]] = []
        self._uploads: list[bytes] = []  # sanitized tars for /work, replayed on restart

    # -- container lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.container_id = self._create(networked=False)

    def _create(self, *, networked: bool, env_writable: bool = False) -> str:
        kwargs = container_kwargs(
            self.spec,
            run_id=self.run_id,
            owner=self.owner,
            now=time.time(),
            networked=networked,
            env_writable=env_writable,
        )
        try:
            container = self.client.containers.create(**kwargs)
        except ImageNotFound as exc:
            raise SandboxStartError(f"the sandbox image {self.spec.image} is missing") from exc
        except (DockerException, OSError) as exc:
            raise SandboxStartError(f"could not create the sandbox container: {exc}") from exc
        try:
            container.start()
            self._wait_for_main(container.id)
            for tar in self._uploads:
                self._put(container.id, tar)
            if self.spec.env_layer and not env_writable:
                self._activate_env(container.id)
        except (DockerException, OSError, SandboxError) as exc:
            self._remove(container.id)
            raise SandboxStartError(f"could not start the sandbox container: {exc}") from exc
        return str(container.id)

    def _wait_for_main(self, container_id: str) -> None:
        """Until the container's `sleep` runs beside docker-init. Every exec's wrapper spares the
        oldest process but init; an exec racing ahead of `sleep` would spare itself and kill
        `sleep`, and with it the container (seen under load on the first exec of a session)."""
        for _ in range(200):
            if len(self.api.top(container_id).get("Processes") or []) >= 2:
                return
            time.sleep(0.01)
        raise SandboxError("the sandbox container's main process did not start")

    def _activate_env(self, container_id: str) -> None:
        """Put the read-only /env layer on sys.path, ahead of the image's own packages (a project
        pinning another pytest gets its own): a .pth in the writable user site adds it."""
        result, _ = self._exec(container_id, ["python", "-c", ACTIVATE_ENV_PY], WORK, 60.0, {})
        if not result.ok:
            raise SandboxError(f"the test environment could not be activated: {result.text('stderr')[-300:]}")

    def build_layer(
        self, files_tar: bytes, argv: Sequence[str], env: dict[str, str], timeout: float
    ) -> CommandResult:
        """Run argv once in a networked container with `spec.env_layer` mounted *writable* at /env
        (the only place it ever is), files_tar unpacked in /work; the container is removed after."""
        container_id = self._create(networked=True, env_writable=True)
        try:
            self._put(container_id, files_tar)
            build_env = self._with_ca_bundle(container_id, env)
            result, _ = self._exec(container_id, argv, WORK, timeout, build_env)
            return result
        finally:
            self._remove(container_id)

    def _remove(self, container_id: str) -> None:
        try:
            self.api.remove_container(container_id, v=True, force=True)
        except NotFound:
            pass
        except APIError as exc:
            if exc.status_code != 409:  # 409: auto_remove already removing it
                raise

    def _discard(self) -> None:
        if self.container_id is not None:
            self._remove(self.container_id)
            self.container_id = None

    def _alive(self) -> str:
        if self.container_id is None:
            self.container_id = self._create(networked=False)
            self.restarts += 1
        return self.container_id

    def close(self) -> None:
        self._discard()

    # -- files -----------------------------------------------------------------------------------
    def _put(self, container_id: str, tar: bytes) -> None:
        if not self.api.put_archive(container_id, WORK, tar):
            raise SandboxError("the engine refused the upload")

    def upload(self, dest: str, tar_data: bytes) -> None:
        tar, skipped = sanitize_tar(tar_data, prefix=dest)
        self.skipped.extend(skipped)
        container_id = self._alive()
        try:
            self._put(container_id, tar)
        except APIError as exc:
            raise SandboxError(f"upload refused by the engine: {exc.explanation}") from exc
        self._uploads.append(tar)

    def download(self, path: str, max_bytes: int) -> bytes | None:
        rel = check_relative_path(path)
        container_id = self._alive()
        try:
            stream, stat = self.api.get_archive(container_id, f"{WORK}/{rel}")
        except NotFound:
            return None
        except APIError as exc:
            raise SandboxError(f"download failed: {exc.explanation}") from exc
        if stat.get("mode", 0) & _GO_TYPE_BITS or stat.get("linkTarget") or stat.get("size", 0) > max_bytes:
            stream.close() if hasattr(stream, "close") else None
            return None
        data = _read_capped(stream, max_bytes + 64 * 1024)
        return None if data is None else read_single_file(data, max_bytes)

    # -- commands --------------------------------------------------------------------------------
    def run(self, argv: Sequence[str], **options: Unpack[RunOptions]) -> CommandResult:
        command = Command.checked(self.spec, argv, options)
        extra = checked_extra_env(command.env)
        cwd = command.cwd
        workdir = WORK if cwd in ("", ".") else f"{WORK}/{check_relative_path(cwd)}"
        if command.network:
            return self._run_install(command.argv, workdir, command.timeout_s, extra)
        container_id = self._alive()
        result, healthy = self._exec(container_id, command.argv, workdir, command.timeout_s, extra)
        if not healthy:
            self._discard()
        return result

    def _exec(
        self, container_id: str, argv: Sequence[str], workdir: str, timeout: float, env: dict[str, str]
    ) -> tuple[CommandResult, bool]:
        """Run one command; return (result, container still trustworthy)."""
        start = time.monotonic()
        try:
            exec_id = self.api.exec_create(
                container_id,
                exec_argv(argv, timeout),
                stdout=True,
                stderr=True,
                environment=env or None,
                workdir=workdir,
                user=SANDBOX_USER,  # never root, whatever the image says
            )["Id"]
            stream = self.api.exec_start(exec_id, stream=True, demux=True)
        except (DockerException, OSError) as exc:
            detail = f"the sandbox container failed: {exc}"
            return CommandResult(Outcome.ERROR, None, b"", b"", time.monotonic() - start, detail), False
        reader = _Reader(stream, self.spec.max_output_bytes)
        reader.start()
        reader.join(host_deadline(timeout))
        if reader.is_alive() or reader.overflow:
            stream.close()  # before the kill: an open undrained stream makes kill hang
            self._discard()
            reader.join(5)
            out, err, duration = bytes(reader.out), bytes(reader.err), time.monotonic() - start
            if reader.overflow:
                detail = f"{reader.overflow} exceeded {self.spec.max_output_bytes} bytes; sandbox discarded"
                return CommandResult(Outcome.TRUNCATED, None, out, err, duration, detail), False
            detail = f"no end after {timeout:g}s; sandbox discarded"
            return CommandResult(Outcome.TIMEOUT, None, out, err, duration, detail), False
        stream.close()
        rc = self._exit_code(exec_id)
        out, err, duration = bytes(reader.out), bytes(reader.err), time.monotonic() - start
        if rc == 0:
            return CommandResult(Outcome.OK, 0, out, err, duration), True
        if rc == 137:
            if self._oom_kills(container_id) > 0:
                detail = "killed by the memory limit; sandbox discarded"
                return CommandResult(Outcome.OOM, rc, out, err, duration, detail), False
            if killed_by_wall_clock(rc, duration, timeout):
                detail = f"killed at the {timeout:g}s wall clock; sandbox discarded"
                return CommandResult(Outcome.TIMEOUT, rc, out, err, duration, detail), False
            return CommandResult(Outcome.NONZERO, rc, out, err, duration, "killed by SIGKILL"), True
        if rc is None:
            return CommandResult(Outcome.ERROR, None, out, err, duration, "exit code unknown"), False
        return CommandResult(Outcome.NONZERO, rc, out, err, duration), True

    def _exit_code(self, exec_id: str) -> int | None:
        for _ in range(200):
            info = self.api.exec_inspect(exec_id)
            if not info.get("Running"):
                code = info.get("ExitCode")
                return int(code) if code is not None else None
            time.sleep(0.005)
        return None

    def _oom_kills(self, container_id: str) -> int:
        try:
            exec_id = self.api.exec_create(container_id, OOM_COUNTER_ARGV, user=SANDBOX_USER)["Id"]
            out = self.api.exec_start(exec_id, demux=True)
        except (DockerException, OSError):
            return 0
        return parse_oom_kills((out[0] or b"").decode("ascii", "replace"))

    def _with_ca_bundle(self, container_id: str, env: dict[str, str]) -> dict[str, str]:
        """`env` for a networked container; with the spec's CA bundle copied in and named, if any."""
        out = dict(env)
        if self.spec.ca_bundle:
            ca_tar, _ = build_tar([FileEntry(".reviewbot/ca.pem", self.spec.ca_bundle)])
            self._put(container_id, ca_tar)
            for name in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
                out[name] = CA_PATH
        return out

    def _run_install(
        self, argv: Sequence[str], workdir: str, timeout: float, env: dict[str, str]
    ) -> CommandResult:
        """See the module docstring: a separate networked container, results copied back."""
        session_container = self._alive()
        install_id = self._create(networked=True)
        try:
            install_env = self._with_ca_bundle(install_id, env)
            result, _ = self._exec(install_id, argv, workdir, timeout, install_env)
            if not result.completed:
                return result
            stream, _stat = self.api.get_archive(install_id, WORK)
            data = _read_capped(stream, self.spec.work_size_mb * 1024 * 1024 * 2)
            if data is None:
                detail = "the install step produced more files than the workspace may hold"
                return CommandResult(
                    Outcome.ERROR, result.exit_code, result.stdout, result.stderr, result.duration_s, detail
                )
            tar, skipped = sanitize_tar(data, strip="work")
            self.skipped.extend(skipped)
            self._put(session_container, tar)
            self._uploads.append(tar)
            return result
        finally:
            self._remove(install_id)


def _read_capped(stream: Any, cap: int) -> bytes | None:
    buf = bytearray()
    for chunk in stream:
        buf += chunk
        if len(buf) > cap:
            return None
    return bytes(buf)
