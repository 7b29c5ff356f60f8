"""Cloning a PR over real git-over-HTTP on loopback (`git http-backend`)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr
from wh_gitserver import git, make_pr_repo, serve_git

from webhooks.clone import check_clone_url, clone_pr, cloned_pr
from webhooks.errors import CloneError

TOKEN = "ghs_" + "s3cr3t" * 6


def _basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def _all_bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def test_clone_fetches_base_and_head_with_the_token_and_never_writes_it(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    with serve_git(tmp_path / "srv", required_auth=_basic(TOKEN)) as srv:
        repo = clone_pr(
            srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, tmp_path / "c", token=SecretStr(TOKEN)
        )
    root = tmp_path / "c"
    assert repo.head.commit.hexsha == pr.head_sha
    assert repo.commit(pr.base_sha).hexsha == pr.base_sha
    assert (root / "app.py").read_text().startswith("import os")
    # The token reached the server (auth was required) ...
    assert _basic(TOKEN) in srv.seen_auth
    # ... but no file of the clone holds it, in any form, and no remote or header config was written.
    blob = _all_bytes_under(root)
    assert TOKEN.encode() not in blob and base64.b64encode(f"x-access-token:{TOKEN}".encode()) not in blob
    config = (root / ".git" / "config").read_text()
    assert "extraheader" not in config.lower() and "http" not in config
    assert not list((root / ".git" / "hooks").glob("*")) if (root / ".git" / "hooks").exists() else True


def test_without_the_token_the_fetch_is_refused(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    with serve_git(tmp_path / "srv", required_auth=_basic(TOKEN)) as srv, pytest.raises(CloneError) as err:
        clone_pr(srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, tmp_path / "c", token=None)
    assert TOKEN not in str(err.value)


def test_host_git_config_and_hooks_never_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pr = make_pr_repo(tmp_path)
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "evil-hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (hooks / "post-checkout").chmod(0o755)
    evil = tmp_path / "evil.gitconfig"
    evil.write_text(f"[core]\n\thooksPath = {hooks}\n")
    # Sanity: with that config in effect, a plain checkout does run the hook.
    probe = tmp_path / "probe"
    subprocess.run(
        ["git", "clone", "-q", str(pr.bare), str(probe)],
        check=True,
        env={"GIT_CONFIG_GLOBAL": str(evil), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert marker.exists()
    marker.unlink()
    # The bot's process environment points git at that config; the clone must ignore it.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(evil))
    with serve_git(tmp_path / "srv") as srv:
        clone_pr(srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, tmp_path / "c", token=None)
    assert not marker.exists()


def test_lfs_attributes_do_not_trigger_a_smudge_filter(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)  # has `*.bin filter=lfs` in .gitattributes
    with serve_git(tmp_path / "srv") as srv:
        repo = clone_pr(srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, tmp_path / "c", token=None)
    assert repo.head.commit.hexsha == pr.head_sha


def test_a_deleted_fork_is_fine_because_the_head_comes_from_the_base_repo(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)  # the head exists only as refs/pull/7/head of the base repository
    refs = git(pr.bare, "for-each-ref", "--format=%(refname)")
    assert "refs/heads/feature" not in refs
    with serve_git(tmp_path / "srv") as srv:
        repo = clone_pr(srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, tmp_path / "c", token=None)
    assert repo.head.commit.hexsha == pr.head_sha


def test_unknown_head_is_a_permanent_clone_error(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    with serve_git(tmp_path / "srv") as srv, pytest.raises(CloneError) as err:
        clone_pr(srv.url("octo/hello.git"), pr.base_sha, "f" * 40, tmp_path / "c", token=None)
    assert not err.value.retryable


def test_unreachable_server_is_retryable(tmp_path: Path) -> None:
    from wh_helpers import free_port

    with pytest.raises(CloneError) as err:
        clone_pr(f"http://127.0.0.1:{free_port()}/x.git", "a" * 40, "b" * 40, tmp_path / "c", token=None)
    assert err.value.retryable


@pytest.mark.parametrize(
    "url",
    [
        "http://github.com/octo/hello.git",  # plain http off loopback
        "https://user:pw@github.com/octo/hello.git",  # credentials in the URL
        "https://x-access-token@github.com/o/r.git",
        "file:///etc/passwd",
        "ssh://git@github.com/octo/hello.git",
        "ext::sh -c touch% /tmp/pwned",
        "--upload-pack=touch /tmp/pwned",
        "git://github.com/octo/hello.git",
    ],
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(CloneError):
        check_clone_url(url)


def test_allowed_urls() -> None:
    assert check_clone_url("https://github.com/octo/hello.git") is False
    assert check_clone_url("http://127.0.0.1:8080/octo/hello.git") is True
    assert check_clone_url("http://[::1]:8080/octo/hello.git") is True
    assert check_clone_url("http://localhost/octo/hello.git") is True


def test_cloned_pr_cleans_up_even_on_error(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    parent = tmp_path / "jobs"
    parent.mkdir()
    with serve_git(tmp_path / "srv") as srv:
        with cloned_pr(
            srv.url("octo/hello.git"), pr.base_sha, pr.head_sha, token=None, parent=parent
        ) as root:
            out = subprocess.run(
                ["git", "diff", "--name-only", pr.base_sha, "HEAD"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            assert "app.py" in out
        assert list(parent.iterdir()) == []
        with (
            pytest.raises(CloneError),
            cloned_pr(srv.url("octo/hello.git"), pr.base_sha, "e" * 40, token=None, parent=parent),
        ):
            pass
        assert list(parent.iterdir()) == []
