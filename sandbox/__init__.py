"""Run commands on untrusted files, with limits. Knows nothing of reviews.

    from sandbox import SandboxSpec, open_backend
    backend = open_backend("auto")
    with backend.session(spec) as s:
        s.upload("repo", tar_bytes)
        result = s.run(["ruff", "check", "."], cwd="repo")

Backends: `docker` (hardened throwaway container, the default) and `process` (subprocess with
rlimits, a scrubbed environment and a timeout; only for code you trust).
"""

from sandbox.backend import Backend, Command, RunOptions, Session
from sandbox.errors import SandboxError, SandboxStartError
from sandbox.factory import open_backend
from sandbox.spec import CommandResult, Outcome, SandboxSpec

__all__ = [
    "Backend",
    "Command",
    "CommandResult",
    "Outcome",
    "RunOptions",
    "SandboxError",
    "SandboxSpec",
    "SandboxStartError",
    "Session",
    "open_backend",
]
