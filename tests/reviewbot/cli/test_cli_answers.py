"""The command answers at once and says what to do: `--help` and bad arguments load none of the
heavy stack, every argument is checked before any work, configuration and Docker errors name the
file, the key as written, the socket, and what to run. Real subprocesses, real git repositories."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reviewbot.cli.cli_helpers import cli_env, make_repo, reviewbot

HEAVY = (
    "pydantic",
    "docker",
    "github",
    "rich",
    "httpx",
    "git",
    "webhooks",
    "flask",
    "reviewbot.pipeline.run",
)
REPO = {"lib.py": "def add(a, b):\n    return a + b\n"}


def _imported(importtime_stderr: str) -> set[str]:
    """Top-level package names from `python -X importtime` output."""
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", importtime_stderr, re.M)
    return {n.split(".")[0] for n in names} | set(names)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["local", "--help"],
        ["local", ".", "--format", "yaml"],
        ["local", ".", "--output", "no/such/dir/report.json"],
    ],
)
def test_help_and_argument_errors_import_nothing_heavy(argv: list[str]) -> None:
    done = reviewbot(*argv, python=("-X", "importtime"))
    assert done.code in (0, 2)
    loaded = _imported(done.err) & set(HEAVY)
    assert not loaded, f"{argv} imported {sorted(loaded)}"


def test_help_lists_the_entry_point_commands_without_loading_them() -> None:
    done = reviewbot("--help", python=("-X", "importtime"))
    assert re.search(r"^\s+serve\s", done.out, re.M) and re.search(r"^\s+worker\s", done.out, re.M)
    assert "webhooks" not in _imported(done.err)


def test_a_missing_output_directory_is_refused_before_any_work(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", REPO, {"lib.py": "import os\n"})
    done = reviewbot("local", str(repo), "--output", str(tmp_path / "nope" / "r.json"))
    assert done.code == 2
    assert done.err.startswith("reviewbot: error: --output ") and "does not exist" in done.err
    assert "preparing the change" not in done.err, "nothing ran"
    done = reviewbot("local", str(repo), "--trace", str(tmp_path))
    assert done.code == 2 and "is a directory" in done.err


def test_a_bad_config_names_the_file_and_every_key_as_written(tmp_path: Path) -> None:
    config = (
        'fail-on = "sometimes"\nmax-findigns = 3\n[analyzers]\ntest-timeout = 5\n[sandbox]\nmemory-mb = 1\n'
    )
    repo = make_repo(tmp_path / "repo", {**REPO, ".reviewbot.toml": config}, {"lib.py": "import os\n"})
    done = reviewbot("local", str(repo))
    assert done.code == 2
    lines = [line for line in done.err.splitlines() if not line.startswith("reviewbot: [")]
    assert lines[0] == "reviewbot: error: invalid configuration (4 problems):"
    assert "preparing the change" not in done.err, "no review work started"
    where = str(repo / ".reviewbot.toml")
    assert sorted(lines[1:]) == [
        f"  - {where}: analyzers.test-timeout: unknown key; did you mean test-timeout-s?",
        f"  - {where}: fail-on: Input should be 'error', 'warning', 'note' or 'never' (got 'sometimes')",
        f"  - {where}: max-findigns: unknown key; did you mean max-findings?",
        f"  - {where}: sandbox.memory-mb: Input should be greater than or equal to 64 (got 1)",
    ]


def test_the_readme_snippet_pasted_into_reviewbot_toml_works(tmp_path: Path) -> None:
    config = '[tool.reviewbot]\nfail-on = "never"\n\n[tool.reviewbot.analyzers]\ntests = false\n'
    repo = make_repo(tmp_path / "repo", {**REPO, ".reviewbot.toml": config}, {"lib.py": "import os\n"})
    done = reviewbot("local", str(repo), "-q")
    assert done.code == 0, done.err  # the unused import is reported, and fail-on = never applies
    assert "F401" in done.out


def test_an_unreachable_docker_engine_is_explained_with_what_to_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", REPO, {"lib.py": "import os\n"})
    env = cli_env(DOCKER_HOST=f"unix://{tmp_path}/no.sock")
    done = reviewbot("local", str(repo), "-q", "--sandbox", "docker", env=env)
    assert done.code == 2
    assert f"no Docker engine at unix://{tmp_path}/no.sock" in done.err
    assert "reviewbot sandbox doctor" in done.err and "DOCKER_HOST" in done.err
    assert "Exception" not in done.err
    doctor = reviewbot("sandbox", "doctor", env=env)
    assert doctor.code == 2 and f"unix://{tmp_path}/no.sock" in doctor.err
    fallback = reviewbot("local", str(repo), "-q", "--sandbox", "auto", env=env)
    assert fallback.code == 1
    assert "warning: using the process backend (no container isolation): no Docker engine at" in fallback.err


def test_a_refused_connection_says_the_engine_is_not_running(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", REPO, {"lib.py": "import os\n"})
    done = reviewbot(
        "local", str(repo), "-q", "--sandbox", "docker", env=cli_env(DOCKER_HOST="tcp://127.0.0.1:9")
    )
    assert done.code == 2 and "tcp://127.0.0.1:9 is not running (connection refused)" in done.err


@pytest.mark.docker
def test_a_missing_image_is_named_with_the_command_that_builds_it(
    tmp_path: Path, docker_client: object
) -> None:
    repo = make_repo(tmp_path / "repo", REPO, {"lib.py": "import os\n"})
    env = cli_env(REVIEWBOT_SANDBOX__IMAGE="reviewbot-gone:missing")
    done = reviewbot("local", str(repo), "-q", "--sandbox", "docker", env=env)
    assert done.code == 2
    assert (
        "the sandbox image reviewbot-gone:missing is missing: build it with `reviewbot sandbox build`"
        in done.err
    )
