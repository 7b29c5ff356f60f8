"""Settings: files < environment < command line; clear errors; what a repository may decide."""

from __future__ import annotations

import re

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
        ({"pyproject_text": "[tool.reviewbot\n"}, "pyproject.toml: not valid TOML"),
        ({"reviewbot_toml_text": "fail-on = 'sometimes'\n"}, ".reviewbot.toml: fail-on: Input should be"),
        ({"reviewbot_toml_text": "typo-key = 1\n"}, ".reviewbot.toml: typo-key: unknown key"),
        ({"environ": {"REVIEWBOT_MAX_FINDINGS": "lots"}}, "environment variable REVIEWBOT_MAX_FINDINGS: "),
        (
            {"environ": {"REVIEWBOT_EXCLUDE": "[docs"}},
            "environment variable REVIEWBOT_EXCLUDE: not valid JSON",
        ),
        ({"overrides": {"fail_on": "x"}}, "command line: fail-on: "),
    ],
)
def test_bad_config_names_the_source_and_the_key_as_written(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(**kwargs)  # type: ignore[arg-type]


def test_every_problem_at_once_with_did_you_mean() -> None:
    text = (
        'fail-on = "sometimes"\nmax-findigns = 3\n'
        '[analyzers]\ntest-timeout = 5\ntests = "maybe"\n[sandbox]\nmemory-mb = 1\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(reviewbot_toml_text=text, reviewbot_toml_name="repo/.reviewbot.toml")
    problems = sorted(caught.value.problems)
    assert problems == [
        "repo/.reviewbot.toml: analyzers.test-timeout: unknown key; did you mean test-timeout-s?",
        "repo/.reviewbot.toml: analyzers.tests: Input should be a valid boolean, unable to interpret input "
        "(got 'maybe')",
        "repo/.reviewbot.toml: fail-on: Input should be 'error', 'warning', 'note' or 'never' "
        "(got 'sometimes')",
        "repo/.reviewbot.toml: max-findigns: unknown key; did you mean max-findings?",
        "repo/.reviewbot.toml: sandbox.memory-mb: Input should be greater than or equal to 64 (got 1)",
    ]
    assert "5 problems" in str(caught.value)


def test_keys_are_named_as_written_in_each_file_and_list_items_by_index() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            pyproject_text='[tool.reviewbot]\nfail_on = "x"\nexclude = [1]\n',
            reviewbot_toml_text='[analyzers]\ntest_comand = ["pytest"]\n',
        )
    problems = sorted(caught.value.problems)
    assert problems[0] == ".reviewbot.toml: analyzers.test_comand: unknown key; did you mean test_command?"
    assert problems[1].startswith(
        "pyproject.toml [tool.reviewbot]: exclude[0]: Input should be a valid string"
    )
    assert problems[2].startswith("pyproject.toml [tool.reviewbot]: fail_on: Input should be")


def test_a_pasted_tool_reviewbot_header_in_reviewbot_toml_is_accepted() -> None:
    text = '[tool.reviewbot]\nfail-on = "warning"\n[tool.reviewbot.analyzers]\ntests = false\n'
    s = load_settings(reviewbot_toml_text=text)
    assert s.fail_on == "warning" and s.analyzers.tests is False
    assert load_settings(reviewbot_toml_text='[reviewbot]\nfail-on = "note"\n').fail_on == "note"


def test_a_repository_decides_review_policy_but_not_the_sandbox_or_credentials() -> None:
    deployed = load_settings(
        environ={"REVIEWBOT_GITHUB__TOKEN": "ghs_abc", "REVIEWBOT_SANDBOX__MEMORY_MB": "1024"}
    )
    repo = (
        '[tool.reviewbot]\nfail-on = "warning"\n[tool.reviewbot.analyzers]\ntests = false\n'
        "[tool.reviewbot.sandbox]\nallow-process-backend-for-untrusted = true\nmemory-mb = 65536\n"
        '[tool.reviewbot.adapters.llm]\nbase-url = "https://attacker.example"\n'
    )
    s = with_repository_config(deployed, pyproject_text=repo, reviewbot_toml_text=None)
    assert s.fail_on == "warning" and s.analyzers.tests is False
    assert s.sandbox.allow_process_backend_for_untrusted is False and s.sandbox.memory_mb == 1024
    assert s.llm.base_url is None
    assert s.github.token is not None and s.github.token.get_secret_value() == "ghs_abc"
    with pytest.raises(ConfigError, match="repository's reviewbot config"):
        with_repository_config(deployed, pyproject_text=None, reviewbot_toml_text="max-findings = 0\n")


def test_environment_nesting_json_and_names_that_are_not_settings() -> None:
    s = load_settings(
        environ={
            "reviewbot_sandbox__backend": "docker",  # names are case-insensitive
            "REVIEWBOT_SANDBOX__INSTALL_COMMAND": '["pip", "install", "--user", "."]',
            "REVIEWBOT_EXCLUDE": '["docs/**"]',
            "REVIEWBOT_LLM": '{"model": "m"}',
            "REVIEWBOT_LLM__PROVIDER": "openai",
            "REVIEWBOT_SANDBOX_IMAGE": "not-a-setting",  # single underscore: some other tool's name
            "REVIEWBOT_FAIL_ON__X": "1",
        }
    )
    assert s.sandbox.backend == "docker" and s.sandbox.install_command == ["pip", "install", "--user", "."]
    assert s.exclude == ["docs/**"] and s.llm.model == "m" and s.llm.provider == "openai"
    assert s.sandbox.image == "reviewbot-sandbox:latest" and s.fail_on == "error"


def test_one_alias_table_for_every_entry_point() -> None:
    """The flat names the README promises (REVIEWBOT_GITHUB_TOKEN, REVIEWBOT_LLM_MODEL, …) are read by
    `load_settings` itself, so local, the Action, serve and worker all accept them."""
    s = load_settings(
        environ={
            "REVIEWBOT_APP_ID": "7",
            "REVIEWBOT_GITHUB_TOKEN": "ghp_flat",
            "REVIEWBOT_GITHUB_API_URL": "https://ghe.example/api/v3",
            "REVIEWBOT_LLM_PROVIDER": "openai",
            "REVIEWBOT_LLM__MODEL": "nested",
            "REVIEWBOT_LLM_MODEL": "flat",  # a non-empty flat name wins over its nested spelling
            "REVIEWBOT_LLM_BASE_URL": "",  # an empty one does not count
        },
        overrides={"llm": {"base_url": "http://127.0.0.1:9"}},  # the command line is still above both
    )
    assert s.github.app_id == "7" and s.github.token is not None
    assert (
        s.github.token.get_secret_value() == "ghp_flat" and s.github.api_url == "https://ghe.example/api/v3"
    )
    assert (s.llm.provider, s.llm.model, s.llm.base_url) == ("openai", "flat", "http://127.0.0.1:9")
    with pytest.raises(ConfigError) as bad:
        load_settings(environ={"REVIEWBOT_LLM_PROVIDER": "gpt"})
    assert "environment variable REVIEWBOT_LLM_PROVIDER" in str(bad.value)  # named as the user wrote it
