"""Errors of the sandbox package (it knows nothing of reviewbot's error tree; reviewbot's sandbox
adapter translates these).

    SandboxError            the sandbox itself failed (not the command in it)
    ├── SandboxStartError   no engine, image missing, limits not enforceable
    └── SandboxDead         the session was killed (timeout/OOM/output cap) and must be recreated
"""


class SandboxError(Exception):
    """The sandbox failed, as opposed to the command inside it."""


class SandboxStartError(SandboxError):
    """A session could not start: engine unreachable, image missing, backend refused."""


class SandboxDead(SandboxError):
    """The session's container was discarded after a timeout, OOM or output cap breach."""


class ArchiveError(SandboxError, ValueError):
    """Files could not be packed safely: a path escapes the tree, or the tree is too big to upload."""
