"""The payload models against every real example and the published JSON schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from pydantic import BaseModel
from referencing import Registry, Resource

from webhooks.events import decide
from webhooks.payloads import InstallationEvent, IssueCommentEvent, PingEvent, PullRequestEvent

from .wh_helpers import EXAMPLES, SHARED

SCHEMAS = SHARED / "payload-schemas" / "api.github.com"
ALL_EXAMPLES = sorted(EXAMPLES.glob("*/*.json")) + sorted((SHARED / "derived").glob("*/*.json"))
MODELS: dict[str, type[BaseModel]] = {
    "pull_request": PullRequestEvent,
    "issue_comment": IssueCommentEvent,
    "installation": InstallationEvent,
    "ping": PingEvent,
}


def _registry() -> Registry:
    resources = []
    for path in (SCHEMAS / "common").glob("*.schema.json"):
        resources.append((f"common/{path.name}", Resource.from_contents(json.loads(path.read_text()))))
    return Registry().with_resources(resources)


def _schema_for(event: str, path: Path) -> Path:
    if event == "ping":
        return SCHEMAS / "ping" / "event.schema.json"
    action = json.loads(path.read_text())["action"]
    return SCHEMAS / event / f"{action}.schema.json"


def test_there_are_examples_for_every_event_we_handle() -> None:
    events = {p.parent.name for p in ALL_EXAMPLES}
    assert set(MODELS) <= events


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_matches_schema_and_model(path: Path) -> None:
    event = path.parent.name
    payload = json.loads(path.read_text())
    schema = json.loads(_schema_for(event, path).read_text())
    # The schema's relative $refs ("common/user.schema.json") resolve against the registry.
    jsonschema.Draft7Validator(schema, registry=_registry()).validate(payload)
    model = MODELS.get(event)
    if model is None:
        # Events we do not handle still get a clear "ignored", never an error.
        d = decide(event, "d1", payload, review_drafts=False, lookup=None)
        assert d.kind == "ignored" and event in d.reason
        return
    parsed = model.model_validate(payload)
    if isinstance(parsed, PullRequestEvent):
        assert parsed.pull_request.head.sha == payload["pull_request"]["head"]["sha"]
        assert parsed.repository.full_name == payload["repository"]["full_name"]
    if isinstance(parsed, IssueCommentEvent):
        assert (parsed.issue.pull_request is not None) == ("pull_request" in payload["issue"])


def test_a_deleted_fork_head_repo_is_accepted() -> None:
    payload = json.loads((EXAMPLES / "pull_request" / "opened.payload.json").read_text())
    payload["pull_request"]["head"]["repo"] = None
    d = decide("pull_request", "d2", payload, review_drafts=False, lookup=None)
    # The job clones from the base repository, where refs/pull/N/head still lives.
    assert d.kind == "enqueue" and d.job is not None
    assert d.job.repo_full_name == payload["repository"]["full_name"]
