"""Benchmarks for `reviewbot local` (review overhead and cost), each against a baseline measured in
the same run.

    python benchmarks/bench_local.py                     # process sandbox backend
    python benchmarks/bench_local.py --backend docker    # the Docker sandbox
    python benchmarks/bench_local.py --repeat 5 --json out.json

(i)  Review overhead: `reviewbot local` on a real-sized change (about 50 added lines in
     more-itertools' more.py and its tests; the suite runs ~740 tests, ~15 s) vs. the same `ruff check`
     (repository config + curated rules, same files) and `python -m pytest` run directly on the
     same checkout. Target: overhead <= 25 %.
(ii) Cost grows with the change, not the repository: the same one-file change in a repository of
     2,000 Python files vs. one of 20 (toolz modules replicated under distinct package names).
     Lint phase = the agent's `analyze_code` time from the `--trace` events. Target: ratio <= 1.5x.

Every command runs as a subprocess (interpreter start-up included on both sides); the figure is
the median of `--repeat` alternating runs after one unmeasured warm-up of each side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corpus.gitrepo import CORPUS_DIR, Repo, init_from_corpus  # noqa: E402

from reviewbot.settings import AnalyzerSettings  # noqa: E402

CURATED = ",".join(AnalyzerSettings().curated_select)
OVERHEAD_TARGET = 0.25
SCALE_TARGET = 1.5


@dataclass
class Row:
    name: str
    measured: float
    baseline: float
    unit: str
    target: str
    ok: bool
    note: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)


def _env(backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env["REVIEWBOT_SANDBOX__BACKEND"] = backend
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _timed(argv: Sequence[str], cwd: Path, env: dict[str, str], ok: Sequence[int]) -> float:
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}\n{done.stdout[-2000:]}"
        )
    return elapsed


def reviewbot_argv(repo: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "reviewbot",
        "local",
        str(repo),
        "--format",
        "json",
        "--output",
        str(out),
        *extra,
    ]


# -- (i) overhead ----------------------------------------------------------------------------------
def real_sized_change(repo: Repo) -> list[str]:
    """A feature-sized PR on more-itertools: refactors, docs, a new helper with tests, one lint slip."""
    repo.branch("feature/first-last")
    more = "more_itertools/more.py"
    repo.replace(more, "import math\nimport types\n", "import json\nimport math\nimport types\n")
    repo.replace(
        more,
        "    for item in iterable:\n        return item\n    if default is _marker:\n"
        "        raise ValueError(\n            'first() was called on an empty iterable, '\n",
        "    iterator = iter(iterable)\n    for item in iterator:\n        return item\n"
        "    if default is _marker:\n        raise ValueError(\n"
        "            'first() was called on an empty iterable, '\n",
    )
    repo.replace(
        more,
        "    If *default* is not provided and there are no items in the iterable,\n"
        "    raise ``ValueError``.\n\n    :func:`first` is useful",
        "    If *default* is not provided and there are no items in the iterable,\n"
        "    raise ``ValueError``. Only the first item is consumed from iterators.\n\n"
        "    :func:`first` is useful",
    )
    repo.append(
        more,
        "\n\ndef _first_and_last(iterable, default=_marker):\n"
        '    """Return ``(first, last)`` of *iterable* in one pass.\n\n'
        "        >>> _first_and_last([1, 2, 3])\n        (1, 3)\n\n"
        '    """\n'
        "    iterator = iter(iterable)\n"
        "    for head in iterator:\n"
        "        tail = head\n"
        "        for tail in iterator:\n"
        "            pass\n"
        "        return head, tail\n"
        "    if default is _marker:\n"
        "        raise ValueError('_first_and_last() was called on an empty iterable')\n"
        "    return default, default\n",
    )
    cases = "".join(
        f"    def test_{name}(self):\n        self.assertEqual(_first_and_last({arg}), {want})\n\n"
        for name, arg, want in (
            ("one", "[1]", "(1, 1)"),
            ("many", "range(10)", "(0, 9)"),
            ("iterator", "iter('abc')", "('a', 'c')"),
            ("default", "[], default=None", "(None, None)"),
            ("tuple", "(4, 5)", "(4, 5)"),
            ("string", "'xyz'", "('x', 'z')"),
        )
    )
    repo.append(
        "tests/test_more.py",
        "\n\nclass FirstAndLastTests(TestCase):\n"
        + cases
        + "    def test_empty(self):\n        with self.assertRaises(ValueError):\n"
        "            _first_and_last([])\n",
    )
    repo.replace(
        "tests/test_more.py", "import more_itertools as mi\n", "import more_itertools as mi\n"
        "from more_itertools.more import _first_and_last\n",
    )  # fmt: skip
    repo.commit_all("first(): document consumption; add _first_and_last")
    return [more, "tests/test_more.py"]


