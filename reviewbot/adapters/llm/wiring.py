"""How a review gets its LLM policy and tools (called by `reviewbot.pipeline.run` and the CLI).

    reviewer = llm_reviewer_from_settings(settings, os.environ, pr=PRInfo(title=..., body=...))
    run_review(request, settings, reviewer=reviewer)

With no LLM configured it is the deterministic reviewer: nothing is built and no network call can happen.
"""

from __future__ import annotations

from collections.abc import Mapping

from reviewbot.adapters.llm.model import Model, UsageMeter
from reviewbot.adapters.llm.policy import LLMPolicy
from reviewbot.adapters.llm.prompt import PRInfo
from reviewbot.adapters.llm.resolve import build_model, meter_for
from reviewbot.adapters.llm.snippet_tool import RunSnippet
from reviewbot.pipeline.plan import Plan
from reviewbot.pipeline.policy import ReviewPolicy
from reviewbot.pipeline.run import DETERMINISTIC, Reviewer
from reviewbot.settings import Settings


def llm_reviewer(
    model: Model, settings: Settings, *, pr: PRInfo | None = None, meter: UsageMeter | None = None
) -> Reviewer:
    """The LLM policy (or the multi-agent coordinator when configured) on `model`, with run_snippet.
    One usage meter is shared by every review this reviewer runs."""
    shared = meter or meter_for(settings.llm)

    def new_policy() -> ReviewPolicy:
        if settings.llm.multi_agent:
            from reviewbot.adapters.llm.multi import Coordinator  # only loaded when the mode is on

            return Coordinator(model, settings, pr=pr, meter=shared)
        return LLMPolicy(model, settings, pr=pr, meter=shared, checks=Plan())

    return Reviewer(new_policy, (RunSnippet(),))


def llm_reviewer_from_settings(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    pr: PRInfo | None = None,
    meter: UsageMeter | None = None,
) -> Reviewer:
    """The configured model's reviewer; the deterministic one when no model is configured."""
    model = build_model(settings.llm, environ)
    if model is None:
        return DETERMINISTIC
    return llm_reviewer(model, settings, pr=pr, meter=meter)
