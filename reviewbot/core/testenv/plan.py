"""The plan of a project's test environment: what to install, where each part came from.

A `TestEnvPlan` is plain data, built by `plan_test_env` from the bytes of one revision's files
and consumed by the installer (outside the pure core). Its `cache_key` names the installed
environment: the same plan, key files, image and Python give the same key. How it is built:
docs/testenv.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

# Bump when the meaning of a plan changes, so environments built by an older planner are not reused.
PLAN_FORMAT = 1


@dataclass(frozen=True)
class TestEnvPlan:
    """What the project declares for its tests, read (never guessed) from its files."""

    __test__ = False  # not a pytest test class, despite the name

    # PEP 508 strings from an index: project deps, chosen extras/groups, tox/nox deps, pytest
    # plugins the pytest config needs, build-system.requires (for --no-build-isolation).
    requirements: tuple[str, ...] = ()
    # Repo-relative requirements files to pass with -r, as they are (no local paths, no hashes).
    requirement_files: tuple[str, ...] = ()
    # Install the project itself (editable), so importlib.metadata and entry points work.
    install_project: bool = False
    project_extras: tuple[str, ...] = ()
    # The project's own dependencies cannot be read statically (setup.py, dynamic = [...]):
    # install it with its dependencies, uncached.
    dynamic_dependencies: bool = False
    # Environment for installing the project itself, e.g. SETUPTOOLS_SCM_PRETEND_VERSION (the
    # sandbox has no .git). Set it for that step only: an sdist among the requirements that is
    # built with setuptools-scm would otherwise take the project's version.
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Repo-relative files whose bytes key the cache (besides the plan itself).
    key_files: tuple[str, ...] = ()
    # Where each part came from, e.g. "pyproject.toml [dependency-groups] tests".
    sources: tuple[str, ...] = ()
    # What could not be honoured, why, and what to configure instead.
    notes: tuple[str, ...] = ()

    def cache_key(self, files: Mapping[str, bytes], *, image_id: str, python: str) -> str:
        """sha256 over the plan, the key files' bytes, the image id and the Python version.

        `sources` and `notes` are explanations, not inputs of the install: they do not key it."""
        digest = hashlib.sha256()
        head = {
            "format": PLAN_FORMAT,
            "image": image_id,
            "python": python,
            "requirements": list(self.requirements),
            "requirement_files": list(self.requirement_files),
            "install_project": self.install_project,
            "project_extras": list(self.project_extras),
            "dynamic_dependencies": self.dynamic_dependencies,
            "env": sorted(self.env.items()),
            "key_files": sorted(self.key_files),
        }
        digest.update(json.dumps(head, sort_keys=True).encode())
        for path in sorted(self.key_files):
            data = files.get(path)
            marker = b"absent" if data is None else b"%d:" % len(data)
            digest.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + marker)
            digest.update(data or b"")
        return digest.hexdigest()
