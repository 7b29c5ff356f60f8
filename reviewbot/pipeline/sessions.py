"""One sandbox session per revision: head and base never share a container, a tree or an environment.

    sessions = RevisionSessions(backend, settings, spec, trees, ledger, stack)
    sessions.get("head")   # opened (and its test environment installed) on first use
    sessions.get("base")   # a fresh container of its own, opened only when a base run is needed

Whatever the head's code wrote or started (files in the base tree, /tmp, $HOME, the user site, a
process left running) lives in the head's container and goes with it; the base session is a new
container on a freshly unpacked tree with its own environment, built from the base's own
declarations (the same cache entry when they match). Every session is entered on the review's
ExitStack, so each is torn down on exit, on error and on SIGTERM (which the CLI turns into an
exception that unwinds the stack).

Each revision's session is prepared like this (see `reviewbot.pipeline.env`):
- `install_command` configured: it runs with network, in that revision's directory;
- else `install = "auto"`: the dependency layer comes from the cache (built on a miss) and is
  mounted read-only; the project is installed editable, offline, in the session;
- else nothing is installed.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Unpack

from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.core.testenv import TestEnvPlan, plan_test_env
from reviewbot.errors import ToolError, WorkspaceError
from reviewbot.pipeline import env as testenv
from reviewbot.pipeline.install import (
    failure_message,
    install_failed,
    record,
    run_install_command,
    run_name,
    wanted,
)
from reviewbot.pipeline.review_deps import SANDBOX_DIRS, Ledger, Revision
from reviewbot.settings import Settings
from sandbox import Backend, CommandResult, RunOptions, SandboxSpec, Session

#: Bumped when the way a layer is built changes, so old cache entries are not reused.
LAYER_RECIPE = "2"  # bump when the layer build (sandbox.envcache.BUILD_SCRIPT) changes


@dataclass(frozen=True)
class RevisionTree:
    tar: bytes
    files: Mapping[str, bytes]  # repo-relative path -> bytes, what the environment is planned from


@dataclass(frozen=True)
class _Planned:
    """One revision's test environment, as planned from its files (`plan_test_env`)."""

    revision: Revision
    tree: RevisionTree
    plan: TestEnvPlan
    requirements: bytes
    env: dict[str, str]


def needs_project(argv: Sequence[str]) -> bool:
    """Does this command run the project's code (and so need it installed)? ruff only reads files."""
    return not (argv[:1] == ["ruff"] or list(argv[:3]) == ["python", "-m", "ruff"])


class ProjectOnFirstUse:
    """A session whose project install is deferred to the first command that runs the project's
    code: a base session opened only to compare lint findings never pays for it."""

    def __init__(self, session: Session, install: Callable[[], None]) -> None:
        self._session, self._install = session, install
        self._pending = True
        self.backend_name = session.backend_name

    def upload(self, dest: str, tar_data: bytes) -> None:
        self._session.upload(dest, tar_data)

    def download(self, path: str, max_bytes: int) -> bytes | None:
        return self._session.download(path, max_bytes)

    def run(self, argv: Sequence[str], **options: Unpack[RunOptions]) -> CommandResult:
        if self._pending and needs_project(argv):
            self._pending = False
            self._install()
        return self._session.run(argv, **options)


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "reviewbot"


