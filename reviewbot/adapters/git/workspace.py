"""The git repository under review, read as data (git runs through `reviewbot.adapters.git.runner`;
nothing else here does I/O).

A repository can be hostile: its `.git/config` may name an fsmonitor command, hooks, or clean/smudge
filter drivers that `.gitattributes` turns on, all of which plain `git status` / `git add` would
run. Every git command here therefore runs through `reviewbot.adapters.git.runner.run_git` (no
hooks, no fsmonitor, no LFS smudge, no prompt, nothing inherited from a calling hook), and also with:

- every `filter.<driver>` found in the configuration emptied (`clean=`, `smudge=`, `process=`,
  `required=false`) — git applies no filter with an empty command;
- `--no-ext-diff --no-textconv` on diffs, literal pathspecs;
- an explicit GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE / GIT_OBJECT_DIRECTORY, so the commands read
  this repository and no other.

Paths cross this boundary as `str` decoded from git's bytes with surrogateescape (as `os.fsdecode`
does), so names that are not UTF-8 survive a round trip.

The working tree ("head is None") means committed + staged + unstaged + untracked-not-ignored
files. Its diff is made with a *temporary* index (a copy of the real one, for its stat cache) and a
temporary object directory: `git add -A` into those, then `git diff --cached`. The user's index and
object store are never written.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import git

from reviewbot.adapters.git.runner import run_git
from reviewbot.errors import WorkspaceError
from sandbox.archive import FileEntry

__all__ = ["FileEntry", "GitWorkspace"]

DIFF_ARGS = (
    "diff",
    "--find-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    "--unified=3",  # the same hunks GitHub shows, whatever diff.context says
    "--inter-hunk-context=0",
    "--submodule=short",
)
_MODE_EXEC, _MODE_LINK, _MODE_FILE = "100755", "120000", "100644"


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _check_rel_path(path: str) -> str:
    parts = path.split("/")
    if not path or "\x00" in path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise WorkspaceError(f"invalid repository path {path!r}: must be relative, without '..'")
    return path


class GitWorkspace:
    """One git repository (or linked worktree). All revisions are any git revision syntax."""

    def __init__(self, root: Path, *, timeout_s: float = 300.0) -> None:
        try:
            repo = git.Repo(root, search_parent_directories=True, expand_vars=False)
        except git.NoSuchPathError as exc:
            raise WorkspaceError(f"{root}: no such directory") from exc
        except git.InvalidGitRepositoryError as exc:
            raise WorkspaceError(f"{root}: not a git repository") from exc
        self.git_dir = Path(repo.git_dir).resolve()
        self.common_dir = Path(repo.common_dir).resolve()
        self.root: Path | None = Path(repo.working_tree_dir).resolve() if repo.working_tree_dir else None
        self.timeout_s = timeout_s
        self._filters: tuple[tuple[str, str], ...] | None = None
        repo.close()

    # -- running git --------------------------------------------------------------------------

    def _env(
        self, index: str | None = None, objects: str | None = None, alternates: str = ""
    ) -> dict[str, str]:
        env = {
            "GIT_DIR": str(self.git_dir),
            "GIT_INDEX_FILE": index or str(self.git_dir / "index"),
            "GIT_OBJECT_DIRECTORY": objects or str(self.common_dir / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": alternates,
            "GIT_LITERAL_PATHSPECS": "1",
        }
        if self.root is not None:
            env["GIT_WORK_TREE"] = str(self.root)
        return env

    def _run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        ok_codes: Iterable[int] = (0,),
        what: str = "",
    ) -> tuple[int, bytes]:
        result = run_git(
            args,
            cwd=self.root or self.git_dir,
            timeout_s=self.timeout_s,
            config=self._filter_overrides(),
            env=env or self._env(),
            stdin=stdin,
        )
        if result.code not in tuple(ok_codes):
            raise WorkspaceError(f"{what or 'git ' + args[0]} failed: {result.reason()}")
        return result.code, result.out

    def _filter_overrides(self) -> tuple[tuple[str, str], ...]:
        """Empty every configured filter driver: `.gitattributes` may enable one the config defines."""
        if self._filters is None:
            found = run_git(
                ["config", "-z", "--name-only", "--get-regexp", r"^filter\."],
                cwd=self.root or self.git_dir,
                timeout_s=self.timeout_s,
                env=self._env(),
            )
            keys = _decode(found.out).split("\0") if found.ok else []
            names = sorted({key[len("filter.") : key.rfind(".")] for key in keys if key.count(".") >= 2})
            self._filters = tuple(
                (f"filter.{name}.{setting}", value)
                for name in names
                for setting, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))
            )
        return self._filters

    # -- revisions ----------------------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """Full commit sha of `rev` (a branch, tag, sha, `HEAD~2`, ...)."""
        if not rev or rev.startswith("-") or any(c in rev for c in "\0\n"):
            raise WorkspaceError(f"invalid revision {rev!r}")
        code, out = self._run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
            ok_codes=(0, 1),  # 1 = no such commit; anything else (dubious ownership, ...) says why
            what=f"resolving {rev!r}",
        )
        sha = _decode(out).strip()
        if code != 0 or not sha:
            raise WorkspaceError(f"unknown revision {rev!r} in {self.root or self.git_dir}")
        return sha

    def _try_resolve(self, rev: str) -> str | None:
        try:
            return self.resolve(rev)
        except WorkspaceError:
            return None

    def merge_base(self, base: str, head: str | None) -> str:
        """The commit `git diff base...head` compares with: where head's history left base's.
        `head=None` means the working tree, whose history is HEAD."""
        base_sha = self.resolve(base)
        head_sha = self.resolve(head or "HEAD")
        code, out = self._run(["merge-base", base_sha, head_sha], ok_codes=(0, 1))
        if code != 0:
            raise WorkspaceError(f"{base} and {head or 'HEAD'} have no common ancestor; pass another --base")
        return _decode(out).strip()

    def default_base(self, head_rev: str | None = None) -> str:
        """Merge-base of `head_rev` (default HEAD) with the default branch: origin/HEAD, else
        main, else master."""
        head = self._try_resolve("HEAD") if head_rev is None else self.resolve(head_rev)
        if head is None:
            raise WorkspaceError("the repository has no commits yet (HEAD does not resolve)")
        for ref in (
            "refs/remotes/origin/HEAD",
            "refs/heads/main",
            "refs/heads/master",
            "origin/main",
            "origin/master",
        ):
            target = self._try_resolve(ref)
            if target is None:
                continue
            code, out = self._run(["merge-base", head, target], ok_codes=(0, 1))
            if code != 0:
                raise WorkspaceError(f"HEAD and {ref} have no common ancestor; pass --base")
            return _decode(out).strip()
        raise WorkspaceError("no default branch to compare with (origin/HEAD, main, master); pass --base")

    # -- diffs --------------------------------------------------------------------------------

    def diff_text(self, base: str, head: str | None) -> str:
        """`git diff --find-renames` from `base` to `head`, or to the working tree when head is None."""
        base_sha = self.resolve(base)
        if head is not None:
            _, out = self._run([*DIFF_ARGS, base_sha, self.resolve(head), "--"], what="git diff")
            return _decode(out)
        if self.root is None:
            raise WorkspaceError(f"{self.git_dir} is a bare repository: it has no working tree to review")
        with tempfile.TemporaryDirectory(prefix="reviewbot-index-") as tmp:
            index, objects = os.path.join(tmp, "index"), os.path.join(tmp, "objects")
            os.mkdir(objects)
            real_index = self.git_dir / "index"
            if real_index.is_file():
                shutil.copyfile(real_index, index)  # keeps the stat cache: unchanged files are not re-hashed
            env = self._env(index=index, objects=objects, alternates=str(self.common_dir / "objects"))
            self._run(
                ["add", "-A", "--", "."],
                env=env,
                what="reading the working tree (git add into a temporary index)",
            )
            _, out = self._run([*DIFF_ARGS, "--cached", base_sha, "--"], env=env, what="git diff")
        return _decode(out)

    # -- file contents ------------------------------------------------------------------------

    def _tree(self, rev: str) -> list[tuple[str, str, str]]:
        """(mode, oid, path) of every entry of `rev`'s tree, recursively."""
        _, out = self._run(["ls-tree", "-r", "-z", "--full-tree", self.resolve(rev)], what="git ls-tree")
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _kind, oid = _decode(meta).split(" ")
            entries.append((mode, oid, _decode(raw_path)))
        return entries

    def _blobs(self, oids: Sequence[str]) -> dict[str, bytes]:
        if not oids:
            return {}
        _, out = self._run(
            ["cat-file", "--batch"], stdin="".join(f"{o}\n" for o in oids).encode(), what="git cat-file"
        )
        blobs: dict[str, bytes] = {}
        pos = 0
        for oid in oids:
            end = out.index(b"\n", pos)
            header = out[pos:end].split(b" ")
            if len(header) != 3:
                raise WorkspaceError(f"git object {oid} is missing from the repository")
            size = int(header[2])
            blobs[oid] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1
        return blobs

    def _entries_at(self, rev: str, wanted: set[str] | None) -> list[FileEntry]:
        tree = [(m, o, p) for m, o, p in self._tree(rev) if wanted is None or p in wanted]
        tree = [t for t in tree if t[0] in (_MODE_FILE, _MODE_EXEC, _MODE_LINK)]  # no submodules
        blobs = self._blobs(sorted({o for _, o, _ in tree}))
        out = []
        for mode, oid, path in tree:
            if mode == _MODE_LINK:
                out.append(FileEntry(path=path, data=b"", symlink_target=_decode(blobs[oid])))
            else:
                out.append(FileEntry(path=path, data=blobs[oid], executable=mode == _MODE_EXEC))
        return out

    def _worktree_entry(self, path: str) -> FileEntry | None:
        if self.root is None:
            raise WorkspaceError(f"{self.git_dir} is a bare repository: it has no working tree")
        full = self.root / _check_rel_path(path)
        parent = full.parent.resolve()
        if parent != self.root and self.root not in parent.parents:
            return None  # a symlinked directory leading out of the repository
        try:
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                return FileEntry(path=path, data=b"", symlink_target=os.readlink(full))
            if not stat.S_ISREG(info.st_mode):
                return None
            return FileEntry(path=path, data=full.read_bytes(), executable=bool(info.st_mode & 0o111))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WorkspaceError(f"cannot read {path!r} in the working tree: {exc.strerror}") from exc

    def read_at(self, rev: str | None, path: str) -> bytes | None:
        """Content of a regular file at `rev` (None = working tree); None if absent or not a regular file."""
        entries = self.files_at(rev, [path])
        return entries[0].data if entries and entries[0].symlink_target is None else None

    def files_at(self, rev: str | None, paths: Iterable[str]) -> list[FileEntry]:
        """Regular files and symlinks among `paths` at `rev` (None = working tree); absent ones left out."""
        wanted = [_check_rel_path(p) for p in paths]
        if rev is not None:
            return self._entries_at(rev, set(wanted))
        return [e for e in (self._worktree_entry(p) for p in dict.fromkeys(wanted)) if e is not None]

    def all_files(self, rev: str | None) -> list[FileEntry]:
        """Every file at `rev`; for the working tree, tracked and untracked-not-ignored files on disk."""
        if rev is not None:
            return self._entries_at(rev, None)
        if self.root is None:
            raise WorkspaceError(f"{self.git_dir} is a bare repository: it has no working tree")
        _, out = self._run(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], what="git ls-files"
        )
        paths = sorted({_decode(p) for p in out.split(b"\0") if p})
        return self.files_at(None, paths)
