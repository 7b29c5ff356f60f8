"""`reviewbot local` with the Docker sandbox, end to end on real git repositories.

Same CLI, same repositories as the process-backend tests; what changes is where ruff and pytest
run. The findings must not depend on it. The install step (docs/sandbox.md) is exercised for real: a test
needs `six`, installed from PyPI in the networked install container (with the CA bundle this
machine's TLS proxy requires), and the tests then run in the network-less session container.

With REVIEWBOT_REQUIRE_DOCKER=1 (CI) a missing engine or image fails these tests instead of
skipping them (the same rule as tests/sandbox/conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import LIB, NOISY, TESTS, CliResult, Repo

pytestmark = pytest.mark.docker


CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]


@pytest.fixture
def docker_review(docker_client: Any, review: Review, monkeypatch: pytest.MonkeyPatch) -> Iterator[Review]:
    """`review` (the in-process CLI) with the Docker backend; afterwards no container of ours is left."""
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)

    def run(repo: Repo | Path, *extra: str, fmt: str = "json") -> CliResult:
        return review(repo, "--sandbox", "docker", *extra, fmt=fmt)

    yield run
    assert our_containers(docker_client) == [], "a review left sandbox containers behind"


def comparable(report: dict[str, Any] | None, key: str = "findings") -> list[tuple[Any, ...]]:
    """What must not depend on the backend (evidence holds paths and timings that may)."""
    assert report is not None
    return sorted(
        (
            f["tool"],
            f["rule_id"],
            f["path"],
            f["start_line"],
            f["end_line"],
            f["severity"],
            f["snippet"],
            f["fingerprint"],
            f["message"],
        )
        for f in report[key]
    )


def test_same_findings_as_the_process_backend(
    make_repo: MakeRepo, review: Review, docker_review: Review
) -> None:
    repo = make_repo(
        {
            "lib.py": LIB,
            "noisy.py": NOISY,
            "tests/test_lib.py": TESTS,
        }
    )
    # Lint the change introduced (unused import, eval), lint it did not (the old `import os`), a test
    # the change breaks and one that was already broken.
    repo.commit(
        {
            "noisy.py": "import sys\n" + NOISY + "\n\ndef run(x):\n    return eval(x)\n",
            "lib.py": LIB.replace("return a + b", "return a + b + 1"),
        }
    )
    in_docker = docker_review(repo)
    in_process = review(repo, "--sandbox", "process")
    assert in_docker.code == in_process.code == 1
    found = comparable(in_docker.report)
    assert found == comparable(in_process.report)
    assert comparable(in_docker.report, "preexisting") == comparable(in_process.report, "preexisting")
    rules = {(f[1], f[2]) for f in found}
    assert {("F401", "noisy.py"), ("S307", "noisy.py"), ("test-failure", "tests/test_lib.py")} <= rules
    assert in_docker.report is not None
    ran = {r["name"]: r["status"] for r in in_docker.report["runs"]}
    assert ran["pytest (head)"] == ran["pytest (base)"] == "failed"  # base: the already-broken one
    assert "install" not in ran, "no install_command configured: no install step"


def test_new_failing_test_is_attributed_to_the_change(make_repo: MakeRepo, docker_review: Review) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": LIB.replace("return a - b", "return b - a")})
    result = docker_review(repo)
    assert result.code == 1
    assert result.report is not None
    new = [f for f in result.report["findings"] if f["rule_id"] == "test-failure"]
    assert [f["snippet"] for f in new] == ["tests/test_lib.py::test_sub"]
    assert new[0]["start_line"] == 8 and "passes at the base" in new[0]["message"]
    assert "assert -2 == 2" in (new[0]["evidence"] or "")
    assert [f["snippet"] for f in result.report["preexisting"]] == ["tests/test_lib.py::test_already_broken"]


def _six_repo(make_repo: MakeRepo, install: list[str], timeout_s: float = 240) -> Repo:
    config = (
        "[tool.reviewbot.sandbox]\n"
        f"install_command = {json.dumps(install)}\n"
        f"install_timeout_s = {timeout_s}\n"
        f"ca_bundle = {json.dumps(str(CA_BUNDLE))}\n"
    )
    tests = (
        "import socket\n\nimport six\n\nfrom lib import add\n\n\n"
        "def test_add():\n    assert six.PY3 and add(1, 2) == 3\n\n\n"
        "def test_offline():\n"
        "    try:\n        socket.create_connection(('pypi.org', 443), timeout=3)\n"
        "    except OSError:\n        return\n"
        "    raise AssertionError('the tests had network')\n"
    )
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": tests, "pyproject.toml": config})
    repo.commit({"lib.py": LIB.replace("return a + b", "return a + b + 1")})
    return repo


PIP_USER = ["python", "-m", "pip", "install", "--user", "--no-cache-dir", "--disable-pip-version-check"]


def test_install_command_installs_from_pypi_then_tests_run_offline(
    make_repo: MakeRepo, docker_review: Review
) -> None:
    if not CA_BUNDLE.exists():
        pytest.fail(f"{CA_BUNDLE} is needed here for PyPI through the TLS proxy")
    repo = _six_repo(make_repo, [*PIP_USER, "six"])
    result = docker_review(repo)
    assert result.report is not None
    runs = result.report["runs"]
    install = runs[0]
    assert install["name"] == "install (head)" and install["status"] == "ok", install
    assert "six" in install["detail"]
    # six imported: the only failure is the one the change introduced; and there was no network.
    assert {f["snippet"] for f in result.report["findings"]} == {"tests/test_lib.py::test_add"}
    assert result.report["errors"] == [] and result.code == 1
    assert [r["name"] for r in runs].index("install (head)") < [r["name"] for r in runs].index(
        "pytest (head)"
    )


def test_failed_install_is_a_review_error_and_tests_do_not_run(
    make_repo: MakeRepo, docker_review: Review
) -> None:
    repo = _six_repo(make_repo, [*PIP_USER, "--retries", "0", "reviewbot-no-such-package-zz9"])
    result = docker_review(repo)
    assert result.code == 2
    assert result.err.startswith("reviewbot: error: the install step (head) failed (exit 1)")
    assert "reviewbot-no-such-package-zz9" in result.err and result.err.count("\n") == 1
    assert result.report is not None
    assert [r["name"] for r in result.report["runs"] if r["name"].startswith("pytest")] == []
    assert "tests: not run because the install step (head) failed" in result.report["skipped"]
    assert result.report["findings"] == []


def test_install_step_has_its_own_time_limit(make_repo: MakeRepo, docker_review: Review) -> None:
    repo = _six_repo(make_repo, ["sleep", "600"], timeout_s=3)
    result = docker_review(repo)
    assert result.code == 2
    assert "install_timeout_s=3" in result.err
    assert result.report is not None
    assert result.report["runs"][0] == {
        **result.report["runs"][0],
        "name": "install (head)",
        "status": "timeout",
    }


def test_install_command_with_credentials_in_a_url_is_refused(
    make_repo: MakeRepo, docker_review: Review
) -> None:
    repo = _six_repo(make_repo, [*PIP_USER, "--index-url", "https://me:s3cret@pypi.example/simple", "six"])
    result = docker_review(repo)
    assert result.code == 2
    assert "credentials in a URL" in result.err and "s3cret" not in result.err


def test_install_container_gets_no_secret_from_the_bot(
    make_repo: MakeRepo, docker_review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_NOTREAL123")
    monkeypatch.setenv("REVIEWBOT_LLM__API_KEY", "sk-NOTREAL456")
    dump = "import os, pathlib; print(sorted(os.environ), pathlib.Path('/proc/1/environ').read_bytes())"
    repo = _six_repo(make_repo, ["python", "-c", dump])
    result = docker_review(repo)
    assert result.report is not None
    install = result.report["runs"][0]
    assert install["name"] == "install (head)" and install["status"] == "ok"
    assert "'PATH'" in install["detail"] and "PIP_CERT" in install["detail"]  # it did print the env
    assert "GITHUB_TOKEN" not in install["detail"] and "API_KEY" not in install["detail"]
    everything = json.dumps(result.report) + result.out + result.err
    assert "ghs_NOTREAL123" not in everything and "sk-NOTREAL456" not in everything


def test_install_step_is_skipped_when_nothing_runs_the_code(
    make_repo: MakeRepo, docker_review: Review
) -> None:
    repo = _six_repo(make_repo, [*PIP_USER, "--retries", "0", "reviewbot-no-such-package-zz9"])
    result = docker_review(repo, "--no-tests")
    assert result.report is not None and result.report["errors"] == []
    assert "install" not in {r["name"] for r in result.report["runs"]}
    assert any(s.startswith("install: not run") for s in result.report["skipped"])
