"""The PyGithub adapter against the fake GitHub over real HTTP (the clock is fake: no sleeping)."""

from __future__ import annotations

import pytest

from reviewbot.adapters.github.limits import RetryPolicy
from reviewbot.adapters.github.port import Annotation, CheckOutput, InlineComment
from reviewbot.adapters.github.pygithub_host import PyGithubHost
from reviewbot.errors import CodeHostAuthError, CodeHostError, CodeHostRejected
from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo
from tests.reviewbot.adapters.github.test_limits import FakeClock


def open_pr(repo: GitRepo, gh: FakeGitHub, files: int = 2) -> None:
    repo.commit({"mod.py": "a = 1\nb = 2\nc = 3\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    changes: dict[str, str | None] = {"mod.py": "a = 1\nb = 20\nc = 3\nd = 4\n"}
    changes.update({f"pkg/f{i}.py": f"x = {i}\n" for i in range(files - 1)})
    repo.commit(changes, "feature")
    gh.open_pull(5, "main", "feature")


def host(gh: FakeGitHub, clock: FakeClock | None = None, token: str | None = None) -> PyGithubHost:
    return PyGithubHost(
        gh.full_name,
        token or gh.token,
        base_url=gh.base_url,
        clock=clock or FakeClock(),
        policy=RetryPolicy(attempts=4, backoff_s=0.01),
    )


def test_reads_pull_facts_and_paginated_files(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github, files=130)  # more than one page of 100
    fake_github.pulls[5].title, fake_github.pulls[5].body = "Add d", "Why: because"
    h = host(fake_github)
    pr = h.pull_request(5)
    assert pr.head_sha == repo.git("rev-parse", "feature").strip()
    assert pr.base_sha == repo.git("rev-parse", "main").strip()
    assert (pr.number, pr.state, pr.draft, pr.title, pr.body) == (5, "open", False, "Add d", "Why: because")
    files = h.list_pull_files(5)
    assert len(files.files) == 130 and not files.truncated
    mod = next(f for f in files.files if f.path == "mod.py")
    assert mod.patch is not None and "+b = 20" in mod.patch
    pages = [r for r in fake_github.requests if r.operation == "pulls/list-files"]
    assert len(pages) == 2


def test_large_patch_is_absent(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    fake_github.max_patch_chars = 10
    files = host(fake_github).list_pull_files(5)
    assert all(f.patch is None for f in files.files)


def test_review_off_the_diff_is_rejected_whole(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    h = host(fake_github)
    sha = h.pull_request(5).head_sha
    good, bad = InlineComment("mod.py", 2, "fine"), InlineComment("mod.py", 2, "multi", start_line=1)
    h.create_review(5, commit_id=sha, body="ok", event="COMMENT", comments=[good])
    with pytest.raises(CodeHostRejected, match="part of the diff"):
        # line 1 is context in the same hunk: allowed; line 40 is outside every hunk
        h.create_review(
            5, commit_id=sha, body="x", event="COMMENT", comments=[bad, InlineComment("mod.py", 40, "no")]
        )
    assert len(fake_github.reviews) == 1


def test_bad_token_is_a_clear_auth_error(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    with pytest.raises(CodeHostAuthError, match=r"401 Bad credentials.*invalid"):
        host(fake_github, token="wrong").pull_request(5)


def test_unknown_pull_is_404_auth_error(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    with pytest.raises(CodeHostAuthError, match="404"):
        host(fake_github).pull_request(99)


def test_fork_token_write_is_403(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    fake_github.read_only = True
    with pytest.raises(CodeHostAuthError, match="Resource not accessible by integration"):
        host(fake_github).create_issue_comment(5, "hello")


def test_rate_limit_403_and_429_are_waited_out(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    clock = FakeClock()
    fake_github.rate_limit_next_writes(1, status=403, retry_after=3)
    fake_github.rate_limit_next_writes(1, status=429, retry_after=5)
    cid = host(fake_github, clock).create_issue_comment(5, "hello")
    assert [c["id"] for c in fake_github.issue_comments] == [cid]
    assert 3.0 in clock.sleeps and 5.0 in clock.sleeps
    assert [r.status for r in fake_github.writes()] == [403, 429, 201]


def test_502s_are_retried_without_duplicating_the_write(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    fake_github.fail_next(2, 502, writes_only=True)
    host(fake_github).create_issue_comment(5, "once")
    assert [c["body"] for c in fake_github.issue_comments] == ["once"]


def test_persistent_5xx_is_a_code_host_error(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    fake_github.fail_next(10, 503)
    with pytest.raises(CodeHostError, match="kept failing after 4 attempts"):
        host(fake_github).pull_request(5)


def test_check_run_annotations_limit_and_append(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    h = host(fake_github)
    sha = h.pull_request(5).head_sha
    ann = tuple(Annotation("mod.py", 1, 1, "warning", f"m{i}") for i in range(51))
    with pytest.raises(CodeHostRejected):
        h.create_check_run(
            name="reviewbot", head_sha=sha, conclusion="failure", output=CheckOutput("t", "s", ann)
        )
    run = h.create_check_run(
        name="reviewbot", head_sha=sha, conclusion="failure", output=CheckOutput("t", "s", ann[:50])
    )
    h.update_check_run(run, output=CheckOutput("t", "s", ann[50:]))
    assert len(fake_github.check_runs[0]["annotations"]) == 51


def test_status_description_over_140_is_rejected(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    h = host(fake_github)
    with pytest.raises(CodeHostRejected, match="140"):
        h.create_status("a" * 40, state="success", description="d" * 141, context="reviewbot")


def test_get_user_is_refused_for_installation_tokens_and_answers_a_pat(
    repo: GitRepo, fake_github: FakeGitHub
) -> None:
    open_pr(repo, fake_github)
    with pytest.raises(CodeHostAuthError, match="403"):
        host(fake_github).whoami()  # ghs_ token: GitHub has no user behind it
    fake_github.token, fake_github.viewer = "ghp_personal", "someone"
    assert host(fake_github).whoami() == "someone"


def test_permission_of_a_collaborator_and_of_a_stranger(repo: GitRepo, fake_github: FakeGitHub) -> None:
    open_pr(repo, fake_github)
    fake_github.permissions["alice"] = "write"
    h = host(fake_github)
    assert h.permission("alice") == "write"
    assert h.permission("mallory") == "none"  # GitHub answers 404: not a collaborator at all


def test_a_rate_limit_is_retryable_not_an_auth_error(repo: GitRepo, fake_github: FakeGitHub) -> None:
    """A 403 that is a rate limit is waited out, then (limit still there) a plain CodeHostError:
    never CodeHostAuthError, which nobody retries (docs/github-rules.md, "Secondary rate limits")."""
    open_pr(repo, fake_github)
    fake_github.rate_limit_next_reads(10, status=403, retry_after=1)
    with pytest.raises(CodeHostError, match="rate limit") as caught:
        host(fake_github).pull_request(5)
    assert not isinstance(caught.value, CodeHostAuthError)
