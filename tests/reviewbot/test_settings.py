"""Settings: files < environment < command line; clear errors; what a repository may decide."""

from __future__ import annotations

import pytest

from reviewbot.errors import ConfigError
from reviewbot.settings import load_settings, with_repository_config

PYPROJECT = """
[tool.reviewbot]
fail-on = "warning"
exclude = ["docs/**"]
[tool.reviewbot.analyzers]
test-command = ["python", "-m", "pytest", "-x"]
"""


def test_precedence_files_then_env_then_overrides() -> None:
    s = load_settings(pyproject_text=PYPROJECT, reviewbot_toml_text='fail-on = "note"\n')
    assert s.fail_on == "note" and s.exclude == ["docs/**"]
    assert s.analyzers.test_command == ["python", "-m", "pytest", "-x"]
    s = load_settings(
        pyproject_text=PYPROJECT,
        environ={"REVIEWBOT_FAIL_ON": "error", "REVIEWBOT_SANDBOX__MEMORY_MB": "512"},
    )
    assert s.fail_on == "error" and s.sandbox.memory_mb == 512
    s = load_settings(
        pyproject_text=PYPROJECT, environ={"REVIEWBOT_FAIL_ON": "error"}, overrides={"fail_on": "never"}
    )
    assert s.fail_on == "never" and s.fail_on_severity is None


def test_unrelated_environment_is_ignored_and_secrets_stay_secret() -> None:
    s = load_settings(
        environ={"HOME": "/root", "GITHUB_TOKEN": "ghs_x", "REVIEWBOT_GITHUB__TOKEN": "ghs_abc"}
    )
    assert s.github.token is not None and "ghs_abc" not in repr(s)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pyproject_text": "[tool.reviewbot\n"}, "pyproject.toml is not valid TOML"),
        ({"reviewbot_toml_text": "fail-on = 'sometimes'\n"}, "invalid setting fail_on"),
        ({"reviewbot_toml_text": "typo-key = 1\n"}, "invalid setting typo_key"),
        ({"environ": {"REVIEWBOT_MAX_FINDINGS": "lots"}}, "invalid setting max_findings"),
    ],
)
def test_bad_config_names_the_key(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**kwargs)  # type: ignore[arg-type]


def test_a_repository_decides_review_policy_but_not_the_sandbox_or_credentials() -> None:
    deployed = load_settings(
        environ={"REVIEWBOT_GITHUB__TOKEN": "ghs_abc", "REVIEWBOT_SANDBOX__MEMORY_MB": "1024"}
    )
    repo = (
        '[tool.reviewbot]\nfail-on = "warning"\n[tool.reviewbot.analyzers]\ntests = false\n'
        "[tool.reviewbot.sandbox]\nallow-process-backend-for-untrusted = true\nmemory-mb = 65536\n"
        '[tool.reviewbot.llm]\nbase-url = "https://attacker.example"\n'
    )
    s = with_repository_config(deployed, pyproject_text=repo, reviewbot_toml_text=None)
    assert s.fail_on == "warning" and s.analyzers.tests is False
    assert s.sandbox.allow_process_backend_for_untrusted is False and s.sandbox.memory_mb == 1024
    assert s.llm.base_url is None
    assert s.github.token is not None and s.github.token.get_secret_value() == "ghs_abc"
    with pytest.raises(ConfigError, match="repository's reviewbot config"):
        with_repository_config(deployed, pyproject_text=None, reviewbot_toml_text="max-findings = 0\n")
