"""The LLM's command-line flags and flat environment aliases, as plain data: nothing here imports
the LLM stack (httpx and the providers), so parsing `reviewbot local`'s arguments stays fast."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

_FLAT_ENV = {  # the single-underscore spellings the docs promise, besides REVIEWBOT_LLM__*
    "REVIEWBOT_LLM_PROVIDER": "provider",
    "REVIEWBOT_LLM_BASE_URL": "base_url",
    "REVIEWBOT_LLM_MODEL": "model",
}


def llm_env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`REVIEWBOT_LLM_PROVIDER/BASE_URL/MODEL` as `{"llm": {...}}` overrides for `load_settings`."""
    llm = {field: environ[name] for name, field in _FLAT_ENV.items() if environ.get(name)}
    return {"llm": llm} if llm else {}


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """`--llm`, `--llm-base-url`, `--llm-model` for `reviewbot local` and `reviewbot action`."""
    group = parser.add_argument_group("LLM (optional; default: deterministic review, no network)")
    group.add_argument("--llm", choices=["none", "openai", "anthropic"], default=None, help="LLM provider")
    group.add_argument(
        "--llm-base-url", default=None, metavar="URL", help="OpenAI-compatible or Anthropic base URL"
    )
    group.add_argument("--llm-model", default=None, metavar="NAME", help="model name (or Azure deployment)")


def llm_arg_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings overrides the `--llm*` flags ask for (only those given)."""
    llm: dict[str, Any] = {}
    for attr, key in (("llm", "provider"), ("llm_base_url", "base_url"), ("llm_model", "model")):
        value = getattr(args, attr, None)
        if value is not None:
            llm[key] = value
    return {"llm": llm} if llm else {}
