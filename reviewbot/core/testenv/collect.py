"""The mutable collector the readers share while a plan is built, and safe file decoding.

Every reader takes a `Collector`: it reads files through it (size-capped, UTF-8 or a note, never
an exception), adds requirements with the line saying where they came from, and writes notes for
what it could not honour. `Collector.plan()` freezes the result into a `TestEnvPlan`.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reviewbot.core.testenv.plan import TestEnvPlan

MAX_FILE_BYTES = 1_000_000  # a declaration file larger than this is not read (noted)
OVERRIDE_HINT = "set [tool.reviewbot.sandbox] install_command = [...] (see docs/testenv.md)"


@dataclass
class Collector:
    files: Mapping[str, bytes]
    requirements: list[str] = field(default_factory=list)
    requirement_files: list[str] = field(default_factory=list)
    install_project: bool = False
    project_extras: list[str] = field(default_factory=list)
    dynamic_dependencies: bool = False
    env: dict[str, str] = field(default_factory=dict)
    key_files: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    project_name: str | None = None  # canonical name of the project, when declared
    declared: set[str] = field(default_factory=set)  # canonical names of what is installed
    in_files: set[str] = field(default_factory=set)  # ... of what requirement_files install
    _warned: set[str] = field(default_factory=set)
    _parsed: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # TOML read once

    # ---- reading -------------------------------------------------------------------------
    def text(self, path: str) -> str | None:
        """The file as text, or None when absent, too large or not UTF-8 (the last two noted)."""
        data = self.files.get(path)
        if data is None:
            return None
        if len(data) > MAX_FILE_BYTES:
            self.note_once(path, f"{path}: {len(data)} bytes, larger than {MAX_FILE_BYTES}; not read")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.note_once(path, f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); not read")
            return None

    def toml(self, path: str) -> dict[str, Any] | None:
        if path in self._parsed:
            return self._parsed[path]
        text = self.text(path)
        result = None
        if text is not None:
            try:
                result = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                self.note_once(path, f"{path}: not valid TOML ({exc}); not read")
        self._parsed[path] = result
        return result

    def ini(self, path: str) -> configparser.RawConfigParser | None:
        text = self.text(path)
        if text is None:
            return None
        return parse_ini(text, path, self)

    def note_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.note(message)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def source(self, line: str) -> None:
        if line not in self.sources:
            self.sources.append(line)

    def key_file(self, path: str) -> None:
        if path in self.files and path not in self.key_files:
            self.key_files.append(path)

    # ---- adding --------------------------------------------------------------------------
    def add_requirements(self, items: Iterable[object], source: str) -> list[str]:
        """Add PEP 508 strings from `source`; a self-reference (`pkg[test]` in pkg) becomes
        project extras. Invalid or URL requirements are noted and dropped. Returns what was added."""
        added: list[str] = []
        used = False
        for item in items:
            req = self.requirement(item, source)
            if req is None:
                continue
            used = True
            if self.project_name and canonicalize_name(req.name) == self.project_name:
                self.install_project = True
                self.add_extras(sorted(req.extras))
                continue
            text = str(req)
            self.declared.add(canonicalize_name(req.name))
            if text not in self.requirements:
                self.requirements.append(text)
            added.append(text)
        if used:
            self.source(source)
        return added

    def requirement(self, item: object, source: str) -> Requirement | None:
        if not isinstance(item, str):
            self.note(f"{source}: {item!r} is not a requirement string; ignored")
            return None
        try:
            req = Requirement(item)
        except InvalidRequirement as exc:
            self.note(f"{source}: {item!r} is not a valid requirement ({exc}); ignored")
            return None
        if req.url:
            self.note(f"{source}: {req.name} comes from a URL, not an index; not installed, {OVERRIDE_HINT}")
            return None
        return req

    def declares(self, dist: str) -> bool:
        return canonicalize_name(dist) in self.declared

    def add_extras(self, extras: Iterable[str]) -> None:
        for extra in extras:
            name = canonicalize_name(extra)
            if name not in self.project_extras:
                self.project_extras.append(name)

    def plan(self) -> TestEnvPlan:
        return TestEnvPlan(
            requirements=tuple(self.requirements),
            requirement_files=tuple(self.requirement_files),
            install_project=self.install_project,
            project_extras=tuple(self.project_extras),
            dynamic_dependencies=self.dynamic_dependencies,
            env=MappingProxyType(dict(self.env)),
            key_files=tuple(self.key_files),
            sources=tuple(self.sources),
            notes=tuple(self.notes),
        )


def parse_ini(text: str, path: str, out: Collector) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        out.note_once(path, f"{path}: not a valid INI file ({exc.__class__.__name__}); not read")
        return None
    return parser


def ini_lines(value: str) -> list[str]:
    """The lines of a multi-line INI value as setuptools and tox read them: `\\` continuations
    joined, comments (whole-line, or after whitespace) removed, empty lines dropped."""
    lines = []
    for raw in re.sub(r"\\[ \t]*\r?\n", " ", value).splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def string_list(value: object) -> list[str]:
    """A TOML value that should be a list of strings (or one string); anything else -> []."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
