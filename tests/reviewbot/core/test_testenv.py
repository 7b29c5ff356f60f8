"""plan_test_env on real projects' declaration files (tests/data/testenv, see its README) and on
hostile or unusual inputs. Each assertion names what the project declares, where."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reviewbot.core.testenv import TestEnvPlan, plan_test_env
from reviewbot.core.testenv.poetry import convert_constraint
from reviewbot.core.testenv.steps import requirement_file_candidates
from reviewbot.core.testenv.tox import expand

CORPUS = Path(__file__).parents[2] / "data" / "testenv"


def corpus(name: str) -> dict[str, bytes]:
    """The project's tree at the recorded commit: declaration files with their bytes, every
    other path present (empty), as the caller passes a whole revision."""
    root = CORPUS / name
    files = {p: b"" for p in (root / "tree.txt").read_text().splitlines() if p}
    for path in (root / "files").rglob("*"):
        if path.is_file():
            files[path.relative_to(root / "files").as_posix()] = path.read_bytes()
    return files


def names(plan: TestEnvPlan) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in plan.requirements}


def spec(plan: TestEnvPlan, dist: str) -> list[str]:
    return [r for r in plan.requirements if canonicalize_name(Requirement(r).name) == canonicalize_name(dist)]


def has_source(plan: TestEnvPlan, fragment: str) -> bool:
    return any(fragment in line for line in plan.sources)


# ---- the field corpus ---------------------------------------------------------------------------


def test_flask_2026_pep735_tests_group_and_flit() -> None:
    plan = plan_test_env(corpus("flask-2026"))
    assert plan.install_project and not plan.dynamic_dependencies
    # [dependency-groups] tests; dev (ruff, tox) does not include it, so it is not chosen
    assert {"asgiref", "greenlet", "pytest", "python-dotenv"} <= names(plan)
    assert not {"ruff", "tox", "sphinx", "mypy"} & names(plan)
    assert {"werkzeug", "jinja2", "click"} <= names(plan)  # [project] dependencies
    assert spec(plan, "flit_core") == ["flit_core<4,>=3.11"]  # build-system.requires
    assert has_source(plan, "pyproject.toml [dependency-groups] tests")
    assert plan.env == {}  # flit reads __version__ from the source
    assert plan.notes == ()


def test_flask_2023_requirements_folder_is_passed_as_is() -> None:
    plan = plan_test_env(corpus("flask-2023"))
    assert plan.requirement_files == ("requirements/tests.txt",)
    assert "requirements/tests.txt" in plan.key_files
    assert "requirements/dev.txt" not in plan.requirement_files  # a test file exists: dev is not used
    assert plan.install_project


def test_click_tests_group_not_tests_random() -> None:
    plan = plan_test_env(corpus("click-2026"))
    assert names(plan) == {"flit-core", "pytest"}
    assert has_source(plan, "[dependency-groups] tests")


def test_attrs_hatch_vcs_dev_group_including_tests() -> None:
    plan = plan_test_env(corpus("attrs-2026"))
    # dev includes tests, so dev is what maintainers install; tox 3.10-tests adds the cov group
    assert {"hypothesis", "pympler", "pytest", "pytest-xdist", "cloudpickle", "coverage"} <= names(plan)
    assert spec(plan, "pytest") == ["pytest>9"]
    assert {"hatchling", "hatch-vcs", "hatch-fancy-pypi-readme"} <= names(plan)
    # hatch-vcs without .git: the newest CHANGELOG.md heading is the version
    version = plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"]
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_ATTRS"] == version
    assert version.count(".") == 2 and version.split(".")[0].isdigit()
    assert has_source(plan, "hatch-vcs") and has_source(plan, "CHANGELOG.md")


def test_attrs_2022_setup_py_extras_are_dynamic() -> None:
    plan = plan_test_env(corpus("attrs-2022"))
    assert plan.install_project and plan.dynamic_dependencies
    assert plan.project_extras == ("tests",)  # tox [testenv] extras = tests
    assert "setup.py" in plan.key_files


def test_structlog_hatch_vcs_tests_group_and_asyncio_mode() -> None:
    plan = plan_test_env(corpus("structlog-2026"))
    assert {"pytest-asyncio", "pytest-randomly", "simplejson", "time-machine", "twisted", "rich"} <= names(plan)
    assert has_source(plan, "asyncio_mode -> pytest-asyncio (already declared)")
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_STRUCTLOG"] == plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"]


def test_pluggy_setuptools_scm_version_satisfies_pytest() -> None:
    plan = plan_test_env(corpus("pluggy-2026"))
    # pytest requires pluggy>=1.5,<2: 0.0.0 would not do; the changelog says 1.6.0
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.6.0"
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PLUGGY"] == "1.6.0"
    assert {"pytest", "pytest-benchmark", "coverage"} <= names(plan)  # group testing
    assert {"setuptools", "setuptools-scm"} <= names(plan)
    assert "pre-commit" not in names(plan)


def test_pluggy_2022_setup_cfg_extras_and_tox() -> None:
    plan = plan_test_env(corpus("pluggy-2022"))
    assert plan.install_project and not plan.dynamic_dependencies
    assert plan.project_extras == ("testing",)
    assert {"pytest", "pytest-benchmark"} <= names(plan)  # setup.cfg [options.extras_require] testing
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.0.0"
    assert set(plan.key_files) == {"setup.cfg", "setup.py"}


def test_tomlkit_poetry_dev_group_converted() -> None:
    plan = plan_test_env(corpus("tomlkit-2026"))
    assert plan.install_project
    assert spec(plan, "pytest") == ["pytest<8.0.0,>=7.2.0"]  # ^7.2.0
    assert spec(plan, "mypy") == ["mypy==1.19.1"]
    assert spec(plan, "furo") == ["furo<2023.0.0,>=2022.9.29"]
    assert spec(plan, "poetry-core") == ["poetry-core>=1.0.0a9"]


def test_xdist_tox_extras_and_factor_deps() -> None:
    plan = plan_test_env(corpus("xdist-2026"))
    assert plan.project_extras == ("testing",)
    assert "filelock" in names(plan)  # [project.optional-dependencies] testing
    assert not {"psutil", "setproctitle", "pre-commit"} & names(plan)  # other factors / envs
    assert "pytest-services" not in names(plan)  # addopts -p no:pytest-services disables, needs nothing
    assert "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PYTEST_XDIST" in plan.env


def test_urllib3_dev_group_includes_test_and_trustme() -> None:
    plan = plan_test_env(corpus("urllib3-2026"))
    assert {"trustme", "pytest-socket", "pytest-timeout", "hypercorn", "cryptography"} <= names(plan)
    assert not {"sphinx", "furo", "selenium"} & names(plan)
    assert "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_URLLIB3" in plan.env
    # urllib3.exceptions.HTTPWarning in filterwarnings is the project's own module
    assert not any("filterwarnings" in s for s in plan.sources)


def test_urllib3_2022_dev_requirements_file() -> None:
    plan = plan_test_env(corpus("urllib3-2022"))
    assert plan.requirement_files == ("dev-requirements.txt",)
    assert any("computed" in n for n in plan.notes)  # session.install(f".[{extras}]") is not a literal


def test_requests_self_referencing_group_and_editable_line() -> None:
    plan = plan_test_env(corpus("requests-2026"))
    assert "requests" not in names(plan)  # requests[socks] is the project itself with an extra
    assert set(plan.project_extras) == {"socks", "security"}
    assert "pysocks" in names(plan)  # the socks extra, installed from the plan
    # requirements-dev.txt has "-e .[socks]": not passed as is, its other lines inlined
    assert plan.requirement_files == ()
    assert {"pytest-httpbin", "httpbin", "trustme", "pytest-cov"} <= names(plan)
    assert has_source(plan, "requirements-dev.txt: .[socks] -> install the project")


def test_requests_2023_setup_py_dynamic_with_tox() -> None:
    plan = plan_test_env(corpus("requests-2023"))
    assert plan.dynamic_dependencies and plan.install_project
    assert {"pytest-httpbin", "httpbin", "pytest-mock"} <= names(plan)
    assert "setuptools" in names(plan)  # no [build-system] requires: PEP 517's default


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir() if p.is_dir()))
def test_corpus_nothing_is_guessed(name: str) -> None:
    files = corpus(name)
    plan = plan_test_env(files)
    assert plan.sources, "every plan says where it came from"
    assert all(Requirement(r) for r in plan.requirements)
    assert all(path in files for path in plan.key_files + plan.requirement_files)
    key = plan.cache_key(files, image_id="sha256:abc", python="3.11.7")
    assert key == plan_test_env(dict(files)).cache_key(files, image_id="sha256:abc", python="3.11.7")
    assert not any(n.startswith("reviewbot could not read") for n in plan.notes)
