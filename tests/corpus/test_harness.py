"""The scenario checker rejects wrong reviews: missing, extra, duplicated or misattributed findings,
a wrong base, and a wrong exit code. (Without this, a lenient checker would pass any CLI.)"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review
from tests.corpus import checks
from tests.corpus.conftest import BuildScenario
from tests.corpus.gitrepo import Repo
from tests.corpus.scenarios import BY_NAME, Expect, Scenario
from tests.corpus.test_scenarios import assert_review


def _finding(repo: Repo, e: Expect) -> Finding:
    line = checks.head_line(repo, e.path, e.line) if e.line else None
    return Finding(
        tool=e.tool,
        rule_id=e.rule or "test-failure",
        path=e.path,
        start_line=line,
        severity=Severity.ERROR,
        message=f"{e.rule} here",
    )


def _review(
    repo: Repo, findings: Sequence[Finding], preexisting: Sequence[Finding] = (), base: str = ""
) -> Review:
    return Review(
        base=base or checks.merge_base(repo),
        head="WORKTREE",
        findings=tuple(findings),
        preexisting=tuple(preexisting),
    )


def _correct(scenario: Scenario, repo: Repo) -> Review:
    return _review(
        repo,
        [_finding(repo, e) for e in scenario.report],
        [_finding(repo, e) for e in scenario.preexisting],
    )


@pytest.fixture
def lint_slip(build_scenario: BuildScenario) -> tuple[Scenario, Repo]:
    scenario = BY_NAME["lint_slip"]
    return scenario, build_scenario(scenario)


def test_the_correct_review_passes(lint_slip: tuple[Scenario, Repo]) -> None:
    scenario, repo = lint_slip
    assert_review(scenario, repo, scenario.exit_code, _correct(scenario, repo), "")


def test_a_missing_finding_is_caught(lint_slip: tuple[Scenario, Repo]) -> None:
    scenario, repo = lint_slip
    review = _review(repo, [_finding(repo, e) for e in scenario.report[1:]])
    with pytest.raises(AssertionError, match="missing"):
        assert_review(scenario, repo, scenario.exit_code, review, "")


def test_an_extra_finding_is_caught(lint_slip: tuple[Scenario, Repo]) -> None:
    scenario, repo = lint_slip
    extra = Finding(tool="ruff", rule_id="E501", path="toolz/utils.py", start_line=1, message="long")
    review = _review(repo, [*_correct(scenario, repo).findings, extra])
    with pytest.raises(AssertionError, match="does not expect"):
        assert_review(scenario, repo, scenario.exit_code, review, "")


def test_a_duplicate_is_caught(lint_slip: tuple[Scenario, Repo]) -> None:
    scenario, repo = lint_slip
    findings = list(_correct(scenario, repo).findings)
    review = _review(repo, [*findings, findings[0].model_copy(update={"message": "again"})])
    with pytest.raises(AssertionError, match="twice"):
        assert_review(scenario, repo, scenario.exit_code, review, "")


def test_a_wrong_exit_code_or_base_is_caught(lint_slip: tuple[Scenario, Repo]) -> None:
    scenario, repo = lint_slip
    with pytest.raises(AssertionError, match="exit 0"):
        assert_review(scenario, repo, 0, _correct(scenario, repo), "")
    # A review that compared with the branch tip instead of the merge-base with main.
    moved = _review(repo, list(_correct(scenario, repo).findings), base=repo.rev("HEAD"))
    with pytest.raises(AssertionError, match="merge-base"):
        assert_review(scenario, repo, scenario.exit_code, moved, "")


def test_blaming_the_change_for_an_old_failure_is_caught(build_scenario: BuildScenario) -> None:
    scenario = BY_NAME["preexisting_noise"]
    repo = build_scenario(scenario)
    old_failure = _finding(repo, scenario.preexisting[0])
    with pytest.raises(AssertionError):
        assert_review(scenario, repo, scenario.exit_code, _review(repo, [old_failure]), "")
    with pytest.raises(AssertionError, match="pre-existing"):
        assert_review(scenario, repo, scenario.exit_code, _review(repo, []), "")
