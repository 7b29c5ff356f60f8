"""The Actions checkout as git data: make sure the PR's base and head commits are present (the
default `actions/checkout` is a depth-1 clone of the merge commit). The base revision's config is
read by the pull-request review service, through `GitWorkspace`.

Git runs hardened (`reviewbot.adapters.git.runner`): the checkout holds a stranger's files. The
checkout's own remote and credentials (what `actions/checkout` configured) are what fetches use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewbot.adapters.git.runner import GitError, run_git
from reviewbot.errors import WorkspaceError


@dataclass(frozen=True)
class GitOutput:
    returncode: int
    stdout: str
    stderr: str


def git(workspace: Path, *args: str, check: bool = True, timeout: float = 600.0) -> GitOutput:
    try:
        result = run_git(args, cwd=workspace, timeout_s=timeout, config=[("safe.directory", str(workspace))])
    except (OSError, GitError) as exc:
        raise WorkspaceError(f"git {args[0]} failed in {workspace}: {exc}") from exc
    stderr = _text(result.err)
    if check and not result.ok:
        raise WorkspaceError(f"git {' '.join(args[:3])} failed in {workspace}: {stderr.strip()[-500:]}")
    return GitOutput(result.code, _text(result.out), stderr)


def _text(raw: bytes) -> str:
    """Decoded as Python's text mode reads a pipe: invalid bytes replaced, \\r\\n and \\r read as \\n."""
    return raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def has_commit(workspace: Path, sha: str) -> bool:
    return git(workspace, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0


def _has_merge_base(workspace: Path, base: str, head: str) -> bool:
    return git(workspace, "merge-base", base, head, check=False).returncode == 0


def ensure_commits(workspace: Path, base_sha: str, head_sha: str, *, remote: str = "origin") -> list[str]:
    """Fetch what a shallow checkout lacks: the two commits, then history until they meet.
    Returns what was done (for the log)."""
    if git(workspace, "rev-parse", "--git-dir", check=False).returncode != 0:
        raise WorkspaceError(f"{workspace} is not a git checkout; run actions/checkout before reviewbot")
    done: list[str] = []
    fetch = ("fetch", "--no-tags", "--no-recurse-submodules", "--quiet", remote)
    missing = [sha for sha in (base_sha, head_sha) if not has_commit(workspace, sha)]
    if missing:
        git(workspace, *fetch, "--depth=50", *missing)
        done.append(f"fetched {', '.join(s[:12] for s in missing)} (depth 50)")
    shallow = git(workspace, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    for deepen in ("--deepen=200", "--unshallow"):
        if not shallow or _has_merge_base(workspace, base_sha, head_sha):
            break
        git(workspace, *fetch, deepen, base_sha, head_sha)
        done.append(f"fetched more history ({deepen})")
    for sha in (base_sha, head_sha):
        if not has_commit(workspace, sha):
            raise WorkspaceError(
                f"commit {sha} is not in the checkout and could not be fetched from {remote}"
            )
    return done
