"""The lint policy of a review, read from the repository's files as data. Pure.

A pull request must not change how it is reviewed (docs/lint-policy.md):
- the repository's ruff configuration comes from the **base** revision: every file ruff would read
  (`pyproject.toml` with `[tool.ruff]`, `ruff.toml`, `.ruff.toml`, at any depth, and the
  repository files they `extend`) is taken from the base and laid over the head's code;
- the curated rules run with no configuration at all, for the base's declared Python target;
- `ruff format` is checked only where the base shows the project enforces it;
- what the change does to lint or test configuration is listed for the human reviewer.
"""

from __future__ import annotations

import configparser
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewbot.core.diff import Diff

RUFF_FILES = ("ruff.toml", ".ruff.toml")
#: In one directory ruff prefers `.ruff.toml`, then `ruff.toml`, then `pyproject.toml`.
_PRECEDENCE = (".ruff.toml", "ruff.toml", "pyproject.toml")
#: ruff's oldest and newest `target-version`.
_OLDEST, _NEWEST = (3, 7), (3, 14)


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _toml(data: bytes) -> dict[str, Any] | None:
    try:
        return tomllib.loads(data.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return None


def _ruff_table(path: str, data: bytes) -> dict[str, Any] | None:
    """The ruff settings of a config file (None: ruff would not read it as configuration). Any
    file but a `pyproject.toml` is read as ruff.toml (`extend` may name any file)."""
    if _name(path) == "pyproject.toml":
        parsed = _toml(data)
        if parsed is None:  # unparsable: ruff would fail on it if it has a ruff section
            return {} if b"[tool.ruff" in data else None
        table = parsed.get("tool", {}).get("ruff")
        return table if isinstance(table, dict) else None
    return _toml(data) or {}


def is_ruff_config(path: str, data: bytes) -> bool:
    return _ruff_table(path, data) is not None


def _extends(path: str, data: bytes) -> str | None:
    """The repository path a config file `extend`s, if it names one inside the repository."""
    target = (_ruff_table(path, data) or {}).get("extend")
    if not isinstance(target, str) or target.startswith(("/", "~")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return None if joined.startswith("..") else joined


def ruff_config_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Every file ruff may read as configuration: `ruff.toml`, `.ruff.toml` and `pyproject.toml`
    (one without `[tool.ruff]` still gives ruff `requires-python`) at any depth, plus the
    repository files they `extend`, transitively."""
    chosen = {p: d for p, d in files.items() if _name(p) in _PRECEDENCE}
    queue = list(chosen)
    while queue:
        path = queue.pop()
        target = _extends(path, chosen[path])
        if target is not None and target in files and target not in chosen:
            chosen[target] = files[target]
            queue.append(target)
    return chosen


def _root_ruff(files: Mapping[str, bytes]) -> tuple[str, dict[str, Any]] | None:
    for name in _PRECEDENCE:
        table = _ruff_table(name, files[name]) if name in files else None
        if table is not None:
            return name, table
    return None


def _lowest_python(spec: str) -> tuple[int, int] | None:
    """The lowest Python a `requires-python` specifier admits (">=3.8,<4" -> (3, 8))."""
    found = [
        (int(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"(>=|~=|==|>)\s*(\d+)\.(\d+)", spec)
        if int(m.group(2)) == 3
    ]
    return min(found) if found else None


def target_version(files: Mapping[str, bytes]) -> str | None:
    """The Python the repository declares at its root, as ruff's `--target-version` ("py38"):
    ruff's own `target-version` (followed through `extend`), else `requires-python`."""
    root = _root_ruff(files)
    path, table = root if root else ("", {})
    for _hop in range(8):
        value = table.get("target-version")
        if isinstance(value, str) and re.fullmatch(r"py3\d+", value):
            return value
        nxt = _extends(path, files[path]) if path in files else None
        if nxt is None or nxt not in files:
            break
        path, table = nxt, _ruff_table(nxt, files[nxt]) or {}
    project = (_toml(files.get("pyproject.toml", b"")) or {}).get("project", {})
    spec = project.get("requires-python") if isinstance(project, dict) else None
    lowest = _lowest_python(spec) if isinstance(spec, str) else None
    if lowest is None:
        return None
    major, minor = max(_OLDEST, min(lowest, _NEWEST))
    return f"py{major}{minor}"


#: Files in which a command line says how the project is checked (CI, task runners).
_CHECK_FILES = re.compile(
    r"(^|/)(\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.yml|\.circleci/config\.yml|azure-pipelines\.yml"
    r"|tox\.ini|noxfile\.py|Makefile|justfile|pyproject\.toml)$"
)
_FORMAT_CHECK = re.compile(r"\bruff(?:[ \t]+\S+)*?[ \t]+format\b[^\n]*--(?:check|diff)")
_ACTION_FORMAT = re.compile(r"ruff-action@[\s\S]*?\bargs:[ \t]*['\"]?format[ \t]+[^\n]*--(?:check|diff)")
_HOOK = re.compile(r"\bid:\s*['\"]?ruff-format\b")


def format_enforced_by(texts: Mapping[str, str]) -> str | None:
    """Where the project enforces `ruff format`, or None: a `ruff-format` pre-commit hook, or a
    CI workflow / task runner line running `ruff format --check` (or `--diff`). A `[tool.ruff.format]`
    table alone only configures the formatter; it does not say that unformatted code is refused."""
    hooks = texts.get(".pre-commit-config.yaml")
    if hooks is not None and _HOOK.search(hooks):
        return ".pre-commit-config.yaml (ruff-format hook)"
    for path in sorted(texts):
        text = texts[path]
        if _CHECK_FILES.search(path) and (_FORMAT_CHECK.search(text) or _ACTION_FORMAT.search(text)):
            return f"{path} (ruff format --check)"
    return None


def format_evidence_paths(paths: Iterable[str]) -> list[str]:
    """The paths `format_enforced_by` reads (so a caller decodes only those)."""
    return [p for p in paths if p == ".pre-commit-config.yaml" or _CHECK_FILES.search(p)]


# -- what the change does to lint and test configuration -------------------------------------------

#: pyproject.toml tables that configure linting, testing, or this reviewer.
_PYPROJECT_TABLES = ("ruff", "pytest", "reviewbot")
#: ini-style files: the sections that configure pytest (or flake8-style noqa handling).
_INI_SECTIONS = {"setup.cfg": ("tool:pytest", "flake8"), "tox.ini": ("pytest", "tool:pytest", "flake8")}
_WHOLE_FILES = {
    "ruff.toml": "ruff configuration",
    ".ruff.toml": "ruff configuration",
    "pytest.ini": "pytest configuration",
    ".pre-commit-config.yaml": "pre-commit hooks",
    ".reviewbot.toml": "reviewbot configuration",
}
#: A file-level exemption (`ruff: noqa` or `flake8: noqa` in a comment line, optionally with codes).
_FILE_EXEMPTION = re.compile(
    r"^[ \t]*#[ \t]*(?:ruff|flake8)[ \t]*:[ \t]*noqa\b"
    r"(?:[ \t]*:(?P<codes>[ \t]*[A-Z]+[0-9]*(?:[ \t,]+[A-Z]+[0-9]*)*))?",
    re.IGNORECASE | re.MULTILINE,
)


def file_exemptions(text: str) -> list[tuple[str, frozenset[str]]]:
    """Each file-level exemption of a Python file: (its line, the codes it names; empty = all)."""
    return [
        (m.group(0).strip(), frozenset(re.split(r"[\s,]+", (m.group("codes") or "").strip().upper())) - {""})
        for m in _FILE_EXEMPTION.finditer(text)
    ]


def _pyproject_tables(data: bytes | None) -> dict[str, object]:
    parsed = _toml(data) if data is not None else {}
    if parsed is None:
        return {"(unparsable)": data}
    tool = parsed.get("tool", {})
    return {name: tool.get(name) for name in _PYPROJECT_TABLES if isinstance(tool, dict) and name in tool}


def _ini_sections(data: bytes | None, names: tuple[str, ...]) -> dict[str, object]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string((data or b"").decode("utf-8", "replace"))
    except configparser.Error:
        return {"(unparsable)": data}
    return {n: dict(parser[n]) for n in names if parser.has_section(n)}


def _what_changed(name: str, base: bytes | None, head: bytes | None) -> str | None:
    """What a change to one file does to lint/test configuration, or None if nothing."""
    if name in _WHOLE_FILES:
        return _WHOLE_FILES[name]
    if name == "pyproject.toml":
        old, new = _pyproject_tables(base), _pyproject_tables(head)
        changed = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
        return ", ".join(f"[tool.{k}]" if not k.startswith("(") else k for k in changed) or None
    if name in _INI_SECTIONS:
        old, new = _ini_sections(base, _INI_SECTIONS[name]), _ini_sections(head, _INI_SECTIONS[name])
        changed = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
        return ", ".join(f"[{k}]" for k in changed) or None
    if name.endswith((".py", ".pyi")):
        old_ex = {line for line, _codes in file_exemptions((base or b"").decode("utf-8", "replace"))}
        new_ex = {line for line, _codes in file_exemptions((head or b"").decode("utf-8", "replace"))}
        added = sorted(new_ex - old_ex)
        return f"adds `{added[0]}`" if added else None
    return None


def config_changes(diff: Diff, base: Mapping[str, bytes], head: Mapping[str, bytes]) -> tuple[str, ...]:
    """One line per changed file that configures linting or testing ("pkg/.ruff.toml: ruff
    configuration (added)"); `base`/`head` hold at least the changed files' contents."""
    lines = []
    for change in diff.files:
        old_path = change.path if change.status in ("modified", "deleted") else change.old_path
        old = base.get(old_path) if old_path else None
        new = None if change.is_deleted else head.get(change.path)
        what = _what_changed(_name(change.path), old, new)
        if what is not None:
            status = "" if change.status == "modified" else f" ({change.status})"
            lines.append(f"{change.path}: {what}{status}")
    return tuple(lines)


@dataclass(frozen=True)
class LintSetup:
    """How a review lints: the configuration files to lay over the head's code, the declared
    Python target, whether formatting is enforced, and the configuration the change touched."""

    config_files: Mapping[str, bytes] = field(default_factory=dict)
    from_base: bool = False  # False: no base to read from (every file is reviewed as it is)
    configured: bool = False  # the repository configures ruff (else ruff's classic defaults)
    target_version: str | None = None
    format_enforced_by: str | None = None
    config_changes: tuple[str, ...] = ()
    #: with a base: the tree the head's code is linted in (see `lint_tree`); empty otherwise
    tree: Mapping[str, bytes] = field(default_factory=dict)
    tree_dirs: tuple[str, ...] = ()


def lint_setup(
    head: Mapping[str, bytes], base: Mapping[str, bytes] | None, diff: Diff, reviewed: Iterable[str]
) -> LintSetup:
    """The policy from the base when there is one, else from the head (reviewing every file)."""
    source = head if base is None else base
    config = ruff_config_files(source)
    evidence = {p: source[p].decode("utf-8", "replace") for p in format_evidence_paths(source)}
    dirs, tree = lint_tree(head, reviewed, config) if base is not None else ((), {})
    return LintSetup(
        tree=tree,
        tree_dirs=dirs,
        config_files=config,
        from_base=base is not None,
        configured=any(is_ruff_config(p, d) for p, d in config.items()),
        target_version=target_version(source),
        format_enforced_by=format_enforced_by(evidence),
        config_changes=config_changes(diff, base, head) if base is not None else (),
    )


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^#;\n]+))", re.MULTILINE)


def imported_names(text: str) -> set[str]:
    """The top-level module names a Python file imports (absolute imports only)."""
    names: set[str] = set()
    for match in _IMPORT.finditer(text):
        if match.group(1):
            names.add(match.group(1))
            continue
        for part in match.group(2).split(","):
            head = part.strip().split(".")[0].split()
            if head:
                names.add(head[0].strip("()"))
    return names


_FROM_MODULE = re.compile(r"^[ \t]*from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b", re.MULTILINE)
_IMPORT_LIST = re.compile(r"^[ \t]*import[ \t]+([^#;\n]+)", re.MULTILINE)


def imported_modules(text: str) -> set[str]:
    """The full dotted module names a Python file imports (absolute imports only)."""
    modules = {m.group(1) for m in _FROM_MODULE.finditer(text)}
    for match in _IMPORT_LIST.finditer(text):
        for part in match.group(1).split(","):
            words = part.strip().strip("()").split()
            if words:
                modules.add(words[0])
    return modules


def _submodule_stand_ins(head: Mapping[str, bytes], prefix: str, modules: Iterable[str]) -> list[str]:
    """The files of imported submodules (`pkg.sub.mod`) under one source root: ruff decides whether
    `from pkg.sub import x` is first-party by finding `pkg/sub`, not only `pkg`."""
    found = []
    for module in modules:
        parts = module.split(".")
        for depth in range(2, len(parts) + 1):
            stem = prefix + "/".join(parts[:depth])
            for candidate in (f"{stem}.py", f"{stem}.pyi", f"{stem}/__init__.py", f"{stem}/__init__.pyi"):
                if candidate in head:
                    found.append(candidate)
    return found


def _src_roots(config: Mapping[str, bytes]) -> list[str]:
    """Where ruff looks for first-party modules: the root configuration's `src` (ruff's default
    ".", "src"), as repository-relative directories ("" for the root)."""
    root = _root_ruff(config)
    declared = root[1].get("src") if root else None
    entries = declared if isinstance(declared, list) and declared else [".", "src"]
    roots = {posixpath.normpath(e) for e in entries if isinstance(e, str) and not re.search(r"[*?\[~$]", e)}
    return sorted("" if r == "." else r for r in roots if not r.startswith(("/", "..")))


def lint_tree(
    head: Mapping[str, bytes], reviewed: Iterable[str], config: Mapping[str, bytes]
) -> tuple[tuple[str, ...], dict[str, bytes]]:
    """The tree the head's code is linted in, as (directories, files): the reviewed files as they
    are at head, `config` (the base's configuration files), and only the shape of the rest that
    ruff asks about — the packages of the reviewed files (their `__init__.py`, as empty stand-ins)
    and, of the names they import, those found under a first-party source root (a directory, or
    an empty `name.py`). Its size follows the change, not the repository."""
    reviewed = [p for p in reviewed if p in head]
    files = {p: head[p] for p in reviewed}
    dirs: set[str] = set()
    for path in reviewed:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            for init in ("__init__.py", "__init__.pyi"):
                candidate = "/".join([*parts[:depth], init])
                if candidate in head:
                    files.setdefault(candidate, b"")
    texts = [head[path].decode("utf-8", "replace") for path in reviewed]
    imported = {name for text in texts for name in imported_names(text)}
    modules = {module for text in texts for module in imported_modules(text)}
    for root in _src_roots(config):
        prefix = f"{root}/" if root else ""
        for path in _submodule_stand_ins(head, prefix, modules):
            files.setdefault(path, b"")
        for path in head:
            if not (path.startswith(prefix) and path.endswith((".py", ".pyi"))):
                continue
            name, sep, _rest = path[len(prefix) :].partition("/")
            if name.removesuffix(".pyi").removesuffix(".py") not in imported:
                continue
            if sep:
                dirs.add(prefix + name)
            else:
                files.setdefault(path, b"")
    files.update(config)
    return tuple(sorted(dirs)), files
