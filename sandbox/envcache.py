"""The test-environment cache: built dependency layers, reused across reviews, capped in size.

    cache = DockerEnvCache(backend, state_dir=Path("~/.cache/reviewbot").expanduser(), cap_mb=4096)
    layer = cache.ensure(spec, key, requirements_txt, timeout_s=300, index_url=None)
    # layer.name -> SandboxSpec(env_layer=layer.name): mounted read-only at /env in every session

One entry is one Docker volume (`reviewbot-env-<key>`, labelled `reviewbot.env=1`). It is built
once by `pip install --prefix /env --ignore-installed -r requirements.txt`, in a networked
container that holds *only* that requirements file (the caller's list of index requirements:
no project tree, so no code of the pull request runs where the cache is writable). Every other
container mounts it read-only. The key is the caller's: it must cover the dependency
declarations, the image and the Python version.

Bookkeeping (size, last use, finished builds) lives in a small JSON index under `state_dir`,
guarded by file locks; a volume that exists but is not recorded as finished (a build that was
killed) is removed and built again. After each build, least-recently-used entries are removed
until the total is under `cap_mb` (an entry in use by a running review is skipped: the engine
refuses with 409).
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from docker.errors import APIError, DockerException, NotFound

from sandbox.archive import FileEntry, build_tar
from sandbox.docker_backend import DockerBackend, DockerSession
from sandbox.docker_spec import ENV_ROOT
from sandbox.errors import SandboxError
from sandbox.spec import CommandResult, SandboxSpec

LABEL_ENV, LABEL_ENV_KEY = "reviewbot.env", "reviewbot.env.key"
REQUIREMENTS = ".reviewbot/requirements.txt"
#: The install itself, then the size of what it built (last line of stdout: "<KiB>\t/env").
#: `--prefix` + `--ignore-installed`: the layer is self-contained (what the image already has is
#: installed again when the project's requirements pull it in), so a project needing another
#: version than the image's (setuptools>=77, an older pytest) gets it; `--user` would refuse that
#: ("lack sys.path precedence"), and a plain install would try to uninstall from the read-only root.
BUILD_SCRIPT = (
    f"python -m pip install --prefix {ENV_ROOT} --ignore-installed --no-input --disable-pip-version-check "
    f"--no-warn-script-location --progress-bar off -r {REQUIREMENTS} && du -sk {ENV_ROOT}"
)


@dataclass(frozen=True)
class EnvLayer:
    name: str
    cached: bool  # True: an earlier review built it
    result: CommandResult | None  # the build's own result (None when cached)
    size_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok


def index_env(index_url: str | None) -> dict[str, str]:
    """PIP_INDEX_URL, and PIP_TRUSTED_HOST when the caller chose a plain-http index (a local mirror)."""
    if not index_url:
        return {}
    env = {"PIP_INDEX_URL": index_url}
    parts = urlsplit(index_url)
    if parts.scheme == "http" and parts.hostname:
        env["PIP_TRUSTED_HOST"] = parts.hostname
    return env


def volume_name(key: str) -> str:
    return f"reviewbot-env-{key[:40]}"


def choose_victims(entries: dict[str, dict[str, float]], cap_bytes: int, keep: str) -> list[str]:
    """Least recently used first, until the total size is within cap_bytes (`keep` is never chosen)."""
    total = sum(e.get("size", 0) for e in entries.values())
    victims = []
    for name, entry in sorted(entries.items(), key=lambda item: item[1].get("last_use", 0)):
        if total <= cap_bytes:
            break
        if name == keep:
            continue
        victims.append(name)
        total -= entry.get("size", 0)
    return victims


class _Index:
    """{volume name: {"size": bytes, "last_use": epoch}} in state_dir/envs.json, under a lock."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "envs.json"
        self.lock_path = state_dir / "envs.lock"
        self.state_dir = state_dir

    @contextmanager
    def locked(self, name: str = "envs") -> Iterator[None]:
        with (self.state_dir / f"{name}.lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, name: str, **values: float) -> None:
        with self.locked():
            data = self.load()
            data.setdefault(name, {}).update(values)
            self._write(data)

    def drop(self, names: list[str]) -> None:
        with self.locked():
            data = self.load()
            for name in names:
                data.pop(name, None)
            self._write(data)

    def _write(self, data: dict[str, dict[str, float]]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        tmp.replace(self.path)


class DockerEnvCache:
    def __init__(self, backend: DockerBackend, *, state_dir: Path, cap_mb: int) -> None:
        self.backend, self.client = backend, backend.client
        self.index = _Index(state_dir)
        self.cap_bytes = cap_mb * 1024 * 1024

    def ensure(
        self, spec: SandboxSpec, key: str, requirements: bytes, *, timeout_s: float, index_url: str | None
    ) -> EnvLayer:
        name = volume_name(key)
        with self.index.locked(f"build-{name}"):  # one build per key at a time on this host
            entry = self.index.load().get(name)
            if entry and entry.get("done") and self._exists(name):
                self.index.update(name, last_use=time.time())
                return EnvLayer(name, cached=True, result=None, size_bytes=int(entry.get("size", 0)))
            self._remove(name)  # a killed build leaves a volume that is not recorded as done
            layer = self._build(spec, name, key, requirements, timeout_s=timeout_s, index_url=index_url)
        if layer.ok:
            self.evict(keep=name)
        return layer

    def _build(
        self,
        spec: SandboxSpec,
        name: str,
        key: str,
        requirements: bytes,
        *,
        timeout_s: float,
        index_url: str | None,
    ) -> EnvLayer:
        try:
            self.client.volumes.create(name=name, driver="local", labels={LABEL_ENV: "1", LABEL_ENV_KEY: key})
        except (DockerException, OSError) as exc:
            raise SandboxError(f"could not create the test environment volume: {exc}") from exc
        env = {"PIP_NO_CACHE_DIR": "1"}
        env.update(index_env(index_url))
        tar, _ = build_tar([FileEntry(REQUIREMENTS, requirements)])
        session = DockerSession(
            self.client, replace(spec, env_layer=name, network=True), owner=self.backend.owner
        )
        result = session.build_layer(tar, ["sh", "-c", BUILD_SCRIPT], env, timeout_s)
        if not result.ok:
            self._remove(name)
            return EnvLayer(name, cached=False, result=result)
        size = _parse_du(result.text())
        self.index.update(name, size=size, last_use=time.time(), done=1)
        return EnvLayer(name, cached=False, result=result, size_bytes=size)

    def image_identity(self, image: str) -> tuple[str, str]:
        """(image id, Python version as the image declares it): part of every cache key."""
        try:
            attrs = self.client.images.get(image).attrs
        except (DockerException, OSError) as exc:
            raise SandboxError(f"the sandbox image {image} cannot be inspected: {exc}") from exc
        env = (attrs.get("Config") or {}).get("Env") or []
        python = next((e.split("=", 1)[1] for e in env if e.startswith("PYTHON_VERSION=")), "")
        return str(attrs.get("Id", image)), python

    def _exists(self, name: str) -> bool:
        try:
            self.client.volumes.get(name)
        except NotFound:
            return False
        return True

    def _remove(self, name: str) -> bool:
        try:
            self.client.volumes.get(name).remove(force=True)
        except NotFound:
            return True
        except APIError as exc:
            if exc.status_code == 409:  # in use by a running review
                return False
            raise
        return True

    def entries(self) -> dict[str, dict[str, float]]:
        """Every cache volume on the engine, with what the index knows of it."""
        known = self.index.load()
        volumes: list[Any] = self.client.volumes.list(filters={"label": f"{LABEL_ENV}=1"})
        return {v.name: dict(known.get(v.name, {})) for v in volumes}

    def evict(self, *, keep: str = "") -> list[str]:
        """Remove least-recently-used entries until the cache fits its cap; return what went."""
        removed = [
            name for name in choose_victims(self.entries(), self.cap_bytes, keep) if self._remove(name)
        ]
        self.index.drop(removed)
        return removed


def _parse_du(stdout: str) -> int:
    for line in reversed(stdout.strip().splitlines()):
        first = line.split("\t", 1)[0].strip()
        if first.isdigit():
            return int(first) * 1024
    return 0
