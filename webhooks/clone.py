"""Fetch a PR into a temp dir as *data*: nothing in the fetched repository gets to run or to choose
where git connects.

- git runs through `reviewbot.adapters.git.runner`: no hooks, no fsmonitor, no submodules, no LFS
  smudge, and no system or global git config (a host's credential helpers or `url.*.insteadOf`
  never apply).
- Where: `<git_url>/<owner>/<name>.git`, from the configured GitHub host (`git_url_for`) and the
  repository's validated full name. Never a URL from the payload: a signed payload naming another
  host must not receive the installation token.
- Protocols: https only; plain http only for loopback hosts (tests, a local mirror). No userinfo in
  the URL: credentials travel only in the fetch's own environment.
- The token goes in as `http.extraHeader`, configuration that `run_git` passes through
  `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`VALUE_n`: like `git -c`, it lives only in that one process,
  but unlike `-c` it is not in the argument list that `ps` shows. It is never written to
  `.git/config` or anywhere else on disk, so the tree handed to the sandbox cannot contain it.
- The head is fetched *by sha from the base repository* — GitHub keeps every PR's commits there
  (`refs/pull/N/head`), so PRs from forks, even deleted ones, need no access to the fork.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import git
from pydantic import SecretStr

from reviewbot.adapters.git.runner import Config, GitError, fetch_config, isolated_env, run_git
from webhooks.errors import CloneError
from webhooks.jobs import REPO_FULL_NAME
from webhooks.lifecycle import clone_prefix


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def git_url_for(api_url: str) -> str:
    """The web/git root of the GitHub whose API is `api_url`: https://github.com for
    api.github.com, https://HOST for GHES (`https://HOST/api/v3`) and GHE.com (`api.SUB.ghe.com`),
    else the API's own origin. `--git-url` / REVIEWBOT_GIT_URL overrides it."""
    parts = urlsplit(api_url.rstrip("/"))
    host = parts.netloc
    if host == "api.github.com":
        return "https://github.com"
    if host.startswith("api.") and host.endswith(".ghe.com"):
        return f"{parts.scheme}://{host.removeprefix('api.')}"
    path = parts.path.removesuffix("/api/v3")
    return f"{parts.scheme}://{host}{path if path != parts.path else ''}"


def repo_clone_url(git_url: str, full_name: str) -> str:
    """`<git_url>/<owner>/<name>.git` for a validated owner/name; CloneError (permanent) otherwise."""
    if not re.fullmatch(REPO_FULL_NAME, full_name):
        raise CloneError(f"refusing repository name {full_name!r}: not owner/name")
    url = f"{git_url.rstrip('/')}/{full_name}.git"
    check_clone_url(url)
    return url


def check_clone_url(url: str) -> bool:
    """Validate a clone URL; returns whether plain http must be allowed (loopback)."""
    if not url.startswith(("https://", "http://")):  # git refuses `HTTPS://`: say so up front
        raise CloneError(f"refusing clone URL {url!r}: only https:// (or http:// to loopback), lowercase")
    parts = urlsplit(url)
    if parts.username or parts.password or "@" in parts.netloc:
        raise CloneError(f"refusing a clone URL with credentials in it: {parts.scheme}://…")
    host = parts.hostname or ""
    if not host or url.startswith("-"):
        raise CloneError(f"refusing clone URL {url!r}: no host")
    if parts.scheme == "https":
        return False
    if parts.scheme == "http" and _is_loopback(host):
        return True
    raise CloneError(f"refusing clone URL {url!r}: only https (or http to a loopback host) is allowed")


def _auth_config(token: SecretStr | None) -> tuple[tuple[str, str], ...]:
    """The token as an `http.extraHeader` (configuration: it travels in the fetch's environment)."""
    if token is None:
        return ()
    basic = base64.b64encode(f"x-access-token:{token.get_secret_value()}".encode()).decode()
    return (("http.extraHeader", f"Authorization: Basic {basic}"),)


def clone_pr(
    url: str,
    base_sha: str,
    head_sha: str,
    dest: Path,
    *,
    token: SecretStr | None,
    timeout_s: float = 600.0,
) -> git.Repo:
    """Fetch `base_sha` and `head_sha` from `url` into `dest` (empty or absent), check out the head."""
    allow_http = check_clone_url(url)
    home = dest.parent / f".{dest.name}-home"
    home.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    env = isolated_env(home, allow_http=allow_http)
    config = fetch_config(allow_http=allow_http)
    fetch = ["fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--"]
    steps: list[tuple[list[str], tuple[tuple[str, str], ...], float]] = [
        (["init", "-q", "--template=", str(dest)], config, 60),
        ([*fetch, url, f"+{head_sha}:refs/reviewbot/head", f"+{base_sha}:refs/reviewbot/base"],
         (*config, *_auth_config(token)), timeout_s),
        (["checkout", "-q", "--detach", head_sha], config, timeout_s),
    ]  # fmt: skip
    try:
        for args, step_config, timeout in steps:
            _run_step(args, dest, url, env=env, config=step_config, timeout_s=timeout)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return git.Repo(str(dest))


def _run_step(
    args: list[str], dest: Path, url: str, *, env: dict[str, str], config: Config, timeout_s: float
) -> None:
    """One git command of the clone; CloneError, retryable or not by git's own words, if it fails."""
    try:
        result = run_git(args, cwd=dest, timeout_s=timeout_s, config=config, env=env)
    except GitError as exc:  # not installed, or killed by our own timeout: no words from git
        raise CloneError(f"git failed fetching {url}: {exc}", retryable=is_transient_git_error("")) from exc
    if not result.ok:
        stderr = result.stderr.strip().replace("\n", " ")[:500]
        raise CloneError(
            f"git failed fetching {url}: {stderr or f'exit status {result.code}'}",
            retryable=is_transient_git_error(stderr),
        )


#: git's messages for what no retry cures: auth, a missing repository or commit, a refused URL.
_PERMANENT = re.compile(
    r"not our ref|Authentication failed|returned error: 4(?!08|29)\d\d|Repository (\S+ )?not found"
    r"|could not read (Username|Password)|unsupported protocol|Unable to find remote helper"
    r"|transport '[^']*' not allowed|Protocol \S+ is not supported|bad/illegal format"
    r"|does not appear to be a git repository|couldn't find remote ref|bad object|invalid refspec"
    r"|invalid path '",  # a tree with a `.git` entry (e.g. `sub/.git` -> gitdir elsewhere): never checked out
    re.IGNORECASE,
)


def is_transient_git_error(stderr: str) -> bool:
    """Classify a failed git command. Permanent: the messages above. Everything else — the
    network, a 5xx/408/429, our own timeout, a message we do not know — is retried, a bounded
    number of times (RetryPolicy), before the job is dead-lettered with git's words."""
    return not _PERMANENT.search(stderr)


@contextlib.contextmanager
def cloned_pr(
    url: str,
    base_sha: str,
    head_sha: str,
    *,
    token: SecretStr | None,
    parent: Path | None = None,
    timeout_s: float = 600.0,
) -> Iterator[Path]:
    """`clone_pr` into a fresh temp dir that is removed afterwards, whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix=clone_prefix(), dir=parent))
    try:
        repo = clone_pr(url, base_sha, head_sha, tmp / "repo", token=token, timeout_s=timeout_s)
        repo.close()
        yield tmp / "repo"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
