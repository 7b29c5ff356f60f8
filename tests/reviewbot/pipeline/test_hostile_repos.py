"""Pull requests that attack the reviewer, run through the real review (`reviewbot local`, in-process).

Probes 40-45 of docs/security-probes.md and their neighbours, at the level of a whole review
rather than one sandbox call. Each test asserts the safe outcome (nothing reaches the host, no
secret leaves the bot) AND that reviewbot survives and says clearly what happened (exit code +
message).

Most attacks run with the Docker backend and, where the process backend's protection is meaningful
for the attack (scrubbed env, temp HOME, network namespace, output caps, wall clock), with it too.
Not with the process backend: a fork bomb (RLIMIT_NPROC does not bind root, which these machines
run as) and writes to arbitrary host paths (it has no filesystem isolation: trusted code only).
"""

from __future__ import annotations

import json
import resource
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.process import network_prefix
from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import CliResult, Repo

SECRET = "ghs_NOTREAL123"
LIB = "def add(a, b):\n    return a + b\n"
TESTS = "from lib import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker), "process"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend a test runs with; Docker ones check that no container of ours is left after."""
    if request.param == "process":
        yield "process"
        return
    client = request.getfixturevalue("docker_client")
    yield "docker"
    assert our_containers(client) == [], "the review left sandbox containers behind"


@pytest.fixture
def docker_only(docker_client: Any) -> Iterator[str]:
    yield "docker"
    assert our_containers(docker_client) == [], "the review left sandbox containers behind"


@pytest.fixture
def hostile(review: Review, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., CliResult]:
    """Review with a secret in the bot's environment; the trace goes to tmp_path/trace.jsonl."""
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)

    def run(repo: Repo, backend: str, *extra: str, fmt: str = "json") -> CliResult:
        trace = tmp_path / "trace.jsonl"
        trace.unlink(missing_ok=True)
        return review(repo, "--sandbox", backend, "--trace", str(trace), *extra, fmt=fmt)

    return run


def assert_no_secret(result: CliResult, tmp_path: Path) -> None:
    everything = [result.out, result.err, json.dumps(result.report), (tmp_path / "trace.jsonl").read_text()]
    for text in everything:
        assert SECRET not in text


def leak_probe(host_dir: Path, home_mark: str) -> str:
    """Python run by the PR's conftest/plugin: write to $HOME and a host path, read env, try the net.
    It records what it could do in `leak.txt` (inside the sandbox copy), for the PR's test to show."""
    return (
        "import os, pathlib, socket\n"
        f"pathlib.Path.home().joinpath({home_mark!r}).write_text('pwned')\n"
        "try:\n"
        f"    pathlib.Path({str(host_dir / 'escaped')!r}).write_text('pwned')\n"
        "    host = 'written'\n"
        "except OSError as exc:\n"
        "    host = f'refused-{exc.errno}'\n"
        "try:\n"
        "    socket.create_connection(('pypi.org', 443), timeout=3).close()\n"
        "    net = 'open'\n"
        "except OSError:\n"
        "    net = 'blocked'\n"
        "secret = 'GITHUB_TOKEN' in os.environ or any('ghs_' in v for v in os.environ.values())\n"
        "pathlib.Path('leak.txt').write_text(f'host={host} net={net} secret={secret}')\n"
    )


SHOW_LEAK = (
    "import pathlib\n\n\n"
    "def test_show_what_the_probe_could_do():\n"
    "    assert False, pathlib.Path('leak.txt').read_text()\n"
)


def _evidence(result: CliResult, nodeid: str) -> str:
    assert result.report is not None
    found = [f for f in result.report["findings"] if f["snippet"] == nodeid]
    assert found, f"no finding for {nodeid}: {result.report['findings']} / {result.report['errors']}"
    return str(found[0]["message"]) + str(found[0]["evidence"])


def test_conftest_side_effects_stay_in_the_sandbox(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path
) -> None:
    home_mark = f"reviewbot-pwned-{uuid.uuid4().hex}"
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"conftest.py": leak_probe(host_dir, home_mark), "tests/test_leak.py": SHOW_LEAK})
    result = hostile(repo, backend)
    # The review went on: the PR's test ran, failed, and is reported as the change's.
    assert result.code == 1, result.err
    evidence = _evidence(result, "tests/test_leak.py::test_show_what_the_probe_could_do")
    assert "secret=False" in evidence
    assert not (Path.home() / home_mark).exists(), "the PR wrote into the bot's HOME"
    if backend == "docker" or network_prefix() is not None:
        assert "net=blocked" in evidence
    if backend == "docker":
        assert "host=refused" in evidence and not (host_dir / "escaped").exists()
    assert_no_secret(result, tmp_path)


def test_addopts_plugin_from_the_pr_runs_only_in_the_sandbox(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path
) -> None:
    home_mark = f"reviewbot-pwned-{uuid.uuid4().hex}"
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit(
        {
            "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p evilplugin"\n',
            "evilplugin.py": leak_probe(host_dir, home_mark),
            "tests/test_leak.py": SHOW_LEAK,
        }
    )
    result = hostile(repo, backend)
    assert result.code == 1, result.err
    evidence = _evidence(result, "tests/test_leak.py::test_show_what_the_probe_could_do")
    assert "secret=False" in evidence  # the plugin really ran, inside the sandbox, and found nothing
    assert "evilplugin" not in sys.modules, "the PR's plugin was imported by the bot itself"
    assert not (Path.home() / home_mark).exists()
    if backend == "docker":
        assert "net=blocked" in evidence and "host=refused" in evidence
        assert not (host_dir / "escaped").exists()
    assert_no_secret(result, tmp_path)


