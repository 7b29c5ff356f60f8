"""GitHub credentials for the bot: a GitHub App (JWT -> installation token) or a plain token.

App auth goes through PyGithub: `Auth.AppAuth` signs the JWT (RS256, `iat` 60 s in the past,
`exp` 5 min ahead — within GitHub's 10 min cap), `GithubIntegration.get_access_token` trades it for
an installation token. Tokens are cached per installation and refreshed `refresh_margin_s` before
they expire, so a token handed to a job stays valid for at least that long. Secrets stay in
`SecretStr` until the moment they go on the wire; nothing here logs them.

`identity()` is the login the bot posts as, whose hidden markers and sticky summary it trusts
(reviewbot.adapters.github.identity): for an App `<slug>[bot]` from `GET /app` with the JWT (fetched once,
cached); for a personal access token what `GET /user` says. `GET /user` is never sent with an
installation token: GitHub refuses it (403).

GitHub's errors are translated by the `CodeHost` adapter's one translation
(`reviewbot.adapters.github.pygithub_host`): a rate limit is worth a retry, a 401/403/404 is not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from github import Auth, Github, GithubException, GithubIntegration
from pydantic import SecretStr

from reviewbot.adapters.github.identity import ACTIONS_BOT, app_bot_login, is_personal_token
from reviewbot.adapters.github.limits import RetryPolicy
from reviewbot.adapters.github.pygithub_host import PyGithubHost, code_host_error
from reviewbot.errors import CodeHostAuthError, CodeHostError, ConfigError
from reviewbot.settings import Settings


def _client(token: SecretStr, api_url: str) -> Github:
    # PyGithub's default retries and request spacing sleep inside the call; the receiver cannot
    # wait, and the job queue does its own backoff.
    return Github(
        auth=Auth.Token(token.get_secret_value()),
        base_url=api_url,
        lazy=True,
        timeout=15,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


class TokenProvider(Protocol):
    """Credentials for one installation (`None` when the bot runs with a plain token)."""

    api_url: str

    def token(self, installation_id: int | None) -> SecretStr: ...

    def forget(self, installation_id: int) -> None: ...

    def identity(self) -> str:
        """The login reviews are posted as (only its earlier markers are trusted)."""
        ...


def installation_host(
    tokens: TokenProvider, repo_full_name: str, installation_id: int | None, *, retry: bool
) -> PyGithubHost:
    """The `CodeHost` for one repository with the installation's token as of now. `retry=False` for
    the receiver, which answers at once (the job queue retries a failed job; GitHub can redeliver)."""
    token = tokens.token(installation_id).get_secret_value()
    policy = None if retry else RetryPolicy(attempts=1)
    return PyGithubHost(repo_full_name, token, base_url=tokens.api_url, policy=policy)


class StaticTokenProvider:
    """A personal access token or any fixed token: the same for every installation."""

    def __init__(self, token: SecretStr, api_url: str) -> None:
        self._token = token
        self.api_url = api_url
        self._login: str | None = None

    def token(self, installation_id: int | None) -> SecretStr:
        return self._token

    def forget(self, installation_id: int) -> None:
        pass

    def identity(self) -> str:
        """A personal access token's user (`GET /user`, asked once); any other fixed token is an
        installation token, which GitHub will not describe: Actions' GITHUB_TOKEN posts as
        github-actions[bot]. (A GitHub App is configured as one, and named by `GET /app`.)"""
        if self._login is None:
            if is_personal_token(self._token.get_secret_value()):
                try:
                    self._login = str(_client(self._token, self.api_url).get_user().login)
                except GithubException as exc:
                    raise code_host_error(exc, "GET /user for github.token") from exc
            else:
                self._login = ACTIONS_BOT
        return self._login


@dataclass(frozen=True)
class _Cached:
    token: SecretStr
    expires_at: datetime


class AppTokenProvider:
    """GitHub App: installation tokens from a JWT, cached per installation, refreshed early."""

    def __init__(
        self,
        app_id: str,
        private_key: SecretStr,
        api_url: str,
        *,
        refresh_margin_s: float = 600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not app_id:
            raise ConfigError("github.app_id is empty")
        self.api_url = api_url
        self._margin = timedelta(seconds=refresh_margin_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[int, _Cached] = {}
        # iat 60 s in the past for clock drift; exp 300 s (GitHub refuses more than 600).
        self._app_auth = Auth.AppAuth(
            app_id, private_key.get_secret_value(), jwt_expiry=300, jwt_issued_at=-60
        )
        self._integration = GithubIntegration(
            auth=self._app_auth, base_url=api_url, timeout=15, retry=None, seconds_between_requests=None
        )
        self.requests = 0  # access-token requests made: lets tests and metrics see the cache work
        self._login: str | None = None

    def token(self, installation_id: int | None) -> SecretStr:
        if installation_id is None:
            raise CodeHostAuthError("the delivery names no installation; a GitHub App needs one for a token")
        with self._lock:
            cached = self._cache.get(installation_id)
            if cached is not None and cached.expires_at - self._margin > self._clock():
                return cached.token
            try:
                grant = self._integration.get_access_token(installation_id)
            except GithubException as exc:
                raise code_host_error(exc, f"installation token for installation {installation_id}") from exc
            self.requests += 1
            expires = grant.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            fresh = _Cached(SecretStr(grant.token), expires)
            self._cache[installation_id] = fresh
            return fresh.token

    def forget(self, installation_id: int) -> None:
        """An installation was removed or suspended: drop its token."""
        with self._lock:
            self._cache.pop(installation_id, None)

    def identity(self) -> str:
        """`<slug>[bot]`, from `GET /app` with the App's JWT; asked once, then cached."""
        with self._lock:
            if self._login is None:
                try:
                    slug = self._integration.get_app().slug
                except GithubException as exc:
                    raise code_host_error(exc, "GET /app with the App's JWT") from exc
                if not slug:
                    raise CodeHostError("GET /app answered without a slug")
                self._login = app_bot_login(str(slug))
            return self._login


def token_provider(settings: Settings, read_key: Callable[[str], str] | None = None) -> TokenProvider | None:
    """The provider the settings ask for: App (app_id + key) wins over a plain token; None if neither."""
    gh = settings.github
    if gh.app_id:
        key = gh.private_key
        if key is None and gh.private_key_path is not None:
            try:
                text = read_key(str(gh.private_key_path)) if read_key else gh.private_key_path.read_text()
            except OSError as exc:
                raise ConfigError(
                    f"github.private_key_path {gh.private_key_path} cannot be read: {exc}"
                ) from exc
            key = SecretStr(text)
        if key is None:
            raise ConfigError(
                "github.app_id is set but neither github.private_key nor github.private_key_path"
            )
        return AppTokenProvider(gh.app_id, key, gh.api_url)
    if gh.token is not None:
        return StaticTokenProvider(gh.token, gh.api_url)
    return None
