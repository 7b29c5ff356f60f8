"""Which policy reviews: the deterministic plan, or the LLM policy when one is configured.

Shared by every entry point (local, Action, webhook worker). With no LLM configured nothing of
`reviewbot.adapters.llm` is imported, so no network call can happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reviewbot.pipeline.run import DETERMINISTIC, Reviewer
from reviewbot.settings import Settings


@dataclass(frozen=True)
class PullRequestText:
    """What the code host says about the change (title, body, branch, commit messages): all untrusted,
    handed to the LLM prompt fenced as data."""

    title: str = ""
    body: str = ""
    branch: str = ""
    commits: tuple[str, ...] = ()


def choose_reviewer(
    settings: Settings, environ: Mapping[str, str], *, pr: PullRequestText | None = None
) -> Reviewer:
    """The deterministic plan, or the LLM policy (with its tools) when `settings.llm` names a model."""
    if settings.llm.provider == "none":
        return DETERMINISTIC
    from reviewbot.adapters.llm.prompt import PRInfo
    from reviewbot.adapters.llm.wiring import llm_reviewer_from_settings

    info = None
    if pr is not None:
        info = PRInfo(title=pr.title, body=pr.body, commits=pr.commits, branch=pr.branch)
    return llm_reviewer_from_settings(settings, environ, pr=info)
