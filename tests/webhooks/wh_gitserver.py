"""Real git over HTTP on loopback: `git http-backend` (CGI) behind a tiny threaded http.server.

Used by the clone, worker and end-to-end tests (and the benchmark). It can demand a bearer-ish
`Authorization` header so a test proves the token reached the fetch, and it records every
Authorization header it saw.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.git import git, rev

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


@dataclass
class GitServer:
    root: Path
    port: int
    required_auth: str | None = None
    seen_auth: list[str] = field(default_factory=list)
    requests: int = 0

    def url(self, repo: str) -> str:
        return f"http://127.0.0.1:{self.port}/{repo}"


def _handler(state: GitServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:  # quiet tests
            pass

        def do_GET(self) -> None:
            self._cgi()

        def do_POST(self) -> None:
            self._cgi()

        def _cgi(self) -> None:
            state.requests += 1
            auth = self.headers.get("Authorization")
            if auth:
                state.seen_auth.append(auth)
            if state.required_auth is not None and auth != state.required_auth:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            env = {
                "GIT_PROJECT_ROOT": str(state.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": parts.path,
                "QUERY_STRING": parts.query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_CONFIG_NOSYSTEM": "1",
                "HOME": str(state.root),
            }
            if self.headers.get("Git-Protocol"):
                env["HTTP_GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            proc = subprocess.run([HTTP_BACKEND], input=body, env=env, capture_output=True, check=False)
            head, _, payload = proc.stdout.partition(b"\r\n\r\n")
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.decode("latin-1").split("\r\n"):
                if not line:
                    continue
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                else:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve_git(root: Path, *, required_auth: str | None = None) -> Iterator[GitServer]:
    """Serve every bare repository under `root` at http://127.0.0.1:<port>/<name>."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(GitServer(root, 0)))
    state = GitServer(root, server.server_address[1], required_auth)
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class PrRepo:
    """A bare 'origin' repo with a base branch and a PR ref `refs/pull/<n>/head`, like GitHub's."""

    bare: Path
    base_sha: str
    head_sha: str
    number: int


def make_pr_repo(tmp: Path, name: str = "octo/hello.git", number: int = 7) -> PrRepo:
    work = tmp / "work"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    (work / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (work / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "base")
    base = rev(work)
    git(work, "checkout", "-q", "-b", "feature")
    (work / "app.py").write_text("import os\n\ndef add(a, b):\n    return a + b + 0\n")
    hook = work / "hooks_bait.sh"
    hook.write_text("#!/bin/sh\ntouch /tmp/reviewbot-hook-ran\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "change")
    head = rev(work)
    bare = tmp / "srv" / name
    bare.parent.mkdir(parents=True, exist_ok=True)
    git(tmp, "clone", "-q", "--bare", str(work), str(bare))
    git(bare, "update-ref", f"refs/pull/{number}/head", head)
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    git(bare, "branch", "-D", "feature")
    git(bare, "config", "http.receivepack", "false")
    return PrRepo(bare, base, head, number)


def push_new_head(repo: PrRepo, tmp: Path, text: str) -> str:
    """Move refs/pull/<n>/head to a new commit (a force-push to the PR)."""
    work = tmp / f"push-{len(list(tmp.glob('push-*')))}"
    git(tmp, "clone", "-q", str(repo.bare), str(work))
    git(work, "checkout", "-q", repo.head_sha)
    (work / "new.py").write_text(text)
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "more")
    sha = rev(work)
    git(work, "push", "-q", "origin", f"HEAD:refs/pull/{repo.number}/head")
    return sha
