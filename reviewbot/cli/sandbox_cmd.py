"""`reviewbot sandbox build [--base-image IMAGE]` and `reviewbot sandbox doctor`.

build: builds `sandbox/Dockerfile` with the docker SDK (never pulls anything but the base image the
build itself names). The base image comes from --base-image, else REVIEWBOT_SANDBOX_BASE_IMAGE,
else the Dockerfile's pinned default. doctor: engine, image, runtimes, self-check; exit 2 when the
Docker sandbox is not usable.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import sandbox
from reviewbot.errors import SandboxUnavailable
from sandbox.errors import SandboxError
from sandbox.factory import describe_start_failure

DEFAULT_IMAGE = "reviewbot-sandbox:latest"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sandbox", help="build and check the Docker sandbox")
    sub = parser.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="build the sandbox image")
    build.add_argument(
        "--base-image", default=None, help="base image (default: $REVIEWBOT_SANDBOX_BASE_IMAGE)"
    )
    build.add_argument("--tag", default=DEFAULT_IMAGE, help=f"image tag (default {DEFAULT_IMAGE})")
    doctor = sub.add_parser("doctor", help="check engine, image, runtimes and enforced limits")
    doctor.add_argument("--image", default=DEFAULT_IMAGE)


def run(args: argparse.Namespace) -> int:
    if args.sandbox_command == "build":
        return _build(args.base_image or os.environ.get("REVIEWBOT_SANDBOX_BASE_IMAGE"), args.tag)
    return _doctor(args.image)


def _client() -> Any:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except (DockerException, OSError) as exc:
        raise SandboxUnavailable(describe_start_failure(exc, hint=False)) from exc
    return client


def _build(base_image: str | None, tag: str) -> int:
    from docker.errors import BuildError, DockerException

    context = Path(sandbox.__file__).parent
    buildargs = {"BASE_IMAGE": base_image} if base_image else {}
    print(f"building {tag} from {context / 'Dockerfile'}" + (f" on {base_image}" if base_image else ""))
    try:
        image, _logs = _client().images.build(
            path=str(context), dockerfile="Dockerfile", tag=tag, buildargs=buildargs, rm=True, forcerm=True
        )
    except BuildError as exc:
        tail = "".join(str(c.get("stream", "")) for c in exc.build_log)[-2000:]
        print(tail, file=sys.stderr)
        raise SandboxUnavailable(f"building the sandbox image failed: {exc.msg}") from exc
    except DockerException as exc:
        raise SandboxUnavailable(f"building the sandbox image failed: {exc}") from exc
    print(f"built {tag} ({image.short_id})")
    return 0


def _doctor(image: str) -> int:
    from docker.errors import ImageNotFound

    from sandbox.selfcheck import run_selfcheck

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (DOCKER_HOST unset)"
    print(f"host:     {host}")
    client = _client()
    info = client.info()
    print(f"engine:   Docker {info.get('ServerVersion')} (cgroup v{info.get('CgroupVersion', '?')})")
    runtimes = ", ".join(sorted(info.get("Runtimes") or {}))
    print(f"runtimes: {runtimes} (default {info.get('DefaultRuntime')})")
    for warning in info.get("Warnings") or []:
        print(f"warning:  {warning}")
    try:
        img = client.images.get(image)
    except ImageNotFound as exc:
        raise SandboxUnavailable(
            f"the sandbox image {image} is missing: run `reviewbot sandbox build`"
        ) from exc
    print(f"image:    {image} ({img.short_id})")
    try:
        check = run_selfcheck(client, image)
    except SandboxError as exc:
        raise SandboxUnavailable(
            f"the probe container did not run: {describe_start_failure(exc, hint=False)}"
        ) from exc
    for key, value in sorted(check.facts.items()):
        print(f"  {key} = {value}")
    if not check.ok:
        raise SandboxUnavailable("the self-check failed: " + "; ".join(check.problems))
    print("self-check: limits, network isolation and capabilities are enforced")
    return 0
