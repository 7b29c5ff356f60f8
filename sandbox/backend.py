"""The sandbox port: a backend opens sessions; a session runs many commands on copied-in files."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, TypedDict, Unpack

from sandbox.errors import SandboxError
from sandbox.spec import CommandResult, SandboxSpec


class RunOptions(TypedDict, total=False):
    """How `Session.run` runs one command; every key may be left out."""

    cwd: str  # relative to the work root; default "."
    timeout_s: float | None  # default: the spec's timeout_s
    env: dict[str, str] | None  # extra variables, allowlisted (sandbox.environment)
    network: bool  # default False; True only if the spec allows it


@dataclass(frozen=True)
class Command:
    """One `Session.run` call with its options checked and its defaults filled in."""

    argv: tuple[str, ...]
    cwd: str
    timeout_s: float
    env: dict[str, str] | None
    network: bool

    @classmethod
    def checked(cls, spec: SandboxSpec, argv: Sequence[str], options: RunOptions) -> Command:
        """ValueError for an argv that is not a non-empty list of strings; SandboxError for network
        the spec does not allow."""
        if not argv or not all(isinstance(a, str) for a in argv):
            raise ValueError(f"argv must be a non-empty list of strings, got {argv!r}")
        network = options.get("network", False)
        if network and not spec.network:
            raise SandboxError("network requested but the sandbox spec does not allow it")
        timeout = options.get("timeout_s")
        return cls(
            argv=tuple(argv),
            cwd=options.get("cwd", "."),
            timeout_s=spec.timeout_s if timeout is None else timeout,
            env=options.get("env"),
            network=network,
        )


class Session(Protocol):
    """One throwaway environment. Paths are relative to its work root; nothing maps to the host."""

    backend_name: str

    def upload(self, dest: str, tar_data: bytes) -> None:
        """Extract a tar (built by `sandbox.archive`) under `dest` (relative to the work root)."""

    def run(self, argv: Sequence[str], **options: Unpack[RunOptions]) -> CommandResult:
        """Run argv (no shell) as `options` say (`RunOptions`; `Command.checked` checks them).
        Never raises for the command's own failure; see `CommandResult.outcome`."""

    def download(self, path: str, max_bytes: int) -> bytes | None:
        """Read one regular file (relative to the work root), or None if absent/not regular/too big."""


class Backend(Protocol):
    name: str

    def session(self, spec: SandboxSpec) -> AbstractContextManager[Session]:
        """Start a session; it is torn down (container killed and removed) on exit."""
