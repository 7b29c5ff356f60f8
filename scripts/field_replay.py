#!/usr/bin/env python3
"""Replay a real project's merged commits through `reviewbot local`, with zero configuration.

    scripts/field_replay.py /path/to/clone --last 10 [--sandbox docker]

Each first-parent commit on HEAD is reviewed against its first parent (what its pull request
showed). Maintainers accepted these changes, so every error or warning finding is a false alarm
to look at, and every exit 2 is reviewbot failing to do its job. Prints one line per commit and
a summary: exit codes, findings by severity, and how many of the project's tests ran.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def review(repo: Path, sha: str, sandbox: str) -> tuple[int, dict[str, object] | None, str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewbot",
            "local",
            str(repo),
            "--base",
            f"{sha}^1",
            "--head",
            sha,
            "--sandbox",
            sandbox,
            "--format",
            "json",
            "--quiet",
            "--fail-on",
            "warning",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return done.returncode, json.loads(done.stdout), done.stderr.strip()
    except json.JSONDecodeError:
        return done.returncode, None, done.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--last", type=int, default=10)
    parser.add_argument("--sandbox", default="docker")
    args = parser.parse_args()
    shas = _git(args.repo, "rev-list", "--first-parent", f"--max-count={args.last}", "HEAD").split()
    codes: Counter[int] = Counter()
    severities: Counter[str] = Counter()
    for sha in shas:
        code, report, err = review(args.repo, sha, args.sandbox)
        codes[code] += 1
        subject = _git(args.repo, "log", "-1", "--format=%s", sha).strip()[:50]
        if report is None:
            print(f"{sha[:8]} exit {code}  {subject}\n    {err[-300:]}")
            continue
        findings = report.get("findings") or []
        assert isinstance(findings, list)
        severities.update(str(f["severity"]) for f in findings)
        tests = [r["detail"] for r in report.get("runs") or [] if str(r["name"]).startswith("pytest (head)")]
        print(f"{sha[:8]} exit {code}  {subject}")
        for f in findings:
            where = f"{f['path']}:{f.get('start_line')}"
            print(f"    {f['severity']} {f['tool']}/{f['rule_id']} {where} {f['message'][:90]}")
        for t in tests:
            print(f"    tests: {str(t)[:120]}")
        for e in report.get("errors") or []:
            print(f"    error: {str(e)[:200]}")
    print(f"\n{len(shas)} commits: exit codes {dict(codes)}; findings {dict(severities)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
