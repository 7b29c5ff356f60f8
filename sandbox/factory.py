"""Choose a backend: Docker when an engine answers and the image exists, else (for trusted code
only) the process backend, with a warning the caller must show."""

from __future__ import annotations

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
                raise
            docker_problem = str(exc)
    if untrusted and not allow_process_for_untrusted:
        reason = f" ({docker_problem})" if docker_problem else ""
        raise SandboxStartError(
            "refusing the process backend for untrusted code: it does not contain a hostile pull "
            f"request{reason}. Start a Docker engine and build the image (`reviewbot sandbox build`), "
            "or allow the process backend explicitly."
        )
    warnings = []
    if docker_problem:
        warnings.append(f"{docker_problem}; using the process backend (no container isolation)")
    net = network_warning()
    if net:
        warnings.append(net)
    return ProcessBackend(), "; ".join(warnings) or None
