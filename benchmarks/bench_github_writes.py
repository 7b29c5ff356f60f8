"""Write requests per review, end to end: `reviewbot action` (real review, process sandbox) posting
to the fake GitHub (tests/fakes/github_server.py) over real HTTP, against the target:
at most 3 + ceil(annotations / 50) writes (review, summary, check run + one PATCH per further 50
annotations). File-level comments are counted separately: GitHub's create-review endpoint cannot
carry them, so each is one more write.

    python benchmarks/bench_github_writes.py
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.cli.main import main  # noqa: E402
from tests.fakes.github_server import FakeGitHub  # noqa: E402
from tests.shared_data import SHARED  # noqa: E402

EXAMPLE = SHARED / "github/webhooks/payload-examples/api.github.com/pull_request/opened.payload.json"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def make_repo(path: Path, n_findings: int) -> None:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "b@e.x")
    git(path, "config", "user.name", "bench")
    (path / "base.py").write_text("x = 1\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "base")
    git(path, "checkout", "-qb", "feature")
    (path / "clean.py").write_text("y = 2\n")  # so even the 0-finding PR has a change
    # Each unused import is one F401 finding on an added line; 20 per file.
    for i in range(math.ceil(n_findings / 20)):
        count = min(20, n_findings - 20 * i)
        mods = [
            "os",
            "sys",
            "json",
            "re",
            "io",
            "abc",
            "ast",
            "csv",
            "dis",
            "gc",
            "glob",
            "gzip",
            "html",
            "http",
            "math",
            "mmap",
            "pdb",
            "pty",
            "pwd",
            "time",
        ]
        (path / f"mod{i}.py").write_text("".join(f"import {m}\n" for m in mods[:count]))
    git(path, "add", ".")
    git(path, "commit", "-qm", "feature")
    git(path, "checkout", "-q", "main")


def run_action(gh: FakeGitHub, repo: Path, tmp: Path) -> tuple[int, float]:
    ws = tmp / f"ws{time.monotonic_ns()}"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature", repo.as_uri(), str(ws)],
        check=True,
        capture_output=True,
    )
    event = json.loads(EXAMPLE.read_text())
    pr = event["pull_request"]
    pr["number"] = event["number"] = 1
    pr["head"]["sha"] = git(repo, "rev-parse", "feature").strip()
    pr["base"]["sha"] = git(repo, "rev-parse", "main").strip()
    pr["head"]["repo"]["full_name"] = pr["base"]["repo"]["full_name"] = gh.full_name
    (tmp / "event.json").write_text(json.dumps(event))
    os.environ.update(
        {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(tmp / "event.json"),
            "GITHUB_REPOSITORY": gh.full_name,
            "GITHUB_API_URL": gh.base_url,
            "GITHUB_WORKSPACE": str(ws),
            "GITHUB_TOKEN": gh.token,
            "RUNNER_TEMP": str(tmp),
            "REVIEWBOT_SANDBOX__BACKEND": "process",
            "REVIEWBOT_SANDBOX__ALLOW_PROCESS_BACKEND_FOR_UNTRUSTED": "true",
            "REVIEWBOT_ANALYZERS__TESTS": "false",
            "REVIEWBOT_MAX_FINDINGS": "1000",
        }
    )
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["action", "--fail-on", "never"])
    return code, time.perf_counter() - start


def main_bench() -> None:
    rows = []
    for n in (0, 2, 40, 120, 260):
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            repo = tmp / "repo"
            make_repo(repo, n)
            with FakeGitHub(repo) as gh:
                gh.open_pull(1, "main", "feature")
                for label in ("first run", "re-run, same head"):
                    before = len(gh.writes())
                    code, seconds = run_action(gh, repo, tmp)
                    writes = gh.writes()[before:]
                    annotations = len(gh.check_runs[-1]["annotations"]) if gh.check_runs else 0
                    file_comments = sum(1 for w in writes if w.operation == "pulls/create-review-comment")
                    target = 3 + math.ceil(annotations / 50)
                    rows.append(
                        (
                            n,
                            label,
                            annotations,
                            len(writes),
                            file_comments,
                            target,
                            len(writes) - file_comments <= target,
                            seconds,
                            code,
                        )
                    )
    print(
        f"{'findings':>8} {'run':<18} {'annot.':>6} {'writes':>6} {'file cmts':>9} "
        f"{'target 3+ceil(a/50)':>20} {'ok':>3} {'time s':>7}"
    )
    for n, label, a, w, fc, target, ok, seconds, _code in rows:
        verdict = "yes" if ok else "NO"
        print(f"{n:>8} {label:<18} {a:>6} {w:>6} {fc:>9} {target:>20} {verdict:>3} {seconds:>7.1f}")
    print(
        "\nwrites = review + summary + check run, plus one PATCH per further 50 annotations"
        "\n(file-level comments, if any, are extra writes and listed apart; 'ok' excludes them)."
        "\nwall time includes the real review and the 1 s spacing between writes."
    )


if __name__ == "__main__":
    main_bench()
