"""Ground truth for the scenarios, from ruff and pytest run directly (no reviewbot code involved).

`spec_findings` is an independent, deliberately simple reading of the review's rule "only what the
change introduced": ruff findings (the repository's config + the curated rules) that start on an
added line of `git diff --find-renames <merge-base>` (untracked files: every line) and whose rule
and normalized flagged text do not occur in the base version of the file (followed through a rename).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.settings import AnalyzerSettings
from tests.corpus.gitrepo import Repo, exported

CURATED: tuple[str, ...] = tuple(AnalyzerSettings().curated_select)
#: What reviewbot selects in a repository without any ruff configuration: ruff's classic defaults
#: (stable across ruff versions, unlike `ruff check`'s own default set) plus the curated rules.
CLASSIC = ("E4", "E7", "E9", "F")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Diag:
    rule: str
    path: str
    start: int
    end: int
    text: str  # normalized source text of lines start..end

    def covers(self, line: int) -> bool:
        return self.start <= line <= self.end


def normalize(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def resolve_line(text: str, needle: str, what: str) -> int:
    """1-based line where `needle` starts; it must identify exactly one place in `text`."""
    if "\n" in needle:
        count = text.count(needle)
        if count != 1:
            raise AssertionError(f"{what}: {needle!r} occurs {count} times")
        return text[: text.index(needle)].count("\n") + 1
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    if len(hits) != 1:
        raise AssertionError(f"{what}: {needle!r} is on {len(hits)} lines {hits[:5]}")
    return hits[0]


def head_line(repo: Repo, path: str, needle: str) -> int:
    return resolve_line(repo.read(path), needle, path)


# -- ruff ----------------------------------------------------------------------------------------
def configures_ruff(root: Path) -> bool:
    """Does the checkout configure ruff anywhere (ruff.toml, .ruff.toml, or [tool.ruff] in a pyproject)?"""
    for path in root.rglob("*"):
        if path.name in ("ruff.toml", ".ruff.toml"):
            return True
        if path.name == "pyproject.toml" and "[tool.ruff" in path.read_text(
            encoding="utf-8", errors="replace"
        ):
            return True
    return False


def ruff(
    root: Path, paths: Sequence[str], *extra: str, curated: bool = True, may_fail: bool = False
) -> tuple[int, list[Diag]]:
    """Run ruff in `root` on `paths`; returns (exit code, diagnostics). Exit 2 raises unless `may_fail`."""
    if not paths:
        return 0, []
    argv = ["ruff", "check", "--output-format", "json", "--no-fix", "--no-cache", "--force-exclude"]
    if curated and configures_ruff(root):
        argv += ["--extend-select", ",".join(CURATED)]
    elif curated:
        argv += ["--select", ",".join((*CLASSIC, *CURATED))]
    done = subprocess.run(
        [*argv, *extra, "--", *paths], cwd=root, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        if may_fail:
            return done.returncode, []
        raise AssertionError(f"ruff failed (exit {done.returncode}): {done.stderr.strip()[-1000:]}")
    out: list[Diag] = []
    cache: dict[str, list[str]] = {}
    for item in json.loads(done.stdout or "[]"):
        rel = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
        lines = cache.setdefault(rel, (root / rel).read_text(encoding="utf-8").splitlines())
        start, end = item["location"]["row"], item["end_location"]["row"]
        out.append(Diag(item["code"] or "", rel, start, end, normalize("\n".join(lines[start - 1 : end]))))
    return done.returncode, out


# -- the diff ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    added: dict[str, frozenset[int]]  # head path -> added line numbers
    base_path: dict[str, str | None]  # head path -> base path (None: new file)


def merge_base(repo: Repo, default: str = "main") -> str:
    return repo.git("merge-base", "HEAD", default).strip()


def change_of(repo: Repo, base: str) -> Change:
    added: dict[str, set[int]] = {}
    base_path: dict[str, str | None] = {}
    status = repo.git("diff", "--find-renames", "--name-status", "-z", base).split("\0")
    i = 0
    while i < len(status) and status[i]:
        code = status[i]
        if code.startswith(("R", "C")):
            old, new = status[i + 1], status[i + 2]
            base_path[new] = old if code.startswith("R") else None
            i += 3
            continue
        path = status[i + 1]
        if not code.startswith("D"):
            base_path[path] = None if code.startswith("A") else path
        i += 2
    current: str | None = None
    for line in repo.git("diff", "--find-renames", "-U0", "--no-color", base).splitlines():
        if line.startswith("+++ "):
            current = line[6:] if line.startswith("+++ b/") else None
        elif current is not None and (m := _HUNK.match(line)):
            start, count = int(m.group(1)), int(m.group(2) or "1")
            added.setdefault(current, set()).update(range(start, start + count))
    for path in repo.git("ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if path:
            base_path[path] = None
            added[path] = set(range(1, len(repo.read(path).splitlines()) + 1))
    return Change({p: frozenset(s) for p, s in added.items()}, base_path)


def spec_findings(repo: Repo, scratch: Path) -> set[tuple[str, str, int]]:
    """(rule, head path, start line) that a review of this change must report (only what it introduced)."""
    base = merge_base(repo)
    change = change_of(repo, base)
    heads = sorted(p for p in change.added if p.endswith((".py", ".pyi")))
    bases = {p: change.base_path.get(p) for p in heads}
    with (
        exported(repo, None, scratch / "head") as head_dir,
        exported(repo, base, scratch / "base") as base_dir,
    ):
        _, head_diags = ruff(head_dir, heads)
        _, base_diags = ruff(base_dir, sorted({b for b in bases.values() if b}))
    head_of = {b: h for h, b in bases.items() if b}
    seen_at_base = {(d.rule, head_of[d.path], d.text) for d in base_diags}
    return {
        (d.rule, d.path, d.start)
        for d in head_diags
        if d.start in change.added.get(d.path, frozenset()) and (d.rule, d.path, d.text) not in seen_at_base
    }


# -- pytest --------------------------------------------------------------------------------------
def _node_id(root: Path, classname: str, name: str) -> str:
    parts = classname.split(".") if classname else []
    for cut in range(len(parts), 0, -1):
        module = "/".join(parts[:cut]) + ".py"
        if (root / module).is_file():
            return "::".join([module, *parts[cut:], name])
    return "::".join([*parts, name])


def failing_tests(root: Path, targets: Iterable[str] = ()) -> set[str]:
    """Node ids of the tests that fail or error when pytest runs in `root` (plain checkout)."""
    junit = root / ".corpus-junit.xml"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *targets],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise AssertionError(
            f"pytest could not run in {root} (exit {done.returncode}):\n{done.stdout[-2000:]}"
        )
    failed: set[str] = set()
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.add(_node_id(root, case.get("classname", ""), case.get("name", "")))
    return failed
