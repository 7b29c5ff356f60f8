"""Test groups declared in tool-specific tables: poetry groups, `[tool.pdm.dev-dependencies]`,
and hatch environments (`[tool.hatch.envs.<name>]` or hatch.toml `[envs.<name>]`)."""

from __future__ import annotations

import re
from typing import Any

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector, string_list, table
from reviewbot.core.testenv.groups import TEST_NAMES, choose

# `hatch test` installs these unless [tool.hatch.envs.hatch-test] sets `dependencies` (hatch docs).
HATCH_TEST_DEFAULTS = (
    "pytest",
    "coverage-enable-subprocess",
    "pytest-mock",
    "pytest-randomly",
    "pytest-rerunfailures",
    "pytest-xdist[psutil]",
)


def install_named_groups(out: Collector, where: str, groups: dict[str, list[str]]) -> None:
    """Install the test groups (choice rule in groups.py) of a plain name -> requirements table."""
    for name in choose(groups, lambda outer, inner: False):
        out.add_requirements(groups[name], f"{where} {name}")


def install_uv_rye_dev(out: Collector, pyproject: dict[str, Any]) -> None:
    """`[tool.uv] dev-dependencies` / `[tool.rye] dev-dependencies`: the development group of
    uv and rye before PEP 735, installed like a `dev` group when no test group was chosen."""
    tool = table(pyproject.get("tool"))
    groups = table(pyproject.get("dependency-groups"))
    if any(n in TEST_NAMES for n in groups):
        return
    for name in ("uv", "rye"):
        items = string_list(table(tool.get(name)).get("dev-dependencies"))
        if items:
            out.add_requirements(items, f"pyproject.toml [tool.{name}] dev-dependencies")


def install_pdm_groups(out: Collector, pyproject: dict[str, Any]) -> None:
    raw = table(table(table(pyproject.get("tool")).get("pdm")).get("dev-dependencies"))
    groups: dict[str, list[str]] = {}
    for name, items in raw.items():
        groups[name] = []
        for item in string_list(items):
            if "${PROJECT_ROOT}" in item:
                out.install_project = True
                extras = re.search(r"\[([^\]]*)\]", item)
                out.add_extras(e.strip() for e in (extras.group(1).split(",") if extras else []) if e.strip())
            elif item.startswith("-e"):
                out.note(
                    f"pyproject.toml [tool.pdm.dev-dependencies] {name}: {item!r} is a local path; ignored"
                )
            else:
                groups[name].append(item)
    install_named_groups(out, "pyproject.toml [tool.pdm.dev-dependencies]", groups)


def install_hatch_envs(out: Collector, pyproject: dict[str, Any]) -> None:
    envs, where = (
        table(table(table(pyproject.get("tool")).get("hatch")).get("envs")),
        "pyproject.toml [tool.hatch.envs",
    )
    if not envs and "hatch.toml" in out.files:
        envs, where = table(table(out.toml("hatch.toml")).get("envs")), "hatch.toml [envs"
    names = [n for n in envs if n in TEST_NAMES or n == "hatch-test"] or [n for n in envs if n == "default"]
    for name in names:
        env = table(envs[name])
        label = f"{where}.{name}]"
        if name == "hatch-test" and "dependencies" not in env:
            out.add_requirements(HATCH_TEST_DEFAULTS, f"{label}: hatch's built-in test dependencies")
        for key in ("dependencies", "extra-dependencies"):
            out.add_requirements(string_list(env.get(key)), f"{label} {key}")
        features = string_list(env.get("features"))
        if features:
            out.install_project = True
            out.add_extras(features)
            out.source(f"{label} features: {', '.join(features)}")


def _pipfile_requirement(out: Collector, name: str, spec: object, where: str) -> str | None:
    if isinstance(spec, str):
        return name + ("" if spec.strip() == "*" else spec.strip())
    entry = table(spec)
    if entry.get("path") in (".", "./"):
        out.install_project = True
        out.add_extras(string_list(entry.get("extras")))
        out.source(f"{where}: {name} is the project itself")
        return None
    if any(key in entry for key in ("path", "git", "file", "hg", "svn")):
        out.note(f"{where}: {name} does not come from an index; not installed, {OVERRIDE_HINT}")
        return None
    version = str(entry.get("version", "*")).strip()
    extras = string_list(entry.get("extras"))
    text = name + (f"[{','.join(extras)}]" if extras else "") + ("" if version == "*" else version)
    markers = entry.get("markers")
    return text + (f"; {markers}" if isinstance(markers, str) else "")


def install_pipfile(out: Collector) -> None:
    """Pipenv's Pipfile: `[dev-packages]` is the development environment; `[packages]` too when
    the project is not otherwise installable (an application)."""
    data = out.toml("Pipfile") if "Pipfile" in out.files else None
    if data is None:
        return
    sections = ["dev-packages"] if out.install_project else ["packages", "dev-packages"]
    for section in sections:
        where = f"Pipfile [{section}]"
        reqs = [_pipfile_requirement(out, n, spec, where) for n, spec in table(data.get(section)).items()]
        out.add_requirements([r for r in reqs if r], where)
