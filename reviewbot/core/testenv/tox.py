"""Simple tox declarations: the deps, extras and dependency groups of the environment tox would
run the tests in.

Read from tox.ini, setup.cfg `[tox:tox]`, pyproject `[tool.tox]` (`legacy_tox_ini` or native)
or tox.toml. The environment is the first of `env_list` with a Python or test factor
(`py311`, `3.12-tests`, ...), else the base `[testenv]`; its lines are filtered by its factors
(`tests: pytest-cov` is kept in `3.12-tests`), `{[section]key}` substituted, `{toxinidir}` is
the repository root. What is not simple (other substitutions, `replace` tables) is noted.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field
from typing import Any

from reviewbot.core.testenv.collect import Collector, ini_lines, parse_ini, string_list, table

_PY_FACTOR = re.compile(r"^(?:py|pypy|cpython)?\d(?:\.?\d+)?t?$|^py$|^py3$|^pypy3?$")
_TEST_FACTORS = frozenset({"test", "tests", "testing", "unit", "pytest"})
_SUBST = re.compile(r"\{([^{}]*)\}")
_MAX_EXPANSIONS = 500


@dataclass
class ToxEnv:
    where: str
    deps: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def expand(text: str) -> list[str]:
    """tox's generative names: `py{39,310}-{a,b}` and ranges `3.1{0-3}`."""
    match = re.search(r"\{([^{}]*)\}", text)
    if match is None:
        return [text]
    options: list[str] = []
    for part in match.group(1).split(","):
        part = part.strip()
        rng = re.fullmatch(r"(\d+)-(\d+)", part)
        if rng and int(rng.group(2)) - int(rng.group(1)) < 100:
            options.extend(str(i) for i in range(int(rng.group(1)), int(rng.group(2)) + 1))
        else:
            options.append(part)
    result = []
    for option in options:
        for rest in expand(text[: match.start()] + option + text[match.end() :]):
            result.append(rest)
            if len(result) > _MAX_EXPANSIONS:
                return result
    return result


def split_env_list(value: str) -> list[str]:
    """Env names from an env_list value: separated by commas or newlines, outside braces."""
    names, depth, current = [], 0, ""
    for char in value:
        depth += char == "{"
        depth -= char == "}"
        if char in ",\n" and depth <= 0:
            names.append(current.strip())
            current = ""
        else:
            current += char
    names.append(current.strip())
    return [e for name in names if name and not name.startswith("#") for e in expand(name)]


def choose_env(names: list[str]) -> str | None:
    for name in names:
        factors = name.split("-")
        if any(_PY_FACTOR.match(f) or f in _TEST_FACTORS for f in factors):
            return name
    return None


def factor_filter(lines: list[str], factors: set[str]) -> list[str]:
    """Keep unconditional lines and those whose `factor-condition:` holds for `factors`."""
    kept = []
    for line in lines:
        match = re.match(r"^([\w.!{},-]+):\s*(.*)$", line)
        if match is None or "://" in line[: match.end(1) + 3]:
            kept.append(line)
        elif match.group(2) and _condition_holds(match.group(1), factors):
            kept.append(match.group(2))
    return kept


def _condition_holds(condition: str, factors: set[str]) -> bool:
    for alternative in expand(condition) if "{" in condition else condition.split(","):
        for alt in alternative.split(","):
            parts = [p for p in alt.strip().split("-") if p]
            if parts and all((p[1:] not in factors) if p.startswith("!") else (p in factors) for p in parts):
                return True
    return False


