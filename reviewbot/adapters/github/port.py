"""The `CodeHost` port: the few operations on a pull request that posting a review needs.

Plain frozen dataclasses go in and out, so publishing logic is tested against `FakeCodeHost`
(`reviewbot.adapters.github.fake`) and the PyGithub adapter is tested against a real HTTP server.
Every method raises only `reviewbot.errors.CodeHostError` and its subclasses, translated from
GitHub's answers in one place (`reviewbot.adapters.github.pygithub_host.translate`, docs/github-rules.md):
401/403/404 `CodeHostAuthError`, 422 `CodeHostRejected`, rate limits and 5xx a plain (retryable)
`CodeHostError` once the adapter's own retries are spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

ReviewEvent = Literal["COMMENT", "REQUEST_CHANGES"]
AnnotationLevel = Literal["notice", "warning", "failure"]
Conclusion = Literal["success", "failure", "neutral"]
StatusState = Literal["success", "failure", "error", "pending"]

#: GitHub's caps (docs/github-rules.md, "Body size" and "Check runs and annotations")
MAX_BODY_CHARS = 65_536
MAX_CHECK_TEXT_CHARS = 65_535
MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_STATUS_DESCRIPTION = 140
MAX_PR_FILES = 3_000


@dataclass(frozen=True)
class PullRequestFacts:
    """What `GET .../pulls/{n}` says that a review job needs (a comment command reviews the PR's
    head as GitHub has it now, not as some payload said). Title and body are untrusted text."""

    number: int
    state: str
    draft: bool
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class PullFile:
    """One entry of `GET .../pulls/{n}/files`. `patch` is None for binary or very large files."""

    path: str
    status: str
    patch: str | None
    previous_path: str | None = None


@dataclass(frozen=True)
class PullFiles:
    files: tuple[PullFile, ...]
    #: True when GitHub's 3,000-file cap was hit: the list is incomplete, use git for the diff.
    truncated: bool = False


@dataclass(frozen=True)
class PostedText:
    """Something already on the PR that may carry our hidden markers."""

    id: int
    kind: Literal["review", "review_comment", "issue_comment"]
    body: str
    author: str
    author_is_bot: bool


@dataclass(frozen=True)
class InlineComment:
    """A review comment on head-side lines `start_line..line` (RIGHT side). start_line None = one line."""

    path: str
    line: int
    body: str
    start_line: int | None = None


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: AnnotationLevel
    message: str
    title: str = ""


@dataclass(frozen=True)
class CheckOutput:
    title: str
    summary: str
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)


class CodeHost(Protocol):
    """What a review needs from GitHub. Implementations: `PyGithubHost`, `FakeCodeHost`."""

    def pull_request(self, number: int) -> PullRequestFacts: ...

    def permission(self, login: str) -> str:
        """`login`'s permission on the repository (`admin`, `maintain`, `write`, `triage`, `read`),
        `none` when not a collaborator at all."""
        ...

    def list_pull_files(self, number: int) -> PullFiles: ...

    def list_posted(self, number: int) -> list[PostedText]:
        """Reviews, review comments and issue comments on the PR (to find our markers)."""
        ...

    def create_review(
        self, number: int, *, commit_id: str, body: str, event: ReviewEvent, comments: Sequence[InlineComment]
    ) -> int: ...

    def create_file_comment(self, number: int, *, commit_id: str, path: str, body: str) -> int:
        """A review comment on a whole file (`subject_type: "file"`)."""
        ...

    def create_issue_comment(self, number: int, body: str) -> int: ...

    def update_issue_comment(self, comment_id: int, body: str) -> None: ...

    def create_check_run(
        self, *, name: str, head_sha: str, conclusion: Conclusion, output: CheckOutput
    ) -> int: ...

    def update_check_run(self, check_run_id: int, *, output: CheckOutput) -> None:
        """PATCH the output; annotations given here are appended by GitHub."""
        ...

    def create_status(self, sha: str, *, state: StatusState, description: str, context: str) -> None: ...
