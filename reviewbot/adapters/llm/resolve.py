"""Build the `Model` a review uses from settings and an environment mapping.

Pure with respect to the environment: callers pass `environ` (the CLI entry points pass
`os.environ`; tests pass a dict). With `provider = "none"` (the default) nothing is built and no
network call can happen.

The key, first found wins: `llm.api_key` in settings (`REVIEWBOT_LLM__API_KEY`), then
`REVIEWBOT_LLM_API_KEY`, then the provider's conventional variable (`OPENAI_API_KEY` or
`ANTHROPIC_API_KEY`). A hosted endpoint without a key is a ConfigError; a local one (Ollama,
vLLM, llama.cpp on a base URL you set) may run without.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import httpx

from reviewbot.adapters.llm import anthropic, openai
from reviewbot.adapters.llm.http import JsonPoster
from reviewbot.adapters.llm.model import Model, UsageMeter
from reviewbot.errors import ConfigError
from reviewbot.settings import LLMSettings

CONVENTIONAL_KEY = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def resolve_api_key(settings: LLMSettings, environ: Mapping[str, str]) -> str | None:
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return settings.api_key.get_secret_value()
    for name in ("REVIEWBOT_LLM_API_KEY", CONVENTIONAL_KEY.get(settings.provider, "")):
        value = environ.get(name, "") if name else ""
        if value.strip():
            return value.strip()
    return None


#: The LLM settings the HTTP edge takes as they are.
_POSTER_SETTINGS = {"provider", "model", "timeout_s", "max_retries", "max_retry_wait_s"}


def build_model(
    settings: LLMSettings,
    environ: Mapping[str, str],
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Model | None:
    """The configured model, or None when no LLM is configured."""
    if settings.provider == "none":
        return None
    if not settings.model:
        raise ConfigError(
            f"llm.provider is {settings.provider!r} but no model is set: "
            "pass --llm-model or set REVIEWBOT_LLM_MODEL"
        )
    key = resolve_api_key(settings, environ)
    default_base = openai.DEFAULT_BASE_URL if settings.provider == "openai" else anthropic.DEFAULT_BASE_URL
    base_url = settings.base_url or default_base
    if key is None and base_url.rstrip("/") == default_base:
        raise ConfigError(
            f"no API key for {settings.provider}: "
            f"set REVIEWBOT_LLM_API_KEY or {CONVENTIONAL_KEY[settings.provider]}"
        )
    poster = JsonPoster(
        **settings.model_dump(include=_POSTER_SETTINGS), secret=key, client=client, sleep=sleep
    )
    if settings.provider == "openai":
        return openai.OpenAIModel(
            poster, model=settings.model, base_url=base_url, api_key=key, api_version=settings.api_version
        )
    return anthropic.AnthropicModel(poster, model=settings.model, base_url=base_url, api_key=key)


def meter_for(settings: LLMSettings) -> UsageMeter:
    return UsageMeter(settings.price_input_per_mtok, settings.price_output_per_mtok)
