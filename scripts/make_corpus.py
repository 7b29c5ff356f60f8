"""Regenerate the real-code test corpus under tests/data/corpus/ from local git snapshots.

CI has no network, so the corpus is committed as plain files; this script only documents (and
repeats) how each slice was cut. It reads a *local* git directory (e.g. one brought in with the
search tools' `fetch`, or any clone) at a pinned commit and copies the listed paths, minus the
excluded ones, into tests/data/corpus/<name>/, then writes PROVENANCE.md next to the files.

    python scripts/make_corpus.py more-itertools /path/to/more-itertools.git
    python scripts/make_corpus.py toolz /path/to/toolz.git

A different commit than the pinned one is refused: the scenario tests seed bugs at known lines.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus"


@dataclass(frozen=True)
class Slice:
    url: str
    commit: str
    license: str
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    why_excluded: str = ""


SLICES: dict[str, Slice] = {
    "more-itertools": Slice(
        url="https://github.com/more-itertools/more-itertools",
        commit="2fe1b2eeb9d75f994113fe3ac76d14b6bcd6fb10",
        license="MIT",
        include=("LICENSE", "pyproject.toml", "setup.cfg", "more_itertools", "tests"),
    ),
    "toolz": Slice(
        url="https://github.com/pytoolz/toolz",
        commit="568c2b8393973cd172a466546c9d95779c452438",
        license="BSD-3-Clause",
        include=("LICENSE.txt", "pyproject.toml", "toolz", "tlz"),
        exclude=("toolz/tests/test_package.py",),
        why_excluded=(
            "toolz/tests/test_package.py asserts the *installed* distribution's version "
            "(importlib.metadata); it fails in an uninstalled checkout, so it would be an "
            "environment-dependent failure in every scenario."
        ),
    ),
}


def _git(gitdir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={gitdir}", *args], check=True, capture_output=True).stdout


def cut(name: str, gitdir: Path) -> Path:
    spec = SLICES[name]
    resolved = _git(gitdir, "rev-parse", "HEAD").decode().strip()
    if resolved != spec.commit:
        raise SystemExit(f"{gitdir}: HEAD is {resolved}, the corpus pins {spec.commit}")
    dest = CORPUS / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    data = _git(gitdir, "archive", "--format=tar", spec.commit, "--", *spec.include)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [m for m in tar.getmembers() if m.name not in spec.exclude]
        tar.extractall(dest, members=members, filter="data")
    lines = [
        f"# {name} (corpus slice)",
        "",
        f"- Source: {spec.url}",
        f"- Commit: {spec.commit}",
        f"- License: {spec.license} (license file included, unchanged)",
        f"- Taken: {', '.join(spec.include)}",
        f"- Left out: {', '.join(spec.exclude) or 'nothing'}",
    ]
    if spec.why_excluded:
        lines.append(f"- Why: {spec.why_excluded}")
    lines += [
        "",
        "Files are unmodified. Regenerate with `python scripts/make_corpus.py "
        f"{name} <git dir at that commit>`.",
        "",
    ]
    (dest / "PROVENANCE.md").write_text("\n".join(lines), encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("name", choices=sorted(SLICES))
    parser.add_argument("gitdir", type=Path, help="a git directory (bare or .git) holding the pinned commit")
    args = parser.parse_args(argv)
    print(cut(args.name, args.gitdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