class _IniTox:
    def __init__(self, out: Collector, parser: configparser.RawConfigParser, path: str, prefix: str) -> None:
        self.out, self.parser, self.path, self.prefix = out, parser, path, prefix

    def env(self) -> ToxEnv | None:
        core = f"{self.prefix}tox" if self.prefix else "tox"
        env_list = ""
        for key in ("env_list", "envlist"):
            if self.parser.has_option(core, key):
                env_list = self.parser.get(core, key)
        name = choose_env(split_env_list(env_list))
        section = self._section(name)
        factors = set(name.split("-")) if name else set()
        where = f"{self.path} [{section or 'testenv'}]"
        result = ToxEnv(where)
        for key, attr in (("deps", "deps"), ("extras", "extras"), ("dependency_groups", "groups")):
            value = self._get(section, key)
            if value is not None:
                lines = factor_filter(ini_lines(self._substitute(value, 0)), factors)
                getattr(result, attr).extend(lines)
        return result

    def _section(self, name: str | None) -> str | None:
        if not name:
            return None
        for section in self.parser.sections():
            if section.startswith("testenv:") and name in expand(section[len("testenv:") :]):
                return section
        return None

    def _get(self, section: str | None, key: str) -> str | None:
        for candidate in (section, "testenv"):
            if candidate and self.parser.has_option(candidate, key):
                return self.parser.get(candidate, key)
        return None

    def _substitute(self, value: str, depth: int) -> str:
        return _SUBST.sub(lambda m: self._replacement(m.group(1), depth), value)

    def _replacement(self, inner: str, depth: int) -> str:
        ref = re.fullmatch(r"\[([^\]]+)\]\s*(\S+)", inner)
        if ref and depth < 5 and self.parser.has_option(ref.group(1), ref.group(2)):
            return self._substitute(self.parser.get(ref.group(1), ref.group(2)), depth + 1)
        if inner == "toxinidir":
            return "."
        if inner.startswith("env:"):
            return inner.split(":", 2)[2] if inner.count(":") >= 2 else ""
        if inner.startswith("posargs") or "," in inner:
            return "{" + inner + "}"  # a posargs default or a generative list: left for the next step
        self.out.note(f"{self.path}: tox substitution {{{inner}}} not supported; the line was kept as is")
        return "{" + inner + "}"


def _toml_env(out: Collector, tox: dict[str, Any], path: str) -> ToxEnv:
    name = choose_env([n for n in string_list(tox.get("env_list")) for n in expand(n)])
    envs = table(tox.get("env"))
    section = table(envs.get(name)) if name in envs else {}
    base = table(tox.get("env_run_base"))
    label = f"env.{name}" if section else "env_run_base"
    result = ToxEnv(f"{path} [{label}]")
    for key, attr in (("deps", "deps"), ("extras", "extras"), ("dependency_groups", "groups")):
        value = section.get(key, base.get(key))
        if isinstance(value, list) and any(not isinstance(v, str) for v in value):
            out.note(f"{path}: {key} uses replace tables; only its plain strings were read")
        getattr(result, attr).extend(string_list(value))
    return result


def read_tox(out: Collector, pyproject: dict[str, Any] | None) -> ToxEnv | None:
    """The tox test environment, from the first tox configuration tox itself would read."""
    ini = out.ini("tox.ini") if "tox.ini" in out.files else None
    if ini is not None and (ini.has_section("tox") or ini.has_section("testenv")):
        return _IniTox(out, ini, "tox.ini", "").env()
    cfg = out.ini("setup.cfg") if "setup.cfg" in out.files else None
    if cfg is not None and cfg.has_section("tox:tox"):
        return _IniTox(out, cfg, "setup.cfg", "tox:").env()
    tool_tox = table(table((pyproject or {}).get("tool")).get("tox"))
    legacy = tool_tox.get("legacy_tox_ini")
    if isinstance(legacy, str):
        parsed = parse_ini(legacy, "pyproject.toml [tool.tox] legacy_tox_ini", out)
        return _IniTox(out, parsed, "pyproject.toml [tool.tox] legacy_tox_ini", "").env() if parsed else None
    if tool_tox:
        return _toml_env(out, tool_tox, "pyproject.toml [tool.tox]")
    if "tox.toml" in out.files:
        data = out.toml("tox.toml")
        return _toml_env(out, data, "tox.toml") if data is not None else None
    return None
