"""Pure functions: a `SandboxSpec` -> the docker SDK arguments of a hardened container and its execs.

No docker import here; `docker_backend` is the thin adapter that sends these to the engine. Every
item is one of docs/security-probes.md §0 (numbers in the comments).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.environment import base_env, checked_extra_env
from sandbox.spec import SandboxSpec

SANDBOX_USER = "10001:10001"
WORK = "/work"
TMP = "/tmp"  # noqa: S108 - the container's own private, size-capped tmpfs
ENV_ROOT = "/env"  # where a cached test environment is mounted (read-only in review containers)
PATH = "/work/.local/bin:/env/bin:/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL = "reviewbot.sandbox"
_MB = 1024 * 1024
LABEL_RUN, LABEL_OWNER, LABEL_EXPIRES, LABEL_ROLE = (
    "reviewbot.run",
    "reviewbot.owner",
    "reviewbot.expires",
    "reviewbot.role",
)
#: How long the host waits past the in-container `timeout` before killing the container itself.
HOST_GRACE_S = 2.0

# Run as the exec's top process: the command under `timeout -s KILL` (13), then kill whatever it
# left behind (15: background processes survive an exec) except PID 1 (init), the oldest other
# process (the container's `sleep`), and this shell; twice, in case a leftover was mid-fork.
CLEANUP_WRAPPER = (
    'timeout -s KILL "$0" "$@"; rc=$?\n'
    "keep=0\n"
    "for d in /proc/[0-9]*; do p=${d#/proc/}; "
    '[ "$p" -gt 1 ] && { [ "$keep" -eq 0 ] || [ "$p" -lt "$keep" ]; } && keep=$p; done\n'
    "for _ in 1 2; do for d in /proc/[0-9]*; do p=${d#/proc/}; "
    'case $p in 1|$$|$keep) ;; *) kill -9 "$p" 2>/dev/null;; esac; done; done\n'
    "exit $rc\n"
)

#: Reads the cgroup OOM-kill counter (16): v1 memory.oom_control, v2 memory.events.
OOM_COUNTER_ARGV = ["cat", "/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"]


def labels(spec: SandboxSpec, *, run_id: str, owner: str, now: float, role: str) -> dict[str, str]:
    out = {str(k): str(v) for k, v in spec.labels.items()}
    out.update(
        {
            LABEL: "1",
            LABEL_RUN: run_id,
            LABEL_OWNER: owner,
            LABEL_EXPIRES: str(int(now + spec.ttl_s)),
            LABEL_ROLE: role,
        }
    )
    return out


def container_env(spec: SandboxSpec) -> dict[str, str]:
    # 8: only the allowlist; the bot's own environment is never forwarded.
    env = base_env(path=PATH, home=TMP, tmpdir=TMP)
    env["PYTHONUSERBASE"] = f"{WORK}/.local"
    env.update(checked_extra_env(spec.env))
    return env


def work_volume_mount(spec: SandboxSpec, volume_labels: Mapping[str, str]) -> dict[str, Any]:
    # 2: an anonymous volume of the local driver backed by tmpfs: put_archive/get_archive work with
    # a read-only root (a plain --tmpfs mount would shadow the copied files), size and inodes are
    # capped, and with auto_remove the volume goes away with the container (6).
    options = f"size={spec.work_size_mb}m,uid=10001,gid=10001,mode=0700,nr_inodes={spec.work_inodes}"
    return {
        "Target": WORK,
        "Source": "",
        "Type": "volume",
        "ReadOnly": False,
        "VolumeOptions": {
            "NoCopy": True,
            "Labels": dict(volume_labels),
            "DriverConfig": {
                "Name": "local",
                "Options": {"type": "tmpfs", "device": "tmpfs", "o": options},
            },
        },
    }


def env_layer_mount(name: str, *, writable: bool) -> dict[str, Any]:
    """The cached test environment, a named volume: writable only in the container that builds it."""
    return {"Target": ENV_ROOT, "Source": name, "Type": "volume", "ReadOnly": not writable}


def resource_limits(spec: SandboxSpec) -> dict[str, Any]:
    """Memory (no swap), processes, CPUs and the per-process limits of `spec`, as create() takes them."""
    return {
        "mem_limit": spec.memory_mb * _MB,  # 5: equal to memswap, else swap doubles it
        "memswap_limit": spec.memory_mb * _MB,
        "pids_limit": max(1, spec.pids),  # 5: 0 would silently mean unlimited
        "nano_cpus": int(spec.cpus * 1_000_000_000),  # 5: must be an int
        "ulimits": [
            {"name": "nofile", "soft": spec.max_open_files, "hard": spec.max_open_files},
            {"name": "fsize", "soft": spec.max_file_size_mb * _MB, "hard": spec.max_file_size_mb * _MB},
            {"name": "core", "soft": 0, "hard": 0},
        ],
    }


def container_kwargs(
    spec: SandboxSpec,
    *,
    run_id: str,
    owner: str,
    now: float,
    networked: bool = False,
    env_writable: bool = False,
) -> dict[str, Any]:
    """Arguments for `client.containers.create(**kwargs)`. `networked` is only for the install step;
    `env_writable` only for the container that builds `spec.env_layer`."""
    role = "install" if networked else "session"
    lab = labels(spec, run_id=run_id, owner=owner, now=now, role=role)
    mounts = [work_volume_mount(spec, lab)]
    if spec.env_layer:
        mounts.append(env_layer_mount(spec.env_layer, writable=env_writable))
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "command": ["sleep", str(int(spec.ttl_s))],  # 6: self-destructs at TTL even if the bot dies
        "init": True,  # 6/16: docker-init as PID 1 reaps zombies
        "auto_remove": True,
        "detach": True,
        "user": SANDBOX_USER,  # 4
        "working_dir": WORK,
        "environment": container_env(spec),
        "hostname": "sandbox",
        "read_only": True,  # 2
        "cap_drop": ["ALL"],  # 3
        "security_opt": ["no-new-privileges:true"],  # 3: must be a list
        **resource_limits(spec),
        "tmpfs": {
            # `exec`: Docker's tmpfs default is noexec, and real test suites run helper scripts they
            # write under the temporary directory. noexec is not the isolation boundary here.
            TMP: f"rw,exec,nosuid,nodev,size={spec.tmp_size_mb}m,nr_inodes={spec.work_inodes},mode=1777",
        },
        "shm_size": 16 * _MB,
        "mounts": mounts,
        "labels": lab,
        # 10: bound the daemon's disk; logs are never our result channel.
        "log_config": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}},
    }
    if networked:
        kwargs["network_mode"] = "bridge"
    else:
        kwargs["network_mode"] = "none"  # 1: with network_disabled, only lo and no resolv.conf
        kwargs["network_disabled"] = True
    if spec.runtime:
        kwargs["runtime"] = spec.runtime  # 12
    return kwargs


def exec_argv(argv: Sequence[str], timeout_s: float) -> list[str]:
    """The argv actually exec'd: a fixed wrapper script; the caller's argv is passed as arguments,
    never interpolated into the script."""
    seconds = f"{max(timeout_s, 0.1):.3f}".rstrip("0").rstrip(".")
    return ["sh", "-c", CLEANUP_WRAPPER, seconds, *argv]


def host_deadline(timeout_s: float) -> float:
    return timeout_s + HOST_GRACE_S


def parse_oom_kills(text: str) -> int:
    """The `oom_kill N` counter from memory.oom_control (v1) or memory.events (v2); 0 if absent."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "oom_kill" and parts[1].isdigit():
            return int(parts[1])
    return 0


def killed_by_wall_clock(rc: int | None, duration_s: float, timeout_s: float) -> bool:
    # `timeout -s KILL` exits 128+9 when it had to kill; a 137 before the budget is someone else's KILL.
    return rc == 137 and duration_s >= timeout_s * 0.97 - 0.05 and not math.isnan(duration_s)