def bench_overhead(backend: str, repeat: int, work: Path) -> Row:
    repo = init_from_corpus("more-itertools", work / "overhead")
    changed = real_sized_change(repo)
    diff_lines = repo.git("diff", "--numstat", "main...HEAD")
    env = _env(backend)
    direct_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # as in the sandbox; keeps the checkout clean

    def direct() -> float:
        lint = _timed(
            ["ruff", "check", "--output-format", "json", "--no-fix", "--no-cache", "--extend-select", CURATED,
             "--", *changed],
            repo.root, direct_env, ok=(0, 1),
        )  # fmt: skip
        tests = _timed(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], repo.root, direct_env, ok=(0,)
        )
        return lint + tests

    out = work / "overhead.json"

    def review() -> float:
        return _timed(reviewbot_argv(repo.root, out), work, env, ok=(0, 1))

    ours, theirs = _alternate(review, direct, repeat)
    result = json.loads(out.read_text(encoding="utf-8"))
    pytest_runs = [r for r in result["runs"] if r["name"].startswith("pytest")]
    if result["errors"] or not pytest_runs:
        raise SystemExit(
            f"the review did not run as intended: runs={result['runs']} errors={result['errors']}"
        )
    overhead = statistics.median(ours) / statistics.median(theirs) - 1
    added = sum(int(line.split()[0]) for line in diff_lines.splitlines())
    return Row(
        name=f"(i) review overhead, more-itertools, +{added} lines in {len(changed)} files",
        measured=statistics.median(ours),
        baseline=statistics.median(theirs),
        unit="s",
        target=f"overhead <= {OVERHEAD_TARGET:.0%}",
        ok=overhead <= OVERHEAD_TARGET,
        note=f"overhead {overhead:+.1%}; {len(result['findings'])} finding(s)",
        samples={"reviewbot": ours, "ruff+pytest": theirs},
    )


# -- (ii) scale -------------------------------------------------------------------------------------
TEMPLATES = sorted((CORPUS_DIR / "toolz" / "toolz").glob("*.py"))


def synthetic_repo(dest: Path, files: int) -> Repo:
    """`files` Python files: the toolz modules replicated under distinct packages pkg0000, pkg0001, ..."""
    dest.mkdir(parents=True)
    per_package = len(TEMPLATES)
    for i in range(files):
        package = dest / "src" / f"pkg{i // per_package:04d}"
        package.mkdir(parents=True, exist_ok=True)
        template = TEMPLATES[i % per_package]
        shutil.copyfile(template, package / template.name)
    repo = Repo(dest)
    repo.git("init", "-q", "-b", "main")
    repo.commit_all(f"{files} python files")
    repo.branch("feature/one-file")
    target = "src/pkg0000/utils.py"
    repo.replace(
        target,
        "def raises(err, lamda):\n",
        "import json\n\n\ndef raises(err, lamda):\n    # json is for later\n",
    )
    repo.commit_all("one-file change")
    return repo


def lint_phase_s(trace: Path) -> float:
    events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line.strip()]
    spans = [e["duration_s"] for e in events if e.get("kind") == "result" and e.get("tool") == "analyze_code"]
    if not spans:
        raise SystemExit(f"{trace}: no analyze_code result in the trace")
    return float(sum(spans))


