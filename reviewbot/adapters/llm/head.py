"""What the checks of the model's findings need from the review's deps: the head revision's lines
of a file (the quoted code must be there) and the lines the change added (where a moved finding
prefers to land). Read from the review's own copy of the head, jailed to its root."""

from __future__ import annotations

from collections.abc import Collection

from reviewbot.pipeline.review_deps import ReviewDeps

MAX_FILE_BYTES = 2_000_000


def read_lines(deps: ReviewDeps, path: str) -> list[str] | None:
    text = deps.head_texts.get(path)
    if text is not None:
        return text.splitlines()
    if not path or path.startswith("/"):
        return None
    base = deps.root.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file() or target.stat().st_size > MAX_FILE_BYTES:
        return None
    return target.read_bytes().decode("utf-8", "replace").splitlines()


def changed_lines(deps: ReviewDeps, path: str) -> Collection[int]:
    change = deps.diff.file(path)
    return change.added_lines if change is not None else ()
