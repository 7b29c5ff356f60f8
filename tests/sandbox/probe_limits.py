"""The small limits every Docker probe runs under (imported by tests and by the killed-bot child)."""

from __future__ import annotations

import os

from sandbox.spec import SandboxSpec

IMAGE = os.environ.get("REVIEWBOT_SANDBOX_IMAGE", "reviewbot-sandbox:latest")

#: Small limits so the probes finish fast.
PROBE_SPEC = SandboxSpec(
    image=IMAGE,
    cpus=1.0,
    memory_mb=128,
    pids=64,
    timeout_s=20,
    tmp_size_mb=16,
    work_size_mb=48,
    work_inodes=5_000,
    max_output_bytes=256 * 1024,
    max_file_size_mb=20,
    max_open_files=256,
    ttl_s=300,
)
