"""The order in which the declarations are read (docs/testenv.md keeps the same list)."""

from __future__ import annotations

import re

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector, table
from reviewbot.core.testenv.groups import DependencyGroups, choose
from reviewbot.core.testenv.locks import pin_to_lock
from reviewbot.core.testenv.nox import read_nox
from reviewbot.core.testenv.poetry import install_poetry_groups
from reviewbot.core.testenv.project import Project, add_build_requires, read_project
from reviewbot.core.testenv.pytest_plugins import add_pytest_plugins
from reviewbot.core.testenv.reqfile import parse_lines, use_requirement_file
from reviewbot.core.testenv.toolgroups import (
    install_hatch_envs,
    install_pdm_groups,
    install_pipfile,
    install_uv_rye_dev,
)
from reviewbot.core.testenv.tox import ToxEnv, read_tox
from reviewbot.core.testenv.versioning import add_version_env

_NAMED = r"(?:test|tests|testing|dev)"
_REQ_FILE = re.compile(
    rf"^(?:(?:requirements|reqs|requirements\.d|\.requirements)/{_NAMED}\.(?:txt|in)"
    rf"|(?:(?:requirements|reqs|requirements\.d|\.requirements|ci)/)?(?:{_NAMED}[-_.]requirements|requirements[-_.]"
    rf"{_NAMED})\.(?:txt|in)"
    r"|(?:tests|test|testing)/requirements\.(?:txt|in))$",
    re.IGNORECASE,
)


def run_steps(out: Collector) -> None:
    pyproject = out.toml("pyproject.toml") if "pyproject.toml" in out.files else None
    data = pyproject or {}
    project = read_project(out, pyproject)
    groups = DependencyGroups(table(data.get("dependency-groups")), "pyproject.toml", out)
    tox = read_tox(out, pyproject)
    for name in choose(groups.names(), groups.includes):
        groups.install(name)
    install_poetry_groups(out, project.poetry_groups)
    install_pdm_groups(out, data)
    install_uv_rye_dev(out, data)
    install_hatch_envs(out, data)
    install_pipfile(out)
    _requirement_files(out)
    if tox is not None:
        _tox(out, tox, groups)
    _nox(out, groups)
    _extras(out, project)
    add_build_requires(out, data)
    add_pytest_plugins(out, lambda module: _is_local(out, module))
    if not out.declares("pytest"):
        out.add_requirements(
            ["pytest"], "reviewbot runs the tests with pytest (the project does not declare it)"
        )
    pin_to_lock(out)
    add_version_env(out, data)
    _explain_nothing(out)


def requirement_file_candidates(paths: list[str]) -> list[str]:
    """Test requirements files by name; dev ones only when there is no test one. `.txt` wins
    over the `.in` of the same name (the compiled file is what the project tests with)."""
    found = sorted(p for p in paths if _REQ_FILE.match(p))
    found = [p for p in found if not (p.endswith(".in") and p[:-3] + ".txt" in found)]
    tests = [p for p in found if not re.search(r"dev", p.rsplit("/", 1)[-1], re.IGNORECASE)]
    return tests or found


def _requirement_files(out: Collector) -> None:
    for path in requirement_file_candidates(list(out.files)):
        use_requirement_file(out, path, path)
    if "requirements.txt" not in out.files:
        return
    if not out.install_project:
        use_requirement_file(out, "requirements.txt", "requirements.txt (the project is not installable)")
    elif _names_the_project(out.text("requirements.txt") or ""):
        use_requirement_file(
            out, "requirements.txt", "requirements.txt (installs the project: a development file)"
        )


def _names_the_project(text: str) -> bool:
    """A requirements.txt that installs the project itself (`-e .[...]`) describes the
    development environment, not the runtime dependencies."""
    return any(
        re.match(r"^(?:-e\s*|--editable[=\s]+)?\.(?:\[[^\]]*\])?\s*$", line.strip())
        for line in text.splitlines()
    )


def _tox(out: Collector, tox: ToxEnv, groups: DependencyGroups) -> None:
    out.add_requirements(parse_lines(out, tox.deps, f"{tox.where} deps"), f"{tox.where} deps")
    if tox.extras:
        out.install_project = True
        out.add_extras(tox.extras)
        out.source(f"{tox.where} extras: {', '.join(tox.extras)}")
    for name in tox.groups:
        if groups.has(name):
            groups.install(name)
        else:
            out.note(f"{tox.where}: dependency group {name!r} is not declared in pyproject.toml")


def _nox(out: Collector, groups: DependencyGroups) -> None:
    session = read_nox(out)
    if session is None:
        return
    lines: list[str] = []
    for args in session.args:
        index = 0
        while index < len(args):
            arg = args[index]
            if arg in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable") and index + 1 < len(
                args
            ):
                lines.append(f"{arg} {args[index + 1]}")
                index += 2
                continue
            if arg.startswith("--group"):
                name = (
                    arg.split("=", 1)[1] if "=" in arg else (args[index + 1] if index + 1 < len(args) else "")
                )
                index += 1 if "=" in arg else 2
                if groups.has(name):
                    groups.install(name)
                continue
            if not arg.startswith("-"):
                lines.append(arg)
            index += 1
    out.add_requirements(parse_lines(out, lines, session.where), session.where)


def _extras(out: Collector, project: Project) -> None:
    """Chosen extras, and those the other declarations named, with their requirements."""

    def includes(outer: str, inner: str) -> bool:
        return project.extra_includes(outer, inner, out.project_name)

    chosen = choose(project.extras, includes)
    if chosen:
        out.install_project = True
        out.add_extras(chosen)
    done: set[str] = set()
    while pending := [e for e in out.project_extras if e not in done]:
        for extra in pending:
            done.add(extra)
            _install_extra(out, project, extra)


def _install_extra(out: Collector, project: Project, extra: str) -> None:
    key = next((k for k in project.extras if re.sub(r"[-_.]+", "-", k).lower() == extra), None)
    if key is None:
        if not out.dynamic_dependencies:
            out.note(f"extra {extra!r} is named but not declared by the project; pip will ignore it")
        return
    items = project.extras[key]
    if items is None:
        out.dynamic_dependencies = True
        out.source(f"{project.extras_where} {key}: not static, the project installs with its dependencies")
        return
    out.add_requirements(items, f"{project.extras_where} {key}")


def _is_local(out: Collector, module: str) -> bool:
    """The module is the project's own: a package or module of that name anywhere in the tree
    (src/ layouts, plugins under tests/ put on sys.path by `pythonpath`)."""
    top = module.split(".")[0]
    roots = (f"{top}/", f"src/{top}/")
    return any(
        path.startswith(roots) or path == f"{top}.py" or path.endswith((f"/{top}/__init__.py", f"/{top}.py"))
        for path in out.files
    )


def _explain_nothing(out: Collector) -> None:
    if not out.install_project and not out.requirement_files and out.requirements == ["pytest"]:
        out.note(
            "no project metadata and no test dependencies were found; only pytest is installed. "
            f"If the tests need more, {OVERRIDE_HINT}"
        )
