"""`reviewbot local` through the real command (subprocess, real git repository, process sandbox):
progress on stderr, every format scrubbed alike and naming the backend, markdown capped and
scrubbed exactly as PR mode posts it (the same function), piped text never wrapped."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewbot.adapters.github.publish import post_text
from reviewbot.core.render.markdown import review_markdown
from reviewbot.core.review import Review
from tests.reviewbot.cli.cli_helpers import ROOT, cli_env, make_repo, reviewbot

TOKEN = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
LONG_NAME = "module_with_a_deliberately_long_name_" * 3 + "end"
BASE = {
    "lib.py": "def add(a, b):\n    return a + b\n",
    "test_lib.py": "from lib import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}
HEAD = {
    "lib.py": f"def add(a, b):\n    {LONG_NAME} = 1\n    return a + b\n",
    # A new failing test whose failure text quotes a token and pings someone.
    "test_leak.py": f'TOKEN = "{TOKEN}"\n\n\ndef test_leak():\n    assert TOKEN == "x", "ping @octocat"\n',
}
PHASE_LINE = re.compile(r"^reviewbot: \[\s*\d+\.\d+s\] (.+)$", re.M)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("cli") / "repo", BASE, HEAD)


@pytest.fixture(scope="module")
def outputs(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The same review in all four formats (text piped to stdout, without --quiet)."""
    out: dict[str, str] = {}
    text = reviewbot("local", str(repo))
    assert text.code == 1, text.err
    out["text"], out["stderr"] = text.out, text.err
    folder = tmp_path_factory.mktemp("reports")
    for fmt in ("markdown", "json", "sarif"):
        target = folder / f"report.{fmt}"
        done = reviewbot("local", str(repo), "--quiet", "--format", fmt, "--output", str(target))
        assert done.code == 1, done.err
        assert not PHASE_LINE.search(done.err), "--quiet must silence the progress lines"
        out[fmt] = target.read_text(encoding="utf-8")
    return out


def test_progress_without_a_tty_is_one_line_per_phase(outputs: dict[str, str]) -> None:
    phases = PHASE_LINE.findall(outputs["stderr"])
    assert phases[:2] == ["reading the configuration", "preparing the change"] and phases[-1] == "done"
    assert "starting the process sandbox" in phases and "running the tests (head)" in phases
    assert len(phases) == len(set(phases)), "a phase is announced once"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "sarif"])
def test_no_output_format_carries_the_token(outputs: dict[str, str], fmt: str) -> None:
    assert TOKEN not in outputs[fmt] and TOKEN[:12] not in outputs[fmt]
    assert "[REDACTED]" in outputs[fmt], "the failing test's text is there, with the token masked"


def test_every_format_records_the_sandbox_backend(outputs: dict[str, str]) -> None:
    assert json.loads(outputs["json"])["sandbox_backend"] == "process"
    run = json.loads(outputs["sarif"])["runs"][0]
    assert run["properties"]["sandboxBackend"] == "process"
    assert run["invocations"][0]["properties"]["sandboxBackend"] == "process"
    assert "in the `process` sandbox" in outputs["markdown"]
    assert "reviewed in the process sandbox" in outputs["text"]


def test_piped_text_does_not_wrap_or_cut_lines(outputs: dict[str, str]) -> None:
    lines = outputs["text"].splitlines()
    assert any(LONG_NAME in line and len(line) > 100 for line in lines)
    assert all("…" not in line for line in lines)


def test_markdown_over_githubs_limit_is_capped_exactly_as_pr_mode_posts_it(tmp_path: Path) -> None:
    imports = "".join(f"import module_number_{i:04d}\n" for i in range(600))
    repo = make_repo(
        tmp_path / "big",
        {**BASE, ".reviewbot.toml": "max-findings = 1000\n[analyzers]\ntests = false\n"},
        {"big.py": imports},
    )
    md_file, json_file = tmp_path / "r.md", tmp_path / "r.json"
    for fmt, target in (("markdown", md_file), ("json", json_file)):
        done = reviewbot("local", str(repo), "-q", "--format", fmt, "--output", str(target))
        assert done.code == 1, done.err
    markdown = md_file.read_text(encoding="utf-8")
    review = Review.model_validate_json(json_file.read_text(encoding="utf-8"))
    assert len(review.findings) == 600 and len(review_markdown(review)) > 65_536
    assert len(markdown) <= 65_536
    # Two runs: only the steps' durations may differ between them.
    same = [
        re.sub(r"\| \d+\.\ds \|", "| _ |", text.rstrip("\n"))
        for text in (markdown, post_text(review_markdown(review)))
    ]
    assert same[0] == same[1]
    shown = markdown.count("<!-- reviewbot:fp=")
    assert 0 < shown < 600
    assert f"{600 - shown} more findings not shown" in markdown


def _read_pty(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    return b"".join(chunks)


def test_progress_on_a_tty_is_a_live_status_line(tmp_path: Path) -> None:
    slow = "import time\n\n\ndef test_slow():\n    time.sleep(3)\n"
    repo = make_repo(tmp_path / "slow", BASE, {"test_slow.py": slow})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "local", str(repo), "--format", "json"],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    started = time.monotonic()
    err = _read_pty(master, proc).decode("utf-8", "replace")
    os.close(master)
    assert proc.returncode == 0, err
    redraws = re.findall(r"\r\x1b\[2Kreviewbot: running the tests \(head\) - (\d+\.\d)s", err)
    # The line is redrawn while the 3-second test runs, with the elapsed time moving on.
    assert len(set(redraws)) >= 3, err
    assert time.monotonic() - started > 3
    assert err.endswith("\r\x1b[2K"), "the status line is cleared before the report"
