"""Real reviews for the LLM tests: a git repository in a tmp dir, `run_review` with the process
sandbox, the LLM policy and tools, and a model talking HTTP to a loopback fake."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.adapters.llm.model import UsageMeter
from reviewbot.adapters.llm.prompt import PRInfo
from reviewbot.adapters.llm.resolve import build_model
from reviewbot.adapters.llm.wiring import llm_reviewer
from reviewbot.agent.loop import AgentRun, Limits
from reviewbot.core.finding import Finding
from reviewbot.core.review import Review
from reviewbot.pipeline.run import ReviewRequest, run_review
from reviewbot.settings import Settings, load_settings
from tests.support.git import make_repo as make_repo_at

BASE_FILES = {
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}


def make_repo(tmp: Path, head_files: dict[str, str], base_files: dict[str, str] | None = None) -> Path:
    """`tmp/repo`: `base_files` on `main`, `head_files` committed on top on `feature` (checked out)."""
    return make_repo_at(tmp / "repo", base_files or BASE_FILES, head_files).root


def settings_for(base_url: str, wire: str, **llm: Any) -> Settings:
    overrides: dict[str, Any] = {
        "sandbox": {"backend": "process"},
        "llm": {"provider": wire, "model": "fake-model", "base_url": base_url, **llm},
    }
    return load_settings(overrides=overrides)


@dataclass
class Result:
    run: AgentRun
    review: Review
    meter: UsageMeter
    findings: list[Finding]

    @property
    def ledger(self) -> Review:  # errors / skipped / runs, as the review reports them
        return self.review


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
    if limits is not None:
        settings = settings.model_copy(
            update={"agent": settings.agent.model_copy(update={"max_iterations": limits.max_iterations})}
        )
    outcome = run_review(
        ReviewRequest(repo_root=repo, base="main", head="feature"),
        settings,
        reviewer=llm_reviewer(model, settings, pr=pr, meter=meter),
    )
    assert outcome.agent is not None
    return Result(outcome.agent, outcome.review, meter, list(outcome.review.findings))