def test_ruff_extend_proc_self_environ_leaks_no_secret(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path
) -> None:
    # The lint configuration comes from the base (a pull request's own has no say: see
    # test_lint_policy.py), so the hostile configuration sits at the base here.
    repo = make_repo({"lib.py": LIB, "pyproject.toml": '[tool.ruff]\nextend = "/proc/self/environ"\n'})
    repo.commit({"lib.py": LIB + "\nX = 1\n"})
    result = hostile(repo, backend, "--no-tests")
    # ruff cannot use that configuration: an analyzer error, never "clean".
    assert result.code == 2
    assert result.err.startswith("reviewbot: error: ruff check (head)")
    assert result.err.count("\n") == 1, "the reason on stderr must be one line"
    assert result.report is not None and result.report["errors"]
    # It did read the file it was pointed at (the sandbox's own environment) ...
    assert "PATH=" in result.report["errors"][0] or "environ" in result.report["errors"][0]
    # ... and the bot's secret is nowhere: not in the report, the trace, stdout or stderr.
    assert_no_secret(result, tmp_path)


def test_escaping_symlink_is_skipped_and_reported(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path
) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    (repo.path / "link").symlink_to("../../etc/passwd")
    repo.commit({"lib.py": LIB + "\n\ndef run(x):\n    return eval(x)\n"})
    result = hostile(repo, backend)
    assert result.report is not None
    skipped = [s for s in result.report["skipped"] if s.startswith("link:")]
    assert skipped and "escapes the tree" in skipped[0]
    # The review went on: lint found the eval, the tests ran.
    assert result.code == 1 and result.report["errors"] == []
    assert {f["rule_id"] for f in result.report["findings"]} >= {"S307"}
    assert {r["name"] for r in result.report["runs"]} >= {"ruff check (head)", "pytest (head)"}
    assert "root:" not in json.dumps(result.report)


def test_a_test_printing_100_mb_is_capped(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path
) -> None:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    # Failing, so pytest replays the captured 100 MB on its own stdout.
    big = "import sys\n\n\ndef test_big():\n    sys.stdout.write('x' * (100 << 20))\n    assert False\n"
    repo.commit({"tests/test_big.py": big})
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = hostile(repo, backend)
    peak_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert result.code == 2
    assert "pytest (head) printed more output than the sandbox allows" in result.err
    assert result.err.count("\n") == 1
    assert result.report is not None
    assert len(json.dumps(result.report)) < 100_000
    assert peak_growth_mb < 60, f"the bot's memory grew by {peak_growth_mb:.0f} MB"


def test_a_test_that_sleeps_forever_times_out(
    make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S", "4")
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"tests/test_hang.py": "import time\n\n\ndef test_hang():\n    time.sleep(10**9)\n"})
    result = hostile(repo, backend)
    assert result.code == 2
    assert "reviewbot: error: pytest (head) did not finish within 4 s" in result.err
    assert "running when it was stopped: `tests/test_hang.py::test_hang`" in result.err
    assert "REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S" in result.err
    assert result.report is not None
    statuses = {r["name"]: r["status"] for r in result.report["runs"]}
    assert statuses["pytest (head)"] == "timeout"


@pytest.mark.docker
def test_fork_bomb_in_a_test_is_contained(
    make_repo: MakeRepo, hostile: Review, docker_only: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWBOT_ANALYZERS__TEST_TIMEOUT_S", "6")
    monkeypatch.setenv("REVIEWBOT_SANDBOX__PIDS", "64")
    bomb = (
        "import os\n\n\n"
        "def test_bomb():\n"
        "    while True:\n"
        "        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n"
    )
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"tests/test_bomb.py": bomb})
    result = hostile(repo, docker_only)
    assert result.code == 2
    assert "pytest (head) did not finish within 6 s" in result.err
    # The bot and the engine are fine: the next review of the same repository works.
    (repo.path / "tests/test_bomb.py").unlink()
    repo.commit({"lib.py": LIB.replace("a + b", "a + b + 1")})
    after = hostile(repo, docker_only)
    assert after.code == 1 and after.report is not None
    assert {f["snippet"] for f in after.report["findings"]} == {"tests/test_lib.py::test_add"}


def test_file_name_with_a_newline(make_repo: MakeRepo, hostile: Review, backend: str, tmp_path: Path) -> None:
    name = "we\nird.py"
    repo = make_repo({"lib.py": LIB})
    repo.commit({name: "import os\n\n\ndef run(x):\n    return eval(x)\n"})
    result = hostile(repo, backend, "--no-tests")
    assert result.code == 1, result.err
    assert result.report is not None and result.report["errors"] == []
    assert {(f["rule_id"], f["path"]) for f in result.report["findings"]} == {("F401", name), ("S307", name)}
    text = hostile(repo, backend, "--no-tests", fmt="text")
    # The terminal report neutralises the newline: a file name cannot forge report lines.
    assert text.code == 1 and "we\nird.py" not in text.out
    assert "we ird.py" in text.out.splitlines()
