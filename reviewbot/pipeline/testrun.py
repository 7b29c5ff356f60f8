"""What `run_tests` hands the policy about one pytest run (`TestsResult`), and the coverage verdict
of the review.

A failing test has one shape from the junit parse to the attribution: `core.testgroups.FailedTest`.
The tool annotates every failure with its real cause (`core.testgroups.parse_cause`, resolved
against the head revision's files) and, for a test module that failed to import for a reason
outside the code (a module not installed, a generated file missing), the environment problem and
its fix. The policy then decides, with the base run in hand, which failures are the change's and
whether the tests ran at all (`coverage_verdict`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.analyzers.junit import TestCase
from reviewbot.core.diff import Diff
from reviewbot.core.testgroups import (
    FIX_SEPARATOR,
    FailedTest,
    RepoLayout,
    environment_problem,
    names,
    parse_cause,
)

#: Directories never part of the project's importable code (and slow to walk in a working tree).
_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})


def _walkable(path: Path) -> bool:
    name = path.name
    return not name.startswith(".") and name not in _SKIP_DIRS and not (path / "pyvenv.cfg").exists()


def repo_layout(root: Path, diff: Diff, max_files: int) -> RepoLayout:
    """The head revision's Python files (from the bot-side snapshot) and what the change removed."""
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if _walkable(Path(dirpath, d))]
        rel = Path(dirpath).relative_to(root).as_posix()
        files.extend(f if rel == "." else f"{rel}/{f}" for f in filenames if f.endswith(".py"))
        if len(files) > max_files:
            break
    removed = {fc.old_path for fc in diff.files if fc.old_path and fc.status in ("deleted", "renamed")}
    return RepoLayout(frozenset(files), frozenset(p for p in removed if p))


def has_test_files(layout: RepoLayout) -> bool:
    def is_test(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return name.startswith("test_") or name.endswith("_test.py")

    return any(is_test(p) for p in layout.files)


def failed_test(case: TestCase, layout: RepoLayout, *, collection: bool = False) -> FailedTest:
    """A failing case with its real cause (resolved against the head's files) and, for a module
    that failed to import for an environment reason, what is missing and the fix."""
    cause = parse_cause(case.message, case.detail, layout.files)
    problem = environment_problem(cause, layout) if case.outcome == "error" else None
    return FailedTest(
        nodeid=case.nodeid,
        path=case.path,
        line=case.line,
        message=case.message or "",
        detail=case.detail or "",
        collection=collection,
        cause=cause,
        environment=problem.text if problem is not None else None,
    )


@dataclass(frozen=True)
class TestsResult:
    """What `run_tests` returns: one pytest run, its failing tests already in the shape attribution
    takes (`FailedTest`, cause included). `error` says why the run broke, if it did."""

    __test__ = False  # not a pytest test class, whatever its name

    revision: str
    error: str | None = None
    running: tuple[str, ...] = ()  # tests cut off by a kill (from the streamed log)
    cases: tuple[TestCase, ...] = ()
    failures: tuple[FailedTest, ...] = ()
    collection_errors: tuple[FailedTest, ...] = ()

    @property
    def failing(self) -> tuple[FailedTest, ...]:
        """Failing tests, then test modules that failed to import."""
        return (*self.failures, *self.collection_errors)

    def environment(self) -> dict[str, str]:
        """Test modules that failed to import for environment reasons -> why (and the fix)."""
        return {t.nodeid: t.environment for t in self.collection_errors if t.environment}

    def broken_modules(self) -> dict[str, str]:
        """Test modules that failed to import -> the cause (for "could not compare")."""
        return {
            t.nodeid: t.cause.summary if t.cause is not None else "collection failure"
            for t in self.collection_errors
        }


@dataclass(frozen=True)
class Coverage:
    """How much of the suite ran at head, as the tool output reported it."""

    ran: int  # tests that executed (not skipped)
    modules_ok: int  # test modules that imported and produced cases
    import_failures: Sequence[str]  # test modules that failed to import
    environment: Mapping[str, str]  # of those, the ones failing for environment reasons -> why


def _environment_summary(environment: Mapping[str, str]) -> str:
    """What is missing (with the modules it breaks), then how to fix it, each said once."""
    by_problem: dict[str, list[str]] = {}
    fixes: dict[str, None] = {}
    for module, text in environment.items():
        what, _, fix = text.partition(FIX_SEPARATOR)
        by_problem.setdefault(what, []).append(module)
        if fix:
            fixes[fix] = None
    parts = [f"{what} ({len(mods)} module(s): {names(mods, 3)})" for what, mods in by_problem.items()]
    text = "; ".join(parts[:4]) + (f"; and {len(parts) - 4} more problem(s)" if len(parts) > 4 else "")
    return text + (". To fix: " + "; or ".join(fixes) if fixes else "")


def coverage_verdict(coverage: Coverage, *, explained: bool) -> tuple[str | None, str | None]:
    """(review error, note): the tests did not meaningfully run -> an error (the review is not
    done, exit 2); some modules could not import for environment reasons -> a note.
    `explained`: the change's own findings account for the modules that failed to import."""
    total = coverage.modules_ok + len(coverage.import_failures)
    env = dict(coverage.environment)
    if env and 2 * len(env) > total:
        return (
            f"the tests could not meaningfully run: {len(env)} of {total} test module(s) failed to import "
            f"because of the test environment, not the change: {_environment_summary(env)}",
            None,
        )
    if coverage.ran == 0 and coverage.import_failures and not explained:
        why = f": {_environment_summary(env)}" if env else " (see the collection errors)"
        return f"no test ran at head: every test module failed to import{why}", None
    if env:
        return None, (
            f"tests: {len(env)} of {total} test module(s) could not import because of the test environment "
            f"(not the change), so their tests did not run: {_environment_summary(env)}"
        )
    return None, None
