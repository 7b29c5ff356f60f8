from reviewbot.core.redact import REDACTED, ZWSP, neutralize_mentions, redact_secrets, scrub


def test_token_shapes_are_redacted() -> None:
    secrets = [
        "ghp_" + "a" * 36,
        "ghs_" + "B1" * 18,
        "ghs_12345_" + "x" * 60,  # stateless installation token (docs/github-rules.md, "App authentication")
        "github_pat_11ABCDEFG0" + "z" * 40,
        "AKIAIOSFODNN7EXAMPLE",
        "sk-" + "q" * 40,
        "sk-ant-api03-" + "w" * 40,
    ]
    for secret in secrets:
        out = redact_secrets(f"token={secret} end")
        assert secret not in out and REDACTED in out and out.endswith(" end"), secret


def test_private_key_block_is_redacted_whole() -> None:
    key = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----"
    )
    out = redact_secrets(f"before\n{key}\nafter")
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in out
    assert out == f"before\n{REDACTED}\nafter"


def test_ordinary_text_is_untouched() -> None:
    text = "ghp is short; sk-1 too; AKIA lowercase akiaiosfodnn7example; task-force"
    assert redact_secrets(text) == text


def test_mentions_neutralized_outside_code_only() -> None:
    text = "ping @octocat and @org/team, mail a@b.com\n```suggestion\n@property\n```\nuse `@dataclass` here"
    out = neutralize_mentions(text)
    assert f"@{ZWSP}octocat" in out and f"@{ZWSP}org/team" in out
    assert "a@b.com" in out
    assert "```suggestion\n@property\n```" in out  # a committable suggestion is not corrupted
    assert "`@dataclass`" in out


def test_scrub_does_both() -> None:
    out = scrub("@admin leaked ghp_" + "k" * 36)
    assert out.startswith(f"@{ZWSP}admin") and "ghp_" not in out
