"""`CodeHost` on PyGithub. `base_url` comes from settings, so GitHub Enterprise Server and the
loopback fake used in tests work the same as api.github.com.

PyGithub's own retry and throttling are switched off (they sleep on the real clock): `Politeness`
does both, with an injectable clock. Reads use PyGithub's objects and paginated lists; writes go
through its requester with explicit JSON bodies, so what we send is exactly what the spec says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from github.PaginatedList import PaginatedList
from github.PullRequestComment import PullRequestComment
from github.PullRequestReview import PullRequestReview

from reviewbot.adapters.github.limits import Clock, Politeness, RateLimited, RetryPolicy, Transient
from reviewbot.adapters.github.port import (
    MAX_PR_FILES,
    CheckOutput,
    Conclusion,
    InlineComment,
    PostedText,
    PullFile,
    PullFiles,
    PullRequestFacts,
    ReviewEvent,
    StatusState,
)
from reviewbot.errors import CodeHostAuthError, CodeHostError, CodeHostRejected

T = TypeVar("T")

_AUTH_HINTS = {
    401: "the token is missing, expired or invalid",
    403: "the token lacks a permission (pull-requests/issues/checks: write), or is a fork's read-only token",
    404: "the repository, pull request or installation is not visible to this token (or does not exist)",
}


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    msg = str(data.get("message") or "").strip()
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        msg += ": " + "; ".join(e if isinstance(e, str) else str(e.get("message") or e) for e in errors)
    return msg or "no message"


def _rate_limit_wait(exc: GithubException, now: float) -> tuple[bool, float | None]:
    """(is a rate limit, seconds to wait or None when GitHub gave no hint)."""
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    msg = _message(exc).lower()
    if exc.status not in (403, 429):
        return False, None
    try:
        if "retry-after" in headers:
            return True, float(headers["retry-after"])
        if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            return True, max(float(headers["x-ratelimit-reset"]) - now, 0.0) + 1.0
    except ValueError:
        return True, None
    return (exc.status == 429 or "rate limit" in msg), None


def translate(exc: Exception, now: float, what: str) -> Exception:
    """PyGithub/requests exception -> reviewbot error, or an internal retryable one."""
    if isinstance(exc, GithubException):
        limited, wait = _rate_limit_wait(exc, now)
        if limited:
            return RateLimited(f"{what}: {exc.status} {_message(exc)}", wait)
        if exc.status >= 500:
            return Transient(f"{what}: {exc.status} {_message(exc)}")
        if exc.status in _AUTH_HINTS:
            return CodeHostAuthError(
                f"{what}: GitHub said {exc.status} {_message(exc)} — {_AUTH_HINTS[exc.status]}"
            )
        if exc.status == 422:
            return CodeHostRejected(f"{what}: GitHub refused it (422): {_message(exc)}")
        return CodeHostError(f"{what}: GitHub said {exc.status} {_message(exc)}")
    if isinstance(exc, requests.RequestException):
        return Transient(f"{what}: network error: {exc}")
    return exc


def code_host_error(exc: GithubException, what: str, now: float | None = None) -> CodeHostError:
    """`translate` where no retry follows (the webhook receiver answers at once; a token exchange
    is retried by the job queue): a rate limit or a 5xx is a plain, retryable `CodeHostError`."""
    error = translate(exc, time.time() if now is None else now, what)
    if isinstance(error, RateLimited):
        return CodeHostError(f"GitHub rate limit: {error}")
    if isinstance(error, CodeHostError):
        return error
    return CodeHostError(str(error))


class PyGithubHost:
    """One repository on one GitHub (API root `base_url`)."""

    def __init__(
        self,
        repo_full_name: str,
        token: str,
        *,
        base_url: str = "https://api.github.com",
        clock: Clock | None = None,
        policy: RetryPolicy | None = None,
        timeout_s: int = 30,
    ) -> None:
        if "/" not in repo_full_name:
            raise CodeHostError(f"repository must be 'owner/name', got {repo_full_name!r}")
        self.repo_full_name = repo_full_name
        self.politeness = Politeness(clock, policy)
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            per_page=100,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._repo = self._gh.get_repo(repo_full_name)
        self._prefix = f"/repos/{repo_full_name}"

    # -- plumbing -----------------------------------------------------------------------------

    def _run(
        self, what: str, fn: Callable[[], T], *, write: bool, probe: Callable[[], T | None] | None = None
    ) -> T:
        def guarded() -> T:
            try:
                return fn()
            except (GithubException, requests.RequestException) as exc:
                raise translate(exc, self.politeness.clock.time(), what) from exc

        return self.politeness.call(guarded, write=write, probe=probe)

    def _send(self, verb: str, path: str, body: dict[str, Any]) -> Any:
        _, data = self._gh.requester.requestJsonAndCheck(verb, self._prefix + path, input=body)
        return data

    # -- reads --------------------------------------------------------------------------------

    def whoami(self) -> str:
        """`GET /user`: only for a personal access token (reviewbot.adapters.github.identity). GitHub refuses
        it for installation tokens, so no other path calls it."""

        def get() -> str:
            _, data = self._gh.requester.requestJsonAndCheck("GET", "/user")
            if not isinstance(data, dict) or not data.get("login"):
                raise CodeHostError("GET /user answered without a login")
            return str(data["login"])

        return self._run("GET /user", get, write=False)

    def pull_request(self, number: int) -> PullRequestFacts:
        def get() -> PullRequestFacts:
            pr = self._repo.get_pull(number)
            if not (pr.head.sha and pr.base.sha):
                raise CodeHostError(f"GitHub returned pull request #{number} without head and base commits")
            return PullRequestFacts(
                number=pr.number,
                state=pr.state,
                draft=bool(pr.draft),
                head_sha=pr.head.sha,
                head_ref=pr.head.ref or "",
                base_sha=pr.base.sha,
                base_ref=pr.base.ref or "",
                title=pr.title or "",
                body=pr.body or "",
            )

        return self._run(f"GET pull request #{number}", get, write=False)

    def permission(self, login: str) -> str:
        def get() -> str:
            try:
                return str(self._repo.get_collaborator_permission(login))
            except GithubException as exc:
                if exc.status == 404:  # not a collaborator at all
                    return "none"
                raise

        return self._run(f"permission of {login} on {self.repo_full_name}", get, write=False)

    def list_pull_files(self, number: int) -> PullFiles:
        def get() -> PullFiles:
            files = []
            for f in self._repo.get_pull(number).get_files():
                files.append(PullFile(f.filename, f.status, f.patch, f.previous_filename))
                if len(files) >= MAX_PR_FILES:
                    return PullFiles(tuple(files), truncated=True)
            return PullFiles(tuple(files))

        return self._run(f"list files of #{number}", get, write=False)

    def list_posted(self, number: int) -> list[PostedText]:
        # One retried unit per list (not one for all three): a flaky API must not make a retry of
        # the whole listing fail again on its last request.
        sources: tuple[tuple[str, Any, str], ...] = (
            ("review", PullRequestReview, f"/pulls/{number}/reviews"),
            ("review_comment", PullRequestComment, f"/pulls/{number}/comments"),
            ("issue_comment", IssueComment, f"/issues/{number}/comments"),
        )
        out: list[PostedText] = []
        for kind, cls, path in sources:

            def get(cls: Any = cls, path: str = path, kind: Any = kind) -> list[PostedText]:
                items = PaginatedList(cls, self._gh.requester, self._prefix + path, None)
                return [
                    PostedText(i.id, kind, i.body or "", i.user.login, i.user.type == "Bot") for i in items
                ]

            out += self._run(f"list {kind}s of #{number}", get, write=False)
        return out

    # -- writes -------------------------------------------------------------------------------

    def _landed(self, number: int, kind: str, body: str) -> dict[str, Any] | None:
        """The post a write answered 5xx for, if GitHub made it after all (so a retry adds no twin)."""
        for posted in self.list_posted(number):
            if posted.kind == kind and posted.body == body:
                return {"id": posted.id}
        return None

    def create_review(
        self, number: int, *, commit_id: str, body: str, event: ReviewEvent, comments: Sequence[InlineComment]
    ) -> int:
        payload: dict[str, Any] = {"commit_id": commit_id, "body": body, "event": event, "comments": []}
        for c in comments:
            item: dict[str, Any] = {"path": c.path, "body": c.body, "line": c.line, "side": "RIGHT"}
            if c.start_line is not None and c.start_line < c.line:
                item.update(start_line=c.start_line, start_side="RIGHT")
            payload["comments"].append(item)

        data = self._run(
            f"create review on #{number}",
            lambda: self._send("POST", f"/pulls/{number}/reviews", payload),
            write=True,
            probe=lambda: self._landed(number, "review", body),
        )
        return int(data["id"])

    def create_file_comment(self, number: int, *, commit_id: str, path: str, body: str) -> int:
        payload = {"body": body, "commit_id": commit_id, "path": path, "subject_type": "file"}
        data = self._run(
            f"comment on {path} in #{number}",
            lambda: self._send("POST", f"/pulls/{number}/comments", payload),
            write=True,
        )
        return int(data["id"])

    def create_issue_comment(self, number: int, body: str) -> int:
        data = self._run(
            f"comment on #{number}",
            lambda: self._send("POST", f"/issues/{number}/comments", {"body": body}),
            write=True,
            probe=lambda: self._landed(number, "issue_comment", body),
        )
        return int(data["id"])

    def update_issue_comment(self, comment_id: int, body: str) -> None:
        self._run(
            f"edit comment {comment_id}",
            lambda: self._send("PATCH", f"/issues/comments/{comment_id}", {"body": body}),
            write=True,
        )

    @staticmethod
    def _output(output: CheckOutput) -> dict[str, Any]:
        out: dict[str, Any] = {"title": output.title, "summary": output.summary}
        if output.annotations:
            out["annotations"] = [
                {
                    "path": a.path,
                    "start_line": a.start_line,
                    "end_line": a.end_line,
                    "annotation_level": a.level,
                    "message": a.message,
                    **({"title": a.title} if a.title else {}),
                }
                for a in output.annotations
            ]
        return out

    def create_check_run(
        self, *, name: str, head_sha: str, conclusion: Conclusion, output: CheckOutput
    ) -> int:
        payload = {
            "name": name,
            "head_sha": head_sha,
            "status": "completed",
            "conclusion": conclusion,
            "output": self._output(output),
        }
        data = self._run("create check run", lambda: self._send("POST", "/check-runs", payload), write=True)
        return int(data["id"])

    def update_check_run(self, check_run_id: int, *, output: CheckOutput) -> None:
        payload = {"output": self._output(output)}
        self._run(
            f"update check run {check_run_id}",
            lambda: self._send("PATCH", f"/check-runs/{check_run_id}", payload),
            write=True,
        )

    def create_status(self, sha: str, *, state: StatusState, description: str, context: str) -> None:
        payload = {"state": state, "description": description, "context": context}
        self._run("create commit status", lambda: self._send("POST", f"/statuses/{sha}", payload), write=True)
