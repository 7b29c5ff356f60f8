"""The one way reviewbot runs git on a repository it does not trust: the user's working tree, the
Actions checkout of a pull request, a webhook job's clone. Nothing in that repository gets to run,
to prompt, or to choose where git connects.

Every command runs with:

- `HARDENED_CONFIG`: no hooks (`core.hooksPath=/dev/null`), no fsmonitor command, no untracked
  cache, no `ext::` transport, no submodule recursion — each of which the repository's own
  `.git/config` could otherwise turn on;
- `SAFE_ENV`: no terminal prompt, no LFS smudge, no pager or external diff, no optional locks,
  nothing inherited from a calling git hook (its `-c` settings, ref namespace, GIT_DIR and the
  like), and git's messages in the C locale (callers read them: `GitResult.reason`, the webhook
  clone's retryable-or-not);
- a timeout, after which git and whatever it started are killed.

Configuration travels in the environment (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` /
`GIT_CONFIG_VALUE_n`), never in the argument list: it is the same command scope as `git -c`, but
`ps` does not show it, so a credential passed as configuration (the clone's `http.extraHeader`)
never appears in an argv or a log. Setting the count also replaces any such list inherited from a
calling git hook.

A clone the bot makes itself (`isolated_env`, `fetch_config`) also ignores the host's system and
global git config (credential helpers, `url.*.insteadOf`) and speaks https only (plain http only
when the caller allows it, for loopback).
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import WorkspaceError

Config = Sequence[tuple[str, str]]

#: `-c` settings for every git command (passed through the environment, see the module docstring).
HARDENED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.untrackedCache", "false"),
    ("protocol.ext.allow", "never"),
    ("submodule.recurse", "false"),
)

#: The environment every git command gets on top of the bot's own.
SAFE_ENV: Mapping[str, str] = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PAGER": "cat",
    "GIT_EXTERNAL_DIFF": "",
    "GIT_NAMESPACE": "",
    "GIT_CONFIG_PARAMETERS": "",  # what `git -c` hands down: a calling hook's settings
    "LANGUAGE": "C",
    "LC_ALL": "C",
}


#: Inherited variables that would point git at another repository (set when the bot is started
#: from a git hook); a caller that means them passes its own.
_REPOSITORY_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
)


class GitError(WorkspaceError):
    """git could not be run at all (not installed) or did not finish in time."""


@dataclass(frozen=True)
class GitResult:
    args: tuple[str, ...]  # what followed `git` (no configuration: that is in the environment)
    code: int
    out: bytes
    err: bytes

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")

    def reason(self) -> str:
        """git's own words for a failure: its `fatal:`/`error:` line, else its last line."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        found = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1] if lines else "")
        return found or f"exit code {self.code}"


def config_env(config: Config) -> dict[str, str]:
    """`GIT_CONFIG_COUNT` and its pairs for `config`, hardening last (the last value wins, so a
    caller cannot undo it)."""
    pairs = [*config, *HARDENED_CONFIG]
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def run_git(
    args: Sequence[str],
    *,
    cwd: Path,
    timeout_s: float,
    config: Config = (),
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> GitResult:
    """Run `git *args` in `cwd`, hardened; the result whatever git's exit code. `env` is added to
    the bot's environment and `SAFE_ENV`; `config` to `HARDENED_CONFIG`. GitError if git is not
    installed or is still running after `timeout_s` (then it is killed, with its children)."""
    inherited = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARS}
    full_env = {**inherited, **SAFE_ENV, **(env or {}), **config_env(config)}
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed whole on timeout
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    try:
        out, err = proc.communicate(stdin, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} took longer than {timeout_s:.0f}s") from exc
    finally:
        if proc.returncode is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return GitResult(tuple(args), proc.returncode, out, err)


def fetch_config(*, allow_http: bool) -> tuple[tuple[str, str], ...]:
    """Configuration for fetching from a host the bot chose: https only (http too if `allow_http`,
    for loopback), no credential helper, no submodules, no automatic gc."""
    return (
        ("fetch.recurseSubmodules", "false"),
        ("protocol.allow", "never"),
        ("protocol.https.allow", "always"),
        *((("protocol.http.allow", "always"),) if allow_http else ()),
        ("credential.helper", ""),
        ("advice.detachedHead", "false"),
        ("gc.auto", "0"),
    )


def isolated_env(home: Path, *, allow_http: bool) -> dict[str, str]:
    """Environment for a repository the bot made itself: no system or global config, no askpass."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_ALLOW_PROTOCOL": "https:http" if allow_http else "https",
    }
