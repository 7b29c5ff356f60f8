"""How fast `reviewbot` answers, and the fixed cost of a small review, each
against a baseline measured in the same run.

    python benchmarks/bench_startup.py                  # process sandbox backend
    python benchmarks/bench_startup.py --repeat 9 --json out.json

(i)   `reviewbot --help` vs `python -c 'import argparse'`. Target <= 1.5x.
(ii)  An argument error (`reviewbot local --format yaml`) vs the same baseline. Target <= 1.5x.
(iii) A small review: a one-function change in the toolz slice (~185 tests), `reviewbot local`
      vs. the raw tools on the same checkout (`ruff check` of the changed file with the curated
      rules + `python -m pytest`). Target <= 1.10x.
(iv)  Lint overhead: `reviewbot local --no-tests` vs `ruff check` alone — what reviewbot adds
      around the linter (interpreter, imports, git, packing, ruff at base too). Reported.
Then where the fixed cost of (iii) goes, from the `--trace` events of one review: interpreter and
imports, preparing the change (git), starting the sandbox and copying files in, the tools, and
rendering + exit.

Every command runs as a subprocess (interpreter start-up included on both sides); figures are
medians of `--repeat` alternating runs after one unmeasured warm-up of each side. reviewbot is
byte-compiled first, as an install would leave it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_local import CURATED, Row, _alternate, _env, _timed, print_table, reviewbot_argv
from corpus.gitrepo import Repo, init_from_corpus

HELP_TARGET = 1.5
REVIEW_TARGET = 1.10
CHANGED = "toolz/dicttoolz.py"


def _ratio_row(name: str, ours: list[float], theirs: list[float], target: float, unit: str = "s") -> Row:
    ratio = statistics.median(ours) / statistics.median(theirs)
    return Row(
        name=name,
        measured=statistics.median(ours),
        baseline=statistics.median(theirs),
        unit=unit,
        target=f"<= {target:.2f}x",
        ok=ratio <= target,
        note=f"{ratio:.2f}x",
        samples={"reviewbot": ours, "baseline": theirs},
    )


def bench_help(repeat: int, work: Path) -> list[Row]:
    env = _env("process")
    argparse_only = [sys.executable, "-c", "import argparse"]

    def baseline() -> float:
        return _timed(argparse_only, work, env, ok=(0,))

    rows = []
    for name, argv, ok in (
        ("(i) reviewbot --help", ["--help"], (0,)),
        ("(ii) reviewbot local --format yaml (argument error)", ["local", ".", "--format", "yaml"], (2,)),
    ):
        cmd = [sys.executable, "-m", "reviewbot", *argv]
        ours, theirs = _alternate(lambda c=cmd, o=ok: _timed(c, work, env, ok=o), baseline, repeat)  # type: ignore[misc]
        rows.append(_ratio_row(f"{name} vs import argparse", ours, theirs, HELP_TARGET))
    return rows


def small_change(work: Path) -> Repo:
    repo = init_from_corpus("toolz", work / "small")
    repo.branch("feature")
    repo.replace(CHANGED, "def merge(", "def _first_key(d):\n    return next(iter(d))\n\n\ndef merge(")
    repo.commit_all("a small change")
    return repo


def _raw_lint(repo: Repo, env: dict[str, str]) -> float:
    argv = ["ruff", "check", "--output-format", "json", "--no-fix", "--no-cache", "--extend-select", CURATED]
    return _timed([*argv, "--", CHANGED], repo.root, env, ok=(0, 1))


def bench_review(repeat: int, work: Path, backend: str) -> list[Row]:
    repo = small_change(work)
    env = _env(backend)
    direct_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # as in the sandbox; keeps the checkout clean
    out = work / "small.json"

    def raw() -> float:
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        return _raw_lint(repo, direct_env) + _timed(pytest, repo.root, direct_env, ok=(0,))

    ours, theirs = _alternate(
        lambda: _timed(reviewbot_argv(repo.root, out, "-q"), work, env, ok=(0, 1)), raw, repeat
    )
    review = json.loads(out.read_text(encoding="utf-8"))
    if review["errors"] or not any(r["name"].startswith("pytest") for r in review["runs"]):
        raise SystemExit(f"the small review did not run as intended: {review['runs']} {review['errors']}")
    rows = [
        _ratio_row("(iii) small review (toolz, 1 function) vs ruff + pytest", ours, theirs, REVIEW_TARGET)
    ]
    lint_ours, lint_theirs = _alternate(
        lambda: _timed(reviewbot_argv(repo.root, out, "-q", "--no-tests"), work, env, ok=(0, 1)),
        lambda: _raw_lint(repo, direct_env),
        repeat,
    )
    lint = _ratio_row("(iv) lint overhead: local --no-tests vs ruff check", lint_ours, lint_theirs, 1.0)
    lint.target, lint.ok = "reported", True
    lint.note += f", +{statistics.median(lint_ours) - statistics.median(lint_theirs):.2f}s"
    return [*rows, lint]


def breakdown(work: Path, backend: str) -> dict[str, float]:
    """Where one small review's time goes, from its trace's PHASE/START/RESULT/STOP events."""
    repo = Repo(work / "small")
    trace, out = work / "small.trace.jsonl", work / "small.json"
    started = time.time()
    argv = reviewbot_argv(repo.root, out, "-q", "--trace", str(trace))
    subprocess.run(argv, cwd=work, env=_env(backend), capture_output=True, check=False)
    ended = time.time()
    events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]
    phases = {e["message"]: e["timestamp"] for e in events if e["kind"] == "phase"}
    first = events[0]["timestamp"]
    sandbox = next(t for m, t in phases.items() if m.startswith("starting the"))
    loop_start = next(e["timestamp"] for e in events if e["kind"] == "start")
    loop_stop = next(e["timestamp"] for e in events if e["kind"] == "stop")
    tools = sum(e.get("duration_s") or 0.0 for e in events if e["kind"] == "result")
    return {
        "interpreter, imports, arguments, settings": first - started,
        "preparing the change (git, reading files, packing)": sandbox - first,
        "starting the sandbox, copying files in": loop_start - sandbox,
        "tools (ruff at head and base, pytest)": tools,
        "agent loop besides the tools": loop_stop - loop_start - tools,
        "rendering, writing, exit": ended - loop_stop,
        "total": ended - started,
    }


def precompile() -> None:
    """Byte-compile reviewbot as `pip install` does, so that a PYTHONDONTWRITEBYTECODE=1
    environment (CI, these machines) does not make every measured run compile ~60 modules."""
    root = Path(__file__).resolve().parent.parent
    folders = [str(root / name) for name in ("reviewbot", "sandbox")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, capture_output=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reviewbot: start-up and fixed-cost benchmarks")
    parser.add_argument("--backend", choices=("process", "docker"), default="process")
    parser.add_argument("--repeat", type=int, default=7, help="measured runs per side (default 7)")
    parser.add_argument("--json", type=Path, help="also write the rows (with samples) as JSON")
    args = parser.parse_args(argv)
    precompile()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        rows = bench_help(args.repeat, work) + bench_review(args.repeat, work, args.backend)
        split = breakdown(work, args.backend)
    print_table(rows, args.backend)
    print("\nwhere one small review's time goes (one run, seconds)")
    for name, seconds in split.items():
        print(f"  {name:<55} {seconds:7.3f}")
    if args.json:
        payload = {"rows": [r.__dict__ for r in rows], "breakdown": split}
        args.json.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
