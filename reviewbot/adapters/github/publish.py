"""Post one review to a pull request, converging across pushes.

Per run, at most: one review (inline comments + a body for what cannot be inline), one sticky
summary comment (created once, then edited in place), one check run (+1 PATCH per further 50
annotations) — or a commit status when the token may not create check runs. File-level comments
are the one exception: GitHub's create-review endpoint cannot carry them, so each is its own write.

Convergence: every posted finding carries a hidden fingerprint marker. A run first reads what is
already on the PR and posts only findings whose fingerprint is not there, so a new push re-posts
nothing already said and a re-run on the same head posts no review and no comment (the summary is
at most edited). Markers and the summary count only when posted by `identity`, the login this
token posts as (reviewbot.adapters.github.identity): neither a PR author pasting a marker nor another bot
(another workflow, another App) can silence a finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from reviewbot.adapters.github.port import (
    MAX_ANNOTATIONS_PER_REQUEST,
    MAX_BODY_CHARS,
    MAX_CHECK_TEXT_CHARS,
    MAX_STATUS_DESCRIPTION,
    Annotation,
    AnnotationLevel,
    CheckOutput,
    CodeHost,
    Conclusion,
    InlineComment,
    PostedText,
    ReviewEvent,
)
from reviewbot.adapters.github.pr_diff import pr_diff
from reviewbot.adapters.github.summary import (
    SUMMARY_MARKER,
    Remembered,
    SummaryFacts,
    SummaryState,
    next_state,
    parse_state,
    render_summary,
)
from reviewbot.core.diff import Diff
from reviewbot.core.finding import Finding, Severity
from reviewbot.core.placement import PlacedFinding, PlacedReview, place_all, to_body
from reviewbot.core.redact import scrub
from reviewbot.core.render.markdown import comment_body, parse_markers, posted_markdown, review_markdown
from reviewbot.core.review import Review
from reviewbot.core.text import one_line, sanitize
from reviewbot.errors import CodeHostAuthError, CodeHostRejected
from reviewbot.settings import Settings

CHECK_NAME = "reviewbot"
LEVELS: dict[Severity, AnnotationLevel] = {
    Severity.ERROR: "failure",
    Severity.WARNING: "warning",
    Severity.NOTE: "notice",
}
_MAX_ANNOTATION_MESSAGE = 60_000


SummaryAction = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class PublishResult:
    review_id: int | None
    folded: bool  # GitHub refused the inline comments anyway; they went into the body
    inline: int
    file_level: int
    in_body: int
    new: tuple[str, ...]  # fingerprints posted by this run
    already_posted: int
    fixed: tuple[Remembered, ...]
    summary_comment_id: int | None
    summary_action: SummaryAction
    check_run_id: int | None
    status_state: str | None
    annotations: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for a log: what was posted, and where."""
        parts = [
            f"review {'#' + str(self.review_id) if self.review_id else 'not needed (nothing new)'}",
            f"{self.inline} inline, {self.file_level} on files, {self.in_body} in the body",
            f"{self.already_posted} already on the PR",
            f"{len(self.fixed)} fixed since the last review",
            f"summary {self.summary_action}",
            f"check run {self.check_run_id}" if self.check_run_id else f"commit status {self.status_state}",
        ]
        if self.folded:
            parts.append("GitHub refused the inline comments; they were folded into the review body")
        return "; ".join(parts)


def post_text(markdown: str, limit: int = MAX_BODY_CHARS) -> str:
    """The last step before text leaves for GitHub: control characters out, secrets redacted,
    @mentions defused, then capped (the cap adds a visible note)."""
    return posted_markdown(markdown, limit)  # the same function `reviewbot local --format markdown` uses


def counts_phrase(review: Review) -> str:
    counts = review.counts()
    parts = [f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity if counts[s]]
    return ", ".join(parts) if parts else "no findings"


def conclusion_of(review: Review, settings: Settings) -> Conclusion:
    if review.fails(settings.fail_on_severity):
        return "failure"
    return "success" if review.complete else "neutral"


