"""Models scripted on a loopback fake: the real HTTP adapters (reviewbot.adapters.llm), pointed at an
`LLMServer` (tests/fakes/llm_server.py) that answers each request with the script's next step
(`scripted(call(...), text(...))`)."""

from __future__ import annotations

from typing import Any

from reviewbot.adapters.llm.model import Model
from reviewbot.adapters.llm.resolve import build_model
from reviewbot.settings import LLMSettings
from tests.fakes.llm_server import LLMServer

MODEL = "test-model"
#: The API key the scripted models are given (through the environment, as a user would).
API_KEY = "sk-test-secret-123456789"


def llm_settings(srv: LLMServer, **llm: Any) -> LLMSettings:
    """LLM settings for `srv`'s wire format and address; `llm` overrides any other field."""
    return LLMSettings.model_validate({"provider": srv.wire, "model": MODEL, "base_url": srv.base_url, **llm})


def model_for(srv: LLMServer, sleeps: list[float] | None = None, **llm: Any) -> Model:
    """The model a review would build for `srv` (settings `llm` on top of llm_settings). Waits between
    retries are not slept: they are appended to `sleeps`."""
    model = build_model(
        llm_settings(srv, **llm),
        {"REVIEWBOT_LLM_API_KEY": API_KEY},
        sleep=(sleeps if sleeps is not None else []).append,
    )
    assert model is not None
    return model
