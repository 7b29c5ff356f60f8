"""Sandbox overhead, measured in one run on this machine.

    python benchmarks/bench_sandbox.py [--repeat N]

Rows: a tool call inside a session vs a raw `docker exec` (SDK exec_run) of the same command in a
plain container (target <= 1.3x); session start = create + copy a 500-file repository in (target
< 1 s); teardown (target < 0.3 s); and the process backend's figures for the same.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandbox.archive import FileEntry, build_tar
from sandbox.process import ProcessBackend
from sandbox.spec import SandboxSpec

COMMAND = ["python", "-c", "print('hello')"]
SPEC = SandboxSpec(timeout_s=60)


def repo_tar() -> bytes:
    files = [FileEntry(f"pkg{i % 20}/mod_{i}.py", (f"VALUE_{i} = {i}\n" * 100).encode()) for i in range(500)]
    return build_tar(files)[0]


def median_s(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def bench_docker(repeat: int, tar: bytes) -> dict[str, float]:
    import docker

    from sandbox.docker_backend import connect

    client = docker.from_env()
    backend = connect(SPEC.image, client=client)
    out: dict[str, float] = {}
    raw = client.containers.run(
        SPEC.image, ["sleep", "600"], detach=True, auto_remove=True, network_mode="none"
    )
    try:
        raw.exec_run(COMMAND)
        out["raw docker exec"] = median_s(lambda: raw.exec_run(COMMAND), repeat)
    finally:
        raw.remove(force=True)
    starts, teardowns, calls = [], [], []
    for _ in range(max(3, repeat // 4)):
        t = time.perf_counter()
        cm = backend.session(SPEC)
        session = cm.__enter__()
        session.upload("repo", tar)
        starts.append(time.perf_counter() - t)
        session.run(COMMAND)
        calls.append(median_s(lambda s=session: s.run(COMMAND), repeat))
        t = time.perf_counter()
        cm.__exit__(None, None, None)
        teardowns.append(time.perf_counter() - t)
    out["session tool call"] = statistics.median(calls)
    out["session start (create + 500 files)"] = statistics.median(starts)
    out["teardown"] = statistics.median(teardowns)
    return out


def bench_process(repeat: int, tar: bytes) -> dict[str, float]:
    backend = ProcessBackend()
    starts, teardowns, calls = [], [], []
    for _ in range(max(3, repeat // 4)):
        t = time.perf_counter()
        cm = backend.session(SPEC)
        session = cm.__enter__()
        session.upload("repo", tar)
        starts.append(time.perf_counter() - t)
        calls.append(median_s(lambda s=session: s.run(COMMAND), repeat))
        t = time.perf_counter()
        cm.__exit__(None, None, None)
        teardowns.append(time.perf_counter() - t)
    return {
        "session tool call": statistics.median(calls),
        "session start (create + 500 files)": statistics.median(starts),
        "teardown": statistics.median(teardowns),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    tar = repo_tar()
    print(
        f"command: {' '.join(COMMAND)}; repository tar: 500 files, {len(tar) / 1e6:.1f} MB;"
        f" median of {args.repeat}"
    )
    d = bench_docker(args.repeat, tar)
    p = bench_process(args.repeat, tar)
    ratio = d["session tool call"] / d["raw docker exec"]
    rows = [
        ("raw docker exec (SDK exec_run)", d["raw docker exec"], "", "-"),
        ("docker: tool call in a session", d["session tool call"], f"{ratio:.2f}x raw", "<= 1.3x"),
        ("docker: session start", d["session start (create + 500 files)"], "", "< 1 s"),
        ("docker: teardown", d["teardown"], "", "< 0.3 s"),
        ("process: tool call in a session", p["session tool call"], "", "-"),
        ("process: session start", p["session start (create + 500 files)"], "", "-"),
        ("process: teardown", p["teardown"], "", "-"),
    ]
    print(f"{'measurement':36} {'seconds':>9} {'':>10}  target")
    for name, secs, note, target in rows:
        print(f"{name:36} {secs:9.4f} {note:>10}  {target}")
    ok = ratio <= 1.3 and d["session start (create + 500 files)"] < 1 and d["teardown"] < 0.3
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
