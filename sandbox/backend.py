"""The sandbox port: a backend opens sessions; a session runs many commands on copied-in files."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from sandbox.spec import CommandResult, SandboxSpec


class Session(Protocol):
    """One throwaway environment. Paths are relative to its work root; nothing maps to the host."""

    backend_name: str

    def upload(self, dest: str, tar_data: bytes) -> None:
        """Extract a tar (built by `sandbox.archive`) under `dest` (relative to the work root)."""

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str = ".",
        timeout_s: float | None = None,
        env: dict[str, str] | None = None,
        network: bool = False,
    ) -> CommandResult:
        """Run argv (no shell) with cwd relative to the work root. Never raises for the command's
        own failure; see `CommandResult.outcome`. `network=True` only if the spec allows it."""

    def download(self, path: str, max_bytes: int) -> bytes | None:
        """Read one regular file (relative to the work root), or None if absent/not regular/too big."""


class Backend(Protocol):
    name: str

    def session(self, spec: SandboxSpec) -> AbstractContextManager[Session]:
        """Start a session; it is torn down (container killed and removed) on exit."""
