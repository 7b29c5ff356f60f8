"""Runners for queue/worker tests: a real clone, a real (tiny) review step, a real HTTP publish."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import git
import httpx

from webhooks.auth import TokenProvider
from webhooks.jobs import JobContext, ReviewJob
from webhooks.runner import CloneReviewPublishRunner


def diff_review(root: Path, job: ReviewJob) -> list[str]:
    """The files the PR changes, read from the clone (proves base and head both arrived)."""
    return sorted(git.Repo(root).git.diff("--name-only", job.base_sha, job.head_sha).split())


def http_publisher(api_url: str) -> Callable[[list[str], ReviewJob, TokenProvider], None]:
    """Posts a review naming the files, to the fake GitHub (tests/fakes/github_server.py)."""

    def publish(files: list[str], job: ReviewJob, tokens: TokenProvider) -> None:
        token = tokens.token(job.installation_id).get_secret_value()
        r = httpx.post(
            f"{api_url}/repos/{job.repo_full_name}/pulls/{job.pr_number}/reviews",
            json={
                "commit_id": job.head_sha,
                "event": "COMMENT",
                "body": "files: " + ",".join(files),
            },
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        if r.status_code >= 500:
            from reviewbot.errors import CodeHostError

            raise CodeHostError(f"GitHub answered {r.status_code}")
        r.raise_for_status()

    return publish


def clone_runner(
    tokens: TokenProvider, api_url: str, work_dir: Path, git_url: str
) -> CloneReviewPublishRunner[list[str]]:
    return CloneReviewPublishRunner(
        tokens, diff_review, http_publisher(api_url), git_url=git_url, work_dir=work_dir
    )


class ScriptedRunner:
    """Plays back outcomes per call (an exception to raise, or None), recording calls and overlap."""

    def __init__(self, script: list[BaseException | None] | None = None, hold_s: float = 0.0) -> None:
        self.script = list(script or [])
        self.hold_s = hold_s
        self.calls: list[tuple[str, int]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def run(self, job: ReviewJob, ctx: JobContext) -> None:
        with self.lock:
            self.calls.append((job.delivery_id, ctx.attempt))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            outcome = self.script.pop(0) if self.script else None
        try:
            started = time.monotonic()
            while time.monotonic() - started < self.hold_s:  # re-read: a test may shorten it
                if ctx.cancelled():
                    from webhooks.errors import JobSuperseded

                    raise JobSuperseded("newer head")
                time.sleep(0.02)
            if outcome is not None:
                raise outcome
        finally:
            with self.lock:
                self.active -= 1
