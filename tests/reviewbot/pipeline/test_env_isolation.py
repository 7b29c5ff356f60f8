"""The base is pristine (docs/security-probes.md, probe 56): nothing the head's run wrote or started
reaches the base run, so a pull request cannot hide the test it breaks.

The pull request breaks `add` and adds a conftest.py whose `pytest_sessionfinish` hook (it runs
after the head's tests, before the base re-run) tries every channel at once: the base tree's copy
of the broken file, /tmp, $HOME, a .pth and a sitecustomize in the user site, and a process left
running that keeps rewriting the base tree. The base's own test checks that it sees none of it;
if anything leaked, the base run would fail too and the review would file the broken test as
"already failing at the base" (exit 0). It must say the change broke it (exit 1).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import CliResult, Repo

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]

LIB = "def add(a, b):\n    return a + b\n"
#: The base's test: fails if any tamper reached it, passes on a pristine base.
TESTS = """\
import os
import pathlib
import sys
import tempfile

from lib import add

MARK = "reviewbot-tamper"


def leaks():
    found = []
    for place in (os.path.join(tempfile.gettempdir(), MARK), os.path.join(os.environ["HOME"], MARK)):
        if os.path.exists(place):
            found.append(place)
    if os.environ.get("TAMPERED") or "tamper_hook" in sys.modules:
        found.append("user site .pth / sitecustomize")
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if MARK.encode() in (proc / "cmdline").read_bytes():
                found.append(f"process {proc.name}")
        except OSError:
            pass
    if MARK in pathlib.Path("lib.py").read_text():
        found.append("lib.py rewritten")
    return found


def test_add():
    assert leaks() == []
    assert add(1, 2) == 3
"""
CONFTEST = """\
import os
import pathlib
import site
import subprocess
import tempfile

MARK = "reviewbot-tamper"
BROKEN = "# " + MARK + "\\ndef add(a, b):\\n    return a - b\\n"


def pytest_sessionfinish(session, exitstatus):
    root = pathlib.Path(str(session.config.rootpath))
    for base in (root.parent / "base", pathlib.Path("/work/base")):
        try:
            base.mkdir(parents=True, exist_ok=True)
            (base / "lib.py").write_text(BROKEN)
        except OSError:
            pass
    pathlib.Path(tempfile.gettempdir(), MARK).write_text("x")  # /tmp in the container
    pathlib.Path(os.environ["HOME"], MARK).write_text("x")
    user_site = pathlib.Path(site.getusersitepackages())
    user_site.mkdir(parents=True, exist_ok=True)
    (user_site / "tamper.pth").write_text("import os; os.environ['TAMPERED'] = '1'\\n")
    (user_site / "sitecustomize.py").write_text("import tamper_hook\\n")
    (user_site / "tamper_hook.py").write_text("import os\\nos.environ['TAMPERED'] = '1'\\n")
    loop = f"while :; do for d in /work/base {root.parent}/base; do cp lib.py $d/; done; sleep 0.2; done"
    if str(root).startswith("/work/"):  # in a container only: never leave a loop on a test host
        subprocess.Popen(["sh", "-c", loop, MARK], start_new_session=True, cwd=str(root))
    pathlib.Path("lib.py").write_text(BROKEN)
"""


def tampering_repo(make_repo: MakeRepo) -> Repo:
    repo = make_repo({"lib.py": LIB, "tests/test_lib.py": TESTS})
    repo.commit({"lib.py": LIB.replace("a + b", "a + b + 1"), "conftest.py": CONFTEST})
    return repo


def assert_blamed_on_the_change(result: CliResult) -> None:
    assert result.report is not None, result.err
    assert result.code == 1, (result.err, json.dumps(result.report)[:4000])
    findings = result.report["findings"]
    assert [f["snippet"] for f in findings if f["rule_id"] == "test-failure"] == [
        "tests/test_lib.py::test_add"
    ]
    assert result.report["preexisting"] == []
    ran = {r["name"]: r["status"] for r in result.report["runs"]}
    assert ran["pytest (head)"] == "failed" and ran["pytest (base)"] == "ok"


@pytest.mark.docker
def test_head_run_cannot_tamper_with_the_base_in_docker(
    make_repo: MakeRepo, review: Review, docker_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)
    result = review(tampering_repo(make_repo), "--sandbox", "docker")
    assert_blamed_on_the_change(result)
    assert our_containers(docker_client) == [], "both revisions' containers are removed"


def test_head_run_cannot_tamper_with_the_base_in_the_process_backend(
    make_repo: MakeRepo, review: Review, tmp_path: Path
) -> None:
    # Trusted code only (absolute paths like /tmp are the host's), but within that the same
    # promise: the base gets a fresh root, HOME and TMPDIR; no user site is shared.
    result = review(tampering_repo(make_repo))
    assert_blamed_on_the_change(result)


@pytest.mark.docker
def test_sigterm_while_the_base_runs_removes_both_revisions_containers(
    make_repo: MakeRepo, docker_client: Any, tmp_path: Path
) -> None:
    slow_at_base = "import time\n\n\ndef test_x():\n    time.sleep(60)\n"
    repo = make_repo({"lib.py": LIB, "tests/test_x.py": slow_at_base})
    repo.commit({"tests/test_x.py": "def test_x():\n    assert False\n"})
    env = {**os.environ, "REVIEWBOT_SANDBOX__BACKEND": "docker", "REVIEWBOT_SANDBOX__IMAGE": SANDBOX_IMAGE}
    argv = [sys.executable, "-m", "reviewbot", "local", str(repo.path), "--format", "json"]
    proc = subprocess.Popen([*argv, "-o", str(tmp_path / "r.json")], env=env, stderr=subprocess.PIPE)
    owner = f":{proc.pid}:"

    def ours() -> list[dict[str, Any]]:
        found = docker_client.api.containers(all=True, filters={"label": "reviewbot.sandbox=1"})
        return [c for c in found if owner in (c.get("Labels") or {}).get("reviewbot.owner", "")]

    deadline = time.monotonic() + 120
    while len(ours()) < 2:  # head's container, then the base's own
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the review never opened the base's session"
        time.sleep(0.1)
    time.sleep(1.0)  # the slow base test is running now
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert ours() == [], "a revision's container outlived the SIGTERM'd review"
