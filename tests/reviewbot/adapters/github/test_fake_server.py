"""The fake GitHub itself is held honest: wrong routes and wrong bodies are refused like GitHub does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo


def send(gh: FakeGitHub, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        gh.base_url + path,
        data=data,
        method=method,
        headers={"Authorization": f"token {gh.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_unknown_route_and_wrong_method_are_404(repo: GitRepo, fake_github: FakeGitHub) -> None:
    assert send(fake_github, "GET", "/repos/octo-org/hello/nonsense")[0] == 404
    assert send(fake_github, "DELETE", "/repos/octo-org/hello/pulls/1/reviews")[0] == 404


def test_body_is_validated_against_the_spec(repo: GitRepo, fake_github: FakeGitHub) -> None:
    repo.commit({"a.py": "x\n"})
    repo.git("checkout", "-q", "-b", "f")
    repo.commit({"a.py": "y\n"})
    fake_github.open_pull(1, "main", "f")
    status, body = send(
        fake_github, "POST", "/repos/octo-org/hello/pulls/1/reviews", {"event": "LGTM", "body": "x"}
    )
    assert status == 422 and "event" in body["message"]
    status, body = send(
        fake_github,
        "POST",
        "/repos/octo-org/hello/check-runs",
        {"name": "n", "head_sha": "a", "status": "completed"},
    )  # completed needs a conclusion
    assert status == 422


def test_rules_actions_may_not_approve_and_bodies_are_capped(repo: GitRepo, fake_github: FakeGitHub) -> None:
    repo.commit({"a.py": "x\n"})
    repo.git("checkout", "-q", "-b", "f")
    repo.commit({"a.py": "y\n"})
    fake_github.open_pull(1, "main", "f")
    status, body = send(fake_github, "POST", "/repos/octo-org/hello/pulls/1/reviews", {"event": "APPROVE"})
    assert status == 422 and "not permitted to approve" in body["errors"][0]
    status, body = send(
        fake_github, "POST", "/repos/octo-org/hello/issues/1/comments", {"body": "x" * 65_537}
    )
    assert status == 422 and "65536" in json.dumps(body)
    assert (
        send(fake_github, "POST", "/repos/octo-org/hello/issues/1/comments", {"body": "x" * 65_536})[0] == 201
    )


def test_requests_are_recorded(repo: GitRepo, fake_github: FakeGitHub) -> None:
    send(fake_github, "GET", "/rate_limit")
    assert [(r.method, r.path, r.status) for r in fake_github.requests] == [("GET", "/rate_limit", 200)]
