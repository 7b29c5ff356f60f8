"""One review's total time with the Docker sandbox vs the process backend, on the same change.

    python benchmarks/bench_review_sandbox.py [--repeat N] [--only NAME ...] [--json FILE]

The figure is one review's total sandbox overhead vs. the process backend on the same change.
The changes are corpus scenarios (tests/corpus/scenarios.py, real projects committed
under tests/data/corpus): a small one on toolz (its suite takes ~1 s) and a mixed one on
more-itertools (~740 tests, ~15 s), so the table shows the fixed cost of a container and how it
weighs on a review whose tests take a while.

Each review is `reviewbot local REPO --format json` as a subprocess (interpreter start-up on both
sides), the two backends alternate after one unmeasured warm-up each, and the figure is the
median. Columns: total wall time; "tools" = the sum of the ruff/pytest runs the report lists
(time spent inside the sandbox's commands); "rest" = total - tools (start-up, git, packing, the
container's create/copy/teardown). No target: the overhead is reported. The script exits 1 if the
two backends disagree on the findings (the overhead of a wrong review means nothing) and 2 when
Docker or its image is missing.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_local import reviewbot_argv  # noqa: E402  (the same command line, one definition)
from corpus.gitrepo import init_from_corpus  # type: ignore[import-not-found]  # noqa: E402
from corpus.scenarios import SCENARIOS, Scenario  # type: ignore[import-not-found]  # noqa: E402

DEFAULT_CHANGES = ("broken_test", "mixed_pr")
BACKENDS = ("process", "docker")
IMAGE = os.environ.get("REVIEWBOT_SANDBOX__IMAGE", "reviewbot-sandbox:latest")


@dataclass
class Sample:
    total_s: float
    tools_s: float
    findings: frozenset[str]
    code: int


@dataclass
class Measured:
    change: str
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {b: [] for b in BACKENDS})

    def median(self, backend: str, what: str) -> float:
        return float(statistics.median(float(getattr(s, what)) for s in self.samples[backend]))


def _env(backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env["REVIEWBOT_SANDBOX__BACKEND"] = backend
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def review_once(repo: Path, backend: str, out: Path, scenario: Scenario) -> Sample:
    argv = reviewbot_argv(repo, out, *scenario.cli_args)
    start = time.perf_counter()
    done = subprocess.run(argv, env=_env(backend), capture_output=True, text=True, check=False)
    total = time.perf_counter() - start
    if done.returncode != scenario.exit_code or not out.exists():
        raise SystemExit(
            f"{scenario.name} with {backend}: exit {done.returncode} "
            f"(expected {scenario.exit_code}): {done.stderr.strip()[-1500:]}"
        )
    report: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    tools = sum(float(r["duration_s"]) for r in report["runs"])
    prints = frozenset(f["fingerprint"] for f in report["findings"])
    return Sample(total, tools, prints, done.returncode)


def measure(scenario: Scenario, repeat: int, work: Path) -> Measured:
    repo_dir = work / scenario.name
    repo = init_from_corpus(scenario.corpus, repo_dir)
    scenario.build(repo)
    out = work / f"{scenario.name}.json"
    measured = Measured(scenario.name)
    for backend in BACKENDS:  # warm-up: page cache, the image's layers, pytest's first import
        review_once(repo_dir, backend, out, scenario)
    for i in range(repeat):
        order = BACKENDS if i % 2 == 0 else tuple(reversed(BACKENDS))
        for backend in order:
            measured.samples[backend].append(review_once(repo_dir, backend, out, scenario))
    return measured


def docker_problem() -> str | None:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get(IMAGE)
    except Exception as exc:  # any failure here means the Docker side cannot be measured
        return f"{type(exc).__name__}: {exc}"
    return None


#: A pure-interpreter loop; it prints its own time, so container start-up is not in the figure.
LOOP = (
    "import time\nt = time.perf_counter()\ns = 0\n"
    "for i in range(5_000_000):\n    s += i % 7\nprint(time.perf_counter() - t)\n"
)


def interpreter_speed(repeat: int = 3) -> tuple[float, float]:
    """Seconds for LOOP with the host's interpreter (the process backend's) and the image's."""
    import docker

    client = docker.from_env(timeout=60)
    host, image = [], []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True, check=True)
        host.append(float(done.stdout))
        out = client.containers.run(IMAGE, ["python", "-c", LOOP], network_mode="none", remove=True)
        image.append(float(out))
    return statistics.median(host), statistics.median(image)


