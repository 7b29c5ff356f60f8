"""Real reviews for the LLM tests: a git repository in a tmp dir, the process sandbox, the agent
loop with the review's tools plus the LLM ones, and a model talking HTTP to a loopback fake.

`review_with_llm` mirrors `reviewbot.review.run_review` with the LLM tools registered (run_review
takes a policy factory but not extra tools yet).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.agent.builtin_tools import ReportTool
from reviewbot.agent.loop import AgentLoop, AgentRun, Limits
from reviewbot.agent.read_file import ReadFile
from reviewbot.agent.tools import ToolRegistry
from reviewbot.core.finding import Finding
from reviewbot.llm.model import UsageMeter
from reviewbot.llm.prompt import PRInfo
from reviewbot.llm.resolve import build_model
from reviewbot.llm.wiring import llm_tools, policy_factory_for
from reviewbot.pipeline.deps import Ledger, ReviewDeps
from reviewbot.pipeline.prepare import prepare
from reviewbot.pipeline.tools import AnalyzeCode, RunTests
from reviewbot.review import sandbox_spec
from reviewbot.settings import Settings, load_settings
from sandbox.archive import build_tar
from sandbox.process import ProcessBackend

BASE_FILES = {
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def make_repo(tmp: Path, head_files: dict[str, str], base_files: dict[str, str] | None = None) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path, text in (base_files or BASE_FILES).items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    for path, text in head_files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return repo


def settings_for(base_url: str, wire: str, **llm: Any) -> Settings:
    overrides: dict[str, Any] = {
        "sandbox": {"backend": "process"},
        "llm": {"provider": wire, "model": "fake-model", "base_url": base_url, **llm},
    }
    return load_settings(overrides=overrides)


@dataclass
class Result:
    run: AgentRun
    ledger: Ledger
    meter: UsageMeter
    findings: list[Finding]


def review_with_llm(
    repo: Path,
    settings: Settings,
    *,
    pr: PRInfo | None = None,
    environ: dict[str, str] | None = None,
    limits: Limits | None = None,
) -> Result:
    model = build_model(settings.llm, environ or {}, sleep=lambda s: None)
    assert model is not None
    meter = UsageMeter()
    prepared = prepare(repo, settings, base="main", head="feature", all_files=False)
    head_tar, _ = build_tar(prepared.head_files)
    base_tar, _ = build_tar(prepared.base_files)
    with ProcessBackend().session(sandbox_spec(settings)) as session:
        session.upload("head", head_tar)
        session.upload("base", base_tar)
        root = repo  # head == the checked-out branch
        deps = ReviewDeps(
            root=root,
            session=session,
            settings=settings,
            diff=prepared.diff,
            diff_text=prepared.diff_text,
            scoped=prepared.scoped,
            python_paths=prepared.python_paths,
            base_paths=prepared.base_paths,
            head_texts=prepared.head_texts,
            base_texts=prepared.base_texts,
            has_base=True,
            uses_ruff_format=prepared.uses_ruff_format,
        )
        registry: ToolRegistry[ReviewDeps] = ToolRegistry(
            [ReadFile(), AnalyzeCode(), RunTests(), ReportTool(), *llm_tools(settings)],
            default_timeout_s=settings.agent.tool_timeout_s,
        )
        policy = policy_factory_for(model, settings, pr=pr, meter=meter)(deps, settings)
        run = AgentLoop(registry, limits or Limits.from_settings(settings.agent)).run(policy, deps)
    findings = list(run.report.findings) if run.report else []
    return Result(run, deps.ledger, meter, findings)
