"""Cloning a PR over real git-over-HTTP on loopback (`git http-backend`)."""

from __future__ import annotations

import base64
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.support.git import git, rev
from webhooks.clone import (
    check_clone_url,
    clone_pr,
    cloned_pr,
    git_url_for,
    is_transient_git_error,
    repo_clone_url,
)
from webhooks.errors import CloneError

from .wh_gitserver import make_pr_repo, serve_git

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
    from .wh_helpers import free_port

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


# -- every clone error classified: retrying cures the network, not auth, 404s or refused URLs --------


class _Answering:
    """An HTTP server that answers every request with one status (a GitHub outage, a rate limit)."""

    def __init__(self, status: int) -> None:
        status_code = status

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(status_code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/octo/hello.git"

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


def _clone_error(
    url: str, tmp: Path, pr: object, *, head: str | None = None, token: str | None = None
) -> CloneError:
    with pytest.raises(CloneError) as err:
        clone_pr(
            url,
            pr.base_sha,  # type: ignore[attr-defined]
            head or pr.head_sha,  # type: ignore[attr-defined]
            tmp / f"c-{len(list(tmp.glob('c-*')))}",
            token=SecretStr(token) if token else None,
            timeout_s=60,
        )
    return err.value


def test_clone_errors_are_classified_retryable_or_not(tmp_path: Path) -> None:
    pr = make_pr_repo(tmp_path)
    with serve_git(tmp_path / "srv", required_auth=_basic(TOKEN)) as srv:
        wrong_token = _clone_error(srv.url("octo/hello.git"), tmp_path, pr, token="ghs_wrong")
        missing_repo = _clone_error(srv.url("octo/missing.git"), tmp_path, pr, token=TOKEN)
        missing_commit = _clone_error(srv.url("octo/hello.git"), tmp_path, pr, head="e" * 40, token=TOKEN)
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/octo/hello.git"
    refused = _clone_error(closed, tmp_path, pr)
    with _Answering(503) as url:
        outage = _clone_error(url, tmp_path, pr)
    with _Answering(429) as url:
        limited = _clone_error(url, tmp_path, pr)
    with _Answering(403) as url:
        forbidden = _clone_error(url, tmp_path, pr)
    upper = _clone_error("HTTPS://github.com/octo/hello.git", tmp_path, pr)
    permanent = {
        "wrong token": wrong_token,
        "404 repo": missing_repo,
        "missing commit": missing_commit,
        "403": forbidden,
        "HTTPS://": upper,
    }
    transient = {"connection refused": refused, "503": outage, "429": limited}
    assert {k: e.retryable for k, e in permanent.items()} == dict.fromkeys(permanent, False)
    assert {k: e.retryable for k, e in transient.items()} == dict.fromkeys(transient, True)


@pytest.mark.parametrize(
    ("stderr", "transient"),
    [
        ("fatal: transport 'HTTPS' not allowed", False),  # git's own words for an uppercase scheme
        ("fatal: Unable to find remote helper for 'HTTPS'", False),
        ("fatal: unable to access 'https://x/': Could not resolve host: x", True),
        ("error: RPC failed; curl 56 GnuTLS recv error (-9)", True),
        ("fatal: unable to access 'https://x/': Operation too slow. Less than 1000 bytes/sec", True),
        ("fatal: early EOF", True),
        ("fatal: repository 'https://x/o/r.git/' not found", False),
        ("remote: Repository not found.", False),
        ("fatal: could not read Username for 'https://x': terminal prompts disabled", False),
        ("fatal: unable to access 'https://x/': The requested URL returned error: 502", True),
        ("fatal: unable to access 'https://x/': The requested URL returned error: 401", False),
        ("fatal: unable to access 'https://x/': The requested URL returned error: 408", True),
        ("", True),  # killed by our own timeout: no words at all
    ],
)
def test_git_messages_are_classified(stderr: str, transient: bool) -> None:
    assert is_transient_git_error(stderr) is transient


def test_repository_names_build_the_url_and_nothing_else_does() -> None:
    assert repo_clone_url("https://github.com", "octo/hello") == "https://github.com/octo/hello.git"
    assert repo_clone_url("https://ghe.example/", "o-1/r.x_y") == "https://ghe.example/o-1/r.x_y.git"
    for bad in ("evil.example/x", "octo/..", "o/r/../../x", "@h/x", "o/r?x", "o/r#x", "o", "o/r/s"):
        with pytest.raises(CloneError):
            repo_clone_url("https://github.com", bad)
    with pytest.raises(CloneError):
        repo_clone_url("HTTPS://github.com", "octo/hello")


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://api.github.com/", "https://github.com"),
        ("https://ghe.example/api/v3", "https://ghe.example"),
        ("https://ghe.example/api/v3/", "https://ghe.example"),
        ("https://api.acme.ghe.com", "https://acme.ghe.com"),
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
    ],
)
def test_the_git_host_follows_the_configured_api(api: str, web: str) -> None:
    assert git_url_for(api) == web


def test_a_tree_with_a_dot_git_entry_is_refused_for_good(tmp_path: Path) -> None:
    # A `.git` file pointing elsewhere (`gitdir: /etc`) inside the PR's tree: git refuses to check
    # it out, so such a tree never reaches the review or the sandbox — and no retry will change that.
    pr = make_pr_repo(tmp_path)
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=pr.bare,
        input="gitdir: /etc\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    app = rev(pr.bare, f"{pr.head_sha}:app.py")
    sub = _mktree(pr.bare, f"100644 blob {blob}\t.git\n100644 blob {app}\tx.py\n")
    tree = _mktree(pr.bare, f"100644 blob {app}\tapp.py\n040000 tree {sub}\tsub\n")
    evil = git(
        pr.bare,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit-tree",
        tree,
        "-p",
        pr.base_sha,
        "-m",
        "x",
    ).strip()
    git(pr.bare, "update-ref", f"refs/pull/{pr.number}/head", evil)
    with serve_git(tmp_path / "srv") as srv:
        err = _clone_error(srv.url("octo/hello.git"), tmp_path, pr, head=evil)
    assert "invalid path 'sub/.git'" in str(err) and err.retryable is False


def _mktree(repo: Path, listing: str) -> str:
    done = subprocess.run(
        ["git", "mktree"], cwd=repo, input=listing, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()
