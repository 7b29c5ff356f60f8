"""The test-environment cache (sandbox.envcache) on the real engine: built once, reused, mounted
read-only, evicted least-recently-used first under its size cap, and rebuilt after a killed build."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sandbox.envcache import DockerEnvCache, choose_victims, volume_name
from sandbox.spec import Outcome
from tests.reviewbot.pipeline.test_env_docker import bridge_gateway
from tests.reviewbot.pipeline.wheelhouse import Wheelhouse
from tests.sandbox.probe_limits import PROBE_SPEC as SMALL

#: pip needs more memory than the probes' limits; everything else stays small.
PROBE_SPEC = replace(SMALL, memory_mb=512, pids=128, work_size_mb=128)
SYS_PATH_PROBE = (
    "import rbdep, sys\n"
    "site = '/lib/python%d.%d/site-packages' % sys.version_info[:2]\n"
    "print(rbdep.__file__, sys.path.index('/env' + site) < sys.path.index('/opt/venv' + site))\n"
)


def test_lru_victims_oldest_first_until_under_the_cap() -> None:
    entries: dict[str, dict[str, float]] = {
        "a": {"size": 40, "last_use": 1},
        "b": {"size": 40, "last_use": 3},
        "c": {"size": 40, "last_use": 2},
        "new": {"size": 40, "last_use": 0},
    }
    assert choose_victims(entries, cap_bytes=80, keep="new") == ["a", "c"]
    assert choose_victims(entries, cap_bytes=1000, keep="new") == []
    assert choose_victims(entries, cap_bytes=0, keep="new") == ["a", "c", "b"]


@pytest.fixture
def index(docker_client: Any, tmp_path: Path) -> Iterator[Wheelhouse]:
    with Wheelhouse.serve(tmp_path / "wheelhouse", bridge_gateway(docker_client)) as house:
        house.add("rbdep", "1.0", {"rbdep/__init__.py": "VALUE = 41\n"})
        house.add("rbother", "2.0", {"rbother.py": "VALUE = 2\n"})
        yield house


@pytest.fixture
def cache(docker_backend: Any, docker_client: Any, tmp_path: Path) -> Iterator[DockerEnvCache]:
    made = DockerEnvCache(docker_backend, state_dir=tmp_path / "state", cap_mb=1024)
    yield made
    for name in made.index.load():
        for volume in docker_client.volumes.list(filters={"name": name}):
            volume.remove(force=True)


def key(tag: str) -> str:
    return f"{tag}{time.time_ns():x}".ljust(64, "0")[:64]


@pytest.mark.docker
def test_layer_is_built_once_then_mounted_read_only(
    docker_backend: Any, cache: DockerEnvCache, index: Wheelhouse
) -> None:

    k = key("a")
    first = cache.ensure(PROBE_SPEC, k, b"rbdep==1.0\n", timeout_s=120, index_url=index.url)
    assert first.ok and not first.cached, first.result
    assert first.size_bytes > 0
    asked = len(index.requests)
    again = cache.ensure(PROBE_SPEC, k, b"rbdep==1.0\n", timeout_s=120, index_url=index.url)
    assert again.cached and again.name == first.name and len(index.requests) == asked

    with docker_backend.session(replace(PROBE_SPEC, env_layer=first.name)) as s:
        found = s.run(["python", "-c", SYS_PATH_PROBE])
        assert found.ok, found.stderr
        path, ahead = found.text().split()
        assert path.startswith("/env/") and ahead == "True", "the layer comes before the image's packages"
        for attempt in (["touch", "/env/x"], ["sh", "-c", f"echo VALUE = 0 > {path}"]):
            refused = s.run(attempt)
            assert refused.outcome is Outcome.NONZERO and b"Read-only file system" in refused.stderr
        # /tmp is not noexec: a test may run a helper script it wrote there.
        script = "printf '#!/bin/sh\\necho ran\\n' > /tmp/h.sh && chmod +x /tmp/h.sh && /tmp/h.sh"
        assert s.run(["sh", "-c", script]).text() == "ran\n"


@pytest.mark.docker
def test_least_recently_used_entries_are_evicted_but_not_one_in_use(
    docker_backend: Any, docker_client: Any, cache: DockerEnvCache, index: Wheelhouse
) -> None:

    old = cache.ensure(PROBE_SPEC, key("o"), b"rbother==2.0\n", timeout_s=120, index_url=index.url)
    used = cache.ensure(PROBE_SPEC, key("u"), b"rbdep==1.0\n", timeout_s=120, index_url=index.url)
    assert old.ok and used.ok
    cache.cap_bytes = 0
    with docker_backend.session(replace(PROBE_SPEC, env_layer=used.name)):
        fresh = cache.ensure(
            PROBE_SPEC, key("f"), b"rbdep==1.0\nrbother==2.0\n", timeout_s=120, index_url=index.url
        )
        assert fresh.ok
        names = {v.name for v in docker_client.volumes.list(filters={"label": "reviewbot.env=1"})}
    assert old.name not in names, "the least recently used entry went"
    assert used.name in names, "an entry in use by a running review is kept"
    assert fresh.name in names, "the entry just built is kept"
    assert cache.evict(keep=fresh.name) == [used.name], "once the review is gone, it can go too"


@pytest.mark.docker
def test_a_killed_build_is_not_mistaken_for_a_finished_one(
    docker_client: Any, cache: DockerEnvCache, index: Wheelhouse
) -> None:

    k = key("k")
    docker_client.volumes.create(name=volume_name(k), labels={"reviewbot.env": "1"})  # half-built
    layer = cache.ensure(PROBE_SPEC, k, b"rbdep==1.0\n", timeout_s=120, index_url=index.url)
    assert layer.ok and not layer.cached


@pytest.mark.docker
def test_failed_build_leaves_no_volume_and_says_why(
    docker_client: Any, cache: DockerEnvCache, index: Wheelhouse
) -> None:

    layer = cache.ensure(PROBE_SPEC, key("x"), b"rb-no-such-zz9\n", timeout_s=120, index_url=index.url)
    assert not layer.ok and layer.result is not None
    assert b"rb-no-such-zz9" in layer.result.stdout + layer.result.stderr
    assert docker_client.volumes.list(filters={"name": layer.name}) == []
