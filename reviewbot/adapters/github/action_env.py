"""The Actions environment and the triggering event, read once at the `reviewbot action` entry point.

Only `ActionEnv.from_environ` looks at environment variables; everything below it receives plain
values. The event payload is the webhook JSON GitHub wrote to `GITHUB_EVENT_PATH`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError

HANDLED_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")


@dataclass(frozen=True)
class ActionEnv:
    event_name: str
    event_path: Path | None
    repository: str
    api_url: str
    workspace: Path
    token: str | None
    step_summary: Path | None
    output: Path | None
    runner_temp: Path | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path) -> ActionEnv:
        def path(name: str) -> Path | None:
            value = environ.get(name, "").strip()
            return Path(value) if value else None

        return cls(
            event_name=environ.get("GITHUB_EVENT_NAME", "").strip(),
            event_path=path("GITHUB_EVENT_PATH"),
            repository=environ.get("GITHUB_REPOSITORY", "").strip(),
            api_url=environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
            workspace=path("GITHUB_WORKSPACE") or cwd,
            token=environ.get("GITHUB_TOKEN") or None,
            step_summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            runner_temp=path("RUNNER_TEMP"),
        )


@dataclass(frozen=True)
class PullEvent:
    action: str
    number: int
    head_sha: str
    base_sha: str
    head_repo: str
    base_repo: str
    author: str
    draft: bool
    title: str = ""
    body: str = ""
    branch: str = ""

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.base_repo


@dataclass(frozen=True)
class Skip:
    """Nothing to do, and why (exit 0)."""

    reason: str


def load_payload(env: ActionEnv) -> dict[str, Any]:
    if env.event_path is None:
        raise ConfigError("GITHUB_EVENT_PATH is not set: `reviewbot action` runs inside GitHub Actions")
    try:
        data = json.loads(env.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the event payload {env.event_path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"the event payload {env.event_path} is not a JSON object")
    return data


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            raise ConfigError(f"the pull_request event payload lacks {'.'.join(keys)}")
        data = data[key]
    return data


def pull_event(env: ActionEnv, payload: Mapping[str, Any]) -> PullEvent | Skip:
    """The PR to review, or why this run does nothing."""
    if env.event_name == "pull_request_target":
        return Skip(
            "event 'pull_request_target' runs with a write token and secrets; reviewbot does not review "
            "a PR's code there. Use the 'pull_request' event (or the pull_request + workflow_run split, "
            "see README.md, 'Why not pull_request_target')."
        )
    if env.event_name != "pull_request":
        return Skip(f"event '{env.event_name or '(unset)'}' is not a pull_request event; nothing to review")
    action = str(payload.get("action", ""))
    if action not in HANDLED_ACTIONS:
        return Skip(f"pull_request action '{action}' needs no review (handled: {', '.join(HANDLED_ACTIONS)})")
    pr = _get(payload, "pull_request")
    if pr.get("state") == "closed":
        return Skip("the pull request is closed")
    draft = bool(pr.get("draft"))
    if draft:
        return Skip("the pull request is a draft; reviewbot reviews it when it is marked ready for review")
    head_repo = pr.get("head", {}).get("repo") or {}
    return PullEvent(
        action=action,
        number=int(_get(pr, "number")),
        head_sha=str(_get(pr, "head", "sha")),
        base_sha=str(_get(pr, "base", "sha")),
        head_repo=str(head_repo.get("full_name") or "(deleted fork)"),
        base_repo=str(_get(pr, "base", "repo", "full_name")),
        author=str((pr.get("user") or {}).get("login", "")),
        draft=draft,
        title=str(pr.get("title") or ""),
        body=str(pr.get("body") or ""),
        branch=str((pr.get("head") or {}).get("ref") or ""),
    )
