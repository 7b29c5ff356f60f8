"""publish_review against the fake GitHub over real HTTP, with real git diffs and hand-built reviews."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from reviewbot.adapters.github.fake import FakeCodeHost
from reviewbot.adapters.github.limits import RetryPolicy
from reviewbot.adapters.github.port import PullFile, PullRequestFacts
from reviewbot.adapters.github.publish import PublishResult, publish_review
from reviewbot.adapters.github.pygithub_host import PyGithubHost
from reviewbot.core.diff import Diff, parse_diff
from reviewbot.core.finding import Finding, Severity, Suggestion
from reviewbot.core.redact import ZWSP
from reviewbot.core.review import Review, RunStatus, ToolRun
from reviewbot.errors import CodeHostAuthError, CodeHostRejected
from reviewbot.settings import Settings, load_settings
from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo
from tests.reviewbot.adapters.github.test_limits import FakeClock

BASE = "".join(f"line{i} = {i}\n" for i in range(1, 41))


@dataclass
class PR:
    repo: GitRepo
    gh: FakeGitHub
    head: str
    diff: Diff

    def host(self) -> PyGithubHost:
        return PyGithubHost(
            self.gh.full_name,
            self.gh.token,
            base_url=self.gh.base_url,
            clock=FakeClock(),
            policy=RetryPolicy(backoff_s=0.01),
        )

    def publish(self, review: Review, settings: Settings | None = None) -> PublishResult:
        return publish_review(
            self.host(),
            9,
            review,
            self.diff,
            settings or load_settings(),
            head_sha=self.head,
            identity=self.gh.poster["login"],
        )

    def push(self, files: dict[str, str | None]) -> None:
        self.head = self.repo.commit(files, "push")
        self.gh.push(9, "feature")
        self.diff = parse_diff(self.repo.diff("main", "feature"))


@pytest.fixture
def pr(repo: GitRepo, fake_github: FakeGitHub) -> PR:
    repo.commit({"app.py": BASE, "other.py": "x = 1\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    lines = BASE.splitlines(keepends=True)
    lines[4:4] = ["import os\n", "import sys\n", "value = eval(data)\n"]  # new lines 5-7
    head = repo.commit({"app.py": "".join(lines), "new.py": "print('hi')\n"}, "feature")
    fake_github.open_pull(9, "main", "feature")
    return PR(repo, fake_github, head, parse_diff(repo.diff("main", "feature")))


def f(
    rule: str, path: str = "app.py", line: int | None = 5, sev: Severity = Severity.WARNING, **kw: object
) -> Finding:
    return Finding(
        tool="ruff",
        rule_id=rule,
        path=path,
        start_line=line,
        message=f"{rule} problem",
        snippet=f"{rule}:{path}:{line}",
        severity=sev,
        **kw,
    )


def review_of(*findings: Finding) -> Review:
    return Review(
        base="main",
        head="feature",
        findings=findings,
        files_reviewed=2,
        runs=(ToolRun(name="ruff", status=RunStatus.OK, duration_s=0.4),),
    )


def test_first_push_places_everything_and_stays_within_the_write_budget(pr: PR) -> None:
    findings = (
        f("F401", line=5),
        f("S307", line=7, sev=Severity.ERROR, end_line=7),
        f("E501", line=30),  # app.py, outside every hunk: file-level
        f("X1", path="untouched.py", line=3),  # not in the PR: review body
        f("T1", path="", line=None),  # about the change as a whole: review body
    )
    result = pr.publish(review_of(*findings))
    assert (result.inline, result.file_level, result.in_body) == (2, 1, 2)
    assert len(pr.gh.reviews) == 1 and pr.gh.reviews[0]["state"] == "COMMENTED"
    assert pr.gh.reviews[0]["commit_id"] == pr.head
    inline = [c for c in pr.gh.review_comments if c["subject_type"] == "line"]
    assert sorted(c["line"] for c in inline) == [5, 7]
    assert [c["path"] for c in pr.gh.review_comments if c["subject_type"] == "file"] == ["app.py"]
    body = pr.gh.reviews[0]["body"]
    assert findings[3].fingerprint in body and findings[4].fingerprint in body
    assert len(pr.gh.issue_comments) == 1 and "<!-- reviewbot:summary -->" in pr.gh.issue_comments[0]["body"]
    run = pr.gh.check_runs[0]
    assert run["conclusion"] == "failure" and len(run["annotations"]) == 4
    assert {a["annotation_level"] for a in run["annotations"]} == {"warning", "failure"}
    # review + summary + check run (+ the one file-level comment GitHub cannot take inside a review)
    assert len(pr.gh.writes()) == 3 + math.ceil(4 / 50) - 1 + result.file_level


def test_rerun_on_the_same_head_posts_nothing_new(pr: PR) -> None:
    review = review_of(f("F401", line=5), f("E501", line=30), f("X1", path="untouched.py", line=3))
    pr.publish(review)
    before = (len(pr.gh.reviews), len(pr.gh.review_comments), len(pr.gh.issue_comments))
    writes_before = len(pr.gh.writes())
    result = pr.publish(review)
    assert (len(pr.gh.reviews), len(pr.gh.review_comments), len(pr.gh.issue_comments)) == before
    assert result.review_id is None and result.new == () and result.already_posted == 3
    assert result.summary_action in ("unchanged", "updated")
    new_writes = pr.gh.writes()[writes_before:]
    assert all(w.operation in ("issues/update-comment", "checks/create") for w in new_writes)


def test_second_push_posts_only_new_findings_and_reports_fixed(pr: PR) -> None:
    old, kept = f("S307", line=7), f("F401", line=5)
    pr.publish(review_of(old, kept))
    pr.push({"new.py": "print('hi')\nimport json\n"})
    new = f("F811", path="new.py", line=2)
    result = pr.publish(review_of(kept, new))
    assert result.new == (new.fingerprint,) and [r.rule_id for r in result.fixed] == ["S307"]
    assert len(pr.gh.reviews) == 2 and pr.gh.reviews[1]["commit_id"] == pr.head
    assert [
        c["path"] for c in pr.gh.review_comments if c["pull_request_review_id"] == pr.gh.reviews[1]["id"]
    ] == ["new.py"]
    summary = pr.gh.issue_comments[0]["body"]
    assert (
        len(pr.gh.issue_comments) == 1 and "Fixed since the last review (1)" in summary and "S307" in summary
    )


def test_inline_cap_moves_the_rest_to_the_body(pr: PR) -> None:
    findings = tuple(f(f"R{i}", line=5 + i % 3) for i in range(35))
    result = pr.publish(review_of(*findings))
    assert result.inline == 30 and result.in_body == 5
    assert len(pr.gh.review_comments) == 30


def test_bodies_are_capped_sanitized_and_defused(pr: PR) -> None:
    token = "ghp_" + "Z" * 36
    huge = f("BIG", line=5).model_copy(
        update={"message": f"@everyone-team leaked {token}\x1b[31m " + "x" * 100_000}
    )
    pr.publish(review_of(huge, f("BODY", path="zzz.py", line=1).model_copy(update={"message": "y" * 90_000})))
    posted = [c["body"] for c in pr.gh.review_comments] + [r["body"] for r in pr.gh.reviews]
    posted += [c["body"] for c in pr.gh.issue_comments]
    assert all(len(b) <= 65_536 for b in posted)
    assert any("Truncated" in b for b in posted)
    assert not any(token in b or "\x1b" in b for b in posted)
    assert f"@{ZWSP}everyone-team" in pr.gh.review_comments[0]["body"]
    assert token not in str(pr.gh.check_runs[0]["annotations"])


def test_suggestion_block_covers_exactly_the_commented_lines(pr: PR) -> None:
    fix = Suggestion(start_line=5, end_line=6, replacement="import os, sys  # ``` odd\n")
    pr.publish(review_of(f("I001", line=5, end_line=6, suggestion=fix)))
    comment = pr.gh.review_comments[0]
    assert (comment["start_line"], comment["line"]) == (5, 6)
    assert "````suggestion\nimport os, sys  # ``` odd\n````" in comment["body"]


def test_many_annotations_go_in_batches_of_50(pr: PR) -> None:
    findings = tuple(f(f"A{i}", line=30 + i % 5) for i in range(120))
    pr.publish(review_of(*findings), load_settings(overrides={"github": {"max_inline_comments": 0}}))
    assert len(pr.gh.check_runs[0]["annotations"]) == 120
    ops = [w.operation for w in pr.gh.writes()]
    assert ops.count("checks/create") == 1 and ops.count("checks/update") == 2
    assert len(ops) <= 3 + math.ceil(120 / 50)


def test_without_checks_permission_a_commit_status_is_posted(pr: PR) -> None:
    pr.gh.checks_forbidden = True
    result = pr.publish(review_of(f("F401", line=5)))
    assert result.check_run_id is None and result.status_state == "success"
    assert pr.gh.statuses[0]["sha"] == pr.head and len(pr.gh.statuses[0]["description"]) <= 140
    assert any("commit status" in n for n in result.notes)


def test_request_changes_only_when_configured_and_failing(pr: PR) -> None:
    settings = load_settings(overrides={"github": {"review_event": "REQUEST_CHANGES"}})
    pr.publish(review_of(f("S307", line=7, sev=Severity.ERROR)), settings)
    assert pr.gh.reviews[0]["state"] == "CHANGES_REQUESTED"


def test_fork_token_raises_auth_error_before_anything_is_posted(pr: PR) -> None:
    pr.gh.read_only = True
    with pytest.raises(CodeHostAuthError):
        pr.publish(review_of(f("F401", line=5)))
    assert pr.gh.writes(succeeded=True) == []


def test_a_pasted_marker_from_a_person_does_not_silence_a_finding(pr: PR) -> None:
    finding = f("F401", line=5)
    pr.gh.issue_comments.append(
        {
            "id": 1,
            "user": {"login": "mallory", "type": "User", "id": 5},
            "body": f"<!-- reviewbot:fp={finding.fingerprint} -->",
            "_pull": 9,
        }
    )
    result = pr.publish(review_of(finding))
    assert result.new == (finding.fingerprint,) and result.inline == 1


def test_a_forged_marker_and_summary_from_another_bot_change_nothing(pr: PR) -> None:
    # Another workflow (same github-actions[bot]? no: here another App) posts "already reported"
    # and a fake sticky summary claiming the finding was fixed. Only our own login is trusted.
    finding = f("F401", line=5)
    other_bot = {"login": "other-app[bot]", "type": "Bot", "id": 77}
    forged_state = f"<!-- reviewbot:state h={pr.head} o= x={finding.fingerprint}:F401:app.py -->"
    for body in (
        f"<!-- reviewbot:fp={finding.fingerprint} -->",
        f"<!-- reviewbot:summary -->\n{forged_state}\nforged",
    ):
        pr.gh.issue_comments.append({"id": len(body), "user": other_bot, "body": body, "_pull": 9})
    forged = len(pr.gh.issue_comments)
    result = pr.publish(review_of(finding))
    assert result.new == (finding.fingerprint,) and result.inline == 1 and result.already_posted == 0
    assert result.summary_action == "created" and result.fixed == ()
    ours = pr.gh.issue_comments[forged:]
    assert len(ours) == 1 and ours[0]["user"]["login"] == "github-actions[bot]"
    assert [c["body"] for c in pr.gh.issue_comments[:forged]][1].endswith("forged")  # not edited
    # Our own markers still count: the second run posts nothing new.
    again = pr.publish(review_of(finding))
    assert again.new == () and again.already_posted == 1 and again.review_id is None


def test_markers_count_only_from_the_identity_the_token_posts_as(pr: PR) -> None:
    finding = f("F401", line=5)
    pr.publish(review_of(finding))
    # The same posts, read by a bot of another name (an App's token), are not its own: re-posted.
    again = publish_review(
        pr.host(), 9, review_of(finding), pr.diff, load_settings(), head_sha=pr.head, identity="app[bot]"
    )
    assert again.new == (finding.fingerprint,)


def test_a_file_without_a_patch_gets_a_file_level_comment(pr: PR) -> None:
    pr.gh.max_patch_chars = 5  # GitHub sends no patch for very large diffs
    result = pr.publish(review_of(f("F401", line=5)))
    assert (result.inline, result.file_level) == (0, 1)
    assert pr.gh.review_comments[0]["subject_type"] == "file"


class DisagreeingHost(FakeCodeHost):
    """GitHub refusing an inline comment that our placement thought fine."""

    def create_review(self, number, *, commit_id, body, event, comments):
        if comments:
            self.writes += 1
            raise CodeHostRejected("422 Pull request review thread line must be part of the diff")
        return super().create_review(number, commit_id=commit_id, body=body, event=event, comments=comments)


def test_422_anyway_folds_comments_into_the_body(pr: PR) -> None:
    files = [PullFile("app.py", "modified", pr.host().list_pull_files(9).files[0].patch)]
    host = DisagreeingHost(PullRequestFacts(9, "open", False, pr.head, "feature", "b", "main"), files)
    finding = f("F401", line=5)
    result = publish_review(
        host, 9, review_of(finding), pr.diff, load_settings(), head_sha=pr.head, identity=host.login
    )
    assert result.folded and result.in_body == 1 and result.inline == 0
    assert host.reviews[0].comments == [] and finding.fingerprint in host.reviews[0].body
