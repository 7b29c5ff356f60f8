"""The Docker backend (in progress)."""

from __future__ import annotations

from sandbox.backend import Backend
from sandbox.errors import SandboxStartError


def connect(image: str) -> Backend:
    raise SandboxStartError("the docker backend is not available yet")
