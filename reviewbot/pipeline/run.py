"""Run one review: prepare the change, open a sandbox session, let the agent work, build the Review.

    outcome = run_review(ReviewRequest(repo_root=Path(".")), settings)
    outcome.review   # the frozen Review every renderer and code host consumes

The policy is the deterministic plan unless an LLM is configured (`settings.llm.provider`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from reviewbot.agent.builtin_tools import builtin_tools
from reviewbot.agent.events import EventSink, emit_phase
from reviewbot.agent.loop import AgentLoop, AgentRun
from reviewbot.agent.tools import Tool, ToolRegistry
from reviewbot.core.diff import Diff
from reviewbot.core.review import Review
from reviewbot.errors import AnalyzerError, SandboxUnavailable, WorkspaceError
from reviewbot.pipeline.policy import DeterministicPolicy, ReviewPolicy
from reviewbot.pipeline.prepare import Prepared, prepare
from reviewbot.pipeline.review_deps import Ledger, ReviewDeps, Revision
from reviewbot.pipeline.sessions import RevisionSessions, RevisionTree
from reviewbot.pipeline.tools import AnalyzeCode, RunTests
from reviewbot.settings import Settings, read_named_file
from sandbox import Backend, SandboxSpec
from sandbox.archive import FileEntry, build_tar, extract_tar
from sandbox.errors import ArchiveError, SandboxError, SandboxStartError
from sandbox.factory import describe_start_failure, open_backend


@dataclass(frozen=True)
class ReviewRequest:
    repo_root: Path
    base: str | None = None  # any git revision; default: merge-base with the default branch
    head: str | None = None  # any git revision; default: the working tree
    all_files: bool = False  # review every file, not only the change
    untrusted: bool = False  # strangers' code: the process backend is refused unless allowed


@dataclass(frozen=True)
class ReviewOutcome:
    review: Review
    diff: Diff
    head_texts: dict[str, str]
    warnings: tuple[str, ...] = ()
    nothing_to_review: bool = False
    agent: AgentRun | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Reviewer:
    """Who reviews: a fresh policy for each review, and the tools that policy adds to the defaults.
    `reviewbot.policy_choice.choose_reviewer` picks one from the settings."""

    new_policy: Callable[[], ReviewPolicy] = DeterministicPolicy
    tools: tuple[Tool[ReviewDeps, Any], ...] = ()


#: The deterministic plan with the default tools: no LLM, no network.
DETERMINISTIC = Reviewer()


#: The sandbox settings a SandboxSpec takes as they are.
_SPEC_SETTINGS = {"image", "cpus", "memory_mb", "pids", "timeout_s", "runtime"}


def sandbox_spec(settings: Settings) -> SandboxSpec:
    s = settings.sandbox
    ca = None
    if s.ca_bundle is not None:
        ca = read_named_file(s.ca_bundle, "sandbox.ca_bundle", error=WorkspaceError)
    return SandboxSpec(
        **s.model_dump(include=_SPEC_SETTINGS),
        ca_bundle=ca,
        # room for one revision and what the install step adds (each revision has its own session)
        work_size_mb=max(SandboxSpec.work_size_mb, settings.max_repo_mb + 256),
    )


def default_tools(settings: Settings) -> list[Tool[ReviewDeps, Any]]:
    """read_file, search_code, get_diff, report, and the two that execute code in the sandbox."""
    return [*builtin_tools(settings), AnalyzeCode(), RunTests()]


@contextmanager
def _head_snapshot(request: ReviewRequest, prepared: Prepared, head_tar: bytes) -> Iterator[Path]:
    """The bot-side copy read_file reads: the working tree itself, or the head revision unpacked."""
    if prepared.head is None:
        yield request.repo_root.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="reviewbot-head-") as tmp:
        extract_tar(head_tar, Path(tmp))
        yield Path(tmp)


def _trees(prepared: Prepared, head_tar: bytes, base_tar: bytes | None) -> dict[Revision, RevisionTree]:
    """Each revision's tar and files (its test environment is planned from the files)."""

    def files(entries: Sequence[FileEntry]) -> dict[str, bytes]:
        return {e.path: e.data for e in entries if e.symlink_target is None}

    trees: dict[Revision, RevisionTree] = {"head": RevisionTree(head_tar, files(prepared.head_files))}
    if base_tar is not None:
        trees["base"] = RevisionTree(base_tar, files(prepared.base_files))
    return trees


def _pack(prepared: Prepared) -> tuple[bytes, bytes | None, list[str]]:
    try:
        head_tar, head_skipped = build_tar(prepared.head_files)
        base_tar, base_skipped = build_tar(prepared.base_files) if prepared.base_files else (None, [])
    except ArchiveError as exc:
        raise WorkspaceError(f"the repository cannot be copied into the sandbox: {exc}") from exc
    notes = [f"{path}: not copied into the sandbox ({why})" for path, why in head_skipped + base_skipped]
    return head_tar, base_tar, notes


def _open_backend(request: ReviewRequest, settings: Settings) -> tuple[Backend, str | None]:
    try:
        return open_backend(
            settings.sandbox.backend,
            untrusted=request.untrusted,
            allow_process_for_untrusted=settings.sandbox.allow_process_backend_for_untrusted,
            image=settings.sandbox.image,
        )
    except SandboxStartError as exc:
        raise SandboxUnavailable(str(exc)) from exc


