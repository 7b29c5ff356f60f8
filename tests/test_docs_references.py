"""Every `docs/...` file that code, scripts or the README point at exists (no dead ends)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("reviewbot", "sandbox", "webhooks", "scripts", "benchmarks", ".ci")
TOP_FILES = ("README.md", "action.yml", "Dockerfile", "pyproject.toml")
#: A reference to a documentation file: docs/ followed by a path that names a file with an extension.
REFERENCE = re.compile(r"(?<![\w./-])docs/[\w./-]*\w\.(?:md|rst|txt|html)\b")


def _texts() -> list[Path]:
    files = [ROOT / name for name in TOP_FILES if (ROOT / name).is_file()]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [p for p in (ROOT / "docs").rglob("*.md")] if (ROOT / "docs").is_dir() else []
    return files


def test_every_docs_reference_resolves_to_a_file() -> None:
    seen: dict[str, list[str]] = {}
    for path in _texts():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for ref in REFERENCE.findall(text):
            seen.setdefault(ref, []).append(str(path.relative_to(ROOT)))
    missing = {ref: where for ref, where in seen.items() if not (ROOT / ref).is_file()}
    assert not missing, f"references to documentation that does not exist: {missing}"
    assert len(seen) >= 3, f"the pattern finds the references the code makes: {sorted(seen)}"


def test_a_dead_reference_is_caught(tmp_path: Path) -> None:
    text = "see docs/no-such-page.md and docs/lint-policy.md"
    refs = REFERENCE.findall(text)
    assert refs == ["docs/no-such-page.md", "docs/lint-policy.md"]
    assert [r for r in refs if not (ROOT / r).is_file()] == ["docs/no-such-page.md"]
