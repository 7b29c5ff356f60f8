"""Lock files pin what the maintainers test with: uv.lock, poetry.lock, pdm.lock.

A requirement of the plan is pinned to its locked version when the lock holds exactly one
version of it from a package index, that version satisfies the requirement, and the lock lists
a pure-Python wheel for it (`*-none-any.whl`: it installs on any Python, so an old lock cannot
force a source build on a newer interpreter). Everything else floats. Without this, a commit's
tests meet the newest releases of their tools (flask's tests import a name pytest 9.1 removed;
its uv.lock pins pytest 9.0.2).
"""

from __future__ import annotations

import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from reviewbot.core.testenv.collect import Collector, table

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")
MAX_LOCK_BYTES = 8_000_000


def _from_index(package: dict[str, Any]) -> bool:
    source = package.get("source")
    if isinstance(source, dict):
        return "registry" in source or source.get("type") == "legacy"
    return source is None


def _pure_wheel(package: dict[str, Any]) -> bool:
    entries = [*(package.get("wheels") or []), *(package.get("files") or [])]
    for entry in entries if isinstance(entries, list) else []:
        name = entry.get("url") or entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str) and name.endswith("-none-any.whl"):
            return True
    return False


def locked_versions(data: dict[str, Any]) -> dict[str, str]:
    """Canonical name -> the one pure-Python version the lock holds (ambiguous names left out)."""
    seen: dict[str, set[str]] = {}
    pure: dict[str, str] = {}
    for package in data.get("package") or []:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        name, version = canonicalize_name(package["name"]), package.get("version")
        if not isinstance(version, str):
            continue
        seen.setdefault(name, set()).add(version)
        if _from_index(package) and _pure_wheel(package):
            pure[name] = version
    return {name: version for name, version in pure.items() if seen[name] == {version}}


def _read_lock(out: Collector, path: str) -> dict[str, Any] | None:
    data = out.files[path]
    if len(data) > MAX_LOCK_BYTES:
        out.note(f"{path}: {len(data)} bytes, larger than {MAX_LOCK_BYTES}; versions not pinned")
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        out.note(f"{path}: not readable ({exc.__class__.__name__}); versions not pinned")
        return None


def pin_to_lock(out: Collector) -> None:
    path = next((p for p in LOCK_FILES if p in out.files), None)
    data = _read_lock(out, path) if path else None
    if path is None or data is None:
        return
    versions = locked_versions(table(data))
    pinned: list[str] = []
    for index, text in enumerate(out.requirements):
        req = Requirement(text)
        version = versions.get(canonicalize_name(req.name))
        if version is None or req.url or not req.specifier.contains(version, prereleases=True):
            continue
        if canonicalize_name(req.name) in out.in_files:
            continue  # a requirements file passed with -r says its own version
        if str(req.specifier) == f"=={version}":
            continue
        req.specifier = SpecifierSet(f"=={version}")
        out.requirements[index] = str(req)
        pinned.append(f"{req.name}=={version}")
    if pinned:
        out.source(f"{path}: pins {', '.join(pinned)} (locked, pure-Python wheels)")
