"""Docker fixtures of the probe suite, on top of `docker_client` (tests/conftest.py: with
REVIEWBOT_REQUIRE_DOCKER=1 a missing engine or image FAILS the docker-marked tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox.probe_limits import PROBE_SPEC


@pytest.fixture(scope="session")
def docker_backend(docker_client: Any) -> Any:
    from sandbox.docker_backend import DockerBackend

    return DockerBackend(docker_client)


@pytest.fixture
def sbx(docker_backend: Any, docker_client: Any) -> Iterator[Any]:
    with docker_backend.session(PROBE_SPEC) as session:
        yield session
    # Tidy engine: nothing of this session may remain.
    left = docker_client.containers.list(
        all=True, sparse=True, filters={"label": f"reviewbot.run={session.run_id}"}
    )
    assert left == [], f"containers left behind: {left}"
