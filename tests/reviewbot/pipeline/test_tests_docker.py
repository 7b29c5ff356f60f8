"""The test run's report with the Docker sandbox: the streamed test log works in the hardened
container (uploaded plugin, read back after a timeout), and causes are named the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import LIB, TESTS, CliResult, Repo
from tests.reviewbot.pipeline.test_tests_causes import FLOOD_TESTS, findings

pytestmark = pytest.mark.docker

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]


@pytest.fixture
def docker_review(docker_client: Any, review: Review, monkeypatch: pytest.MonkeyPatch) -> Iterator[Review]:
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)

    def run(repo: Repo, *extra: str, fmt: str = "json") -> CliResult:
        return review(repo, "--sandbox", "docker", *extra, fmt=fmt)

    yield run
    assert our_containers(docker_client) == [], "a review left sandbox containers behind"


def test_timeout_in_docker_names_the_hung_test_and_keeps_the_flood_grouped(
    make_repo: MakeRepo, docker_review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = "import time\n\n\ndef test_zz_hangs():\n    time.sleep(600)\n"
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": FLOOD_TESTS, "tests/test_zz.py": hang})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    monkeypatch.setenv("REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S", "15")
    result = docker_review(repo)
    assert result.code == 2, result.err
    assert "running when it was stopped: `tests/test_zz.py::test_zz_hangs`" in result.err
    assert "REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S" in result.err
    [finding] = findings(result)
    assert "fails in 51 cases with this change; they pass at the base" in finding["message"]


def test_missing_module_in_docker_is_named_with_its_fix(make_repo: MakeRepo, docker_review: Review) -> None:
    lib = "import attrs_is_not_in_the_image\n\n" + LIB
    repo = make_repo({"lib.py": lib, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": lib + "\n"})
    result = docker_review(repo)
    assert result.code == 2
    assert "`attrs_is_not_in_the_image` is not installed in the sandbox" in result.err
    assert "install_command" in result.err
