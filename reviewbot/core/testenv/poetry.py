"""Poetry's own tables, converted to PEP 508: `[tool.poetry.dependencies]`, extras, and the
dependency groups (`[tool.poetry.group.<name>.dependencies]`, legacy `dev-dependencies`).

Constraints: `^1.2.3` -> `>=1.2.3,<2.0.0`, `~1.2` -> `>=1.2,<1.3`, `1.2.3` -> `==1.2.3`,
`*` -> any; `||` alternatives are not expressible in one specifier and are noted.
"""

from __future__ import annotations

import re
from typing import Any

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector, string_list, table
from reviewbot.core.testenv.groups import choose

_CLAUSE = re.compile(r"^(\^|~=|~|==|!=|>=|<=|>|<|=)?\s*([0-9][0-9A-Za-z.*+!-]*)$")
_NOT_FROM_INDEX = ("path", "git", "url", "file")


def _bump(parts: list[int], index: int) -> str:
    bumped = [*parts[:index], parts[index] + 1] + [0] * (len(parts) - index - 1)
    return ".".join(str(p) for p in bumped)


def _caret(version: str) -> str:
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]] or [0]
    first_nonzero = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
    return f">={version},<{_bump(parts, first_nonzero)}"


def _tilde(version: str) -> str:
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]] or [0]
    index = 0 if len(parts) == 1 else 1
    return f">={version},<{_bump(parts, index)}"


def convert_constraint(constraint: str) -> str | None:
    """A poetry version constraint as a PEP 440 specifier ("" = any), or None if not expressible."""
    constraint = constraint.strip()
    if constraint in ("", "*"):
        return ""
    if "||" in constraint:
        return None
    specs = []
    for clause in re.split(r"\s*,\s*|\s+(?=[<>=!^~])", constraint):
        match = _CLAUSE.match(clause.replace(" ", ""))
        if match is None:
            return None
        op, version = match.group(1) or "", match.group(2)
        if op == "^":
            specs.append(_caret(version))
        elif op == "~":
            specs.append(_tilde(version))
        elif op in ("", "="):
            specs.append(f"=={version}")
        else:
            specs.append(f"{op}{version}")
    return ",".join(specs)


def _python_marker(constraint: str) -> str | None:
    spec = convert_constraint(constraint)
    if spec is None:
        return None
    clauses = []
    for item in filter(None, spec.split(",")):
        op, version = re.match(r"([<>=!~]+)(.*)", item).groups()  # type: ignore[union-attr]
        var = "python_full_version" if version.count(".") >= 2 else "python_version"
        clauses.append(f'{var} {op} "{version}"')
    return " and ".join(clauses)


def poetry_requirement(name: str, spec: object, where: str, out: Collector) -> list[str]:
    """One poetry dependency entry as PEP 508 strings (a list of tables gives several)."""
    if isinstance(spec, list):
        return [r for item in spec for r in poetry_requirement(name, item, where, out)]
    if isinstance(spec, str):
        spec = {"version": spec}
    if not isinstance(spec, dict):
        out.note(f"{where}: {name} = {spec!r} is not understood; ignored")
        return []
    if any(key in spec for key in _NOT_FROM_INDEX):
        kind = next(key for key in _NOT_FROM_INDEX if key in spec)
        out.note(f"{where}: {name} comes from a {kind}, not an index; not installed, {OVERRIDE_HINT}")
        return []
    version = convert_constraint(str(spec.get("version", "*")))
    if version is None:
        out.note(
            f"{where}: {name} constraint {spec.get('version')!r} not expressible in PEP 508; any version"
        )
        version = ""
    extras = string_list(spec.get("extras"))
    text = name + (f"[{','.join(extras)}]" if extras else "") + version
    markers = [
        m
        for m in (spec.get("markers"), _python_marker(str(spec["python"])) if "python" in spec else None)
        if m
    ]
    if markers:
        text += "; " + " and ".join(f"({m})" for m in markers)
    return [text]


def _table_requirements(deps: dict[str, Any], where: str, out: Collector, *, optional: bool) -> list[str]:
    result = []
    for name, spec in deps.items():
        if name.lower() == "python":
            continue
        is_optional = isinstance(spec, dict) and bool(spec.get("optional"))
        if is_optional == optional:
            result.extend(poetry_requirement(name, spec, where, out))
    return result


def read_poetry(
    out: Collector, poetry: dict[str, Any], extras: dict[str, list[str] | None], *, has_pep621: bool
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Project deps and extras into `out`/`extras`; returns the poetry groups (converted)."""
    if poetry.get("package-mode", True) is not False and not has_pep621 and poetry.get("name"):
        out.install_project = True
        out.key_file("pyproject.toml")
        out.source("pyproject.toml [tool.poetry]: install the project")
    deps = table(poetry.get("dependencies"))
    where = "pyproject.toml [tool.poetry.dependencies]"
    out.add_requirements(_table_requirements(deps, where, out, optional=False), where)
    optional = {canon: req for canon, req in _optional_by_name(deps, where, out).items()}
    for extra, names in table(poetry.get("extras")).items():
        extras[extra] = [optional[n.lower()] for n in string_list(names) if n.lower() in optional]
    groups: dict[str, tuple[str, dict[str, Any]]] = {}
    if "dev-dependencies" in poetry:
        groups["dev"] = ("pyproject.toml [tool.poetry.dev-dependencies]", table(poetry["dev-dependencies"]))
    for name, group in table(poetry.get("group")).items():
        groups[name] = (
            f"pyproject.toml [tool.poetry.group.{name}.dependencies]",
            table(table(group).get("dependencies")),
        )
    return groups


def install_poetry_groups(out: Collector, groups: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """Install poetry's test groups (the choice rule of groups.py), converted to PEP 508."""
    for name in choose(groups, lambda outer, inner: False):
        where, deps = groups[name]
        out.add_requirements(_table_requirements(deps, where, out, optional=False), where)


def _optional_by_name(deps: dict[str, Any], where: str, out: Collector) -> dict[str, str]:
    result = {}
    for name, spec in deps.items():
        if isinstance(spec, dict) and spec.get("optional"):
            reqs = poetry_requirement(name, spec, where, out)
            if reqs:
                result[name.lower()] = reqs[0]
    return result
