"""Start-up self-check: run one probe container and verify the limits are really enforced.

Some engines accept limits and silently ignore them (rootless on cgroup v1, Podman); a sandbox
that only looks hardened is worse than none. The probe reads, from inside the container: the pids
and memory limits of its cgroup (v1 or v2 paths), its network interfaces, and its capabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.docker_backend import DockerSession
from sandbox.reaper import new_owner_id
from sandbox.spec import Outcome, SandboxSpec

PROBE_SPEC = SandboxSpec(
    memory_mb=96, pids=48, cpus=0.5, timeout_s=20, tmp_size_mb=8, work_size_mb=8, ttl_s=120
)
_PROBE = (
    "for f in /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do"
    " [ -r $f ] && echo pids=$(cat $f); done;"
    "for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max; do"
    " [ -r $f ] && echo mem=$(cat $f); done;"
    'echo nets=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,);'
    "grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status | tr -d '\\t' | tr ':' =;"
    "echo uid=$(id -u)"
)


@dataclass(frozen=True)
class SelfCheck:
    facts: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def evaluate(facts: dict[str, str], spec: SandboxSpec) -> list[str]:
    """Pure: which expectations the observed facts break."""
    problems = []
    if facts.get("pids") != str(spec.pids):
        problems.append(f"pids limit not enforced (expected {spec.pids}, saw {facts.get('pids')!r})")
    if facts.get("mem") != str(spec.memory_mb * 1024 * 1024):
        problems.append(f"memory limit not enforced (saw {facts.get('mem')!r})")
    if facts.get("nets", "").strip(",") != "lo":
        problems.append(f"network not isolated (interfaces: {facts.get('nets')!r})")
    for key in ("CapEff", "CapBnd"):
        if int(facts.get(key, "1") or "1", 16) != 0:
            problems.append(f"{key} is not empty ({facts.get(key)!r})")
    if facts.get("NoNewPrivs") != "1":
        problems.append("no-new-privileges is not set")
    if facts.get("uid") != "10001":
        problems.append(f"runs as uid {facts.get('uid')!r}, not 10001")
    return problems


def run_selfcheck(client: Any, image: str) -> SelfCheck:
    spec = SandboxSpec(**{**PROBE_SPEC.__dict__, "image": image})
    session = DockerSession(client, spec, owner=new_owner_id())
    try:
        session.start()
        result = session.run(["sh", "-c", _PROBE])
    finally:
        session.close()
    if result.outcome is not Outcome.OK:
        return SelfCheck({}, [f"probe command failed: {result.outcome.value} {result.text('stderr')[:200]}"])
    facts = dict(line.split("=", 1) for line in result.text().splitlines() if "=" in line)
    return SelfCheck(facts, evaluate(facts, spec))
