"""How a review gets its LLM policy and tools (called by `reviewbot.review` and the CLI).

    factory = llm_policy_factory(settings, os.environ, pr=PRInfo(title=..., body=...))
    run_review(request, settings, policy_factory=factory, extra_tools=llm_tools())

With no LLM configured the factory is None: nothing is built and no network call can happen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reviewbot.agent.loop import Policy
from reviewbot.agent.tools import Tool
from reviewbot.llm.model import Model, UsageMeter
from reviewbot.llm.policy import LLMPolicy
from reviewbot.llm.prompt import PRInfo
from reviewbot.llm.resolve import build_model, meter_for
from reviewbot.llm.snippet_tool import RunSnippet
from reviewbot.pipeline.policy import DeterministicPolicy
from reviewbot.settings import Settings

PolicyFactory = Callable[[Any, Settings], Policy[Any]]


def llm_tools(settings: Settings | None = None) -> list[Tool[Any, Any]]:
    """The tools an LLM review adds to the review's defaults (read_file, search_code, get_diff,
    analyze_code, run_tests, report): run_snippet."""
    del settings  # the snippet tool's limits come from the sandbox spec and its own parameters
    return [RunSnippet()]


def policy_factory_for(
    model: Model, settings: Settings, *, pr: PRInfo | None = None, meter: UsageMeter | None = None
) -> PolicyFactory:
    """A factory building the LLM policy (or the multi-agent coordinator when configured)."""
    shared = meter or meter_for(settings.llm)

    def make(_deps: Any, s: Settings) -> Policy[Any]:
        if s.llm.multi_agent:
            from reviewbot.llm.multi import Coordinator  # only loaded when the mode is on

            coordinator: Policy[Any] = Coordinator(model, s, pr=pr, meter=shared)
            return coordinator
        return LLMPolicy(model, s, pr=pr, meter=shared, prelude=DeterministicPolicy())

    return make


def llm_policy_factory(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    pr: PRInfo | None = None,
    meter: UsageMeter | None = None,
) -> PolicyFactory | None:
    model = build_model(settings.llm, environ)
    if model is None:
        return None
    return policy_factory_for(model, settings, pr=pr, meter=meter)
