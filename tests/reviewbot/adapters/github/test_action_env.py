import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.adapters.github.action_env import ActionEnv, PullEvent, Skip, load_payload, pull_event
from reviewbot.errors import ConfigError
from tests.shared_data import SHARED

EXAMPLES = SHARED / "github/webhooks/payload-examples/api.github.com/pull_request"


def env_for(tmp_path: Path, name: str, payload: dict[str, Any] | None) -> ActionEnv:
    environ = {"GITHUB_EVENT_NAME": name, "GITHUB_REPOSITORY": "Codertocat/Hello-World"}
    if payload is not None:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(payload))
        environ["GITHUB_EVENT_PATH"] = str(path)
    return ActionEnv.from_environ(environ, cwd=tmp_path)


def test_real_opened_payload_becomes_a_pull_event(tmp_path: Path) -> None:
    payload = json.loads((EXAMPLES / "opened.payload.json").read_text())
    env = env_for(tmp_path, "pull_request", payload)
    event = pull_event(env, load_payload(env))
    assert isinstance(event, PullEvent)
    assert event.number == 2 and event.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert not event.is_fork and env.api_url == "https://api.github.com" and env.workspace == tmp_path


@pytest.mark.parametrize(
    ("name", "example", "reason"),
    [
        ("push", "opened.payload.json", "not a pull_request event"),
        ("pull_request", "closed.payload.json", "action 'closed' needs no review"),
        ("pull_request_target", "opened.payload.json", "pull_request_target"),
    ],
)
def test_other_events_are_skipped_with_a_reason(tmp_path: Path, name: str, example: str, reason: str) -> None:
    env = env_for(tmp_path, name, json.loads((EXAMPLES / example).read_text()))
    result = pull_event(env, load_payload(env))
    assert isinstance(result, Skip) and reason in result.reason


def test_draft_is_skipped_until_ready(tmp_path: Path) -> None:
    payload = json.loads((EXAMPLES / "opened.payload.json").read_text())
    payload["pull_request"]["draft"] = True
    env = env_for(tmp_path, "pull_request", payload)
    result = pull_event(env, payload)
    assert isinstance(result, Skip) and "draft" in result.reason


def test_missing_event_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GITHUB_EVENT_PATH"):
        load_payload(env_for(tmp_path, "pull_request", None))


def test_payload_without_head_sha_is_a_config_error(tmp_path: Path) -> None:
    payload = json.loads((EXAMPLES / "synchronize.payload.json").read_text())
    del payload["pull_request"]["head"]["sha"]
    env = env_for(tmp_path, "pull_request", payload)
    with pytest.raises(ConfigError, match=r"head\.sha"):
        pull_event(env, payload)
