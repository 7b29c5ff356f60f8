"""A fake GitHub held honest: a real HTTP server on loopback that PyGithub talks to via `base_url`.

- Every request is matched to an operation of GitHub's OpenAPI description and its JSON body is
  validated against the operation's schema (`tests/fakes/openapi.py`): unknown routes get 404,
  invalid bodies get 422, as GitHub answers.
- Pull request files and patches are computed by git from a real repository (`base...head`, like
  GitHub), not written by the test.
- GitHub's rules from docs/github-rules.md are enforced: a review comment off the diff rejects
  the whole review (422), bodies over 65,536 characters, more than 50 annotations per request,
  status descriptions over 140 characters, Actions may not approve, a fork's read-only token gets
  403 "Resource not accessible by integration" on every write.
- Identity as GitHub has it: `GET /user` answers 403 to an installation token (`ghs_…`, what
  GITHUB_TOKEN and an App's token are) and only a personal access token (`ghp_…`, `github_pat_…`)
  gets its user. `GET /app` and the installation-token exchange need the App's JWT (RS256, checked
  against `app_public_key`); each exchange issues a fresh `ghs_…` token for that installation
  (404 for a removed installation), and issued tokens are accepted like `token`. Posts are
  authored by `poster` (github-actions[bot], or `<slug>[bot]` once the fake plays an App).
- Collaborators' permissions (`permissions`: login -> permission; anyone else is a 404), for the
  webhook's `/reviewbot review` command.
- Failures can be injected: rate-limit 403/429 with `retry-after`, and 5xx.
- Every request is recorded, so tests count writes.

This module is independent of reviewbot's own diff parser on purpose: a bug there must not be
mirrored here.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from reviewbot.adapters.github.fake import right_side_hunks
from tests.fakes import openapi
from tests.support.git import git

MAX_BODY = 65_536
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot", "site_admin": False}
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _user(login: str, kind: str = "User", uid: int = 1) -> dict[str, Any]:
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_{uid}",
        "type": kind,
        "site_admin": False,
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
    }


@dataclass
class Recorded:
    method: str
    path: str
    status: int
    body: Any
    operation: str = ""

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS


@dataclass
class Pull:
    number: int
    base_sha: str
    head_sha: str
    head_repo: str
    author: str = "octocat"
    draft: bool = False
    state: str = "open"
    title: str | None = None  # None: GitHub's example text
    body: str | None = None


@dataclass
class Injected:
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    writes_only: bool = True


def pull_files(repo: Path, base: str, head: str, max_patch_chars: int) -> list[dict[str, Any]]:
    """`GET .../pulls/{n}/files` entries, computed by git like GitHub does (three-dot diff)."""
    raw = git(repo, "diff", "--no-color", "--no-ext-diff", "-M", "--name-status", "-z", f"{base}...{head}")
    parts = raw.split("\0")
    out: list[dict[str, Any]] = []
    i = 0
    names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}
    while i < len(parts) and parts[i]:
        code = parts[i]
        if code[0] in "RC":
            old, new = parts[i + 1], parts[i + 2]
            i += 3
        else:
            old = new = parts[i + 1]
            i += 2
        text = git(repo, "diff", "--no-color", "--no-ext-diff", "-M", f"{base}...{head}", "--", *{old, new})
        start = text.find("\n@@")
        patch = text[start + 1 :].rstrip("\n") if start >= 0 else None
        if patch is not None and len(patch) > max_patch_chars:
            patch = None  # GitHub omits the patch of very large diffs
        adds = sum(1 for ln in (patch or "").split("\n") if ln.startswith("+"))
        dels = sum(1 for ln in (patch or "").split("\n") if ln.startswith("-"))
        entry: dict[str, Any] = {
            "sha": "0" * 40,
            "filename": new,
            "status": names.get(code[0], "modified"),
            "additions": adds,
            "deletions": dels,
            "changes": adds + dels,
            "blob_url": f"https://github.com/o/r/blob/{head}/{new}",
            "raw_url": f"https://github.com/o/r/raw/{head}/{new}",
            "contents_url": f"https://api.github.com/repos/o/r/contents/{new}?ref={head}",
        }
        if patch is not None:
            entry["patch"] = patch
        if code[0] in "RC":
            entry["previous_filename"] = old
        out.append(entry)
    return out


class RequestError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.payload: dict[str, Any] = {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
        }
        if errors is not None:
            self.payload["errors"] = errors
        self.headers = headers or {}


class FakeGitHub:
    """State and rules. Start with `with FakeGitHub(repo) as gh:`; `gh.base_url` for PyGithub."""

    def __init__(
        self,
        repo: Path,
        *,
        full_name: str = "octo-org/hello",
        token: str = "ghs_faketoken",
        max_patch_chars: int = 400_000,
    ) -> None:
        self.repo = repo
        self.full_name = full_name
        self.token = token
        self.max_patch_chars = max_patch_chars
        self.pulls: dict[int, Pull] = {}
        self.reviews: list[dict[str, Any]] = []
        self.review_comments: list[dict[str, Any]] = []
        self.issue_comments: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self.permissions: dict[str, str] = {}  # login -> permission on the repository (else 404)
        self.read_only = False  # a fork's token
        self.checks_forbidden = False  # a token that may not create check runs (PAT, missing checks: write)
        self.viewer = "octocat"  # GET /user's login, for a personal access token only
        self._app_poster: dict[str, Any] | None = None
        self.app_slug = "reviewbot-app"  # `GET /app`, with a JWT signed by app_public_key's key
        self.app_id = "4242"
        self.app_public_key: bytes | None = None
        self.jwt_claims: list[dict[str, Any]] = []  # of every JWT accepted, in order
        self.issued: dict[str, int] = {}  # installation token -> its installation
        self.removed_installations: set[int] = set()  # their token exchange answers 404
        self.injected: list[Injected] = []
        self.flaky_rate = 0.0  # share of requests answering 502 before doing anything (seeded: reproducible)
        self._flaky = random.Random(0)
        self._ids = itertools.count(1000)
        self._count = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test controls --------------------------------------------------------------------------

    def open_pull(
        self, number: int, base: str, head: str, *, fork: bool = False, author: str = "octocat"
    ) -> Pull:
        pull = Pull(
            number,
            git(self.repo, "rev-parse", base).strip(),
            git(self.repo, "rev-parse", head).strip(),
            f"{author}/hello" if fork else self.full_name,
            author,
        )
        self.pulls[number] = pull
        return pull

    def push(self, number: int, head: str) -> str:
        self.pulls[number].head_sha = git(self.repo, "rev-parse", head).strip()
        return self.pulls[number].head_sha

    def rate_limit_next_writes(self, count: int, *, status: int = 403, retry_after: int | None = 1) -> None:
        self._rate_limit(count, status, retry_after, writes_only=True)

    def rate_limit_next_reads(self, count: int, *, status: int = 403, retry_after: int | None = 1) -> None:
        """Rate-limit the next `count` requests of any kind."""
        self._rate_limit(count, status, retry_after, writes_only=False)

    def _rate_limit(self, count: int, status: int, retry_after: int | None, *, writes_only: bool) -> None:
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        self.injected += [Injected(status, msg, headers, writes_only) for _ in range(count)]

    def fail_next(self, count: int, status: int = 502, *, writes_only: bool = False) -> None:
        self.injected += [Injected(status, "Server Error", {}, writes_only) for _ in range(count)]

    def flaky(self, rate: float, seed: int = 0) -> None:
        """Intermittent 502s on a reproducible schedule."""
        self.flaky_rate, self._flaky = rate, random.Random(seed)

    def writes(self, *, succeeded: bool = False) -> list[Recorded]:
        return [r for r in self.requests if r.is_write and (not succeeded or r.status < 300)]

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"gh": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- request handling -------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body: Any = None
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError:
                return 400, {"message": "Problems parsing JSON"}, {}
        with self._lock:
            rec = Recorded(method, url.path, 0, body)
            self.requests.append(rec)
            self._count += 1
            try:
                status, data, extra = self._dispatch(method, url.path, query, headers, body, rec)
            except RequestError as exc:
                status, data, extra = exc.status, exc.payload, exc.headers
            rec.status = status
            return status, data, extra

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any, rec: Recorded
    ) -> tuple[int, Any, dict[str, str]]:
        auth = headers.get("authorization", "")
        try:
            op = openapi.match(method, path)
        except openapi.NoSuchOperation:
            op = None
        if op is not None and op.operation_id.startswith("apps/"):
            self._check_jwt(auth)  # App endpoints take the App's JWT, nothing else
        elif auth.split(" ", 1)[-1] not in (self.token, *self.issued):
            raise RequestError(401, "Bad credentials")
        if op is None:
            raise RequestError(404, "Not Found")
        rec.operation = op.operation_id
        if self.flaky_rate and self._flaky.random() < self.flaky_rate:
            raise RequestError(502, "Server Error")
        for i, inj in enumerate(self.injected):
            if method in WRITE_METHODS or not inj.writes_only:
                del self.injected[i]
                raise RequestError(inj.status, inj.message, headers=inj.headers)
        errors = openapi.body_errors(op, body)
        if errors:
            raise RequestError(
                422, "Invalid request.\n\n" + "\n".join(e[:300] for e in errors[:5]), errors[:5]
            )
        owner, repo = op.params.get("owner"), op.params.get("repo")
        if owner is not None and f"{owner}/{repo}" != self.full_name:
            raise RequestError(404, "Not Found")
        if method in WRITE_METHODS and self.read_only:
            raise RequestError(403, "Resource not accessible by integration")
        handler = getattr(self, "op_" + op.operation_id.replace("/", "_").replace("-", "_"), None)
        if handler is None:
            raise RequestError(501, f"fake GitHub does not implement {op.operation_id}")
        result: tuple[int, Any, dict[str, str]] = handler(op.params, query, body)
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def play_app(self, public_key_pem: bytes, slug: str = "reviewbot-app") -> None:
        """Act as GitHub for an App: JWT-signed App endpoints, posts by `<slug>[bot]`."""
        self.app_public_key, self.app_slug = public_key_pem, slug
        self._app_poster = {"login": f"{slug}[bot]", "id": 90001, "type": "Bot", "site_admin": False}

    @property
    def poster(self) -> dict[str, Any]:
        """Who the token posts as: the App's bot, a personal token's user, else github-actions[bot]."""
        if self._app_poster is not None:
            return self._app_poster
        if self.token.startswith(("ghp_", "github_pat_")):
            return _user(self.viewer)
        return dict(BOT)

    def _check_jwt(self, auth: str) -> None:
        if not auth.startswith("Bearer ") or self.app_public_key is None:
            raise RequestError(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                auth[7:],
                self.app_public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise RequestError(401, f"A JSON web token could not be decoded: {exc}") from None
        if str(claims["iss"]) != self.app_id or claims["exp"] > time.time() + 600:
            raise RequestError(401, "'Issuer' or 'Expiration time' claim is invalid")
        if claims["iat"] > time.time():
            raise RequestError(
                401, "'Issued at' claim ('iat') must be an Integer representing a time in the past"
            )
        self.jwt_claims.append(claims)

    def _pull(self, params: dict[str, str], key: str = "pull_number") -> Pull:
        pull = self.pulls.get(int(params[key]))
        if pull is None:
            raise RequestError(404, "Not Found")
        return pull

    def _page(self, items: list[Any], query: dict[str, str], path: str) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        last = max(1, -(-len(items) // per_page))
        if page < last:
            links.append(f'<{self.base_url}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{self.base_url}{path}?per_page={per_page}&page={last}>; rel="last"')
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _check_body(self, text: str | None, resource: str) -> None:
        if text is not None and len(text) > MAX_BODY:
            raise RequestError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": resource,
                        "code": "unprocessable",
                        "field": "data",
                        "message": "Body is too long (maximum is 65536 characters)",
                    }
                ],
            )

    def _files(self, pull: Pull) -> list[dict[str, Any]]:
        return pull_files(self.repo, pull.base_sha, pull.head_sha, self.max_patch_chars)[:3000]

    def _anchor_ok(self, files: dict[str, dict[str, Any]], c: dict[str, Any]) -> bool:
        entry = files.get(c["path"])
        if entry is None or "patch" not in entry:
            return False
        if c.get("line") is None:
            return c.get("position") is not None and 1 <= c["position"] <= entry["patch"].count("\n") + 1
        if c.get("side", "RIGHT") != "RIGHT" or c.get("start_side", "RIGHT") != "RIGHT":
            return True  # LEFT-side comments are not what reviewbot sends; not modelled
        hunk = next((h for h in right_side_hunks(entry["patch"]) if c["line"] in h), None)
        if hunk is None:
            return False
        start = c.get("start_line")
        return start is None or (start < c["line"] and start in hunk)

    # -- operations (named after operationId) -----------------------------------------------------

    def op_repos_get(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any, dict[str, str]]:
        owner, name = self.full_name.split("/")
        return (
            200,
            {
                "id": 1,
                "name": name,
                "full_name": self.full_name,
                "owner": _user(owner, "Organization"),
                "private": False,
                "fork": False,
                "default_branch": "main",
            },
            {},
        )

    def op_users_get_authenticated(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if not self.token.startswith(("ghp_", "github_pat_")):
            raise RequestError(403, "Resource not accessible by integration")
        return 200, _user(self.viewer), {}

    def op_apps_get_authenticated(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        data = openapi.example("integration")
        data.update(slug=self.app_slug, id=int(self.app_id))
        return 200, data, {}

    def op_apps_create_installation_access_token(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        installation = int(p["installation_id"])
        if installation in self.removed_installations:
            raise RequestError(404, "Not Found")
        token = f"ghs_{secrets.token_hex(18)}"  # a fresh one each time, as GitHub does
        self.issued[token] = installation
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return 201, {"token": token, "expires_at": expires, "permissions": {}}, {}

    def op_pulls_get(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(p)
        # GitHub's own example, with its URLs pointing back here (PyGithub follows them).
        text = json.dumps(openapi.example("pull-request")).replace("https://api.github.com", self.base_url)
        text = text.replace(
            "/repos/octocat/Hello-World/issues/1347", f"/repos/{self.full_name}/issues/{pull.number}"
        )
        text = text.replace(
            "/repos/octocat/Hello-World/pulls/1347", f"/repos/{self.full_name}/pulls/{pull.number}"
        )
        data = json.loads(text)
        owner = self.full_name.split("/")[0]
        head_owner = pull.head_repo.split("/")[0]
        data.update({k: v for k, v in (("title", pull.title), ("body", pull.body)) if v is not None})
        data.update(
            number=pull.number,
            state=pull.state,
            draft=pull.draft,
            user=_user(pull.author),
            changed_files=len(self._files(pull)),
            url=f"{self.base_url}/repos/{self.full_name}/pulls/{pull.number}",
        )
        for side, sha, repo_name, login in (
            ("head", pull.head_sha, pull.head_repo, head_owner),
            ("base", pull.base_sha, self.full_name, owner),
        ):
            data[side]["sha"] = sha
            data[side]["repo"]["full_name"] = repo_name
            data[side]["repo"]["fork"] = repo_name != self.full_name
            data[side]["repo"]["owner"] = _user(login)
            data[side]["user"] = _user(login)
        return 200, data, {}

    def op_repos_get_collaborator_permission_level(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        permission = self.permissions.get(p["username"])
        if permission is None:
            raise RequestError(404, f"{p['username']} is not a user")
        user = _user(p["username"])
        return 200, {"permission": permission, "role_name": permission, "user": user}, {}

    def op_pulls_list_files(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(p)
        return self._page(self._files(pull), q, f"/repos/{self.full_name}/pulls/{pull.number}/files")

    def op_pulls_list_reviews(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        n = self._pull(p).number
        return self._page(
            [r for r in self.reviews if r["_pull"] == n], q, f"/repos/{self.full_name}/pulls/{n}/reviews"
        )

    def op_pulls_list_review_comments(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        n = self._pull(p).number
        items = [c for c in self.review_comments if c["_pull"] == n]
        return self._page(items, q, f"/repos/{self.full_name}/pulls/{n}/comments")

    def op_issues_list_comments(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        n = self._pull(p, "issue_number").number
        items = [c for c in self.issue_comments if c["_pull"] == n]
        return self._page(items, q, f"/repos/{self.full_name}/issues/{n}/comments")

    def op_pulls_create_review(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(p)
        event = b.get("event")
        if event is None:
            raise RequestError(422, "fake GitHub: pending reviews are not modelled; send an event")
        if event == "APPROVE":
            raise RequestError(
                422, "Unprocessable Entity", ["GitHub Actions is not permitted to approve pull requests."]
            )
        if not b.get("body"):
            raise RequestError(
                422, "Unprocessable Entity", ["Body is required for COMMENT and REQUEST_CHANGES"]
            )
        self._check_body(b["body"], "PullRequestReview")
        files = {f["filename"]: f for f in self._files(pull)}
        for c in b.get("comments", []):
            self._check_body(c["body"], "PullRequestReviewComment")
            if not self._anchor_ok(files, c):
                raise RequestError(
                    422,
                    "Unprocessable Entity",
                    [
                        "Pull request review thread line must be part of the diff and "
                        "Pull request review thread start line must be part of the same hunk as the line. "
                        "and Pull request review thread diff hunk can't be blank",
                    ],
                )
        rid = next(self._ids)
        review = {
            "id": rid,
            "node_id": f"PRR_{rid}",
            "user": self.poster,
            "body": b["body"],
            "state": "COMMENTED" if event == "COMMENT" else "CHANGES_REQUESTED",
            "commit_id": b.get("commit_id", pull.head_sha),
            "submitted_at": "2026-11-25T00:00:00Z",
            "html_url": f"https://github.com/{self.full_name}/pull/{pull.number}#pullrequestreview-{rid}",
            "pull_request_url": f"https://api.github.com/repos/{self.full_name}/pulls/{pull.number}",
            "author_association": "NONE",
            "_links": {},
            "_pull": pull.number,
        }
        self.reviews.append(review)
        for c in b.get("comments", []):
            self.review_comments.append(self._comment(pull, c, review_id=rid, commit=review["commit_id"]))
        return 200, review, {}

    def _comment(
        self, pull: Pull, c: dict[str, Any], *, review_id: int | None, commit: str
    ) -> dict[str, Any]:
        cid = next(self._ids)
        return {
            "id": cid,
            "node_id": f"PRRC_{cid}",
            "pull_request_review_id": review_id,
            "user": self.poster,
            "body": c["body"],
            "path": c["path"],
            "line": c.get("line"),
            "start_line": c.get("start_line"),
            "side": c.get("side"),
            "start_side": c.get("start_side"),
            "commit_id": commit,
            "original_commit_id": commit,
            "subject_type": c.get("subject_type", "line"),
            "diff_hunk": "",
            "url": "",
            "html_url": "",
            "pull_request_url": "",
            "author_association": "NONE",
            "created_at": "2026-11-25T00:00:00Z",
            "updated_at": "2026-11-25T00:00:00Z",
            "_links": {},
            "_pull": pull.number,
        }

    def op_pulls_create_review_comment(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(p)
        self._check_body(b["body"], "PullRequestReviewComment")
        files = {f["filename"]: f for f in self._files(pull)}
        if b.get("subject_type") == "file":
            if b["path"] not in files:
                raise RequestError(422, "Unprocessable Entity", ["Path could not be resolved"])
        elif not self._anchor_ok(files, b):
            raise RequestError(
                422, "Unprocessable Entity", ["Pull request review thread line must be part of the diff"]
            )
        comment = self._comment(pull, b, review_id=next(self._ids), commit=b["commit_id"])
        self.review_comments.append(comment)
        return 201, comment, {}

    def op_issues_create_comment(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(p, "issue_number")
        self._check_body(b["body"], "IssueComment")
        cid = next(self._ids)
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "user": self.poster,
            "body": b["body"],
            "url": "",
            "html_url": "",
            "issue_url": "",
            "author_association": "NONE",
            "created_at": "2026-11-25T00:00:00Z",
            "updated_at": "2026-11-25T00:00:00Z",
            "_pull": pull.number,
        }
        self.issue_comments.append(comment)
        return 201, comment, {}

    def op_issues_update_comment(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        comment = next((c for c in self.issue_comments if c["id"] == int(p["comment_id"])), None)
        if comment is None:
            raise RequestError(404, "Not Found")
        if comment["user"]["login"] != self.poster["login"]:
            raise RequestError(403, "Resource not accessible by integration")
        self._check_body(b["body"], "IssueComment")
        comment["body"] = b["body"]
        return 200, comment, {}

    def _check_run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in run.items() if k != "annotations"}

    def op_checks_create(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.checks_forbidden:
            raise RequestError(403, "Resource not accessible by integration")
        rid = next(self._ids)
        output = b.get("output", {})
        run = {
            "id": rid,
            "name": b["name"],
            "head_sha": b["head_sha"],
            "status": b.get("status", "queued"),
            "conclusion": b.get("conclusion"),
            "node_id": f"CR_{rid}",
            "external_id": "",
            "url": "",
            "html_url": "",
            "details_url": "",
            "started_at": None,
            "completed_at": None,
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": None,
                "annotations_count": len(output.get("annotations", [])),
                "annotations_url": "",
            },
            "check_suite": {"id": 1},
            "app": None,
            "pull_requests": [],
            "annotations": list(output.get("annotations", [])),
        }
        self.check_runs.append(run)
        return 201, self._check_run_json(run), {}

    def op_checks_update(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        run = next((r for r in self.check_runs if r["id"] == int(p["check_run_id"])), None)
        if run is None:
            raise RequestError(404, "Not Found")
        output = b.get("output") or {}
        run["annotations"].extend(output.get("annotations", []))
        run["output"]["annotations_count"] = len(run["annotations"])
        for key in ("title", "summary"):
            if key in output:
                run["output"][key] = output[key]
        if "conclusion" in b:
            run["conclusion"] = b["conclusion"]
            run["status"] = "completed"
        return 200, self._check_run_json(run), {}

    def op_repos_create_commit_status(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if len(b.get("description") or "") > 140:
            raise RequestError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Status",
                        "code": "custom",
                        "field": "description",
                        "message": "description is too long (maximum is 140 characters)",
                    }
                ],
            )
        sid = next(self._ids)
        status = {
            "id": sid,
            "state": b["state"],
            "description": b.get("description"),
            "context": b.get("context", "default"),
            "sha": p["sha"],
            "creator": self.poster,
        }
        self.statuses.append(status)
        return 201, status, {}

    def op_rate_limit_get(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any, dict[str, str]]:
        return 200, openapi.example("rate-limit-overview"), {}


def _public(data: Any) -> Any:
    """Strip the fake's private bookkeeping keys (leading underscore) from responses."""
    if isinstance(data, dict):
        return {k: _public(v) for k, v in data.items() if not (k.startswith("_") and k != "_links")}
    if isinstance(data, list):
        return [_public(v) for v in data]
    return data


class _Handler(BaseHTTPRequestHandler):
    gh: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, data, extra = self.gh.handle(self.command, self.path, headers, raw)
        payload = json.dumps(_public(data)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-RateLimit-Limit", "5000")
        self.send_header("X-RateLimit-Remaining", "4999")
        self.send_header("X-RateLimit-Reset", "4102444800")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def iter_writes(gh: FakeGitHub) -> Iterator[str]:
    for r in gh.writes():
        yield f"{r.method} {r.path} -> {r.status}"
