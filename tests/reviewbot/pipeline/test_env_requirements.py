"""What goes into the cached dependency layer (pure): index requirements only, nothing that could
run the pull request's code or point the shared cache at another index."""

from __future__ import annotations

import pytest

from reviewbot.core.testenv import TestEnvPlan as Plan  # not "Test*": pytest would collect it
from reviewbot.errors import ConfigError
from reviewbot.pipeline.env import dynamic_install_argv, project_env, requirements_text
from reviewbot.pipeline.sessions import needs_project
from reviewbot.settings import load_settings
from sandbox.environment import checked_extra_env


def test_requirements_files_are_followed_but_options_paths_and_urls_stay_out() -> None:
    files = {
        "requirements/test.txt": b"-r base.txt\n--index-url https://evil.example/simple\n-e .\n"
        b"attrs==23.1  # pinned\n./local-pkg\nevil @ https://evil.example/evil.tar.gz\n"
        b"-c constraints.txt\n",
        "requirements/base.txt": b"six>=1.16\n--requirement=more.txt\n",
        "requirements/more.txt": b"iniconfig\n",
    }
    plan = Plan(
        requirements=("toolz>=0.12", "pytest-timeout; python_version >= '3.8'"),
        requirement_files=("requirements/test.txt",),
    )
    body, notes = requirements_text(plan, files)
    assert body.decode().splitlines() == [
        "toolz>=0.12",
        'pytest-timeout; python_version >= "3.8"',
        "six>=1.16",
        "iniconfig",
        "attrs==23.1",
    ]
    joined = " | ".join(notes)
    assert "--index-url ignored" in joined and "-e ignored" in joined and "-c ignored" in joined
    assert "./local-pkg" in joined and "evil: a direct URL reference" in joined
    assert "evil.example" not in body.decode()


def test_nothing_declared_gives_an_empty_layer() -> None:
    assert requirements_text(Plan(), {}) == (b"", [])


def test_version_variables_pass_and_anything_else_is_named() -> None:
    plan = Plan(
        env={
            "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0",
            "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PKG": "0.0.0",
            "GITHUB_TOKEN": "x",
        }
    )
    env, notes = project_env(plan)
    assert env == {
        "SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0",
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_MY_PKG": "0.0.0",
    }
    assert notes == ["environment variable GITHUB_TOKEN not passed into the sandbox"]
    assert checked_extra_env(env) == env
    with pytest.raises(ValueError, match="GITHUB_TOKEN"):
        checked_extra_env({"GITHUB_TOKEN": "x"})


def test_dynamic_install_keeps_each_requirement_one_argument() -> None:
    plan = Plan(project_extras=("test", "dev"))
    argv = dynamic_install_argv(plan, b'pytest-timeout; python_version >= "3.8"\nsix\n')
    assert argv[-3:] == [".[test,dev]", 'pytest-timeout; python_version >= "3.8"', "six"]
    assert "--ignore-installed" in " ".join(argv)


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["ruff", "check", "."], False),
        (["python", "-m", "ruff", "format", "--check"], False),
        (["python", "-m", "pytest"], True),
        (["python", "snippet.py"], True),
    ],
)
def test_only_commands_that_run_the_project_trigger_its_install(argv: list[str], needs: bool) -> None:
    assert needs_project(argv) is needs


def test_index_url_settings() -> None:
    settings = load_settings(reviewbot_toml_text='[sandbox]\nindex_url = "http://10.0.0.5:8080/simple"\n')
    assert settings.sandbox.index_url == "http://10.0.0.5:8080/simple"
    assert settings.sandbox.install == "auto"
    for bad, why in (
        ("https://me:s3cret@pypi.example/simple", "credentials"),
        ("file:///opt/pypi/simple", "http"),
    ):
        with pytest.raises(ConfigError, match=why) as info:
            load_settings(reviewbot_toml_text=f'[sandbox]\nindex_url = "{bad}"\n')
        assert "s3cret" not in str(info.value)
    with pytest.raises(ConfigError, match="install"):
        load_settings(reviewbot_toml_text='[sandbox]\ninstall = "sometimes"\n')
