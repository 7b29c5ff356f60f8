"""pip requirements files, read as pip would, within the tree.

`-r`/`-c` includes are followed inside the repository only (no absolute paths, no `..` out of
it, no cycles, at most `MAX_INCLUDES` files). A file that pip can take as it is (no local paths,
no editables, no URLs, no index options, no hashes) is passed with `-r`; otherwise its remaining
requirements are inlined and the local-path line `-e .[test]` becomes "install the project with
the extra test".
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector

MAX_INCLUDES = 50
MAX_DEPTH = 10
_OPTION_WITH_VALUE = re.compile(r"^(-[rce]|--requirement|--constraint|--editable)(?:=|\s+|(?<=-[rce]))(.+)$")
_DROPPED_OPTIONS = (
    "--pre",
    "--prefer-binary",
    "--no-binary",
    "--only-binary",
    "--require-hashes",
    "--use-feature",
    "--no-index",
    "--config-settings",
    "--global-option",
    "--no-deps",
)
_INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host")
_TRAILING_OPTIONS = re.compile(r"\s+--?[A-Za-z][\w-]*(?:[=\s]\S+)?.*$")
_LOCAL = re.compile(
    r"^(?:file:)?(\.{1,2}(?:/[^\[;\s]*)?|/[^\[;\s]*|[\w.-]+/[^\[;\s]*)(?:\[([^\]]*)\])?\s*(?:;.*)?$"
)


@dataclass
class Parsed:
    requirements: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the file and the files it includes
    clean: bool = True  # pip can take the file as it is


def resolve_path(base_dir: str, target: str, where: str, out: Collector) -> str | None:
    """A repo-relative path for `target` written in a file in `base_dir`, or None (noted)."""
    target = target.strip().strip("\"'")
    if target.startswith("/") or re.match(r"^[A-Za-z]:[\\/]|^\w+://", target):
        out.note(f"{where}: {target!r} is outside the repository; not read")
        return None
    path = posixpath.normpath(posixpath.join(base_dir, target))
    if path == ".." or path.startswith("../"):
        out.note(f"{where}: {target!r} points outside the repository; not read")
        return None
    return path


def parse_file(
    out: Collector, path: str, stack: tuple[str, ...] = (), parsed: Parsed | None = None
) -> Parsed:
    parsed = parsed if parsed is not None else Parsed()
    if path in stack:
        out.note(f"{path}: included again by {stack[-1]} (a cycle: {' -> '.join((*stack, path))}); ignored")
        parsed.clean = False
        return parsed
    if len(stack) > MAX_DEPTH or len(parsed.files) >= MAX_INCLUDES:
        out.note(f"{path}: includes nested too deep or too many (>{MAX_INCLUDES} files); not read")
        parsed.clean = False
        return parsed
    text = out.text(path)
    if text is None:
        if path not in out.files:
            out.note(f"{stack[-1] if stack else path}: requirements file {path} does not exist; not read")
        parsed.clean = False
        return parsed
    parsed.files.append(path)
    for line in logical_lines(text):
        _parse_line(out, line, path, (*stack, path), parsed)
    return parsed


def logical_lines(text: str) -> list[str]:
    """Lines with `\\` continuations joined and comments removed, as pip reads them."""
    joined = re.sub(r"\\\r?\n", " ", text)
    result = []
    for raw in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            result.append(line)
    return result


def _parse_line(
    out: Collector, line: str, path: str, stack: tuple[str, ...], parsed: Parsed, base_dir: str | None = None
) -> None:
    where = path
    base_dir = posixpath.dirname(path) if base_dir is None else base_dir
    if line.startswith("-"):
        _parse_option(out, line, where, base_dir, stack, parsed)
        return
    if "${" in line:
        out.note(f"{where}: {line!r} uses an environment variable; not installed")
        parsed.clean = False
        return
    stripped = _TRAILING_OPTIONS.sub("", line)
    if stripped != line:
        parsed.clean = False  # --hash and per-requirement options: inlined without them
    if not take_local_or_url(out, stripped, where):
        parsed.clean = False
        return
    req = out.requirement(stripped, where)
    if req is None:
        parsed.clean = False
        return
    if out.project_name and canonicalize_name(req.name) == out.project_name:
        parsed.clean = False  # the project itself, with extras: not from the index
    parsed.requirements.append(stripped)


def parse_lines(out: Collector, lines: list[str], where: str) -> list[str]:
    """Requirement lines written outside a file (tox deps, nox installs): `-r` files are used
    as they are when pip can take them; the rest are returned as requirements."""
    parsed = Parsed()
    for line in lines:
        match = _OPTION_WITH_VALUE.match(line)
        if match and match.group(1) in ("-r", "--requirement"):
            target = resolve_path("", match.group(2).strip(), where, out)
            if target is not None:
                use_requirement_file(out, target, where)
            continue
        if match and match.group(1) in ("-c", "--constraint"):
            out.note(f"{where}: constraints {match.group(2).strip()} not applied (only -r files are)")
            continue
        _parse_line(out, line, where, (), parsed, base_dir="")
    return parsed.requirements


def _parse_option(
    out: Collector, line: str, where: str, base_dir: str, stack: tuple[str, ...], parsed: Parsed
) -> None:
    match = _OPTION_WITH_VALUE.match(line)
    if match is None:
        name = re.split(r"[=\s]", line, maxsplit=1)[0]
        parsed.clean = False
        if name in _INDEX_OPTIONS:
            out.note(f"{where}: {name} ignored: packages come from reviewbot's configured index")
        elif name not in _DROPPED_OPTIONS:
            out.note(f"{where}: option {line!r} not understood; ignored")
        return
    option, value = match.group(1), match.group(2).strip()
    if option in ("-e", "--editable"):
        parsed.clean = False
        take_local_or_url(out, value, where, editable=True)
        return
    target = resolve_path(base_dir, value, where, out)
    if target is None:
        parsed.clean = False
        return
    if option in ("-c", "--constraint"):
        _constraint(out, target, where, stack, parsed)
        return
    parse_file(out, target, stack, parsed)


def _constraint(out: Collector, target: str, where: str, stack: tuple[str, ...], parsed: Parsed) -> None:
    if target in out.files and target not in stack:
        parsed.files.append(target)  # pip reads it when the file is passed as it is
        out.text(target)  # notes an unreadable constraints file
    else:
        out.note(f"{where}: constraints file {target} does not exist; not applied")
        parsed.clean = False


def take_local_or_url(out: Collector, spec: str, where: str, *, editable: bool = False) -> bool:
    """True when `spec` is an ordinary requirement. A local path to the project root becomes
    "install the project" (+ extras); other local paths and URLs are noted. False for those.
    pip takes local paths relative to the working directory (the repository root), not to the
    requirements file (only `-r`/`-c` are relative to the file)."""
    if re.match(r"^[\w.+-]+://|^git\+|^hg\+|^svn\+|^bzr\+", spec):
        out.note(f"{where}: {spec!r} is a URL, not an index requirement; not installed, {OVERRIDE_HINT}")
        return False
    match = _LOCAL.match(spec)
    if match is None:
        if editable:
            out.note(f"{where}: -e {spec!r} not understood; ignored")
        return not editable
    target = posixpath.normpath(match.group(1))
    if target in (".", ""):
        out.install_project = True
        extras = [e.strip() for e in (match.group(2) or "").split(",") if e.strip()]
        out.add_extras(extras)
        out.source(f"{where}: {spec} -> install the project" + (f" with extras {extras}" if extras else ""))
    else:
        out.note(f"{where}: local path {spec!r} is not the project root; not installed, {OVERRIDE_HINT}")
    return False


def read_requirement_lines(out: Collector, path: str) -> list[str]:
    """The requirements a file named by a declaration (`file:` directives, setuptools dynamic
    `file = [...]`) and its includes declare, local-path lines applied to `out`."""
    target = resolve_path("", path, path, out)
    if target is None:
        return []
    out.key_file(target)
    return parse_file(out, target).requirements


def use_requirement_file(out: Collector, path: str, where: str) -> None:
    """Add a requirements file to the plan: as it is when pip can take it, else inlined."""
    if path in out.requirement_files:
        return
    parsed = parse_file(out, path)
    if not parsed.files:
        return
    if parsed.clean:
        out.requirement_files.append(path)
        names = {canonicalize_name(Requirement(r).name) for r in parsed.requirements}
        out.declared.update(names)
        out.in_files.update(names)
        for file in parsed.files:
            out.key_file(file)
        out.source(f"{where}: {path}" if where != path else path)
    else:
        out.add_requirements(parsed.requirements, f"{where}: {path} (inlined)" if where != path else path)