def table(rows: list[Measured]) -> tuple[str, bool]:
    head = (
        f"{'change':<13} {'backend':<8} {'total s':>8} {'tools s':>8} {'rest s':>7} "
        f"{'docker/process':>15} {'total diff s':>13} {'rest diff s':>12}  findings"
    )
    lines = [head, "-" * len(head)]
    agree = True
    for m in rows:
        p_total, d_total = m.median("process", "total_s"), m.median("docker", "total_s")
        p_rest = p_total - m.median("process", "tools_s")
        same = {s.findings for s in m.samples["process"] + m.samples["docker"]}
        agree &= len(same) == 1
        verdict = "same on both" if len(same) == 1 else "DIFFER"
        for backend in BACKENDS:
            total, tools = m.median(backend, "total_s"), m.median(backend, "tools_s")
            docker_row = backend == "docker"
            ratio = f"{d_total / p_total:.2f}x" if docker_row else ""
            over = f"{d_total - p_total:+.2f}" if docker_row else ""
            fixed = f"{total - tools - p_rest:+.2f}" if docker_row else ""
            count = len(m.samples[backend][0].findings)
            lines.append(
                f"{m.change:<13} {backend:<8} {total:8.2f} {tools:8.2f} {total - tools:7.2f} "
                f"{ratio:>15} {over:>13} {fixed:>12}  {count} ({verdict})"
            )
    return "\n".join(lines), agree


def main(argv: list[str] | None = None) -> int:
    names = [s.name for s in SCENARIOS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per backend (default 3)")
    parser.add_argument("--only", nargs="+", choices=names, default=list(DEFAULT_CHANGES), metavar="NAME")
    parser.add_argument("--json", type=Path, help="write every sample to FILE")
    args = parser.parse_args(argv)
    problem = docker_problem()
    if problem:
        print(
            f"bench_review_sandbox: Docker is not usable ({problem}); run scripts/setup-services.sh",
            file=sys.stderr,
        )
        return 2
    by_name = {s.name: s for s in SCENARIOS}
    work = Path(tempfile.mkdtemp(prefix="bench-review-sandbox-"))
    try:
        rows = []
        for name in args.only:
            print(
                f"measuring {name} ({by_name[name].corpus}), {args.repeat} run(s) per backend ...", flush=True
            )
            rows.append(measure(by_name[name], args.repeat, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text, agree = table(rows)
    print()
    print(text)
    host_s, image_s = interpreter_speed()
    print(
        "\ntotal/tools/rest: medians; tools = the ruff/pytest runs the report lists; rest = total - tools."
        "\nrest diff = the sandbox's fixed cost per review (container create, copy in, teardown)."
        f"\ninterpreter speed (same pure-Python loop): host {host_s:.3f} s, sandbox image {image_s:.3f} s"
        f" -> the image's Python runs {host_s / image_s:.2f}x as fast;"
        "\n'tools' differs by that and by the pytest plugins installed on the host (the process backend"
        " uses the host's pytest), not by the sandbox; compare 'rest'."
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    m.change: {
                        b: [
                            {"total_s": s.total_s, "tools_s": s.tools_s, "exit": s.code} for s in m.samples[b]
                        ]
                        for b in BACKENDS
                    }
                    for m in rows
                },
                indent=2,
            )
        )
    if not agree:
        print("the backends disagree on the findings", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
