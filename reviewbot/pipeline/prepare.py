"""Prepare a review: resolve revisions, compute the diff, choose the files, pack both revisions.

Reads git through `GitWorkspace` (hardened: no hooks, no fsmonitor, no filters) and never runs
anything the repository controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.adapters.git.workspace import GitWorkspace
from reviewbot.core.attribution import base_path_of_head
from reviewbot.core.diff import Diff, parse_diff
from reviewbot.core.filtering import path_selected
from reviewbot.core.lintconfig import LintSetup, lint_setup
from reviewbot.errors import WorkspaceError
from reviewbot.settings import Settings
from sandbox.archive import FileEntry

#: Files whose presence says the repository formats with ruff (then `ruff format --check` runs).
_FORMAT_MARKERS = {"pyproject.toml": "[tool.ruff.format]", "ruff.toml": "[format]", ".ruff.toml": "[format]"}


@dataclass(frozen=True)
class Prepared:
    base: str | None  # base sha (None with --all and no base)
    head: str | None  # head sha, None = the working tree
    diff_text: str
    diff: Diff
    scoped: bool
    head_files: tuple[FileEntry, ...]
    base_files: tuple[FileEntry, ...]
    python_paths: tuple[str, ...]
    base_paths: Mapping[str, str]
    head_texts: Mapping[str, str]
    base_texts: Mapping[str, str]
    skipped: tuple[str, ...]
    uses_ruff_format: bool
    has_ruff_config: bool
    lint: LintSetup = field(default_factory=LintSetup)

    @property
    def nothing_to_review(self) -> bool:
        return self.scoped and not self.diff.files


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def uses_ruff_format(files: Mapping[str, bytes]) -> bool:
    return any(marker.encode() in files.get(name, b"") for name, marker in _FORMAT_MARKERS.items())


def has_ruff_config(entries: Sequence[FileEntry]) -> bool:
    """Does the repository configure ruff anywhere (ruff discovers config files hierarchically)?"""
    for entry in entries:
        name = entry.path.rsplit("/", 1)[-1]
        if name in ("ruff.toml", ".ruff.toml") or (name == "pyproject.toml" and b"[tool.ruff" in entry.data):
            return True
    return False


def _check_size(entries: Sequence[FileEntry], settings: Settings, what: str) -> None:
    """Refuse a huge tree before anything is packed or uploaded (it would not fit the sandbox)."""
    if len(entries) > settings.max_files:
        raise WorkspaceError(
            f"{what} has {len(entries)} files, above max_files={settings.max_files}; raise max_files "
            "(REVIEWBOT_MAX_FILES) if the sandbox can hold it"
        )
    total = sum(len(e.data) for e in entries)
    if total > settings.max_repo_mb * 1024 * 1024:
        raise WorkspaceError(
            f"{what} holds {total // (1024 * 1024)} MB, above max_repo_mb={settings.max_repo_mb}; raise "
            "max_repo_mb (REVIEWBOT_MAX_REPO_MB) if the sandbox can hold it"
        )


def _revisions(
    ws: GitWorkspace, base: str | None, head: str | None, all_files: bool
) -> tuple[str | None, str | None]:
    """(base sha, head sha): head None is the working tree; base None means no diff (--all)."""
    head_sha = ws.resolve(head) if head else None
    # Three-dot semantics (what a pull request shows): compare with the merge-base, so commits the
    # base branch gained after the branch point are neither reviewed nor reported as reverted.
    if base:
        return ws.merge_base(base, head_sha), head_sha
    return (None if all_files else ws.default_base(head_sha)), head_sha


def _python_paths(
    candidates: Sequence[str], by_path: Mapping[str, FileEntry], settings: Settings
) -> tuple[list[str], list[str]]:
    """The candidates to review (selected, regular files, not too big), and why others are skipped."""
    python_paths: list[str] = []
    skipped: list[str] = []
    for path in candidates:
        if not path_selected(path, settings.include, settings.exclude):
            continue
        entry = by_path.get(path)
        if entry is None:
            skipped.append(f"{path}: not a regular file at head (symlink?)")
        elif len(entry.data) > settings.max_file_bytes:
            skipped.append(f"{path}: {len(entry.data)} bytes, above max_file_bytes={settings.max_file_bytes}")
        else:
            python_paths.append(path)
    return python_paths, skipped


def _base_side(
    ws: GitWorkspace, base_sha: str, diff: Diff, python_paths: Sequence[str], settings: Settings
) -> tuple[tuple[FileEntry, ...], dict[str, str], dict[str, str]]:
    """The base's files, and for each head path under review its base path and text, if it had one."""
    base_files = tuple(ws.all_files(base_sha))
    _check_size(base_files, settings, "the base revision")
    base_by_path = {e.path: e for e in base_files if e.symlink_target is None}
    base_paths: dict[str, str] = {}
    base_texts: dict[str, str] = {}
    for path in python_paths:
        old = base_path_of_head(diff, path)
        if old is not None and old in base_by_path:
            base_paths[path] = old
            base_texts[old] = _decode(base_by_path[old].data)
    return base_files, base_paths, base_texts


def _regular(entries: Sequence[FileEntry]) -> dict[str, bytes]:
    return {e.path: e.data for e in entries if e.symlink_target is None}


def prepare(
    repo_root: Path, settings: Settings, *, base: str | None, head: str | None, all_files: bool
) -> Prepared:
    ws = GitWorkspace(repo_root)
    base_sha, head_sha = _revisions(ws, base, head, all_files)
    diff_text = ws.diff_text(base_sha, head_sha) if base_sha else ""
    diff = parse_diff(diff_text)
    head_files = tuple(ws.all_files(head_sha))
    _check_size(head_files, settings, "the head revision")
    by_path = {e.path: e for e in head_files if e.symlink_target is None}
    if all_files:
        candidates = sorted(p for p in by_path if p.endswith(".py"))
    else:
        candidates = [
            fc.path for fc in diff.files if fc.status != "deleted" and not fc.binary and fc.is_python
        ]
    python_paths, skipped = _python_paths(candidates, by_path, settings)
    compared = base_sha is not None and not all_files
    base_files, base_paths, base_texts = (
        _base_side(ws, base_sha, diff, python_paths, settings) if base_sha and compared else ((), {}, {})
    )
    return Prepared(
        base=base_sha,
        head=head_sha,
        diff_text=diff_text,
        diff=diff,
        scoped=not all_files,
        head_files=head_files,
        base_files=base_files,
        python_paths=tuple(python_paths),
        base_paths=base_paths,
        head_texts={p: _decode(by_path[p].data) for p in python_paths},
        base_texts=base_texts,
        skipped=tuple(skipped),
        uses_ruff_format=uses_ruff_format({k: v.data for k, v in by_path.items() if k in _FORMAT_MARKERS}),
        has_ruff_config=has_ruff_config(head_files),
        # the lint policy: from the base, see reviewbot/core/lintconfig.py
        lint=lint_setup(_regular(head_files), _regular(base_files) if compared else None, diff, python_paths),
    )
