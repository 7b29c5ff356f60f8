"""Docker fixtures. With REVIEWBOT_REQUIRE_DOCKER=1 (CI), a missing engine or image FAILS the
docker-marked tests; without it they skip with the reason."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # probe_limits is shared with a child process
from probe_limits import IMAGE, PROBE_SPEC


def _unavailable(reason: str) -> None:
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
        _unavailable(
            f"no Docker engine answered ({type(exc).__name__}: {exc}); run scripts/setup-services.sh"
        )
    try:
        client.images.get(IMAGE)
    except Exception:
        _unavailable(f"sandbox image {IMAGE} is missing; run scripts/setup-services.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def docker_backend(docker_client: Any) -> Any:
    from sandbox.docker_backend import DockerBackend

    return DockerBackend(docker_client)


@pytest.fixture
def sbx(docker_backend: Any, docker_client: Any) -> Iterator[Any]:
    with docker_backend.session(PROBE_SPEC) as session:
        yield session
    # Tidy engine: nothing of this session may remain.
    left = docker_client.containers.list(all=True, filters={"label": f"reviewbot.run={session.run_id}"})
    assert left == [], f"containers left behind: {left}"
