"""GitHub App auth against the loopback fake GitHub (tests/fakes/github_server.py), which verifies
the JWT like GitHub (RS256, iat, exp, iss) and issues a fresh token per exchange."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from reviewbot.errors import CodeHostAuthError, CodeHostError, ConfigError
from tests.fakes.github_server import FakeGitHub
from webhooks.auth import AppTokenProvider, StaticTokenProvider, token_provider
from webhooks.events import GithubLookup

from .wh_helpers import settings_for


@pytest.fixture
def gh(rsa_key: tuple[str, bytes], tmp_path: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(tmp_path, full_name="octo/hello") as fake:
        fake.play_app(rsa_key[1])
        yield fake


def test_installation_token_from_a_verified_jwt(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    token = provider.token(42)
    assert gh.issued[token.get_secret_value()] == 42
    claims = gh.jwt_claims[0]
    now = time.time()
    assert str(claims["iss"]) == gh.app_id
    assert now - 75 <= claims["iat"] <= now - 45  # about 60 s in the past, for clock drift
    assert claims["exp"] - now <= 600  # GitHub's 10 minute cap


def test_token_is_cached_until_near_expiry_then_refreshed(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    clock = [datetime.now(UTC)]
    provider = AppTokenProvider(
        gh.app_id, SecretStr(rsa_key[0]), gh.base_url, refresh_margin_s=600, clock=lambda: clock[0]
    )
    first = provider.token(1)
    assert provider.token(1) == first and provider.requests == 1  # cached
    assert provider.token(2) != first and provider.requests == 2  # per installation
    clock[0] += timedelta(minutes=49)  # 11 minutes left: still outside the 10 minute margin
    assert provider.token(1) == first and provider.requests == 2
    clock[0] += timedelta(minutes=2)  # 9 minutes left: refresh before it expires
    second = provider.token(1)
    assert second != first and provider.requests == 3


def test_removed_installation_is_an_auth_error(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    gh.removed_installations.add(9)
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    with pytest.raises(CodeHostAuthError, match="installation 9"):
        provider.token(9)


def test_wrong_key_is_refused_by_github(gh: FakeGitHub) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(CodeHostAuthError, match="401"):
        AppTokenProvider(gh.app_id, SecretStr(pem), gh.base_url).token(1)


def test_forget_drops_the_cached_token(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    first = provider.token(5)
    provider.forget(5)
    assert provider.token(5) != first and provider.requests == 2


def test_installation_client_reaches_the_api_with_the_token(
    gh: FakeGitHub, rsa_key: tuple[str, bytes]
) -> None:
    gh.permissions["alice"] = "admin"
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    assert GithubLookup(provider).permission("octo/hello", "alice", 3) == "admin"
    asked = [r for r in gh.requests if r.operation == "repos/get-collaborator-permission-level"]
    assert [r.status for r in asked] == [200] and gh.issued == {provider.token(3).get_secret_value(): 3}


def test_no_installation_id_is_a_clear_error(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    with pytest.raises(CodeHostAuthError, match="no installation"):
        AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url).token(None)


def test_settings_pick_the_provider(tmp_path: Path, rsa_key: tuple[str, bytes]) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(rsa_key[0])
    app = token_provider(settings_for(tmp_path, github={"app_id": "7", "private_key_path": str(key_file)}))
    assert isinstance(app, AppTokenProvider)
    plain = token_provider(settings_for(tmp_path, github={"token": "ghp_x"}))
    assert isinstance(plain, StaticTokenProvider) and plain.token(None).get_secret_value() == "ghp_x"
    assert token_provider(settings_for(tmp_path)) is None
    with pytest.raises(ConfigError, match="private_key"):
        token_provider(settings_for(tmp_path, github={"app_id": "7"}))
    with pytest.raises(ConfigError, match="cannot be read"):
        token_provider(
            settings_for(tmp_path, github={"app_id": "7", "private_key_path": str(tmp_path / "no")})
        )


def test_secrets_never_reach_the_logs(
    gh: FakeGitHub, rsa_key: tuple[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    token = provider.token(1).get_secret_value()
    gh.permissions["alice"] = "write"
    GithubLookup(provider).permission("octo/hello", "alice", 1)  # PyGithub logs at DEBUG
    text = caplog.text + repr(provider.token(1)) + str(settings_for(Path("/tmp"), github={"token": token}))
    assert token not in text
    assert "PRIVATE KEY" not in text and rsa_key[0][40:80] not in text


def test_a_rate_limited_token_exchange_is_worth_a_retry(gh: FakeGitHub, rsa_key: tuple[str, bytes]) -> None:
    """403 with `retry-after` is a rate limit, not a refusal: a plain CodeHostError, which the job
    queue retries (CodeHostAuthError would dead-letter the job at once)."""
    gh.rate_limit_next_writes(1, status=403, retry_after=30)
    provider = AppTokenProvider(gh.app_id, SecretStr(rsa_key[0]), gh.base_url)
    with pytest.raises(CodeHostError, match="rate limit") as caught:
        provider.token(1)
    assert not isinstance(caught.value, CodeHostAuthError)
    assert provider.token(1).get_secret_value() in gh.issued  # the retry gets its token
