"""Sandbox start failures in reviewbot's words: what failed and what to run, never the engine's or
the OCI runtime's raw text. Real exceptions from the real Docker SDK where one can be provoked
without an engine (a socket that does not exist, a port nobody listens on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.errors import SandboxStartError
from sandbox.factory import DOCTOR, describe_start_failure, open_backend

# What dockerd 20.10/24 answered when a container's working directory was not a directory.
OCI_CHDIR = (
    '400 Client Error for http+docker://localhost/v1.41/containers/3f2a/start: Bad Request ("failed to '
    "create shim task: OCI runtime create failed: runc create failed: unable to start container process: "
    'error during container init: chdir to cwd (\\"/work/head\\") set in config.json failed: not a '
    'directory: unknown")'
)


def _start_error(raw: str) -> SandboxStartError:
    try:
        try:
            raise RuntimeError(raw)
        except RuntimeError as cause:
            raise SandboxStartError(f"could not start the sandbox container: {cause}") from cause
    except SandboxStartError as exc:
        return exc


def test_an_oci_chdir_failure_is_said_in_our_words() -> None:
    message = describe_start_failure(_start_error(OCI_CHDIR))
    assert message.startswith("the sandbox container could not enter its working directory /work/head")
    assert "(not a directory)" in message and message.endswith(DOCTOR)
    assert "OCI" not in message and "runc" not in message and "http+docker" not in message


def test_an_unknown_engine_refusal_is_not_quoted() -> None:
    message = describe_start_failure(_start_error("500 Server Error: OCI runtime exec failed: weird"))
    assert message == f"the Docker engine refused to start the sandbox container. {DOCTOR}"


def test_our_own_messages_pass_through_with_the_hint() -> None:
    exc = SandboxStartError("refusing the process backend for untrusted code")
    assert describe_start_failure(exc) == f"refusing the process backend for untrusted code. {DOCTOR}"
    assert describe_start_failure(exc, hint=False) == "refusing the process backend for untrusted code."


def test_a_missing_socket_and_a_refused_port_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    with pytest.raises(SandboxStartError) as missing:
        open_backend("docker")
    assert str(missing.value).startswith(
        f"no Docker engine at unix://{tmp_path}/docker.sock (no socket there)"
    )
    assert "DOCKER_HOST" in str(missing.value) and "Exception" not in str(missing.value)
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    with pytest.raises(SandboxStartError, match=r"tcp://127.0.0.1:9 is not running \(connection refused\)"):
        open_backend("docker")


def test_permission_denied_on_the_socket_says_what_to_do() -> None:
    try:
        try:
            raise PermissionError(13, "Permission denied")
        except PermissionError as cause:
            raise SandboxStartError("no Docker engine answered (DockerException)") from cause
    except SandboxStartError as exc:
        message = describe_start_failure(exc)
    assert message.startswith("permission denied on the Docker engine's socket")
    assert "`docker` group" in message and "DOCKER_HOST" in message
