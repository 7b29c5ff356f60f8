"""`reviewbot action` end to end: the real CLI in-process, a real git checkout, the real review
(process sandbox, to stay fast), PyGithub talking HTTP to the fake GitHub.

Event payloads are GitHub's published examples with SHAs, numbers and repository names rewritten
to the test repository."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli.main import main
from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo
from tests.shared_data import SHARED

EXAMPLES = SHARED / "github/webhooks/payload-examples/api.github.com/pull_request"

BASE_APP = "def add(a, b):\n    return a + b\n"
HEAD_APP = "import os\n\n\ndef add(a, b):\n    return a + b\n\n\ndef run(data):\n    return eval(data)\n"


def payload(action: str, number: int, base: str, head: str, base_repo: str, head_repo: str) -> dict[str, Any]:
    name = "synchronize" if action == "synchronize" else "opened"
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.payload.json").read_text())
    data["action"] = action
    data["number"] = number
    pr = data["pull_request"]
    pr["number"] = number
    pr["head"]["sha"], pr["base"]["sha"] = head, base
    pr["head"]["repo"]["full_name"], pr["base"]["repo"]["full_name"] = head_repo, base_repo
    data["repository"]["full_name"] = base_repo
    return data


@dataclass
class Run:
    code: int
    out: str
    outputs: dict[str, str]
    summary: str


@dataclass
class Actions:
    repo: GitRepo
    gh: FakeGitHub
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    fork: bool = False

    def run(self, action: str = "opened", *extra: str, event: str = "pull_request") -> Run:
        base = self.repo.git("rev-parse", "main").strip()
        head = self.repo.git("rev-parse", "feature").strip()
        ws = self.tmp / f"ws-{len(list(self.tmp.glob('ws-*')))}"
        # actions/checkout: a depth-1 clone of the PR head; the base commit is not there.
        GitRepo.clone_shallow(self.repo.path, ws, "feature")
        event_path = self.tmp / "event.json"
        head_repo = "stranger/hello" if self.fork else self.gh.full_name
        event_path.write_text(json.dumps(payload(action, 9, base, head, self.gh.full_name, head_repo)))
        out_file, summary_file = self.tmp / "gh_output", self.tmp / "gh_summary"
        out_file.write_text("")
        summary_file.write_text("")
        for key, value in {
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": self.gh.full_name,
            "GITHUB_API_URL": self.gh.base_url,
            "GITHUB_WORKSPACE": str(ws),
            "GITHUB_TOKEN": self.gh.token,
            "GITHUB_OUTPUT": str(out_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "RUNNER_TEMP": str(self.tmp / "runner"),
            "REVIEWBOT_SANDBOX__BACKEND": "process",
            "REVIEWBOT_SANDBOX__ALLOW_PROCESS_BACKEND_FOR_UNTRUSTED": "true",
            "REVIEWBOT_ANALYZERS__TESTS": "false",
        }.items():
            self.monkeypatch.setenv(key, value)
        capture = self.tmp / "stdout"
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["action", *extra])
        capture.write_text(buf.getvalue())
        outputs = dict(
            re.findall(r"^(\w+)<<(\S+)\n(.*?)\n\2$", out_file.read_text(), re.M | re.S)[i][0::2]
            for i in range(len(re.findall(r"^(\w+)<<", out_file.read_text(), re.M)))
        )
        return Run(code, buf.getvalue(), outputs, summary_file.read_text())


@pytest.fixture
def actions(
    repo: GitRepo, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Actions:
    for key in list(os.environ):
        if key.startswith(("GITHUB_", "REVIEWBOT_", "RUNNER_")):
            monkeypatch.delenv(key)
    repo.commit({"app.py": BASE_APP, "pyproject.toml": "[project]\nname = 'demo'\nversion = '0'\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app.py": HEAD_APP}, "feature")
    repo.git("checkout", "-q", "main")
    fake_github.open_pull(9, "main", "feature")
    return Actions(repo, fake_github, tmp_path, monkeypatch)


def test_first_push_posts_one_review_summary_and_check_run(actions: Actions) -> None:
    run = actions.run("opened")
    gh = actions.gh
    assert run.code == 1, run.out  # S307 eval is an error; default fail_on=error
    head = actions.repo.git("rev-parse", "feature").strip()
    assert len(gh.reviews) == 1 and gh.reviews[0]["commit_id"] == head
    rules = " ".join(c["body"] for c in gh.review_comments)
    assert "F401" in rules and "S307" in rules
    assert len(gh.issue_comments) == 1 and len(gh.check_runs) == 1
    annotations = len(gh.check_runs[0]["annotations"])
    assert len(gh.writes()) <= 3 + math.ceil(annotations / 50)
    assert run.outputs["errors"] == "2" and Path(run.outputs["sarif"]).is_file()  # S307 and F401
    assert json.loads(Path(run.outputs["sarif"]).read_text())["version"] == "2.1.0"
    assert "reviewbot review" in run.summary


def test_second_push_posts_no_duplicates_and_reports_the_fix(actions: Actions) -> None:
    actions.run("opened")
    actions.repo.git("checkout", "-q", "feature")
    fixed = HEAD_APP.replace("return eval(data)", "return int(data)")
    fixed += "\n\ndef more(x):\n    return undefined_name\n"
    actions.repo.commit({"app.py": fixed}, "fix eval, add a bug")
    actions.repo.git("checkout", "-q", "main")
    actions.gh.push(9, "feature")
    run = actions.run("synchronize")
    gh = actions.gh
    assert run.code == 1, run.out  # F821 undefined name is an error
    assert len(gh.reviews) == 2
    second = [c["body"] for c in gh.review_comments if c["pull_request_review_id"] == gh.reviews[1]["id"]]
    assert len(second) == 1 and "F821" in second[0]  # F401 is not re-posted
    assert len(gh.issue_comments) == 1
    summary = gh.issue_comments[0]["body"]
    assert "Fixed since the last review (1)" in summary and "S307" in summary


def test_rerun_on_the_same_head_posts_no_new_review_or_comment(actions: Actions) -> None:
    actions.run("opened")
    gh = actions.gh
    counts = (len(gh.reviews), len(gh.review_comments), len(gh.issue_comments))
    actions.run("opened")
    assert (len(gh.reviews), len(gh.review_comments), len(gh.issue_comments)) == counts


def test_fork_with_read_only_token_reports_locally_and_exits_by_fail_on(actions: Actions) -> None:
    actions.fork = True
    actions.gh.read_only = True
    run = actions.run("opened", "--fail-on", "error")
    assert run.code == 1
    assert actions.gh.writes(succeeded=True) == []
    assert "a fork's read-only token" in run.out
    assert re.search(r"^::error file=app\.py,line=\d+,title=ruff S307::", run.out, re.M), run.out
    assert re.search(r"^::error file=app\.py,line=1,title=ruff F401::", run.out, re.M)
    assert "S307" in run.summary and Path(run.outputs["sarif"]).is_file() and run.outputs["posted"] == "false"
    assert actions.run("opened", "--fail-on", "never").code == 0


def test_rate_limited_writes_are_retried_and_the_review_lands(actions: Actions) -> None:
    actions.gh.rate_limit_next_writes(1, status=403, retry_after=1)
    actions.gh.rate_limit_next_writes(1, status=429, retry_after=1)
    run = actions.run("opened")
    assert run.code == 1, run.out
    assert len(actions.gh.reviews) == 1 and len(actions.gh.issue_comments) == 1
    assert [w.status for w in actions.gh.writes()][:2] in ([403, 429], [429, 403])


def test_flaky_api_502s_do_not_lose_or_duplicate_anything(actions: Actions) -> None:
    actions.gh.flaky(0.25, seed=4)
    run = actions.run("opened")
    assert run.code == 1, run.out
    assert any(r.status == 502 for r in actions.gh.requests)
    gh = actions.gh
    assert len(gh.reviews) == 1 and len(gh.issue_comments) == 1 and len(gh.check_runs) == 1


def test_findings_outside_the_diff_go_to_file_comments_or_the_body(actions: Actions) -> None:
    # A finding on a line the PR did not change cannot be inline: ruff flags `l` on an untouched line
    # only with context scope; here a long untouched base file plus a change far away does it.
    actions.repo.git("checkout", "-q", "main")
    body = "".join(f"x{i} = {i}\n" for i in range(60))
    actions.repo.commit({"long.py": body}, "long file")
    actions.repo.git("checkout", "-q", "feature")
    actions.repo.git("merge", "-q", "main", "-m", "merge main")
    actions.repo.commit({"long.py": body.replace("x59 = 59\n", "x59 = 59\nimport json\n")}, "import late")
    actions.repo.git("checkout", "-q", "main")
    actions.gh.push(9, "feature")
    actions.monkeypatch.setenv("REVIEWBOT_GITHUB__MAX_INLINE_COMMENTS", "1")
    run = actions.run("opened")
    assert run.code == 1, run.out
    review = actions.gh.reviews[0]
    inline = [c for c in actions.gh.review_comments if c["subject_type"] == "line"]
    assert len(inline) == 1 and "beyond the inline comment limit" in review["body"]


def test_other_events_do_nothing_and_say_why(actions: Actions) -> None:
    run = actions.run("closed")
    assert run.code == 0 and "action 'closed' needs no review" in run.out
    run = actions.run("opened", event="push")
    assert run.code == 0 and "not a pull_request event" in run.out
    assert actions.gh.requests == []


def test_untrusted_output_is_fenced_in_the_log(actions: Actions) -> None:
    run = actions.run("opened")
    tokens = re.findall(r"^::stop-commands::([0-9a-f]{32})$", run.out, re.M)
    assert tokens and all(f"::{t}::" in run.out for t in tokens)


def test_the_action_never_asks_get_user_with_the_actions_token(actions: Actions) -> None:
    actions.run("opened")
    actions.run("opened")
    gh = actions.gh
    assert len(gh.reviews) == 1  # its own (github-actions[bot]) markers were trusted on the re-run
    assert not any(r.path == "/user" for r in gh.requests)
    assert [r for r in gh.requests if r.status >= 400] == []


def test_a_personal_token_is_asked_who_it_is_and_trusts_only_its_user(actions: Actions) -> None:
    gh = actions.gh
    gh.token, gh.viewer = "ghp_personaltoken", "alice"
    # github-actions[bot] (another workflow) forged "already reported" for every finding: ignored.
    first = actions.run("opened")
    forged = "".join(f"<!-- reviewbot:fp={m} -->" for m in re.findall(r"reviewbot:fp=(\w+)", first.out))
    assert forged
    gh.reviews.clear()
    gh.review_comments.clear()
    gh.issue_comments[:] = [
        {
            "id": 1,
            "user": {"login": "github-actions[bot]", "type": "Bot", "id": 2},
            "body": forged,
            "_pull": 9,
        }
    ]
    gh.requests.clear()
    run = actions.run("opened")
    assert run.code == 1 and len(gh.reviews) == 1 and gh.reviews[0]["user"]["login"] == "alice"
    assert [r.path for r in gh.requests].count("/user") == 1
    assert len(gh.review_comments) == 2
