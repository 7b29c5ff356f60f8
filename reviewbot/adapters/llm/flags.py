"""The LLM's command-line flags, as plain data: nothing here imports the LLM stack (httpx and the
providers), so parsing `reviewbot local`'s arguments stays fast. The flat environment names
(REVIEWBOT_LLM_MODEL, ...) are in the one alias table, `reviewbot.settings.ENV_ALIASES`."""

from __future__ import annotations

import argparse
from typing import Any


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
