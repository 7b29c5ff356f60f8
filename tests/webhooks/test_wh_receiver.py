"""The receiver over real HTTP on loopback, with a real SQLite queue and the fake GitHub API
(tests/fakes/github_server.py) for the comment command's questions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.fakes.github_server import FakeGitHub
from webhooks.app import MAX_BODY_BYTES, create_app
from webhooks.auth import StaticTokenProvider
from webhooks.queue_sqlite import SqliteQueue

from .wh_gitserver import PrRepo, make_pr_repo
from .wh_helpers import SECRET, comment_payload, deliver, example, pr_payload, serve_app, settings_for

HEAD, BASE = "c" * 40, "d" * 40


class Env:
    def __init__(
        self, url: str, queue: SqliteQueue, gh: FakeGitHub, pr: PrRepo, client: httpx.Client
    ) -> None:
        self.url, self.queue, self.gh, self.pr, self.client = url, queue, gh, pr, client

    def send(self, event: str, payload: dict[str, Any] | bytes, **kw: Any) -> httpx.Response:
        return deliver(self.client, self.url, event, payload, **kw)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = settings_for(tmp_path)
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    pr = make_pr_repo(tmp_path)
    with FakeGitHub(pr.bare, full_name="octo/hello", token="tok") as gh:
        tokens = StaticTokenProvider(SecretStr("tok"), gh.base_url)
        app = create_app(
            settings, queue=queue, github_client_factory=tokens, health_checks={"docker": lambda: None}
        )
        with serve_app(app) as url, httpx.Client(timeout=30) as client:
            yield Env(url, queue, gh, pr, client)


def test_pull_request_opened_is_enqueued_durably_then_202(env: Env) -> None:
    payload = pr_payload(head=HEAD, base=BASE)
    r = env.send("pull_request", payload, delivery="del-1")
    assert r.status_code == 202, r.text
    assert r.json()["outcome"] == "enqueued"
    rec = env.queue.get("del-1")
    assert rec is not None and rec.state == "queued"
    assert rec.job.head_sha == HEAD and rec.job.base_sha == BASE and rec.job.installation_id == 1
    assert rec.job.repo_full_name == "octo/hello" and "clone_url" not in rec.job.model_dump()
    # What the PR says about itself travels with the job, for the LLM policy's prompt.
    pr = payload["pull_request"]
    assert (rec.job.title, rec.job.body, rec.job.head_ref) == (pr["title"], pr["body"], pr["head"]["ref"])


def test_redelivery_is_deduplicated(env: Env) -> None:
    payload = pr_payload(head=HEAD, base=BASE)
    assert env.send("pull_request", payload, delivery="same").status_code == 202
    r = env.send("pull_request", payload, delivery="same")
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
    assert env.queue.stats().queued == 1


@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "ready_for_review"])
def test_reviewed_actions(env: Env, action: str) -> None:
    assert env.send("pull_request", pr_payload(action=action, head=HEAD, base=BASE)).status_code == 202


def test_other_actions_events_and_drafts_are_ignored_with_a_reason(env: Env) -> None:
    r = env.send("pull_request", pr_payload(action="closed"))
    assert (
        r.status_code == 200
        and r.json()["message"] == "ignored: pull_request action 'closed' is not reviewed"
    )
    r = env.send("pull_request", pr_payload(draft=True))
    assert r.status_code == 200 and "draft" in r.json()["message"]
    r = env.send("check_suite", example("check_suite/requested.payload.json"))
    assert r.status_code == 200 and r.json()["message"] == "ignored: event 'check_suite' is not handled"
    r = env.send("issue_comment", example("issue_comment/created.payload.json"))
    assert r.json()["message"] == "ignored: comment is on an issue, not a pull request"
    assert env.queue.stats().queued == 0


def test_drafts_are_reviewed_when_configured(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    app = create_app(settings_for(tmp_path), queue=queue, review_drafts=True)
    with serve_app(app) as url, httpx.Client() as client:
        assert (
            deliver(client, url, "pull_request", pr_payload(draft=True, head=HEAD, base=BASE)).status_code
            == 202
        )


def test_ping_and_installation_events(env: Env) -> None:
    r = env.send("ping", example("ping/with-app_id.payload.json"))
    assert r.status_code == 200 and r.json()["message"].startswith("pong")
    r = env.send("installation", example("installation/created.payload.json"))
    assert r.status_code == 200 and r.json()["message"] == "installation 957387 created"


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "sha256=" + "0" * 64,  # forged
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",  # old scheme only
    ],
)
def test_bad_signatures_are_401(env: Env, signature: str) -> None:
    r = env.send("pull_request", pr_payload(), signature=signature)
    assert r.status_code == 401
    assert env.queue.stats().queued == 0


def test_signature_over_a_different_body_is_401(env: Env) -> None:
    from webhooks.signature import sign

    body = json.dumps(pr_payload()).encode()
    r = env.send("pull_request", body + b" ", signature=sign(SECRET.encode(), body))
    assert r.status_code == 401


def test_wrong_secret_is_401(env: Env) -> None:
    assert env.send("pull_request", pr_payload(), secret="guess").status_code == 401


@pytest.mark.parametrize(
    "body", [b'{"action": "opened", "number"', b"not json", b"[1,2,3]", b"\xff\xfe", b""]
)
def test_truncated_and_non_json_bodies_are_400(env: Env, body: bytes) -> None:
    r = env.send("pull_request", body)
    assert r.status_code == 400, r.text


def test_payload_missing_used_fields_is_400_naming_the_field(env: Env) -> None:
    p = pr_payload()
    del p["pull_request"]["head"]["sha"]
    r = env.send("pull_request", p)
    assert r.status_code == 400 and "pull_request.head.sha" in r.json()["message"]


def test_missing_event_or_delivery_header_is_400(env: Env) -> None:
    from webhooks.signature import sign

    body = json.dumps(pr_payload()).encode()
    r = env.client.post(
        f"{env.url}/webhook", content=body, headers={"X-Hub-Signature-256": sign(SECRET.encode(), body)}
    )
    assert r.status_code == 400


def test_oversized_body_is_413(env: Env) -> None:
    big = b"x" * (MAX_BODY_BYTES + 1)
    r = env.send("pull_request", big)
    assert r.status_code == 413 and r.json()["outcome"] == "too_large"
    # (A chunked body without Content-Length is checked under `serve`'s server in test_wh_serve.py.)


def test_form_encoded_payload(env: Env) -> None:
    from urllib.parse import urlencode

    from webhooks.signature import sign

    body = urlencode({"payload": json.dumps(pr_payload(head=HEAD, base=BASE))}).encode()
    r = env.client.post(
        f"{env.url}/webhook",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "form-1",
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
        },
    )
    assert r.status_code == 202, r.text


def test_comment_command_from_a_writer_enqueues_the_prs_current_head(env: Env) -> None:
    env.gh.permissions["alice"] = "write"
    pull = env.gh.open_pull(7, env.pr.base_sha, env.pr.head_sha)
    pull.title, pull.body = "Add zero", "It was missing."
    r = env.send(
        "issue_comment", comment_payload(body="LGTM?\n/reviewbot review\n", login="alice"), delivery="c1"
    )
    assert r.status_code == 202, r.text
    rec = env.queue.get("c1")
    assert rec is not None and rec.job.head_sha == env.pr.head_sha and rec.job.requested_by == "alice"
    assert rec.job.base_sha == env.pr.base_sha and rec.job.trigger == "issue_comment"
    assert (rec.job.title, rec.job.body) == ("Add zero", "It was missing.")  # as GitHub says now


def test_comment_command_on_a_closed_pull_request_is_ignored(env: Env) -> None:
    env.gh.permissions["alice"] = "admin"
    env.gh.open_pull(7, env.pr.base_sha, env.pr.head_sha).state = "closed"
    r = env.send("issue_comment", comment_payload(body="/reviewbot review", login="alice"))
    assert r.status_code == 200 and r.json()["message"] == "ignored: pull request #7 is closed"


@pytest.mark.parametrize("permission", ["read", "triage", None])
def test_comment_command_from_a_reader_or_stranger_is_ignored(env: Env, permission: str | None) -> None:
    if permission:
        env.gh.permissions["mallory"] = permission
    r = env.send("issue_comment", comment_payload(body="/reviewbot review", login="mallory"))
    assert r.status_code == 200 and "needs write" in r.json()["message"]
    assert env.queue.stats().queued == 0


def test_comment_without_the_command_makes_no_api_call(env: Env) -> None:
    env.gh.fail_next(1, 500)  # would surface as 503 if any call were made
    r = env.send("issue_comment", comment_payload(body="please /reviewbot reviewing", login="alice"))
    assert r.status_code == 200 and "no /reviewbot review command" in r.json()["message"]


def test_comment_command_when_github_fails_is_503(env: Env) -> None:
    env.gh.fail_next(1, 502)
    r = env.send("issue_comment", comment_payload(body="/reviewbot review", login="alice"))
    assert r.status_code == 503 and "GitHub API failed" in r.json()["message"]
    assert len(env.gh.requests) == 1  # no retries inside the request: GitHub can redeliver


def test_comment_command_when_github_rate_limits_is_503_not_refused(env: Env) -> None:
    """A rate limit (403 + retry-after) is "try again later", not "no access" (docs/github-rules.md)."""
    env.gh.permissions["alice"] = "write"
    env.gh.rate_limit_next_reads(1, status=403, retry_after=60)
    r = env.send("issue_comment", comment_payload(body="/reviewbot review", login="alice"))
    assert r.status_code == 503 and "rate limit" in r.json()["message"]


def test_queue_unavailable_is_503_not_a_lost_job(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    queue = SqliteQueue(db)
    app = create_app(settings_for(tmp_path), queue=queue)
    queue.close()
    for f in tmp_path.glob("q.sqlite3*"):
        f.unlink()
    db.mkdir()  # the server thread's fresh connection now cannot open the database
    with serve_app(app) as url, httpx.Client() as client:
        r = deliver(client, url, "pull_request", pr_payload(head=HEAD, base=BASE))
        assert r.status_code == 503 and "queue unavailable" in r.json()["message"]
        assert client.get(f"{url}/healthz").status_code == 503


def test_healthz_reports_each_dependency(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3")

    def docker_down() -> None:
        raise ConnectionError("Cannot connect to the Docker daemon")

    app = create_app(settings_for(tmp_path), queue=queue, health_checks={"docker": docker_down})
    with serve_app(app) as url, httpx.Client() as client:
        r = client.get(f"{url}/healthz")
        assert r.status_code == 503
        assert r.json()["queue"] == "ok" and "Docker daemon" in r.json()["docker"]
        # The receiver keeps acknowledging while Docker is down: the job waits in the queue.
        assert deliver(client, url, "pull_request", pr_payload(head=HEAD, base=BASE)).status_code == 202


def test_metrics_count_deliveries_and_jobs(env: Env) -> None:
    env.send("pull_request", pr_payload(head=HEAD, base=BASE))
    env.send("pull_request", pr_payload(), signature="sha256=00")
    env.send("ping", example("ping/payload.json"))
    text = env.client.get(f"{env.url}/metrics").text
    assert 'reviewbot_webhook_deliveries_total{event="pull_request",outcome="enqueued"} 1.0' in text
    assert 'reviewbot_webhook_deliveries_total{event="unverified",outcome="bad_signature"} 1.0' in text
    assert 'reviewbot_webhook_deliveries_total{event="ping",outcome="handled"} 1.0' in text
    assert 'reviewbot_jobs{state="queued"} 1.0' in text
    assert "reviewbot_review_duration_seconds_bucket" in text


def test_app_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    from reviewbot.errors import ConfigError

    with pytest.raises(ConfigError, match="webhook_secret"):
        create_app(settings_for(tmp_path, webhook_secret=None), queue=SqliteQueue(tmp_path / "q.sqlite3"))