def annotations_of(findings: Iterable[Finding]) -> list[Annotation]:
    out = []
    for f in findings:
        if not f.path:
            continue  # about the whole change: the summary says it
        start = f.start_line or 1
        out.append(
            Annotation(
                path=f.path,
                start_line=start,
                end_line=max(f.last_line or start, start),
                level=LEVELS[f.severity],
                message=scrub(sanitize(f.message))[:_MAX_ANNOTATION_MESSAGE],
                title=one_line(f"{f.tool} {f.rule_id}")[:255],
            )
        )
    return out


def _trusted(posted: list[PostedText], identity: str) -> list[PostedText]:
    return [p for p in posted if p.author == identity]


def _review_event(review: Review, settings: Settings) -> ReviewEvent:
    # REQUEST_CHANGES only when configured and the review actually fails the gate; never APPROVE.
    if settings.github.review_event == "REQUEST_CHANGES" and review.fails(settings.fail_on_severity):
        return "REQUEST_CHANGES"
    return "COMMENT"


def _post_review(
    host: CodeHost,
    pr_number: int,
    review: Review,
    placed: PlacedReview,
    *,
    head_sha: str,
    event: ReviewEvent,
) -> tuple[int, bool]:
    comments = [
        InlineComment(
            path=p.placement.path or p.finding.path,
            line=p.placement.line or 1,
            start_line=p.placement.start_line,
            body=post_text(comment_body(p.finding)),
        )
        for p in placed.inline
    ]
    body = post_text(review_markdown(review, placed))
    try:
        return host.create_review(
            pr_number, commit_id=head_sha, body=body, event=event, comments=comments
        ), False
    except CodeHostRejected:
        if not comments:
            raise
    # GitHub disagreed with our placement after all: nothing may be lost, so fold every inline
    # comment into the body and try once more.
    folded = PlacedReview(
        inline=(),
        file_level=placed.file_level,
        body=placed.body + tuple(to_body(p) for p in placed.inline),
        overflow=placed.overflow,
    )
    body = post_text(review_markdown(review, folded))
    return host.create_review(pr_number, commit_id=head_sha, body=body, event=event, comments=[]), True


def _publish_check(
    host: CodeHost, review: Review, settings: Settings, summary: str, head_sha: str
) -> tuple[int | None, str | None, int, list[str]]:
    notes: list[str] = []
    annotations = annotations_of(review.findings)
    conclusion = conclusion_of(review, settings)
    title = ("Incomplete review: " if not review.complete else "") + counts_phrase(review)
    text = post_text(summary, MAX_CHECK_TEXT_CHARS)
    batches = [
        tuple(annotations[i : i + MAX_ANNOTATIONS_PER_REQUEST])
        for i in range(0, len(annotations), MAX_ANNOTATIONS_PER_REQUEST)
    ] or [()]
    try:
        run_id = host.create_check_run(
            name=CHECK_NAME,
            head_sha=head_sha,
            conclusion=conclusion,
            output=CheckOutput(title, text, batches[0]),
        )
    except CodeHostAuthError as exc:
        notes.append(f"no check run (not permitted: {exc}); posted a commit status instead")
    else:
        for batch in batches[1:]:
            host.update_check_run(run_id, output=CheckOutput(title, text, batch))
        return run_id, None, len(annotations), notes
    state = {"failure": "failure", "success": "success", "neutral": "error"}[conclusion]
    description = f"reviewbot: {title}"[:MAX_STATUS_DESCRIPTION]
    try:
        host.create_status(head_sha, state=state, description=description, context=CHECK_NAME)  # type: ignore[arg-type]
    except CodeHostAuthError as exc:
        notes.append(f"no commit status either (not permitted: {exc})")
        return None, None, 0, notes
    return None, state, 0, notes


@dataclass(frozen=True)
class _OnThePR:
    """What this identity already posted: the fingerprints it said, its sticky summary."""

    known: frozenset[str]
    summary: PostedText | None

    @property
    def previous(self) -> SummaryState | None:
        return parse_state(self.summary.body) if self.summary else None


