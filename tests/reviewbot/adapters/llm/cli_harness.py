"""`reviewbot local` in a subprocess against a real git repository, with a scripted model on loopback.

    res = run_cli(repo, srv, env={"REVIEWBOT_AGENT__BUDGET_S": "8"})
    res.code, res.review (the JSON report), res.llm_row, res.stderr

Every run is checked for leaks: neither the endpoint's address nor the API key may appear in what
reviewbot prints or writes, nor in any request body it sent (the key belongs in a header only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.llm_server import LLMServer

ROOT = Path(__file__).resolve().parents[4]
SECRET = "sk-habit-0123456789abcdefSECRET"
_FOREIGN = ("REVIEWBOT_", "OPENAI_", "ANTHROPIC_")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    review: dict[str, Any] | None

    @property
    def llm_row(self) -> dict[str, Any]:
        assert self.review is not None, self.stderr
        rows: list[dict[str, Any]] = [r for r in self.review["runs"] if r["name"].startswith("llm ")]
        assert len(rows) == 1, self.review["runs"]
        return rows[0]

    @property
    def findings(self) -> list[dict[str, Any]]:
        assert self.review is not None, self.stderr
        return list(self.review["findings"])

    def llm_findings(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f["tool"] == "llm"]

    def expected_code(self, fail_on: str = "warning") -> int:
        """The exit code the findings call for (what a degraded model side must still give)."""
        rank = {"error": 3, "warning": 2, "note": 1}
        failing = [f for f in self.findings if f["evidenced"] and rank[f["severity"]] >= rank[fail_on]]
        return 1 if failing else 0


def run_cli(
    repo: Path,
    srv: LLMServer,
    *,
    env: dict[str, str] | None = None,
    fail_on: str = "warning",
    timeout_s: float = 180,
) -> CliResult:
    argv = [
        sys.executable,
        "-m",
        "reviewbot",
        "local",
        str(repo),
        "--base",
        "main",
        "--head",
        "feature",
        "--sandbox",
        "process",
        "--no-tests",
        "--format",
        "json",
        "--fail-on",
        fail_on,
        "--llm",
        srv.wire,
        "--llm-base-url",
        srv.base_url,
        "--llm-model",
        "fake-model",
    ]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    environ |= {"REVIEWBOT_LLM_API_KEY": SECRET, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout_s, env=environ, cwd=repo.parent
    )
    review = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None
    result = CliResult(proc.returncode, proc.stdout, proc.stderr, review)
    assert_no_leak(result, srv)
    return result


def assert_no_leak(result: CliResult, srv: LLMServer) -> None:
    address = f"127.0.0.1:{srv.port}"
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert address not in text, f"the endpoint's address is in {name}"
        assert SECRET not in text, f"the API key is in {name}"
    for i, body in enumerate(srv.requests):
        dumped = json.dumps(body)
        assert SECRET not in dumped, f"the API key is in the body of request #{i + 1}"
        assert address not in dumped, f"the endpoint's address is in the body of request #{i + 1}"
