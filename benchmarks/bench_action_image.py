"""The Action's sandbox image: a first run's cost (build) against a cached run's (docker load).

    python benchmarks/bench_action_image.py [--base-image reviewbot-base:bookworm] [--loads 3]

What action.yml does on each kind of run, with the same commands:
- first run on a fresh runner: `docker build` of sandbox/Dockerfile on the base image (with
  `--no-cache`: a fresh runner has no layer cache), then `docker save` to the tarball the
  `actions/cache/save` step uploads;
- a later run on another fresh runner: the tarball is restored (here a local copy stands for the
  cache download, whose speed depends on GitHub; the tarball's size is printed to estimate it)
  and `docker load`ed.
Baseline: the cached run, measured in the same process. The target: the cached run is at least
5x faster than building. Images are tagged with a unique name and removed afterwards; the
shared build cache and `reviewbot-sandbox:latest` are not touched.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 5.0


def docker(*args: str) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"docker {' '.join(args[:2])} failed: {proc.stderr.strip()[-800:]}")
    return proc.stdout


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def first_run(image: str, base: str, tar: Path) -> tuple[float, float]:
    build = timed(
        lambda: docker(
            "build",
            "--no-cache",
            "--quiet",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--tag",
            image,
            "--file",
            str(ROOT / "sandbox" / "Dockerfile"),
            str(ROOT / "sandbox"),
        )
    )
    save = timed(lambda: docker("save", "--output", str(tar), image))
    return build, save


def cached_run(image: str, tar: Path, scratch: Path) -> tuple[float, float]:
    docker("rmi", image)  # another fresh runner: no sandbox image
    restored = scratch / "restored.tar"
    restore = timed(lambda: shutil.copyfile(tar, restored))
    load = timed(lambda: docker("load", "--quiet", "--input", str(restored)))
    restored.unlink()
    return restore, load


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-image", default="reviewbot-base:bookworm")
    parser.add_argument("--loads", type=int, default=3, help="cached runs to take the median of")
    args = parser.parse_args()
    image = f"reviewbot-sandbox-bench-{uuid.uuid4().hex[:10]}:bench"
    with tempfile.TemporaryDirectory(prefix="bench-action-image-") as tmp:
        scratch = Path(tmp)
        tar = scratch / "image.tar"
        try:
            build, save = first_run(image, args.base_image, tar)
            loads = [cached_run(image, tar, scratch) for _ in range(max(1, args.loads))]
        finally:
            subprocess.run(["docker", "rmi", image], capture_output=True, check=False)
        size_mb = tar.stat().st_size / 1e6
    restore = statistics.median(r for r, _ in loads)
    load = statistics.median(x for _, x in loads)
    cached = restore + load
    first = build + save
    rows = [
        ("first run: docker build --no-cache", build),
        ("first run: docker save (for the cache)", save),
        ("first run, image total", first),
        ("cached run: restore tarball (local copy)", restore),
        ("cached run: docker load", load),
        ("cached run, image total (baseline)", cached),
    ]
    print(
        f"sandbox image on {args.base_image}; tarball {size_mb:.0f} MB; median of {len(loads)} cached run(s)"
    )
    print(f"{'step':<44} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds:8.1f} {seconds / cached:10.1f}x")
    ratio = first / cached
    ok = ratio >= TARGET_RATIO
    print(
        f"\nfirst run / cached run = {ratio:.1f}x "
        f"(target >= {TARGET_RATIO:.0f}x): {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