def _on_the_pr(host: CodeHost, pr_number: int, identity: str) -> _OnThePR:
    trusted = _trusted(host.list_posted(pr_number), identity)
    known: set[str] = set()
    for post in trusted:
        known |= parse_markers(post.body)
    summaries = [t for t in trusted if t.kind == "issue_comment" and SUMMARY_MARKER in t.body]
    return _OnThePR(frozenset(known), max(summaries, key=lambda t: t.id) if summaries else None)


def _post_file_comments(host: CodeHost, pr_number: int, placed: PlacedReview, head_sha: str) -> PlacedReview:
    """File-level comments, each its own write; one that GitHub refuses moves into the review body."""
    posted: list[PlacedFinding] = []
    moved: list[PlacedFinding] = []
    for p in placed.file_level:
        try:
            host.create_file_comment(
                pr_number,
                commit_id=head_sha,
                path=p.placement.path or p.finding.path,
                body=post_text(comment_body(p.finding)),
            )
            posted.append(p)
        except CodeHostRejected:
            moved.append(to_body(p))
    return PlacedReview(
        inline=placed.inline,
        file_level=tuple(posted),
        body=placed.body + tuple(moved),
        overflow=placed.overflow,
    )


def _post_summary(
    host: CodeHost, pr_number: int, previous: PostedText | None, text: str
) -> tuple[int, SummaryAction]:
    """The sticky summary: created once, then edited in place (left alone when unchanged)."""
    if previous is None:
        return host.create_issue_comment(pr_number, text), "created"
    if previous.body == text:
        return previous.id, "unchanged"
    try:
        host.update_issue_comment(previous.id, text)
        return previous.id, "updated"
    except CodeHostAuthError:
        # Not ours to edit after all (another app's marker): start our own.
        return host.create_issue_comment(pr_number, text), "created"


def _facts(head_sha: str, placed: PlacedReview, *, new: int, unique: int, folded: bool) -> SummaryFacts:
    """The summary's counts for this push: a folded review carries its inline comments in its body."""
    return SummaryFacts(
        head_sha=head_sha,
        new=new,
        already_posted=unique - new,
        inline=0 if folded else len(placed.inline),
        file_level=len(placed.file_level),
        in_body=len(placed.body) + (len(placed.inline) if folded else 0),
    )


def publish_review(
    host: CodeHost,
    pr_number: int,
    review: Review,
    diff: Diff,
    settings: Settings,
    *,
    head_sha: str,
    identity: str,
) -> PublishResult:
    """Post `review` (computed on `diff`, head `head_sha`) to PR `pr_number`, as `identity`
    (the login the host's token posts as; only its earlier posts are trusted).

    Raises CodeHostAuthError when the token may not post the review or the summary (a fork's
    read-only token): the caller then reports locally. A missing permission for check runs and
    statuses only adds a note."""
    on_pr = _on_the_pr(host, pr_number, identity)
    unique = list({f.fingerprint: f for f in review.findings}.values())
    new = [f for f in unique if f.fingerprint not in on_pr.known]
    placement_diff = pr_diff(host.list_pull_files(pr_number), diff)
    placed = place_all(new, placement_diff, settings.github.max_inline_comments)
    placed = _post_file_comments(host, pr_number, placed, head_sha)

    review_id, folded = None, False
    if placed.inline or placed.body:
        shown = review.model_copy(update={"findings": tuple(new)})
        review_id, folded = _post_review(
            host, pr_number, shown, placed, head_sha=head_sha, event=_review_event(review, settings)
        )

    state = next_state(on_pr.previous, head_sha, unique)
    facts = _facts(head_sha, placed, new=len(new), unique=len(unique), folded=folded)
    summary = render_summary(review, state, facts)
    summary_id, action = _post_summary(host, pr_number, on_pr.summary, post_text(summary))
    check_id, status, n_annotations, notes = _publish_check(host, review, settings, summary, head_sha)
    return PublishResult(
        review_id=review_id,
        folded=folded,
        inline=facts.inline,
        file_level=facts.file_level,
        in_body=facts.in_body,
        new=tuple(f.fingerprint for f in new),
        already_posted=facts.already_posted,
        fixed=state.fixed,
        summary_comment_id=summary_id,
        summary_action=action,
        check_run_id=check_id,
        status_state=status,
        annotations=n_annotations,
        notes=tuple(notes),
    )
