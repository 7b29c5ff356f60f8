"""Pure data: what a sandbox looks like and what a command in it produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

#: Environment variables a sandboxed command may see. Nothing else from the host is forwarded.
ENV_ALLOWLIST = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "TZ",
    # Added for analyzers and test runners; none of these can carry a credential by design.
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONIOENCODING",
    "NO_COLOR",
    "COLUMNS",
    "TERM",
    "TMPDIR",
    # Versions for projects versioned from git (the sandbox has no .git); values are reviewbot's own.
    "SETUPTOOLS_SCM_PRETEND_VERSION",
    "PDM_BUILD_SCM_VERSION",
    "POETRY_DYNAMIC_VERSIONING_BYPASS",
    "VERSIONEER_OVERRIDE",
    # The package index of an install step (settings refuse one carrying credentials).
    "PIP_INDEX_URL",
    "PIP_TRUSTED_HOST",
)

#: Per-distribution variants of an allowlisted name (setuptools-scm's `..._FOR_<DIST>`).
ENV_ALLOWED_PREFIXES = ("SETUPTOOLS_SCM_PRETEND_VERSION_FOR_",)


@dataclass(frozen=True)
class SandboxSpec:
    """Limits and shape of one sandbox session. Pure data; each backend maps it to its mechanism."""

    image: str = "reviewbot-sandbox:latest"
    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 256
    timeout_s: float = 300.0  # default wall clock per command
    tmp_size_mb: int = 256  # /tmp tmpfs
    work_size_mb: int = 512  # the workspace volume (files copied in)
    work_inodes: int = 200_000
    max_output_bytes: int = 4 * 1024 * 1024  # per stream
    max_file_size_mb: int = 256  # RLIMIT_FSIZE / ulimit fsize
    max_open_files: int = 1024
    network: bool = False
    env: Mapping[str, str] = field(default_factory=dict)  # extra env, filtered by the backend
    runtime: str | None = None  # e.g. "runsc" (gVisor) when the engine offers it
    ttl_s: int = 3600  # a container outlives a killed bot by this much at most
    ca_bundle: bytes | None = None  # PEM to trust inside the sandbox (TLS-inspecting proxies)
    labels: Mapping[str, str] = field(default_factory=dict)
    # A built test environment (`sandbox.envcache`) to mount read-only at /env, or None.
    env_layer: str | None = None


class Outcome(StrEnum):
    OK = "ok"  # exit code 0
    NONZERO = "nonzero"  # ran to completion, exit code != 0
    TIMEOUT = "timeout"  # killed at the wall clock
    OOM = "oom"  # killed by the memory limit
    TRUNCATED = "truncated"  # output exceeded the cap; the command was stopped
    ERROR = "error"  # the sandbox failed; the command may not have run


@dataclass(frozen=True)
class CommandResult:
    outcome: Outcome
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    duration_s: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def completed(self) -> bool:
        """The command ran to its own end (exit 0 or not); its output is whole."""
        return self.outcome in (Outcome.OK, Outcome.NONZERO)

    def text(self, stream: str = "stdout") -> str:
        data = self.stdout if stream == "stdout" else self.stderr
        return data.decode("utf-8", "replace")


def append_capped(buf: bytearray, chunk: bytes, cap: int) -> bool:
    """Append what fits of `chunk` to `buf`, which holds at most `cap` bytes; False if some did not."""
    room = cap - len(buf)
    buf += chunk[: max(room, 0)]
    return len(chunk) <= room
