"""Access to the real `git diff` samples in tests/data/diffs (made by make_samples.py)."""

from __future__ import annotations

from pathlib import Path

from reviewbot.core.diff import Diff, parse_diff

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "diffs"


def sample_text(name: str) -> str:
    # The workspace adapter decodes git's output the same way.
    return (SAMPLES / f"{name}.diff").read_bytes().decode("utf-8", "surrogateescape")


def sample(name: str) -> Diff:
    return parse_diff(sample_text(name))
