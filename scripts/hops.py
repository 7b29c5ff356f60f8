"""The hop list of a run: which of reviewbot's modules hand the data to which, in the order it happens.

    python scripts/hops.py --spine -- scripts/demo --quiet --format json -o /dev/null
    python scripts/hops.py --spine -- python -m pytest -q \
        tests/webhooks/test_wh_serve.py::test_reviewbot_serve_end_to_end

The command runs with a profiler installed at interpreter start in every Python process it starts
(through a `sitecustomize` on PYTHONPATH, so `reviewbot serve` in a subprocess is traced too). A hop is
a call from a function of one module of `reviewbot`, `sandbox` or `webhooks` into a function of another;
each distinct hop is listed once, where it first happened. Per process, it prints the hops and the
counts (modules, functions, hops) that say how many places the data passes through.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SITECUSTOMIZE = r"""
import atexit, json, os, sys, threading

_ROOT = os.environ["REVIEWBOT_HOPS_ROOT"] + os.sep
_OUT = os.environ["REVIEWBOT_HOPS_OUT"]
_PACKAGES = ("reviewbot", "sandbox", "webhooks")
_names = {}
_edges = {}
_functions = set()


def _module(code):
    name = _names.get(code.co_filename, 0)
    if name == 0:
        name = None
        path = code.co_filename
        if path.startswith(_ROOT):
            rel = path[len(_ROOT):]
            if rel.endswith(".py") and rel.split(os.sep)[0] in _PACKAGES:
                name = rel[:-3].replace(os.sep, ".").removesuffix(".__init__")
        _names[code.co_filename] = name
    return name


def _profile(frame, event, arg):
    if event != "call" or frame.f_code.co_name == "<module>":  # imports are not hops of the data
        return
    callee = _module(frame.f_code)
    if callee is None:
        return
    _functions.add((callee, frame.f_code.co_qualname))
    back, steps = frame.f_back, 0
    while back is not None and _module(back.f_code) is None and steps < 30:  # through library frames
        back, steps = back.f_back, steps + 1
    caller = _module(back.f_code) if back is not None else None
    if caller is None or caller == callee or back.f_code.co_name == "<module>":
        return
    key = (caller, back.f_code.co_qualname, callee, frame.f_code.co_qualname)
    if key not in _edges:
        _edges[key] = len(_edges)


def _dump():
    sys.setprofile(None)
    threading.setprofile(None)
    if not _functions:
        return
    path = os.path.join(_OUT, f"{os.getpid()}.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"argv": sys.argv, "functions": sorted(map(list, _functions)),
                   "edges": [list(k) for k, _ in sorted(_edges.items(), key=lambda kv: kv[1])]}, fh)


atexit.register(_dump)
sys.setprofile(_profile)
threading.setprofile(_profile)
"""


def trace(command: list[str]) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="reviewbot-hops-") as tmp:
        site, out = Path(tmp, "site"), Path(tmp, "out")
        site.mkdir()
        out.mkdir()
        (site / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")])),
            "REVIEWBOT_HOPS_ROOT": str(ROOT),
            "REVIEWBOT_HOPS_OUT": str(out),
        }
        code = subprocess.run(command, env=env, check=False).returncode
        print(f"(the command exited {code})", file=sys.stderr)
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))]


#: The modules that assemble a review (entry points, the review service, the review run): `--spine`
#: lists only the hops they make, the path the data takes from the door to the report.
SPINE = (
    "webhooks.cli_serve",
    "webhooks.server",
    "webhooks.runner",
    "reviewbot.cli.",
    "reviewbot.pipeline.run",
    "reviewbot.policy_choice",
    "reviewbot.adapters.github.action",
    "reviewbot.adapters.github.pull_review",
    "reviewbot.pipeline.run",
    "reviewbot.pipeline.review",
    "reviewbot.adapters.github.action",
    "reviewbot.adapters.github.pull_review",
)


def report(run: dict[str, object], *, functions: bool, spine: bool) -> None:
    edges = [tuple(e) for e in run["edges"]]  # type: ignore[union-attr]
    if spine:
        edges = [e for e in edges if str(e[0]).startswith(SPINE)]
        functions = True
    fns = run["functions"]
    modules = {m for m, _ in fns}  # type: ignore[misc, union-attr]
    module_hops = list(dict.fromkeys((a, c) for a, _, c, _ in edges))
    print(f"\n## {' '.join(run['argv'])[:120]}")  # type: ignore[arg-type]
    print(
        f"modules {len(modules)}, functions {len(fns)}, module hops {len(module_hops)}, "  # type: ignore[arg-type]
        f"function hops {len(edges)}"
    )
    if functions:
        for a, f, c, g in edges:
            print(f"  {a}.{f} -> {c}.{g}")
    else:
        for a, c in module_hops:
            print(f"  {a} -> {c}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", action="store_true", help="list function hops, not module hops")
    parser.add_argument("--spine", action="store_true", help="only the hops the review's assembly makes")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to trace")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("name the command to trace after --")
    for run in trace(command):
        report(run, functions=args.functions, spine=args.spine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
