"""Which declared groups and extras are the test ones, and PEP 735 `include-group` resolution.

The rule (docs/testenv.md): groups/extras named test, tests or testing; `dev` instead when there
is none of those, and as well when `dev` includes one of them (then it is what maintainers use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from packaging.utils import NormalizedName, canonicalize_name

from reviewbot.core.testenv.collect import Collector

TEST_NAMES = frozenset({"test", "tests", "testing"})
DEV_NAME = "dev"


def choose(names: Iterable[str], includes: Callable[[str, str], bool]) -> list[str]:
    """The names to install among `names`: test-ish ones, or `dev` per the rule above."""
    names = list(names)
    tests = [n for n in names if canonicalize_name(n) in TEST_NAMES]
    devs = [n for n in names if canonicalize_name(n) == DEV_NAME]
    if not devs:
        return tests
    dev = devs[0]
    if not tests:
        return [dev]
    if any(includes(dev, t) for t in tests):
        return [dev] + [t for t in tests if not includes(dev, t)]
    return tests


class DependencyGroups:
    """PEP 735 `[dependency-groups]`: lookup by normalized name, `{include-group = ...}` resolved."""

    def __init__(self, raw: Mapping[str, object], where: str, out: Collector) -> None:
        self.groups = {canonicalize_name(k): (k, v) for k, v in raw.items()}
        self.where = where
        self.out = out

    def names(self) -> list[str]:
        return [original for original, _ in self.groups.values()]

    def has(self, name: str) -> bool:
        return canonicalize_name(name) in self.groups

    def resolve(self, name: str, stack: tuple[str, ...] = ()) -> list[str]:
        key = canonicalize_name(name)
        if key in stack:
            self.out.note(f"{self.where}: group {name!r} includes itself ({' -> '.join((*stack, key))})")
            return []
        if key not in self.groups:
            self.out.note(f"{self.where}: group {name!r} is not declared")
            return []
        entries = self.groups[key][1]
        if not isinstance(entries, list):
            self.out.note(f"{self.where}: group {name!r} is not a list; ignored")
            return []
        result: list[str] = []
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                result.extend(self.resolve(entry["include-group"], (*stack, key)))
            elif isinstance(entry, str):
                result.append(entry)
            else:
                self.out.note(f"{self.where}: group {name!r} has an entry {entry!r} that is not understood")
        return result

    def includes(self, outer: str, inner: str) -> bool:
        return self._includes(canonicalize_name(outer), canonicalize_name(inner), ())

    def _includes(self, outer: NormalizedName, inner: NormalizedName, seen: tuple[str, ...]) -> bool:
        if outer in seen or outer not in self.groups:
            return False
        entries = self.groups[outer][1]
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                target = canonicalize_name(entry["include-group"])
                if target == inner or self._includes(target, inner, (*seen, outer)):
                    return True
        return False

    def install(self, name: str) -> None:
        """Add the group's requirements (includes resolved) to the plan."""
        entry = self.groups.get(canonicalize_name(name))
        original = entry[0] if entry else name
        self.out.add_requirements(self.resolve(name), f"{self.where} [dependency-groups] {original}")
