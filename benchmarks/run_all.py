"""Run every benchmark in turn: `python benchmarks/run_all.py [--only NAME ...] [--skip NAME ...]`.

Each benchmark is a separate `python benchmarks/bench_<name>.py` process (its own table on stdout);
this prints a summary of exit codes and wall times at the end and exits non-zero if any benchmark
missed its target or failed. New `bench_*.py` files are picked up automatically.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: Sequence[str] | None = None) -> int:
    names = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", choices=names, default=names, metavar="NAME")
    parser.add_argument("--skip", nargs="+", choices=names, default=[], metavar="NAME")
    args = parser.parse_args(argv)
    summary: list[tuple[str, int, float]] = []
    for name in args.only:
        if name in args.skip:
            continue
        print(f"\n===== bench_{name}.py =====", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(HERE / f"bench_{name}.py")], check=False).returncode
        summary.append((name, code, time.perf_counter() - start))
    print("\n===== summary =====")
    for name, code, took in summary:
        verdict = "ok" if code == 0 else f"exit {code} (missed a target or failed)"
        print(f"bench_{name:<16} {took:7.1f}s  {verdict}")
    return 0 if all(code == 0 for _, code, _ in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
