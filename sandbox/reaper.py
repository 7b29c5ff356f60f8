"""Sweep sandbox containers and volumes left behind by a killed bot (docs/security-probes.md §0.7, §1.7).

A container is removed when its expiry label is in the past, or when its owner was a process on
this host that no longer exists. A concurrent live instance's sandboxes are left alone. 404 and 409
(already gone, removal in progress, volume in use) count as success.
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any

from docker.errors import APIError, NotFound

from sandbox.docker_spec import LABEL, LABEL_EXPIRES, LABEL_OWNER


def new_owner_id() -> str:
    """host:pid:random — enough for the reaper to tell a dead owner on this host from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's sandbox: only its expiry label can retire it
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _stale(labels: dict[str, str], now: float) -> bool:
    expires = labels.get(LABEL_EXPIRES, "")
    if expires.isdigit() and int(expires) < now:
        return True
    return owner_gone(labels.get(LABEL_OWNER, ""))


def reap(client: Any, *, now: float) -> int:
    """Remove stale sandbox containers and volumes; return how many were removed."""
    removed = 0
    # sparse: no per-container inspect, which would race with containers removing themselves at
    # their TTL (auto_remove) and raise NotFound out of the sweep.
    for container in client.containers.list(all=True, sparse=True, filters={"label": f"{LABEL}=1"}):
        if _stale(container.attrs.get("Labels") or {}, now):
            removed += _ignore_gone(lambda c=container: c.remove(force=True, v=True))
    for volume in client.volumes.list(filters={"label": f"{LABEL}=1"}):
        labels = (volume.attrs or {}).get("Labels") or {}
        if _stale(labels, now):
            removed += _ignore_gone(lambda v=volume: v.remove(force=True))
    return removed


def _ignore_gone(action: Any) -> int:
    try:
        action()
    except NotFound:
        return 0
    except APIError as exc:
        if exc.status_code == 409:  # removal already in progress, or a volume still in use
            return 0
        raise
    return 1
