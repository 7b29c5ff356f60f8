"""The one hardened git runner, on real git (and, for what git would hide, a stand-in `git` on PATH
that records how it was started)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from reviewbot.adapters.git.runner import HARDENED_CONFIG, GitError, run_git

SECRET = "Authorization: Basic c2VjcmV0LXRva2Vu"


def _recording_git(bin_dir: Path, record: Path, *, body: str = "") -> None:
    """A `git` that writes its argv and environment to `record` as JSON, then runs `body`."""
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps({{'argv': sys.argv, 'env': dict(os.environ)}}))\n"
        f"{body}\n"
    )
    script.chmod(0o755)


def test_configuration_travels_in_the_environment_never_in_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "record.json"
    _recording_git(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    result = run_git(
        ["fetch", "--quiet"],
        cwd=tmp_path,
        timeout_s=30,
        config=[("http.extraHeader", SECRET), ("core.hooksPath", "/tmp/evil-hooks")],
    )
    assert result.ok
    seen = json.loads(record.read_text())
    assert seen["argv"][1:] == ["fetch", "--quiet"]
    env = seen["env"]
    pairs = [
        (env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"])
        for i in range(int(env["GIT_CONFIG_COUNT"]))
    ]
    assert ("http.extraHeader", SECRET) in pairs
    # The hardening comes last, so a caller's (or a repository's) value cannot undo it.
    assert pairs[-len(HARDENED_CONFIG) :] == list(HARDENED_CONFIG)
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_LFS_SKIP_SMUDGE"] == "1" and env["LC_ALL"] == "C"


def test_a_calling_hooks_environment_does_not_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, other = tmp_path / "repo", tmp_path / "other"
    for root, name in ((repo, "mine"), (other, "theirs")):
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "config", "user.name", name], check=True)
    # As if the bot ran inside a git hook of another repository, started with `git -c`.
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'user.name'='hook'")
    result = run_git(["config", "user.name"], cwd=repo, timeout_s=30)
    assert result.out.decode().strip() == "mine"


def test_failure_reason_is_gits_own_words(tmp_path: Path) -> None:
    result = run_git(["rev-parse", "--verify", "no-such-rev"], cwd=tmp_path, timeout_s=30)
    assert not result.ok
    assert result.reason().startswith("fatal:") and "not a git repository" in result.reason()


def test_timeout_kills_git_and_what_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "child.pid"
    body = (
        "import subprocess, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)"
    )
    _recording_git(tmp_path / "bin", tmp_path / "record.json", body=body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    start = time.monotonic()
    with pytest.raises(GitError, match="took longer than"):
        run_git(["fetch"], cwd=tmp_path, timeout_s=1)
    assert time.monotonic() - start < 30
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # killed; its parent (pid 1 or a subreaper) reaps it
    state = Path(f"/proc/{child}/stat").read_text().split()[2] if Path(f"/proc/{child}").exists() else "gone"
    assert state in ("gone", "Z")


def test_git_missing_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GitError, match="not installed"):
        run_git(["status"], cwd=tmp_path, timeout_s=5)
