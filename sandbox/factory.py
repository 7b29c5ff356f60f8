"""Choose a backend: Docker when an engine answers and the image exists, else (for trusted code
only) the process backend, with a warning the caller must show.

`describe_start_failure` turns what the Docker SDK, the engine or the OCI runtime said into one
sentence in our words — what failed and what to run — for every caller to show.
"""

from __future__ import annotations

import os
import re
from typing import Literal

from sandbox.backend import Backend
from sandbox.errors import SandboxStartError
from sandbox.process import ProcessBackend, network_warning
from sandbox.spec import SandboxSpec

BackendKind = Literal["auto", "docker", "process"]


def open_backend(
    kind: BackendKind = "auto",
    *,
    untrusted: bool = False,
    allow_process_for_untrusted: bool = False,
    image: str = SandboxSpec.image,
) -> tuple[Backend, str | None]:
    """Return (backend, warning or None). Raises SandboxStartError when nothing usable is allowed.

    `untrusted` marks modes that run strangers' code (Action, webhook): they never fall back to the
    process backend unless `allow_process_for_untrusted` says so explicitly."""
    if kind not in ("auto", "docker", "process"):
        raise SandboxStartError(f"unknown sandbox backend {kind!r}; use auto, docker or process")
    docker_problem: str | None = None
    if kind in ("auto", "docker"):
        from sandbox.docker_backend import connect  # imported late: the docker SDK is heavy

        try:
            return connect(image), None
        except SandboxStartError as exc:
            if kind == "docker":
                raise SandboxStartError(describe_start_failure(exc)) from exc
            docker_problem = describe_start_failure(exc)
    if untrusted and not allow_process_for_untrusted:
        reason = f" ({docker_problem})" if docker_problem else ""
        raise SandboxStartError(
            "refusing the process backend for untrusted code: it does not contain a hostile pull "
            f"request{reason}. Start a Docker engine and build the image (`reviewbot sandbox build`), "
            "or allow the process backend explicitly."
        )
    warnings = []
    if docker_problem:
        warnings.append(f"using the process backend (no container isolation): {docker_problem}")
    net = network_warning()
    if net:
        warnings.append(net)
    return ProcessBackend(), "; ".join(warnings) or None


DOCTOR = "Run `reviewbot sandbox doctor` to check the engine, the image and the limits."
_IMAGE = re.compile(r"(?:no such image: |sandbox image )(\S+?)(?: is missing|[\s;)]|$)", re.I)
_RAW = re.compile(r"oci|runc|http|\d{3} (?:client|server) error|exception", re.I)
_CHDIR = re.compile(r'chdir to cwd \(\\?"?([^"\\)]+)\\?"?\) set in config\.json failed: ([a-z ]+)')


def _chain(exc: BaseException) -> str:
    """Every message of an exception and its causes, joined (the SDK wraps the real one)."""
    seen: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 10:
        seen.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " | ".join(seen)


def _engine() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _classify(text: str) -> str | None:
    low = text.lower()
    chdir = _CHDIR.search(text)
    if chdir:
        return (
            f"the sandbox container could not enter its working directory {chdir.group(1)} "
            f"({chdir.group(2).strip()})"
        )
    image = _IMAGE.search(text)
    if image or "imagenotfound" in low:
        name = f" {image.group(1).strip(chr(34))}" if image else ""
        return f"the sandbox image{name} is missing: build it with `reviewbot sandbox build`"
    if "permissionerror" in low or ("permission denied" in low and "docker.sock" in low):
        return (
            f"permission denied on the Docker engine's socket ({_engine()}): add your user to the "
            "`docker` group, or point DOCKER_HOST at an engine you may use"
        )
    if "filenotfounderror" in low:
        return (
            f"no Docker engine at {_engine()} (no socket there): install and start Docker, "
            "or set DOCKER_HOST to a running engine"
        )
    if "connectionrefusederror" in low or "connection refused" in low:
        return (
            f"the Docker engine at {_engine()} is not running (connection refused): "
            "start it, or set DOCKER_HOST to a running engine"
        )
    if "unknown or invalid runtime" in low:
        return (
            "the engine does not have the configured container runtime (sandbox.runtime): "
            "install it in the engine or unset the setting"
        )
    if "read timed out" in low:
        return f"the Docker engine at {_engine()} did not answer in time: is it overloaded or stuck?"
    return None


def describe_start_failure(exc: BaseException, *, hint: bool = True) -> str:
    """Why the sandbox could not start, in reviewbot's words, and what to run (`hint`: end with
    the `reviewbot sandbox doctor` advice). Messages we wrote ourselves pass through; raw engine or
    runtime text (OCI errors, HTTP 500s) never does."""
    doctor = f" {DOCTOR}" if hint else ""
    known = _classify(_chain(exc))
    if known is not None:
        return f"{known}.{doctor}"
    own = str(exc).rstrip(".")
    if isinstance(exc, SandboxStartError) and not _RAW.search(own):
        return own if "sandbox doctor" in own else f"{own}.{doctor}"
    return f"the Docker engine refused to start the sandbox container.{doctor}"
