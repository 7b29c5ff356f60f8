"""Fixtures shared by every test package.

Docker: `docker_client` answers with a client of a live engine that has the sandbox image. With
REVIEWBOT_REQUIRE_DOCKER=1 (CI, scripts/test) a missing engine or image FAILS the test; without
it the test skips and says why.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

SANDBOX_IMAGE = os.environ.get("REVIEWBOT_SANDBOX_IMAGE", "reviewbot-sandbox:latest")


def docker_unavailable(reason: str) -> None:
    if os.environ.get("REVIEWBOT_REQUIRE_DOCKER") == "1":
        pytest.fail(f"REVIEWBOT_REQUIRE_DOCKER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    try:
        import docker

        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # any failure to reach the engine means "no Docker here"
        docker_unavailable(
            f"no Docker engine answered ({type(exc).__name__}: {exc}); run scripts/setup-services.sh"
        )
    try:
        client.images.get(SANDBOX_IMAGE)
    except Exception:
        docker_unavailable(f"sandbox image {SANDBOX_IMAGE} is missing; run scripts/setup-services.sh")
    yield client
    client.close()


def our_containers(client: Any) -> list[Any]:
    """Sandbox containers owned by this test process (the owner label is host:pid:random)."""
    prefix = f"{socket.gethostname()}:{os.getpid()}:"
    # sparse: listing must not inspect containers that may be removing themselves meanwhile
    found = client.containers.list(all=True, sparse=True, filters={"label": "reviewbot.sandbox=1"})
    return [c for c in found if (c.attrs.get("Labels") or {}).get("reviewbot.owner", "").startswith(prefix)]
