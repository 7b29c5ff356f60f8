"""Lock files pin what the maintainers test with: uv.lock, poetry.lock, pdm.lock.

A requirement of the plan is pinned to its locked version when the lock holds exactly one
version of it from a package index, that version satisfies the requirement, and the lock lists
a pure-Python wheel for it (`*-none-any.whl`: it installs on any Python, so an old lock cannot
force a source build on a newer interpreter). Everything else floats. Without this, a commit's
tests meet the newest releases of their tools (flask's tests import a name pytest 9.1 removed;
its uv.lock pins pytest 9.0.2).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from reviewbot.core.testenv.collect import Collector

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock")
MAX_LOCK_BYTES = 8_000_000
_NAME = re.compile(r'(?m)^name\s*=\s*"([^"]+)"')
_TOP_KEY = re.compile(r"(?m)^(?:name|version|source)\s*=.*$")
_PURE_WHEEL = re.compile(r'-none-any\.whl"')


def _entry(block: str) -> dict[str, Any]:
    """One `[[package]]` entry, reduced to its name, version, whether it comes from an index
    and whether the lock lists a pure-Python wheel for it. Only the entry's top-level keys are
    parsed as TOML; wheel lists (most of a lock) are only searched."""
    rest = block.partition("\n")[2]
    top = re.split(r"(?m)^\[", rest, maxsplit=1)[0]
    keys = "\n".join(m.group(0) for m in _TOP_KEY.finditer(top))
    entry = tomllib.loads(keys)
    source = entry.get("source")
    poetry_source = re.search(r"(?ms)^\[package\.source\]\s*\n(.*?)(?:^\[|\Z)", rest)
    if poetry_source:  # poetry.lock: a non-PyPI source; "legacy" is a PEP 503 index
        entry["index"] = bool(re.search(r'(?m)^type\s*=\s*"legacy"', poetry_source.group(1)))
    else:
        entry["index"] = source is None or (isinstance(source, dict) and "registry" in source)
    entry["pure"] = bool(_PURE_WHEEL.search(block))
    return entry


def locked_versions(entries: list[dict[str, Any]]) -> dict[str, str]:
    """Canonical name -> the one pure-Python version the lock holds (ambiguous names left out)."""
    seen: dict[str, set[str]] = {}
    pure: dict[str, str] = {}
    for entry in entries:
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        seen.setdefault(canonicalize_name(name), set()).add(version)
        if entry["index"] and entry["pure"]:
            pure[canonicalize_name(name)] = version
    return {name: version for name, version in pure.items() if seen[name] == {version}}


def _read_lock(out: Collector, path: str, wanted: set[str]) -> list[dict[str, Any]] | None:
    """The lock's entries for the `wanted` names only (a lock can be megabytes: it is cut at
    its `[[package]]` headers and only the wanted entries are read)."""
    data = out.files[path]
    if len(data) > MAX_LOCK_BYTES:
        out.note(f"{path}: {len(data)} bytes, larger than {MAX_LOCK_BYTES}; versions not pinned")
        return None
    try:
        blocks = re.split(r"(?m)^(?=\[\[package\]\]\s*$)", data.decode("utf-8"))[1:]
        if not blocks:
            out.note(f"{path}: no [[package]] entries; versions not pinned")
            return None
        kept = [b for b in blocks if (m := _NAME.search(b)) and canonicalize_name(m.group(1)) in wanted]
        return [_entry(block) for block in kept]
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        out.note(f"{path}: not readable ({exc.__class__.__name__}); versions not pinned")
        return None


def pin_to_lock(out: Collector) -> None:
    path = next((p for p in LOCK_FILES if p in out.files), None)
    wanted: set[str] = {canonicalize_name(Requirement(text).name) for text in out.requirements}
    data = _read_lock(out, path, wanted) if path else None
    if path is None or data is None:
        return
    versions = locked_versions(data)
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