def bench_scale(backend: str, repeat: int, work: Path, large: int, small: int) -> list[Row]:
    env = _env(backend)
    lint: dict[int, list[float]] = {}
    total: dict[int, list[float]] = {}
    repos = {files: synthetic_repo(work / f"scale{files}", files) for files in (small, large)}
    for files in repos:
        lint[files], total[files] = [], []
    # Alternate small and large runs, so drift in the machine's load hits both sides alike.
    for attempt in range(repeat + 1):
        for files, repo in repos.items():
            out, trace = work / f"scale{files}.json", work / f"scale{files}.trace"
            trace.unlink(missing_ok=True)
            took = _timed(
                reviewbot_argv(repo.root, out, "--no-tests", "--trace", str(trace)), work, env, ok=(0, 1)
            )
            if attempt:  # the first round is a warm-up
                total[files].append(took)
                lint[files].append(lint_phase_s(trace))
            findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
            if [f["rule_id"] for f in findings] != ["F401"]:
                raise SystemExit(f"{files}-file repo: expected exactly one F401, got {findings}")
    lint_ratio = statistics.median(lint[large]) / statistics.median(lint[small])
    total_ratio = statistics.median(total[large]) / statistics.median(total[small])
    return [
        Row(
            name=f"(ii) lint phase, 1-file change, {large} vs {small} files",
            measured=statistics.median(lint[large]),
            baseline=statistics.median(lint[small]),
            unit="s",
            target=f"ratio <= {SCALE_TARGET}x",
            ok=lint_ratio <= SCALE_TARGET,
            note=f"ratio {lint_ratio:.2f}x",
            samples={f"lint {large}": lint[large], f"lint {small}": lint[small]},
        ),
        Row(
            name=f"     whole review (--no-tests), {large} vs {small} files",
            measured=statistics.median(total[large]),
            baseline=statistics.median(total[small]),
            unit="s",
            target="(informational)",
            ok=True,
            note=f"ratio {total_ratio:.2f}x",
            samples={f"total {large}": total[large], f"total {small}": total[small]},
        ),
    ]


# -- driver -----------------------------------------------------------------------------------------
def _alternate(
    a: Callable[[], float], b: Callable[[], float], repeat: int
) -> tuple[list[float], list[float]]:
    a(), b()  # warm-up: page cache, image layers, pyc of reviewbot itself
    xs: list[float] = []
    ys: list[float] = []
    for i in range(repeat):
        if i % 2:
            ys.append(b())
            xs.append(a())
        else:
            xs.append(a())
            ys.append(b())
    return xs, ys


def print_table(rows: Sequence[Row], backend: str) -> None:
    print(f"\nreviewbot local benchmarks (sandbox backend: {backend}; medians)")
    head = f"{'benchmark':<58} {'measured':>9} {'baseline':>9}  {'result':<32} {'target':<18} ok"
    print(head)
    print("-" * len(head))
    for r in rows:
        mark = "yes" if r.ok else "NO"
        measured, baseline = f"{r.measured:.3f}{r.unit}", f"{r.baseline:.3f}{r.unit}"
        print(f"{r.name:<58} {measured:>9} {baseline:>9}  {r.note:<32} {r.target:<18} {mark}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reviewbot local: overhead and scaling benchmarks")
    parser.add_argument("--backend", choices=("process", "docker"), default="process")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per side for (i) (default 3)")
    parser.add_argument(
        "--scale-repeat", type=int, default=7, help="measured runs per repository for (ii) (default 7)"
    )
    parser.add_argument("--large", type=int, default=2000, help="files in the large repository")
    parser.add_argument("--small", type=int, default=20, help="files in the small repository")
    parser.add_argument("--only", choices=("overhead", "scale"), help="run one benchmark")
    parser.add_argument("--json", type=Path, help="also write the rows (with samples) as JSON")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-local-") as tmp:
        work = Path(tmp)
        if args.only in (None, "overhead"):
            rows.append(bench_overhead(args.backend, args.repeat, work))
        if args.only in (None, "scale"):
            rows += bench_scale(args.backend, args.scale_repeat, work, args.large, args.small)
    print_table(rows, args.backend)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2), encoding="utf-8")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
