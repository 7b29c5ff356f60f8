"""The diff GitHub will check review comments against, built from `GET .../pulls/{n}/files`.

Placement must agree with GitHub, not only with our own `git diff`: GitHub rejects a whole review
when one comment's line is not in *its* patch of the file. So each file's hunks come from the
API's `patch`. A file GitHub sends without a patch (binary, too large) gets no hunks: comments on
it become file-level, which GitHub accepts for any file of the PR. Files past GitHub's 3,000-file
listing cap keep what git says.
"""

from __future__ import annotations

from reviewbot.adapters.github.port import PullFile, PullFiles
from reviewbot.core.diff import Diff, FileChange, Status, parse_hunks

_STATUS: dict[str, Status] = {
    "added": "added",
    "removed": "deleted",
    "modified": "modified",
    "renamed": "renamed",
    "copied": "copied",
    "changed": "modified",
    "unchanged": "modified",
}


def _change(f: PullFile) -> FileChange:
    return FileChange(
        path=f.path,
        old_path=f.previous_path,
        status=_STATUS.get(f.status, "modified"),
        binary=f.patch is None,
        hunks=parse_hunks(f.patch) if f.patch else (),
    )


def pr_diff(files: PullFiles, git_diff: Diff) -> Diff:
    changes = [_change(f) for f in files.files]
    if files.truncated:
        listed = {c.path for c in changes}
        changes += [c for c in git_diff.files if c.path not in listed]
    return Diff(files=tuple(changes))