class RevisionSessions:
    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        spec: SandboxSpec,
        trees: Mapping[Revision, RevisionTree],
        ledger: Ledger,
        stack: ExitStack,
    ) -> None:
        self.backend, self.settings, self.spec = backend, settings, spec
        self.trees, self.ledger, self.stack = trees, ledger, stack
        self._open: dict[Revision, Session] = {}
        self._cache: Any = None

    def get(self, revision: Revision) -> Session:
        session = self._open.get(revision)
        if session is None:
            session = self._open[revision] = self._start(revision)
        failed = install_failed(self.ledger, revision)
        if failed is not None and revision == "base":
            # The head's failed install already stops the tests before they ask; a base run that
            # asks after its own install failed must not run in a broken environment (its failures
            # would hide what the change broke).
            raise ToolError(f"the base revision's test environment is not usable: {failed.detail}")
        return session

    # -- opening one revision ----------------------------------------------------------------------
    def _start(self, revision: Revision) -> Session:
        tree = self.trees.get(revision)
        if tree is None:
            raise ToolError(f"there is no {revision} revision in this review")
        settings = self.settings.sandbox
        spec = self.spec
        if not wanted(self.settings):
            if settings.install_command and revision == "head":
                self.ledger.skipped.append(
                    "install: not run, nothing executes the project's code (tests are disabled)"
                )
            return self._session(spec, revision, tree)
        if settings.install == "none" and not settings.install_command:
            return self._session(spec, revision, tree)
        if settings.install_command:
            session = self._session(replace(spec, network=True), revision, tree)
            run_install_command(session, self.settings, self.ledger, revision)
            return session
        return self._auto(revision, tree)

    def _session(self, spec: SandboxSpec, revision: Revision, tree: RevisionTree) -> Session:
        session = self.stack.enter_context(self.backend.session(spec))
        session.upload(SANDBOX_DIRS[revision], tree.tar)
        return session

    def _auto(self, revision: Revision, tree: RevisionTree) -> Session:
        plan = plan_test_env(tree.files)
        requirements, notes = testenv.requirements_text(plan, tree.files)
        env, env_notes = testenv.project_env(plan)
        self.ledger.skipped.extend(
            f"test environment ({revision}): {n}" for n in [*plan.notes, *notes, *env_notes]
        )
        if not (requirements or plan.install_project):
            return self._session(self.spec, revision, tree)
        cache = self._env_cache()
        if cache is None:
            self.ledger.skipped.append(
                f"test environment ({revision}): not installed, the {self.backend.name} backend has no "
                "environment cache (use the Docker backend, or set sandbox.install_command)"
            )
            return self._session(self.spec, revision, tree)
        planned = _Planned(revision, tree, plan, requirements, env)
        return self._dynamic(planned) if plan.dynamic_dependencies else self._cached(planned, cache)

    def _cached(self, planned: _Planned, cache: Any) -> Session:
        revision, tree, plan = planned.revision, planned.tree, planned.plan
        start = time.monotonic()
        timeout = self.settings.sandbox.install_timeout_s
        key = self._layer_key(plan, tree, planned.requirements, cache)
        layer = cache.ensure(
            self.spec, key, planned.requirements, timeout_s=timeout, index_url=self.settings.sandbox.index_url
        )
        spent = time.monotonic() - start
        if not layer.ok:
            status, message = failure_message(layer.result, timeout, f"the install step ({revision})")
            self._fail(revision, status, spent, message)
            return self._session(self.spec, revision, tree)
        session = self._session(replace(self.spec, env_layer=layer.name), revision, tree)
        detail = f"dependencies {'from the cache' if layer.cached else 'installed and cached'}"
        detail += f" ({layer.size_bytes // (1024 * 1024)} MB)"
        if not plan.install_project:
            self._done(revision, spent, f"{detail}; from {testenv.describe(plan)}")
            return session
        install = functools.partial(self._install_project, session, planned, spent, detail)
        return ProjectOnFirstUse(session, install)

    def _install_project(self, session: Session, planned: _Planned, spent: float, detail: str) -> None:
        """Install the project itself (editable, offline) over its cached dependencies."""
        revision, plan, env = planned.revision, planned.plan, planned.env
        begin = time.monotonic()
        cwd, timeout = SANDBOX_DIRS[revision], self.settings.sandbox.install_timeout_s
        how = "its build backend's editable hook"
        result = session.run(testenv.EDITABLE_FAST, cwd=cwd, timeout_s=timeout, env=env)
        if not result.ok:  # pip's way, which also says best what went wrong
            how = "pip"
            result = session.run(testenv.EDITABLE_OFFLINE, cwd=cwd, timeout_s=timeout, env=env)
        took = spent + time.monotonic() - begin
        if result.ok:
            installed = f"the project installed (editable, offline, by {how})"
            self._done(revision, took, f"{detail}; {installed}; from {testenv.describe(plan)}")
            return
        # Its dependencies are there and the tests still import it from the source tree
        # (PYTHONPATH): say what failed (pip's own words), but do not block the tests.
        _, message = failure_message(result, timeout, "installing the project itself")
        self.ledger.skipped.append(
            f"test environment ({revision}): {message[:800]} -- the tests import it from the "
            "source tree; its metadata and entry points are missing"
        )
        self._done(
            revision,
            took,
            f"{detail}; the project itself NOT installed (see skipped); from {testenv.describe(plan)}",
        )

    def _done(self, revision: Revision, duration: float, detail: str) -> None:
        run = ToolRun(
            name=run_name(revision), status=RunStatus.OK, duration_s=round(duration, 3), detail=detail
        )
        record(self.ledger, revision, run)

    def _dynamic(self, planned: _Planned) -> Session:
        """setup.py computes the dependencies: install the project with them, uncached, per review."""
        revision, plan = planned.revision, planned.plan
        start = time.monotonic()
        timeout = self.settings.sandbox.install_timeout_s
        session = self._session(replace(self.spec, network=True), revision, planned.tree)
        from sandbox.envcache import index_env

        run_env = {**planned.env, **index_env(self.settings.sandbox.index_url)}
        argv = testenv.dynamic_install_argv(plan, planned.requirements)
        result = session.run(argv, cwd=SANDBOX_DIRS[revision], timeout_s=timeout, env=run_env, network=True)
        if not result.ok:
            status, message = failure_message(result, timeout, f"the install step ({revision})")
            self._fail(revision, status, time.monotonic() - start, message)
            return session
        detail = (
            "the project and its dependencies installed per review, not cached (its dependencies are "
            f"computed by setup.py, so they cannot be read without running it); from {testenv.describe(plan)}"
        )
        self._done(revision, result.duration_s, detail)
        return session

    def _fail(self, revision: Revision, status: RunStatus, duration: float, message: str) -> None:
        run = ToolRun(
            name=run_name(revision), status=status, duration_s=round(duration, 3), detail=message[:1000]
        )
        record(self.ledger, revision, run, message)

    # -- the cache ---------------------------------------------------------------------------------
    def _env_cache(self) -> Any:
        if self._cache is None and self.backend.name == "docker":
            from sandbox.envcache import DockerEnvCache  # the docker SDK only when Docker is in use

            settings = self.settings.sandbox
            state = settings.env_cache_dir or default_cache_dir()
            try:
                self._cache = DockerEnvCache(self.backend, state_dir=state, cap_mb=settings.env_cache_mb)  # type: ignore[arg-type]
            except OSError as exc:
                raise WorkspaceError(
                    f"the test environment cache's directory {state} cannot be used ({exc.strerror}); "
                    "set sandbox.env_cache_dir (REVIEWBOT_SANDBOX__ENV_CACHE_DIR) to a writable directory"
                ) from exc
        return self._cache

    def _layer_key(self, plan: TestEnvPlan, tree: RevisionTree, requirements: bytes, cache: Any) -> str:
        image_id, python = cache.image_identity(self.spec.image)
        key = plan.cache_key(tree.files, image_id=image_id, python=python)
        # What is actually installed is part of the key too, whatever the plan's key covers.
        return hashlib.sha256(f"{LAYER_RECIPE}\0{key}\0".encode() + requirements).hexdigest()
