"""What a bot process cleans up: its sandbox containers on shutdown, dead processes' clone
directories at start, and the /healthz probe that the data directory can still be written.

Sandbox containers carry an owner label `host:pid:random` (`sandbox.reaper.new_owner_id`). The
reaper removes those of *dead* owners; on SIGTERM a live process removes its *own* at once (a
review it is abandoning must not leave a container running until some later sweep).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CLONE_PREFIX = "reviewbot-pr."


def clone_prefix() -> str:
    """Names this process's clone directories: `reviewbot-pr.<host>.<pid>.<random>`."""
    return f"{CLONE_PREFIX}{socket.gethostname()}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process whose parent has not reaped it yet is as good as dead
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def sweep_stale_clones(work_dir: Path) -> int:
    """Remove clone directories of processes on this host that no longer exist (a `kill -9`).
    Other hosts' directories (a shared volume) and live processes' are left alone."""
    if not work_dir.is_dir():
        return 0
    host, removed = socket.gethostname(), 0
    for entry in work_dir.iterdir():
        if not entry.name.startswith(CLONE_PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        parts = entry.name[len(CLONE_PREFIX) :].rsplit(".", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if parts[1] != str(os.getpid()) and not _pid_alive(int(parts[1])):
            shutil.rmtree(entry, ignore_errors=True)
            removed += not entry.exists()
    if removed:
        log.info(
            "removed %d clone director%s left by dead processes", removed, "y" if removed == 1 else "ies"
        )
    return removed


def remove_sandboxes_of(pid: int, client: Any = None) -> int:
    """Force-remove the sandbox containers (and volumes) owned by process `pid` on this host."""
    import docker
    from docker.errors import DockerException

    from sandbox.docker_spec import LABEL, LABEL_OWNER

    prefix = f"{socket.gethostname()}:{pid}:"
    removed = 0
    try:
        client = client or docker.from_env(timeout=10)
        filters = {"label": f"{LABEL}=1"}
        for c in client.containers.list(all=True, sparse=True, filters=filters):
            if (c.attrs.get("Labels") or {}).get(LABEL_OWNER, "").startswith(prefix):
                removed += _gone_ok(functools.partial(c.remove, force=True, v=True))
        for v in client.volumes.list(filters=filters):
            if ((v.attrs or {}).get("Labels") or {}).get(LABEL_OWNER, "").startswith(prefix):
                _gone_ok(functools.partial(v.remove, force=True))
    except (DockerException, OSError) as exc:
        log.warning("could not remove the sandboxes of pid %d: %s", pid, exc)
    if removed:
        log.info("removed %d sandbox container(s) of pid %d", removed, pid)
    return removed


def _gone_ok(action: Callable[[], object]) -> int:
    from docker.errors import APIError, NotFound

    try:
        action()
    except NotFound:
        return 0
    except APIError as exc:
        if exc.status_code == 409:  # removal in progress / volume still in use by a dying container
            return 0
        raise
    return 1


def writable_check(data_dir: Path) -> Callable[[], None]:
    """A /healthz probe: write, fsync and remove a small file in `data_dir` (disk full, read-only
    mount or lost permissions all fail it — the queue's next enqueue would fail the same way)."""

    def check() -> None:
        fd, name = tempfile.mkstemp(prefix=".healthz-", dir=data_dir)
        try:
            os.write(fd, b"%d\n" % time.time_ns() * 64)  # a few KB: a nearly-full disk fails too
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)

    return check
