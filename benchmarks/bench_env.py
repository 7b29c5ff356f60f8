"""The project's test environment: first install vs cached install, and a whole review vs plain pytest.

    python benchmarks/bench_env.py [--repeat N] [--index URL] [--json FILE]

Figures measured in one run on a real project (more-itertools, committed under
tests/data/corpus; its build backend flit_core is what the dependency layer installs):

- **install**: the `install (head)` step of `reviewbot local --sandbox docker` with zero
  configuration, first with an empty cache (the layer is built in the networked install
  container), then with the cache warm (the layer is mounted read-only; only the project's own
  offline editable install runs). Target: cached <= 10% of first. Measured twice: on the tree as
  committed (more-itertools declares no dependencies: the layer is its build backend alone), and
  on the same tree declaring a typical test dependency group (PEP 735: pytest-cov, pytest-xdist,
  pytest-timeout, pytest-mock, hypothesis), which is what the cache is for.
- **review vs pytest**: the whole review's wall time (a clean change: ruff, pytest at head, the
  cached environment) against the project's own `pytest` in a venv with the project installed,
  on the same tree. Target: a ratio <= 1.3.

The index: `--index URL`, else this machine's local PEP 503 mirror (/opt/pypi, served over HTTP
on the Docker bridge so the install container reaches it), else PyPI. Medians of `--repeat` runs.
Exit 0 when every target is met, 1 when one is missed, 2 when Docker or the image is missing.
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
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT)]

from bench_local import reviewbot_argv  # noqa: E402  (the same command line, one definition)
from corpus.gitrepo import init_from_corpus  # type: ignore[import-not-found]  # noqa: E402
from corpus.scenarios import SCENARIOS  # type: ignore[import-not-found]  # noqa: E402

IMAGE = os.environ.get("REVIEWBOT_SANDBOX__IMAGE", "reviewbot-sandbox:latest")
LOCAL_MIRROR = Path("/opt/pypi")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
SCENARIO = "rename_pure"  # more-itertools, a clean change (exit 0): no base re-run


@contextmanager
def index_url(explicit: str | None) -> Iterator[str | None]:
    if explicit or not (LOCAL_MIRROR / "simple").is_dir():
        yield explicit
        return
    import docker

    from tests.reviewbot.pipeline.test_env_docker import bridge_gateway
    from tests.reviewbot.pipeline.wheelhouse import Wheelhouse

    with Wheelhouse.serve(LOCAL_MIRROR, bridge_gateway(docker.from_env())) as house:
        yield house.url


def _env(cache_dir: Path, index: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env.update(
        REVIEWBOT_SANDBOX__BACKEND="docker",
        REVIEWBOT_SANDBOX__IMAGE=IMAGE,
        REVIEWBOT_SANDBOX__ENV_CACHE_DIR=str(cache_dir),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
    )
    if index:
        env["REVIEWBOT_SANDBOX__INDEX_URL"] = index
    if Path(CA_BUNDLE).exists():  # PyPI through a TLS-inspecting proxy needs the machine's CAs
        env["REVIEWBOT_SANDBOX__CA_BUNDLE"] = CA_BUNDLE
    return env


def review_once(repo: Path, env: dict[str, str], out: Path) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    done = subprocess.run(reviewbot_argv(repo, out), env=env, capture_output=True, text=True, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"review exited {done.returncode}: {done.stderr.strip()[-1500:]}")
    report: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return total, report


def install_s(report: dict[str, Any]) -> float:
    runs = {r["name"]: r for r in report["runs"]}
    run = runs.get("install (head)")
    if run is None or run["status"] != "ok":
        raise SystemExit(f"no successful install step in the review: {runs}")
    return float(run["duration_s"])


def drop_layers(cache_dir: Path) -> None:
    import docker

    client = docker.from_env()
    known = json.loads((cache_dir / "envs.json").read_text()) if (cache_dir / "envs.json").exists() else {}
    for name in known:
        for volume in client.volumes.list(filters={"name": name}):
            volume.remove(force=True)
    shutil.rmtree(cache_dir, ignore_errors=True)


def pytest_in_venv(repo: Path, work: Path, index: str | None) -> float:
    """The project's own way: a venv with the project installed, then `python -m pytest`."""
    env_dir = work / "venv"
    if not env_dir.exists():
        venv.create(env_dir, with_pip=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "-e", str(repo), "pytest"]
        if index:
            pip += ["--index-url", index]
            if index.startswith("http:"):
                pip += ["--trusted-host", index.split("/")[2].split(":")[0]]
        subprocess.run(pip, check=True, capture_output=True)
    start = time.perf_counter()
    argv = [str(env_dir / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    subprocess.run(argv, cwd=repo, check=False, capture_output=True)
    return time.perf_counter() - start


GROUP = ["pytest-cov", "pytest-xdist", "pytest-timeout", "pytest-mock", "hypothesis"]
TEST_GROUP = "\n[dependency-groups]\ntest = " + json.dumps(GROUP) + "\n"


def make_repo(work: Path, name: str, with_group: bool) -> Path:
    scenario = next(s for s in SCENARIOS if s.name == SCENARIO)
    repo_dir = work / name
    repo = init_from_corpus(scenario.corpus, repo_dir)
    # The corpus slice leaves out the README its build backend reads for the description.
    (repo_dir / "README.rst").write_text("more-itertools\n==============\n")
    if with_group:
        with (repo_dir / "pyproject.toml").open("a") as fh:
            fh.write(TEST_GROUP)
    repo.commit_all("README (and the test group)")
    scenario.build(repo)
    return repo_dir


def first_and_cached(repo_dir: Path, index: str | None, work: Path) -> tuple[float, float, float]:
    """(first install s, cached install s, the cached review's total s), with a cache of its own."""
    cache_dir = work / f"cache-{time.time_ns()}"
    out = work / "report.json"
    try:
        _, report = review_once(repo_dir, _env(cache_dir, index), out)
        first = install_s(report)
        total, report = review_once(repo_dir, _env(cache_dir, index), out)
        return first, install_s(report), total
    finally:
        drop_layers(cache_dir)


def measure(repeat: int, index: str | None, work: Path) -> dict[str, list[float]]:
    plain, grouped = make_repo(work, "repo", False), make_repo(work, "repo-group", True)
    samples: dict[str, list[float]] = {
        k: [] for k in ("first", "cached", "gfirst", "gcached", "review", "pytest")
    }
    for _ in range(repeat):
        first, cached, total = first_and_cached(plain, index, work)
        samples["first"].append(first)
        samples["cached"].append(cached)
        samples["review"].append(total)
        samples["pytest"].append(pytest_in_venv(plain, work, index))
        gfirst, gcached, _ = first_and_cached(grouped, index, work)
        samples["gfirst"].append(gfirst)
        samples["gcached"].append(gcached)
    return samples


def targets_met(samples: dict[str, list[float]]) -> bool:
    med = {k: statistics.median(v) for k, v in samples.items()}
    return (
        med["cached"] <= 0.10 * med["first"]
        and med["gcached"] <= 0.10 * med["gfirst"]
        and med["review"] <= 1.30 * med["pytest"]
    )


def table(samples: dict[str, list[float]]) -> str:
    med = {k: statistics.median(v) for k, v in samples.items()}
    rows = [
        ("install, empty cache (as committed)", med["first"], "", ""),
        (
            "install, warm cache (as committed)",
            med["cached"],
            f"{med['cached'] / med['first']:.2f}x of first",
            "<= 0.10",
        ),
        ("install, empty cache (+ test group)", med["gfirst"], "", ""),
        (
            "install, warm cache (+ test group)",
            med["gcached"],
            f"{med['gcached'] / med['gfirst']:.2f}x of first",
            "<= 0.10",
        ),
        ("project's pytest in a venv", med["pytest"], "", ""),
        (
            "whole review, warm cache",
            med["review"],
            f"{med['review'] / med['pytest']:.2f}x of pytest",
            "<= 1.30",
        ),
    ]
    head = f"{'what':<38} {'median s':>9}  {'ratio':<20} target"
    lines = [head, "-" * len(head)]
    lines += [f"{what:<38} {sec:9.2f}  {ratio:<20} {target}" for what, sec, ratio, target in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument(
        "--index",
        help="package index URL, e.g. https://pypi.org/simple (default: the local mirror, else PyPI)",
    )
    parser.add_argument("--json", type=Path, help="write every sample to FILE")
    args = parser.parse_args(argv)
    try:
        import docker

        docker.from_env(timeout=30).images.get(IMAGE)
    except Exception as exc:  # any failure here means nothing can be measured
        print(
            f"bench_env: Docker or {IMAGE} is not usable ({exc}); run scripts/setup-services.sh",
            file=sys.stderr,
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-env-"))
    try:
        with index_url(args.index) as index:
            print(
                f"measuring {SCENARIO} (more-itertools), {args.repeat} round(s), index {index or 'PyPI'} ..."
            )
            samples = measure(args.repeat, index, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(samples))
    if args.json:
        args.json.write_text(json.dumps(samples, indent=2))
    return 0 if targets_met(samples) else 1


if __name__ == "__main__":
    raise SystemExit(main())
