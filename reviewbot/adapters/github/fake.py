"""In-memory `CodeHost` for tests of publishing logic, enforcing the same rules GitHub does.

The PR's files (with patches) are given by the test; a review whose comment is not on a head-side
line of a hunk is refused as a whole (422), bodies over 65,536 characters are refused, more than
50 annotations per request are refused, and `read_only=True` makes every write a 403 like a fork's
token. Everything written is kept in plain lists for assertions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reviewbot.adapters.github import port
from reviewbot.core.diff import parse_hunks
from reviewbot.errors import CodeHostAuthError, CodeHostRejected


def right_side_hunks(patch: str) -> list[set[int]]:
    """Head-side line numbers (added or context) of each hunk of a GitHub `patch`, read by
    reviewbot's one diff reader (`reviewbot.core.diff.parse_hunks`)."""
    return [set(h.head_lines) for h in parse_hunks(patch)]


@dataclass
class FakeReview:
    id: int
    commit_id: str
    body: str
    event: str
    comments: list[port.InlineComment]


@dataclass
class FakeCheckRun:
    id: int
    name: str
    head_sha: str
    conclusion: str
    title: str
    summary: str
    annotations: list[port.Annotation] = field(default_factory=list)


@dataclass
class FakeCodeHost:
    pull: port.PullRequestFacts
    files: list[port.PullFile]
    permissions: dict[str, str] = field(default_factory=dict)  # login -> permission
    login: str = "reviewbot[bot]"
    read_only: bool = False
    checks_allowed: bool = True
    reviews: list[FakeReview] = field(default_factory=list)
    file_comments: list[tuple[int, str, str]] = field(default_factory=list)
    issue_comments: dict[int, str] = field(default_factory=dict)
    other_posts: list[port.PostedText] = field(default_factory=list)
    check_runs: list[FakeCheckRun] = field(default_factory=list)
    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    writes: int = 0
    _next_id: int = 100

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, body: str = "") -> None:
        self.writes += 1
        if self.read_only:
            raise CodeHostAuthError("403 Resource not accessible by integration (a fork's read-only token)")
        if len(body) > port.MAX_BODY_CHARS:
            raise CodeHostRejected("422 Body is too long (maximum is 65536 characters)")

    def pull_request(self, number: int) -> port.PullRequestFacts:
        return self.pull

    def permission(self, login: str) -> str:
        return self.permissions.get(login, "none")

    def list_pull_files(self, number: int) -> port.PullFiles:
        return port.PullFiles(tuple(self.files))

    def list_posted(self, number: int) -> list[port.PostedText]:
        def ours(
            post_id: int, kind: Literal["review", "review_comment", "issue_comment"], body: str
        ) -> port.PostedText:
            return port.PostedText(post_id, kind, body, self.login, True)

        out = list(self.other_posts)
        for r in self.reviews:
            out.append(ours(r.id, "review", r.body))
            out.extend(ours(self._id(), "review_comment", c.body) for c in r.comments)
        out.extend(ours(i, "review_comment", b) for i, _, b in self.file_comments)
        out.extend(ours(i, "issue_comment", b) for i, b in self.issue_comments.items())
        return out

    def _check_anchor(self, c: port.InlineComment) -> None:
        patch = next((f.patch for f in self.files if f.path == c.path), None)
        hunks = right_side_hunks(patch or "")
        hunk = next((h for h in hunks if c.line in h), None)
        start = c.start_line if c.start_line is not None else c.line
        if hunk is None or start not in hunk or start > c.line:
            raise CodeHostRejected("422 Pull request review thread line must be part of the diff")

    def create_review(
        self,
        number: int,
        *,
        commit_id: str,
        body: str,
        event: port.ReviewEvent,
        comments: Sequence[port.InlineComment],
    ) -> int:
        self._write(body)
        for c in comments:
            if len(c.body) > port.MAX_BODY_CHARS:
                raise CodeHostRejected("422 Body is too long (maximum is 65536 characters)")
            self._check_anchor(c)
        review = FakeReview(self._id(), commit_id, body, event, list(comments))
        self.reviews.append(review)
        return review.id

    def create_file_comment(self, number: int, *, commit_id: str, path: str, body: str) -> int:
        self._write(body)
        if not any(f.path == path for f in self.files):
            raise CodeHostRejected("422 Path could not be resolved")
        cid = self._id()
        self.file_comments.append((cid, path, body))
        return cid

    def create_issue_comment(self, number: int, body: str) -> int:
        self._write(body)
        cid = self._id()
        self.issue_comments[cid] = body
        return cid

    def update_issue_comment(self, comment_id: int, body: str) -> None:
        self._write(body)
        self.issue_comments[comment_id] = body

    def _check_output(self, output: port.CheckOutput) -> None:
        if len(output.annotations) > port.MAX_ANNOTATIONS_PER_REQUEST:
            raise CodeHostRejected("422 at most 50 annotations per request")
        if len(output.summary) > port.MAX_BODY_CHARS - 1:
            raise CodeHostRejected("422 output.summary is too long")

    def create_check_run(
        self, *, name: str, head_sha: str, conclusion: port.Conclusion, output: port.CheckOutput
    ) -> int:
        self._write()
        if not self.checks_allowed:
            raise CodeHostAuthError("403 Resource not accessible by integration (checks: write missing)")
        self._check_output(output)
        run = FakeCheckRun(
            self._id(), name, head_sha, conclusion, output.title, output.summary, list(output.annotations)
        )
        self.check_runs.append(run)
        return run.id

    def update_check_run(self, check_run_id: int, *, output: port.CheckOutput) -> None:
        self._write()
        self._check_output(output)
        run = next(r for r in self.check_runs if r.id == check_run_id)
        run.annotations.extend(output.annotations)

    def create_status(self, sha: str, *, state: port.StatusState, description: str, context: str) -> None:
        self._write()
        if len(description) > port.MAX_STATUS_DESCRIPTION:
            raise CodeHostRejected("422 description is too long (maximum is 140 characters)")
        self.statuses.append((sha, state, description))
