"""The project itself: its name, whether it installs, its static dependencies and its extras.

Read from PEP 621 `[project]` (flit, hatch, pdm, setuptools, poetry 2), `[tool.poetry]`, legacy
`[tool.flit.metadata]`, setup.cfg `[metadata]`/`[options]`, and setup.py (only literals, read with
`ast`; its dependencies are dynamic).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from reviewbot.core.testenv.collect import Collector, ini_lines, string_list, table
from reviewbot.core.testenv.poetry import read_poetry
from reviewbot.core.testenv.reqfile import read_requirement_lines

DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0",)  # PEP 517's default backend
# Without build isolation, what a backend asks for in get_requires_for_build_editable must be
# installed too (the backends' own documented behaviour).
_EDITABLE_BUILD_NEEDS = (
    ("setuptools.build_meta", "wheel", "setuptools before 70.1 builds through bdist_wheel"),
    ("hatchling.build", "editables", "hatchling's editable wheels"),
)


@dataclass
class Project:
    """What the readers learnt about the project: extras (None: contents not readable)."""

    extras: dict[str, list[str] | None] = field(default_factory=dict)
    extras_where: str = ""
    poetry_groups: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def extra_includes(self, outer: str, inner: str, name: str | None) -> bool:
        for item in self.extras.get(outer) or []:
            head = item.split(";")[0]
            if "[" in head and name and canonicalize_name(head.split("[")[0]) == name:
                extras = head.split("[", 1)[1].split("]")[0].split(",")
                if canonicalize_name(inner) in {canonicalize_name(e) for e in extras}:
                    return True
        return False


def read_project(out: Collector, pyproject: dict[str, Any] | None) -> Project:
    data = pyproject or {}
    project = Project()
    _read_name(out, data)
    pep621 = table(data.get("project"))
    if pep621:
        _read_pep621(out, pep621, project, data)
    tool = table(data.get("tool"))
    if "poetry" in tool:
        project.poetry_groups = read_poetry(
            out, table(tool["poetry"]), project.extras, has_pep621=bool(pep621)
        )
        if not project.extras_where:
            project.extras_where = "pyproject.toml [tool.poetry.extras]"
    if "metadata" in table(tool.get("flit")):
        _read_flit_legacy(out, table(tool["flit"]["metadata"]), project)
    if not out.install_project:
        _read_setup_cfg(out, project)
    if not out.install_project and "setup.py" in out.files:
        _read_setup_py(out, project)
    return project


def _read_name(out: Collector, data: dict[str, Any]) -> None:
    tool = table(data.get("tool"))
    candidates = [
        table(data.get("project")).get("name"),
        table(tool.get("poetry")).get("name"),
        table(table(tool.get("flit")).get("metadata")).get("dist-name"),
        table(table(tool.get("flit")).get("metadata")).get("module"),
    ]
    cfg = out.ini("setup.cfg") if "setup.cfg" in out.files else None
    if cfg is not None and cfg.has_option("metadata", "name"):
        candidates.append(cfg.get("metadata", "name").strip())
    for name in candidates:
        if isinstance(name, str) and name:
            out.project_name = canonicalize_name(name)
            return
    literal = _setup_py_literals(out).get("name")
    if isinstance(literal, str) and literal:
        out.project_name = canonicalize_name(literal)


def _packaged(out: Collector, data: dict[str, Any]) -> bool:
    """Whether the [project] is a package to install. uv's rule: `[tool.uv] package` if set,
    else only with a [build-system] (a setup.py/setup.cfg also makes it one for pip)."""
    package = table(table(data.get("tool")).get("uv")).get("package")
    if isinstance(package, bool):
        return package
    return "build-system" in data or "setup.py" in out.files or "setup.cfg" in out.files


def _read_pep621(out: Collector, pep621: dict[str, Any], project: Project, data: dict[str, Any]) -> None:
    out.key_file("pyproject.toml")
    if _packaged(out, data):
        out.install_project = True
        out.source("pyproject.toml [project]: install the project")
    else:
        out.source(
            "pyproject.toml [project] without [build-system] (or [tool.uv] package = false): "
            "not a package; its dependencies are installed, the project itself is not"
        )
    dynamic = string_list(pep621.get("dynamic"))
    if "dependencies" in dynamic:
        _dynamic_from_setuptools(out, "dependencies", "pyproject.toml [project] dynamic dependencies")
    else:
        out.add_requirements(string_list(pep621.get("dependencies")), "pyproject.toml [project] dependencies")
    project.extras_where = "pyproject.toml [project.optional-dependencies]"
    for name, items in table(pep621.get("optional-dependencies")).items():
        project.extras[name] = string_list(items)
    if "optional-dependencies" in dynamic:
        for name, spec in table(_setuptools_dynamic(out).get("optional-dependencies")).items():
            paths = string_list(table(spec).get("file"))
            project.extras[name] = (
                [r for path in paths for r in read_requirement_lines(out, path)] if paths else None
            )


def _setuptools_dynamic(out: Collector) -> dict[str, Any]:
    data = out.toml("pyproject.toml") or {}
    return table(table(table(data.get("tool")).get("setuptools")).get("dynamic"))


def _dynamic_from_setuptools(out: Collector, key: str, where: str) -> None:
    """`[tool.setuptools.dynamic] dependencies = {file = [...]}` is read; anything else is dynamic."""
    spec = table(_setuptools_dynamic(out).get(key))
    paths = string_list(spec.get("file"))
    if not paths:
        out.dynamic_dependencies = True
        out.source(f"{where}: not static, the project installs with its dependencies")
        return
    for path in paths:
        lines = read_requirement_lines(out, path)
        out.add_requirements(lines, f"{path} ([tool.setuptools.dynamic] {key})")


def _read_flit_legacy(out: Collector, meta: dict[str, Any], project: Project) -> None:
    out.install_project = True
    out.key_file("pyproject.toml")
    out.source("pyproject.toml [tool.flit.metadata]: install the project")
    out.add_requirements(string_list(meta.get("requires")), "pyproject.toml [tool.flit.metadata] requires")
    project.extras_where = "pyproject.toml [tool.flit.metadata.requires-extra]"
    for name, items in table(meta.get("requires-extra")).items():
        project.extras[name] = string_list(items)


def _read_setup_cfg(out: Collector, project: Project) -> None:
    cfg = out.ini("setup.cfg") if "setup.cfg" in out.files else None
    if cfg is None or not (cfg.has_section("metadata") or cfg.has_section("options")):
        return
    if not cfg.has_option("metadata", "name") and "setup.py" not in out.files:
        return
    out.install_project = True
    out.key_file("setup.cfg")
    out.key_file("setup.py")
    out.source("setup.cfg [metadata]: install the project")
    if cfg.has_option("options", "install_requires"):
        _cfg_requirements(out, cfg.get("options", "install_requires"), "setup.cfg [options] install_requires")
    elif "setup.py" in out.files and "install_requires" in (out.text("setup.py") or ""):
        _mark_dynamic(out, "setup.py install_requires")
    if cfg.has_option("options", "tests_require"):
        _cfg_requirements(out, cfg.get("options", "tests_require"), "setup.cfg [options] tests_require")
    project.extras_where = "setup.cfg [options.extras_require]"
    if cfg.has_section("options.extras_require"):
        for name, value in cfg.items("options.extras_require"):
            project.extras[name] = _cfg_lines(out, value, f"setup.cfg [options.extras_require] {name}")


def _cfg_lines(out: Collector, value: str, where: str) -> list[str]:
    value = value.strip()
    if value.startswith("file:"):
        lines: list[str] = []
        for path in value[5:].split(","):
            lines.extend(read_requirement_lines(out, path.strip()))
        return lines
    return [line.split(" #")[0].strip() for line in ini_lines(value)]


def _cfg_requirements(out: Collector, value: str, where: str) -> None:
    out.add_requirements(_cfg_lines(out, value, where), where)


def _mark_dynamic(out: Collector, where: str) -> None:
    out.dynamic_dependencies = True
    out.source(f"{where}: not static, the project installs with its dependencies")


def _read_setup_py(out: Collector, project: Project) -> None:
    out.install_project = True
    out.key_file("setup.py")
    out.source("setup.py: install the project")
    literals = _setup_py_literals(out)
    text = out.text("setup.py") or ""
    if "install_requires" in literals or "install_requires" in text:
        _mark_dynamic(out, "setup.py install_requires")
    elif "setup(" not in text.replace(" ", ""):
        # No setup() call to read: the build computes the metadata some other way.
        _mark_dynamic(out, "setup.py (no setup() call to read)")
    tests_require = literals.get("tests_require")
    if isinstance(tests_require, list):
        out.add_requirements(tests_require, "setup.py tests_require")
    extras = literals.get("extras_require")
    project.extras_where = "setup.py extras_require"
    if isinstance(extras, dict):
        for name, items in extras.items():
            if isinstance(name, str):
                project.extras[name] = string_list(items) if isinstance(items, list | str) else None


def _setup_py_literals(out: Collector) -> dict[str, object]:
    """Keyword arguments of `setup(...)` in setup.py that are literals (or names bound to one)."""
    text = out.text("setup.py") if "setup.py" in out.files else None
    if text is None:
        return {}
    try:
        tree = ast.parse(text, "setup.py")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out.note_once("setup.py", "setup.py: not valid Python; its setup() arguments were not read")
        return {}
    bound: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            bound[stmt.targets[0].id] = stmt.value
    result: dict[str, object] = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _callee(call) == "setup":
            for kw in call.keywords:
                value = bound.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
                try:
                    result[kw.arg or ""] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    result.setdefault(kw.arg or "", None)
    return result


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def add_build_requires(out: Collector, data: dict[str, Any]) -> None:
    """What installing the project without build isolation needs (only when it is installed)."""
    if not out.install_project:
        return
    build = table(data.get("build-system"))
    if "requires" in build:
        out.add_requirements(string_list(build["requires"]), "pyproject.toml [build-system] requires")
    else:
        out.add_requirements(
            DEFAULT_BUILD_REQUIRES, "no [build-system] requires: PEP 517's setuptools default"
        )
    backend = build.get("build-backend", "setuptools.build_meta:__legacy__")
    for prefix, needs, why in _EDITABLE_BUILD_NEEDS:
        if isinstance(backend, str) and backend.startswith(prefix) and not out.declares(needs):
            out.add_requirements([needs], f"{prefix} backend: get_requires_for_build_editable ({why})")
