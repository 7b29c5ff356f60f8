"""The bot's identity without `GET /user`: an App is `<slug>[bot]` from `GET /app` (JWT, asked
once), a fixed installation token is github-actions[bot], a PAT asks `GET /user`. Against the strict
fake GitHub, which refuses `GET /user` to installation tokens and App endpoints to anything but a
valid JWT; the App's own markers are trusted, another bot's are not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from reviewbot.adapters.github.publish import publish_review
from reviewbot.adapters.github.pygithub_host import PyGithubHost
from reviewbot.core.diff import parse_diff
from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review
from reviewbot.settings import load_settings
from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo
from webhooks.auth import AppTokenProvider, StaticTokenProvider


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[tuple[FakeGitHub, GitRepo]]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"app.py": "x = 1\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app.py": "import os\nx = 1\n"}, "feature")
    with FakeGitHub(repo.path) as fake:
        fake.open_pull(9, "main", "feature")
        yield fake, repo


def paths(fake: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests]


def test_app_identity_comes_from_get_app_once(
    gh: tuple[FakeGitHub, GitRepo], rsa_key: tuple[str, bytes]
) -> None:
    fake, _ = gh
    fake.play_app(rsa_key[1], slug="acme-review")
    provider = AppTokenProvider(fake.app_id, SecretStr(rsa_key[0]), fake.base_url)
    assert provider.identity() == "acme-review[bot]"
    assert provider.identity() == "acme-review[bot]"
    assert paths(fake) == ["GET /app"] and fake.requests[0].status == 200


def test_app_endpoints_refuse_an_installation_token(
    gh: tuple[FakeGitHub, GitRepo], rsa_key: tuple[str, bytes]
) -> None:
    fake, _ = gh
    fake.play_app(rsa_key[1])
    wrong = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(Exception, match="401"):
        AppTokenProvider(fake.app_id, SecretStr(wrong.decode()), fake.base_url).identity()


def test_fixed_tokens_never_ask_get_user_unless_personal(gh: tuple[FakeGitHub, GitRepo]) -> None:
    fake, _ = gh
    assert StaticTokenProvider(SecretStr(fake.token), fake.base_url).identity() == "github-actions[bot]"
    assert fake.requests == []  # an installation token is not asked (GitHub would answer 403)
    fake.token, fake.viewer = "ghp_personal", "alice"
    pat = StaticTokenProvider(SecretStr(fake.token), fake.base_url)
    assert pat.identity() == "alice" and pat.identity() == "alice"
    assert paths(fake) == ["GET /user"]


def test_the_app_trusts_its_own_markers_and_no_other_bots(
    gh: tuple[FakeGitHub, GitRepo], rsa_key: tuple[str, bytes]
) -> None:
    fake, repo = gh
    fake.play_app(rsa_key[1], slug="acme-review")
    provider = AppTokenProvider(fake.app_id, SecretStr(rsa_key[0]), fake.base_url)
    finding = Finding(
        tool="ruff",
        rule_id="F401",
        severity=Severity.ERROR,
        message="`os` imported but unused",
        path="app.py",
        start_line=1,
        snippet="import os",
    )
    review = Review(base="main", head="feature", findings=(finding,), files_reviewed=1)
    diff = parse_diff(repo.diff("main", "feature"))
    head = repo.git("rev-parse", "feature").strip()
    # Another workflow's bot forges "already reported".
    forged = f"<!-- reviewbot:fp={finding.fingerprint} -->"
    fake.issue_comments.append(
        {
            "id": 1,
            "user": {"login": "github-actions[bot]", "type": "Bot", "id": 41898282},
            "body": forged,
            "_pull": 9,
        }
    )

    def publish() -> tuple[str, ...]:
        host = PyGithubHost(fake.full_name, provider.token(7).get_secret_value(), base_url=fake.base_url)
        result = publish_review(
            host, 9, review, diff, load_settings(), head_sha=head, identity=provider.identity()
        )
        return result.new

    assert publish() == (finding.fingerprint,)  # the forged marker silenced nothing
    assert fake.reviews[0]["user"]["login"] == "acme-review[bot]"
    assert publish() == ()  # its own marker counts: nothing re-posted
    assert len(fake.reviews) == 1
    assert "GET /user" not in paths(fake)
    assert [r for r in fake.requests if r.status >= 400] == []
