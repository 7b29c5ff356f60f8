"""How a revision declares its test environment (pure: file bytes in, a plan out).

A minimal stand-in, to be replaced by the full detection (PEP 735 groups with include-group,
tox/nox, pytest plugins from the configuration, ...). The interface is the contract:
`plan_test_env(files) -> TestEnvPlan`, and `TestEnvPlan.cache_key(...)`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

_EXTRAS = ("test", "tests", "testing", "dev")
_REQUIREMENT_FILES = (
    "requirements-test.txt",
    "requirements-tests.txt",
    "test-requirements.txt",
    "requirements-dev.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/dev.txt",
)
_SCM_BACKENDS = ("setuptools_scm", "setuptools-scm", "hatch-vcs", "hatch_vcs", "versioneer")


@dataclass(frozen=True)
class TestEnvPlan:
    requirements: tuple[str, ...] = ()
    requirement_files: tuple[str, ...] = ()
    install_project: bool = False
    project_extras: tuple[str, ...] = ()
    dynamic_dependencies: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    key_files: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def cache_key(self, files: Mapping[str, bytes], *, image_id: str, python: str) -> str:
        digest = hashlib.sha256()
        head = {"image": image_id, "python": python, "requirements": sorted(self.requirements)}
        digest.update(json.dumps(head, sort_keys=True).encode())
        for path in sorted(self.key_files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files.get(path, b"")).digest())
        return digest.hexdigest()


def _pyproject(files: Mapping[str, bytes]) -> dict[str, object]:
    try:
        return tomllib.loads(files.get("pyproject.toml", b"").decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return {}


def _strs(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def plan_test_env(files: Mapping[str, bytes]) -> TestEnvPlan:
    data = _pyproject(files)
    project = data.get("project") if isinstance(data.get("project"), dict) else None
    build = data.get("build-system") if isinstance(data.get("build-system"), dict) else {}
    reqs: list[str] = []
    sources: list[str] = []
    extras: list[str] = []
    if isinstance(project, dict):
        reqs += _strs(project.get("dependencies"))
        sources.append("pyproject.toml [project] dependencies")
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for name in _EXTRAS:
                if name in optional:
                    extras.append(name)
                    reqs += _strs(optional[name])
                    sources.append(f"pyproject.toml extra [{name}]")
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        for name in _EXTRAS:
            if name in groups:
                reqs += _strs(groups[name])
                sources.append(f"pyproject.toml dependency group {name}")
    assert isinstance(build, dict)
    requires = _strs(build.get("requires")) or (["setuptools"] if "setup.py" in files else [])
    reqs += requires
    req_files = tuple(p for p in _REQUIREMENT_FILES if p in files)
    sources += [f"{p} (requirements file)" for p in req_files]
    dynamic = project is None and "setup.py" in files
    scm = any(name in " ".join(requires) for name in _SCM_BACKENDS)
    env = {"SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"} if scm else {}
    key_files = tuple(p for p in ("pyproject.toml", "setup.cfg", "setup.py", *req_files) if p in files)
    return TestEnvPlan(
        requirements=tuple(dict.fromkeys(reqs)),
        requirement_files=req_files,
        install_project=project is not None or "setup.py" in files,
        project_extras=tuple(extras),
        dynamic_dependencies=dynamic,
        env=env,
        key_files=key_files,
        sources=tuple(sources),
    )
