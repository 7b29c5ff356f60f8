"""`run_snippet`: write a small script or pytest test into the sandbox copy of the head revision
and run it — the way an LLM reviewer proves a suspected bug instead of asserting it.

The file goes under `.reviewbot_snippets/` in the sandbox's head directory (a dot directory, so a
later `run_tests` does not collect it); its name is a plain identifier, so no argument can escape
the directory (probe 55). It runs argv-only in the same sandbox session as the project's tests:
no network, no secrets, the session's limits, and a timeout capped by what is left of the review.
What the bot reports as evidence is the exit code and output it recorded, not the model's story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.core.text import tail
from reviewbot.errors import ToolError
from sandbox import Session
from sandbox.archive import FileEntry, build_tar
from sandbox.errors import SandboxError

SNIPPET_DIR = ".reviewbot_snippets"
TAIL_CHARS = 4000


class RunSnippetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=20_000, description="Python source of the script or test file")
    filename: str = Field(
        default="snippet.py",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,60}\.py$",
        description="File name (no directories); must start with test_ when mode is pytest",
    )
    mode: Literal["python", "pytest"] = Field(
        default="python", description="python: run the file as a script; pytest: run it as a test file"
    )
    timeout_s: float = Field(default=60.0, ge=1, le=300, description="Wall-clock limit for the run")


@dataclass(frozen=True)
class SnippetResult:
    """What `run_snippet` returns besides its text: how the run ended."""

    file: str
    mode: str
    outcome: str  # sandbox.Outcome value: ok, timeout, ...
    exit_code: int | None
    duration_s: float

    @property
    def failed(self) -> bool:
        return self.exit_code not in (0, None) or self.outcome == "timeout"


class RunSnippet(Tool[Any, RunSnippetParams]):
    """Write a small Python script or pytest test next to the project's code in the sandbox and
    run it (imports of the project work: the working directory is the repository root). Use it to
    prove a suspected bug: the exit code and output become evidence for your findings."""

    name = "run_snippet"
    Params = RunSnippetParams

    def __init__(self, *, workdir: str = "head", env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.env = env if env is not None else {"PYTHONPATH": "src:."}

    def run(self, params: RunSnippetParams, ctx: ToolContext[Any]) -> ToolOutput:
        if params.mode == "pytest" and not params.filename.startswith("test_"):
            raise ToolError("in pytest mode the filename must start with test_ (pytest collects only those)")
        session: Session = ctx.deps.session
        rel = f"{SNIPPET_DIR}/{params.filename}"
        tar, _skipped = build_tar([FileEntry(rel, params.code.encode("utf-8"))])
        argv = (
            ["python", rel]
            if params.mode == "python"
            else ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", rel]
        )
        timeout = params.timeout_s
        left = ctx.time_left()
        if left is not None:
            timeout = max(min(timeout, left), 1.0)
        try:
            session.upload(self.workdir, tar)
            result = session.run(argv, cwd=self.workdir, timeout_s=timeout, env=dict(self.env))
        except SandboxError as exc:
            raise ToolError(f"the sandbox could not run the snippet: {exc}") from exc
        stdout, stderr = (
            tail(b.decode("utf-8", "replace"), TAIL_CHARS, mark_cut=True)
            for b in (result.stdout, result.stderr)
        )
        head = (
            f"{params.mode} {rel}: exit code {result.exit_code} ({result.outcome.value}) "
            f"in {result.duration_s:.1f}s" + (f"; {result.detail}" if result.detail else "")
        )
        text = "\n".join([head, "--- stdout", stdout or "(empty)", "--- stderr", stderr or "(empty)"])
        value = SnippetResult(
            rel, params.mode, result.outcome.value, result.exit_code, round(result.duration_s, 3)
        )
        return ToolOutput.success(text, value=value)
