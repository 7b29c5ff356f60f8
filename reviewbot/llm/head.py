"""What the checks of the model's findings need from the review's deps: the head revision's lines
of a file (the quoted code must be there) and the lines the change added (where a moved finding
prefers to land). Read from the review's own copy of the head, jailed to its root."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

MAX_FILE_BYTES = 2_000_000


def read_lines(deps: object, path: str) -> list[str] | None:
    texts = getattr(deps, "head_texts", None)
    if isinstance(texts, dict) or hasattr(texts, "get"):
        text = texts.get(path) if texts is not None else None
        if isinstance(text, str):
            return text.splitlines()
    root = getattr(deps, "root", None)
    if not isinstance(root, Path) or not path or path.startswith("/"):
        return None
    base = root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file() or target.stat().st_size > MAX_FILE_BYTES:
        return None
    return target.read_bytes().decode("utf-8", "replace").splitlines()


def changed_lines(deps: object, path: str) -> Collection[int]:
    diff = getattr(deps, "diff", None)
    change = diff.file(path) if diff is not None and hasattr(diff, "file") else None
    return change.added_lines if change is not None else ()
