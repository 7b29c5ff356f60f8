"""What the review tools need, passed to them through the agent's typed ToolContext (no globals)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from reviewbot.core.diff import Diff
from reviewbot.core.finding import Finding
from reviewbot.core.lintconfig import LintSetup
from reviewbot.core.review import ToolRun
from reviewbot.settings import Settings
from sandbox import Session

Revision = Literal["head", "base"]

#: Where each revision's files live inside the sandbox work root.
SANDBOX_DIRS: Mapping[Revision, str] = {"head": "head", "base": "base"}


@dataclass
class Ledger:
    """What ran and what broke, accumulated by the tools for the summary (mutable, one per review)."""

    runs: list[ToolRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    preexisting: list[Finding] = field(default_factory=list)
    omitted: int = 0


class SessionSource(Protocol):
    """Gives each revision's own sandbox session (`reviewbot.pipeline.sessions.RevisionSessions`)."""

    def get(self, revision: Revision) -> Session: ...


@dataclass(frozen=True)
class ReviewDeps:
    """Everything a review tool touches.

    `root` is a bot-side snapshot of the head revision (read_file / search_code read it; it is never
    executed); each revision has a sandbox session of its own (`session_for`), holding that
    revision's tree under SANDBOX_DIRS and nothing of the other's.
    """

    root: Path
    sessions: SessionSource
    settings: Settings
    diff: Diff
    diff_text: str
    scoped: bool  # False with --all: no diff scope, no baseline
    python_paths: tuple[str, ...]  # head-side Python files under review
    base_paths: Mapping[str, str]  # head path -> base path (renames), existing at base
    head_texts: Mapping[str, str]  # head file contents of python_paths
    base_texts: Mapping[str, str]  # base file contents, keyed by BASE path
    has_base: bool
    uses_ruff_format: bool
    has_ruff_config: bool
    ledger: Ledger = field(default_factory=Ledger)
    lint: LintSetup = field(default_factory=LintSetup)  # the lint policy (reviewbot/core/lintconfig.py)

    def session_for(self, revision: Revision) -> Session:
        """The sandbox session that holds `revision`'s tree: the base's is a separate container,
        opened on first use, that nothing the head ran can reach."""
        return self.sessions.get(revision)

    @property
    def session(self) -> Session:
        """The head's session (tools that only ever run at head, like the LLM's run_snippet)."""
        return self.session_for("head")
