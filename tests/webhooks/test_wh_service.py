"""The webhook worker's review and publish steps are the pull-request review service's
(reviewbot/adapters/github/pull_review.py): a real review (process sandbox, the LLM policy talking HTTP to a
loopback model), then a real post to the fake GitHub. What the worker used to lose now arrives:
the PR's title and body reach the model, and the publish result comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from reviewbot.adapters.github.pull_review import PolicyConfig, PullReviewService
from reviewbot.settings import load_settings
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import LLMServer, Turn, call, scripted
from tests.reviewbot.adapters.llm.llm_harness import make_repo
from tests.support.git import git
from webhooks.auth import StaticTokenProvider
from webhooks.jobs import ReviewJob
from webhooks.server import ServiceSteps


def test_the_worker_reviews_with_the_prs_text_and_returns_what_it_posted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"calc.py": "import os\n\ndef add(a, b):\n    return a + b\n"})
    # The base revision's config decides the review policy, not the sandbox; the PR's own edit of
    # it (on the head) is not read at all.
    git(repo, "checkout", "-q", "main")
    (repo / ".reviewbot.toml").write_text('fail_on = "warning"\n[sandbox]\nbackend = "docker"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config")
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    (repo / ".reviewbot.toml").write_text('fail_on = "never"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the PR loosens the gate")
    shown: list[str] = []

    def report(turn: Turn) -> Any:
        shown.append(turn.all_text)
        return call("report", findings=[])

    with LLMServer("openai", scripted(report, then=report)) as llm:
        deployment = load_settings(
            overrides={
                "sandbox": {"backend": "process", "allow_process_backend_for_untrusted": True},
                "analyzers": {"tests": False},
                "llm": {"provider": "openai", "model": "m", "base_url": llm.base_url, "api_key": "sk-x"},
            }
        )
        steps = ServiceSteps(PullReviewService(PolicyConfig(deployment), environ={}))
        job = ReviewJob(
            delivery_id="d-1",
            trigger="pull_request",
            repo_full_name="octo/hello",
            pr_number=7,
            head_sha=git(repo, "rev-parse", "feature").strip(),
            base_sha=git(repo, "rev-parse", "main").strip(),
            base_ref="main",
            head_ref="feature",
            title="Add os import TITLE-7f3",
            body="Why: BODY-91c",
        )
        reviewed = steps.review(repo, job)
    assert shown and "TITLE-7f3" in shown[0] and "BODY-91c" in shown[0]
    assert reviewed.settings.fail_on == "warning" and reviewed.settings.sandbox.backend == "process"
    assert any(f.rule_id == "F401" for f in reviewed.outcome.review.findings)

    with FakeGitHub(repo, full_name="octo/hello", token="tok") as gh:
        gh.open_pull(7, job.base_sha, job.head_sha)
        published = steps.publish(reviewed, job, StaticTokenProvider(SecretStr("tok"), gh.base_url))
    assert published.reviewed is reviewed
    assert published.result.summary_action == "created" and published.result.new
    assert [c["id"] for c in gh.issue_comments] == [published.result.summary_comment_id]
