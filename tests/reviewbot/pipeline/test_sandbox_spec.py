"""`sandbox_spec`: the sandbox settings become the SandboxSpec every session uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.errors import ConfigError, WorkspaceError
from reviewbot.pipeline.run import sandbox_spec
from reviewbot.settings import load_settings, read_named_file
from sandbox import SandboxSpec


def test_the_sandbox_settings_and_the_ca_bundle_reach_the_spec(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    settings = load_settings(
        environ={},
        overrides={
            "sandbox": {
                "image": "img:1",
                "cpus": 2.5,
                "memory_mb": 3000,
                "pids": 99,
                "timeout_s": 42.0,
                "runtime": "runsc",
                "ca_bundle": str(bundle),
            },
            "max_repo_mb": 1000,
        },
    )
    spec = sandbox_spec(settings)
    assert (spec.image, spec.cpus, spec.memory_mb, spec.pids, spec.timeout_s, spec.runtime) == (
        "img:1",
        2.5,
        3000,
        99,
        42.0,
        "runsc",
    )
    assert spec.ca_bundle == b"-----BEGIN CERTIFICATE-----\n"
    assert spec.work_size_mb == 1256
    assert sandbox_spec(load_settings(environ={})).ca_bundle is None
    assert sandbox_spec(load_settings(environ={})).work_size_mb >= SandboxSpec.work_size_mb


def test_an_unreadable_ca_bundle_is_a_workspace_error_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    settings = load_settings(environ={}, overrides={"sandbox": {"ca_bundle": str(missing)}})
    with pytest.raises(WorkspaceError, match=r"^sandbox\.ca_bundle .*nope\.pem cannot be read: "):
        sandbox_spec(settings)


def test_read_named_file_is_a_config_error_by_default(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_bytes(b"x = 1\n")
    assert read_named_file(tmp_path / "a.toml", "--config") == b"x = 1\n"
    with pytest.raises(ConfigError, match=r"^--config .*missing\.toml cannot be read: "):
        read_named_file(tmp_path / "missing.toml", "--config")
