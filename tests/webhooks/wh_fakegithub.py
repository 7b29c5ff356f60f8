"""A small fake of the GitHub REST API on loopback, for the receiver, auth and worker tests.

Serves only what the webhook bot calls: App token exchange (verifies the JWT like GitHub does),
collaborator permission, a pull request, and posting a review (recorded, so tests count reviews).
When `tests/fakes/github_server.py` (the CodeHost work) lands, end-to-end tests can move to it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import Flask, jsonify, request
from werkzeug.serving import make_server


@dataclass
class FakeGitHub:
    app_id: str = "4242"
    public_key_pem: bytes | None = None
    token_ttl_s: int = 3600
    removed_installations: set[int] = field(default_factory=set)
    permissions: dict[tuple[str, str], str] = field(default_factory=dict)
    pulls: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    static_tokens: set[str] = field(default_factory=set)
    issued: dict[str, int] = field(default_factory=dict)  # token -> installation
    jwt_claims: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer with, once each
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.split(" ", 1)[1] if " " in header else ""
        return token in self.issued or token in self.static_tokens

    def app(self) -> Flask:
        app = Flask("fake-github")

        @app.before_request
        def injected_failure() -> Any:
            with self.lock:
                if self.fail_next:
                    status = self.fail_next.pop(0)
                    return jsonify({"message": "injected failure"}), status
            return None

        @app.post("/app/installations/<int:inst>/access_tokens")
        def access_token(inst: int) -> Any:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or self.public_key_pem is None:
                return jsonify({"message": "A JSON web token could not be decoded"}), 401
            try:
                claims = jwt.decode(
                    header[7:],
                    self.public_key_pem,
                    algorithms=["RS256"],
                    options={"require": ["iat", "exp", "iss"]},
                    leeway=0,
                )
            except jwt.PyJWTError as exc:
                return jsonify({"message": f"bad JWT: {exc}"}), 401
            now = time.time()
            if str(claims["iss"]) != self.app_id:
                return jsonify({"message": "wrong issuer"}), 401
            if claims["exp"] - claims["iat"] > 660 or claims["exp"] > now + 600:
                return jsonify({"message": "'Expiration time' claim ('exp') is too far in the future"}), 401
            if claims["iat"] > now:
                return jsonify({"message": "'Issued at' claim ('iat') must be an Integer in the past"}), 401
            self.jwt_claims.append(claims)
            if inst in self.removed_installations:
                return jsonify({"message": "Not Found"}), 404
            token = "ghs_" + secrets.token_hex(18)
            self.issued[token] = inst
            expires = datetime.now(UTC) + timedelta(seconds=self.token_ttl_s)
            return jsonify(
                {"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"), "permissions": {}}
            ), 201

        @app.get("/repos/<owner>/<repo>/collaborators/<user>/permission")
        def permission(owner: str, repo: str, user: str) -> Any:
            if not self._authorized():
                return jsonify({"message": "Bad credentials"}), 401
            perm = self.permissions.get((f"{owner}/{repo}", user))
            if perm is None:
                return jsonify({"message": f"{user} is not a user"}), 404
            return jsonify({"permission": perm, "role_name": perm, "user": {"login": user}})

        @app.get("/repos/<owner>/<repo>/pulls/<int:number>")
        def pull(owner: str, repo: str, number: int) -> Any:
            if not self._authorized():
                return jsonify({"message": "Bad credentials"}), 401
            pr = self.pulls.get((f"{owner}/{repo}", number))
            if pr is None:
                return jsonify({"message": "Not Found"}), 404
            return jsonify(pr)

        @app.post("/repos/<owner>/<repo>/pulls/<int:number>/reviews")
        def review(owner: str, repo: str, number: int) -> Any:
            if not self._authorized():
                return jsonify({"message": "Bad credentials"}), 401
            body = request.get_json()
            with self.lock:
                self.reviews.append({"repo": f"{owner}/{repo}", "number": number, **body})
                rid = len(self.reviews)
            return jsonify({"id": rid, "state": "COMMENTED", "commit_id": body.get("commit_id")})

        return app


def pr_object(
    repo: str, number: int, head: str, base: str, clone_url: str, state: str = "open"
) -> dict[str, Any]:
    """The fields of GitHub's pull-request object the bot reads (others omitted)."""
    repo_obj = {"full_name": repo, "clone_url": clone_url, "private": False}
    return {
        "number": number,
        "state": state,
        "draft": False,
        "url": f"/repos/{repo}/pulls/{number}",
        "head": {"ref": "feature", "sha": head, "repo": repo_obj},
        "base": {"ref": "main", "sha": base, "repo": repo_obj},
    }


@contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Any WSGI app on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def fake_github(**kwargs: Any) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(**kwargs)
    with serve_app(fake.app()) as url:
        fake.url = url
        yield fake
