"""Which policy reviews: the deterministic plan, or the LLM policy when one is configured.

Shared by every entry point (local, Action, webhook worker). With no LLM configured nothing of
`reviewbot.llm` is imported, so no network call can happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reviewbot.agent.tools import Tool
from reviewbot.pipeline.deps import ReviewDeps
from reviewbot.review import PolicyFactory
from reviewbot.settings import Settings


@dataclass(frozen=True)
class PullRequestText:
    """What the code host says about the change (title, body, branch, commit messages): all untrusted,
    handed to the LLM prompt fenced as data."""

    title: str = ""
    body: str = ""
    branch: str = ""
    commits: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyChoice:
    factory: PolicyFactory | None = None
    extra_tools: tuple[Tool[ReviewDeps, Any], ...] = ()


def choose_policy(
    settings: Settings, environ: Mapping[str, str], *, pr: PullRequestText | None = None
) -> PolicyChoice:
    if settings.llm.provider == "none":
        return PolicyChoice()
    from reviewbot.llm.prompt import PRInfo
    from reviewbot.llm.wiring import llm_policy_factory, llm_tools

    info = None
    if pr is not None:
        info = PRInfo(title=pr.title, body=pr.body, commits=pr.commits, branch=pr.branch)
    return PolicyChoice(llm_policy_factory(settings, environ, pr=info), tuple(llm_tools(settings)))
