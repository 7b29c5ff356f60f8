"""Fixtures for the corpus scenarios: each test gets its own freshly built git repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.corpus.gitrepo import Repo, init_from_corpus
from tests.corpus.scenarios import Scenario

BuildScenario = Callable[[Scenario], Repo]


@pytest.fixture
def build_scenario(tmp_path: Path) -> BuildScenario:
    """Build a scenario's repository under this test's tmp dir (the repo lives in `<tmp>/repo`)."""

    def build(scenario: Scenario) -> Repo:
        repo = init_from_corpus(scenario.corpus, tmp_path / "repo")
        scenario.build(repo)
        return repo

    return build


@pytest.fixture
def process_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reviews in these tests run through the process sandbox backend (fast); Docker has its own test."""
    monkeypatch.setenv("REVIEWBOT_SANDBOX__BACKEND", "process")
