"""Backend choice: Docker when it is usable, the process backend only with a visible warning, and
never for untrusted code unless explicitly allowed."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.errors import SandboxStartError
from sandbox.factory import open_backend
from sandbox.fake import FakeBackend, completed
from sandbox.spec import SandboxSpec

MISSING = "reviewbot-no-such-image:0"


def test_process_backend_is_refused_for_untrusted_code() -> None:
    with pytest.raises(SandboxStartError, match="refusing the process backend"):
        open_backend("process", untrusted=True)
    with pytest.raises(SandboxStartError, match="refusing the process backend"):
        open_backend("auto", untrusted=True, image=MISSING)


def test_untrusted_may_use_the_process_backend_when_allowed() -> None:
    backend, warning = open_backend("auto", untrusted=True, allow_process_for_untrusted=True, image=MISSING)
    assert backend.name == "process" and warning and "process backend" in warning


def test_auto_falls_back_with_a_warning_that_names_the_reason() -> None:
    backend, warning = open_backend("auto", image=MISSING)
    assert backend.name == "process"
    assert warning is not None and (MISSING in warning or "no Docker engine" in warning)


def test_docker_kind_does_not_fall_back() -> None:
    with pytest.raises(SandboxStartError):
        open_backend("docker", image=MISSING)


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(SandboxStartError, match="unknown sandbox backend"):
        open_backend("chroot")  # type: ignore[arg-type]


@pytest.mark.docker
def test_auto_picks_docker_when_engine_and_image_exist(docker_client: Any) -> None:
    backend, warning = open_backend("auto", untrusted=True)
    assert backend.name == "docker" and warning is None


def test_fake_backend_records_calls_and_serves_files() -> None:
    from sandbox.archive import FileEntry, build_tar

    backend = FakeBackend(lambda argv: completed(stdout=" ".join(argv).encode()))
    with backend.session(SandboxSpec()) as s:
        s.upload("repo", build_tar([FileEntry("a.py", b"x")])[0])
        assert s.run(["ruff", "check"], cwd="repo").stdout == b"ruff check"
        assert s.download("repo/a.py", 10) == b"x" and s.download("repo/a.py", 0) is None
    assert [c.argv for c in backend.calls] == [("ruff", "check")]