def _deps(
    prepared: Prepared,
    settings: Settings,
    root: Path,
    sessions: RevisionSessions,
    ledger: Ledger,
    *,
    has_base: bool,
) -> ReviewDeps:
    return ReviewDeps(
        root=root,
        sessions=sessions,
        settings=settings,
        ledger=ledger,
        has_base=has_base,
        diff=prepared.diff,
        diff_text=prepared.diff_text,
        scoped=prepared.scoped,
        python_paths=prepared.python_paths,
        base_paths=prepared.base_paths,
        head_texts=prepared.head_texts,
        base_texts=prepared.base_texts,
        uses_ruff_format=prepared.uses_ruff_format,
        has_ruff_config=prepared.has_ruff_config,
        lint=prepared.lint,
    )


def _loop(settings: Settings, reviewer: Reviewer, trace: EventSink | None) -> AgentLoop[ReviewDeps]:
    """The default tools plus the reviewer's own; budgets and memory bounds from `settings.agent`."""
    registry: ToolRegistry[ReviewDeps] = ToolRegistry(
        default_tools(settings), default_timeout_s=settings.agent.tool_timeout_s
    )
    for tool in reviewer.tools:
        if tool.name not in registry:
            registry.register(tool)
    return AgentLoop.from_settings(registry, settings.agent, sink=trace)


@dataclass(frozen=True)
class _Ran:
    """What the agent did, for the Review: its run and the policy that made it."""

    run: AgentRun
    policy: ReviewPolicy
    deps: ReviewDeps


def _names(prepared: Prepared) -> dict[str, JsonValue]:
    """The revisions as the review names them (the agent's memory holds them as its task)."""
    return {"base": prepared.base or "(none)", "head": prepared.head or "WORKTREE"}


def _run_agent(
    request: ReviewRequest,
    settings: Settings,
    prepared: Prepared,
    packed: tuple[bytes, bytes | None, list[str]],
    backend: Backend,
    *,
    trace: EventSink | None,
    reviewer: Reviewer,
) -> _Ran:
    head_tar, base_tar, copy_notes = packed
    ledger = Ledger()
    emit_phase(trace, f"starting the {backend.name} sandbox")
    try:
        with ExitStack() as stack, _head_snapshot(request, prepared, head_tar) as root:
            trees = _trees(prepared, head_tar, base_tar)
            sessions = RevisionSessions(backend, settings, sandbox_spec(settings), trees, ledger, stack)
            deps = _deps(prepared, settings, root, sessions, ledger, has_base=base_tar is not None)
            ledger.skipped.extend([*prepared.skipped, *copy_notes])
            sessions.get("head")  # opened and installed before anything runs; the base only on demand
            policy = reviewer.new_policy()
            run = _loop(settings, reviewer, trace).run(policy, deps, context=_names(prepared))
    except SandboxStartError as exc:
        raise SandboxUnavailable(f"the sandbox could not start: {describe_start_failure(exc)}") from exc
    except SandboxError as exc:
        raise AnalyzerError(f"the sandbox failed during the review: {exc}") from exc
    return _Ran(run, policy, deps)


def _review(ran: _Ran, prepared: Prepared, backend_name: str) -> Review:
    run, ledger = ran.run, ran.deps.ledger
    errors = list(ledger.errors)
    if not run.complete:
        errors.append(f"the review stopped early ({run.stop_reason.value}): {run.message}")
    return Review(
        base=prepared.base or "(none)",
        head=prepared.head or "WORKTREE",
        findings=tuple(run.report.findings) if run.report else tuple(ran.policy.salvage(ran.deps)),
        preexisting=tuple(ledger.preexisting),
        runs=tuple(ledger.runs),
        errors=tuple(dict.fromkeys(errors)),
        skipped=tuple(ledger.skipped),
        omitted=ledger.omitted,
        files_reviewed=len(prepared.python_paths),
        # A policy may finish on its own terms yet report only part of what it meant to (an LLM
        # policy whose token budget ran out says so in `partial_reason`).
        partial=not run.complete or bool(ran.policy.partial_reason),
        sandbox_backend=backend_name,
    )


def run_review(
    request: ReviewRequest,
    settings: Settings,
    *,
    trace: EventSink | None = None,
    reviewer: Reviewer = DETERMINISTIC,
) -> ReviewOutcome:
    """Review the change. Raises WorkspaceError / SandboxUnavailable when it cannot start; analyzer
    failures during the review are recorded in `Review.errors` (the review is then incomplete)."""
    prepared = prepare(
        request.repo_root, settings, base=request.base, head=request.head, all_files=request.all_files
    )
    if prepared.nothing_to_review:
        review = Review(base=prepared.base or "(none)", head=prepared.head or "WORKTREE")
        return ReviewOutcome(review, prepared.diff, {}, nothing_to_review=True)
    packed = _pack(prepared)
    backend, warning = _open_backend(request, settings)
    ran = _run_agent(request, settings, prepared, packed, backend, trace=trace, reviewer=reviewer)
    return ReviewOutcome(
        _review(ran, prepared, backend.name),
        prepared.diff,
        dict(prepared.head_texts),
        warnings=tuple(w for w in (warning,) if w),
        agent=ran.run,
    )
