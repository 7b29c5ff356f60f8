"""plan_test_env on real projects' declaration files (tests/data/testenv, see its README) and on
hostile or unusual inputs. Each assertion names what the project declares, where."""

from __future__ import annotations

from collections.abc import Mapping
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
    # uv.lock pins what the maintainers test with (pytest 9.1 removed a name tests/test_cli.py imports)
    assert spec(plan, "pytest") == ["pytest==9.0.2"]
    assert spec(plan, "greenlet") == ["greenlet"]  # compiled wheels only: floats
    assert spec(plan, "markupsafe") == ["markupsafe>=2.1.1"]
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
    assert spec(plan, "pytest") == ["pytest==9.1.1"]  # "pytest>9", pinned by uv.lock
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
    assert {"pytest-asyncio", "pytest-randomly", "simplejson", "time-machine", "twisted", "rich"} <= names(
        plan
    )
    assert has_source(plan, "asyncio_mode -> pytest-asyncio (already declared)")
    assert "editables" in names(plan)  # hatchling's editable build asks for it (no build isolation)
    assert (
        plan.env["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_STRUCTLOG"] == plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"]
    )


def test_pluggy_setuptools_scm_version_satisfies_pytest() -> None:
    plan = plan_test_env(corpus("pluggy-2026"))
    # pytest requires pluggy>=1.5,<2: 0.0.0 would not do; the changelog says 1.6.0
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"] == "1.6.0"
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PLUGGY"] == "1.6.0"
    assert {"pytest", "pytest-benchmark", "coverage"} <= names(plan)  # group testing
    assert {"setuptools", "setuptools-scm", "wheel"} <= names(plan)
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
    assert spec(plan, "pytest") == ["pytest==7.4.4"]  # ^7.2.0, pinned by poetry.lock
    assert spec(plan, "mypy") == ["mypy==1.19.1"]
    assert spec(plan, "pyyaml") == ["PyYAML<7.0,>=6.0"]  # ^6.0: compiled wheels only, not pinned
    assert has_source(plan, "poetry.lock: pins pytest==7.4.4")
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
    assert any("computed" in n for n in plan.notes)  # session.install(f".[{extras}]"): extras unknown


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


def test_httpx_requirements_txt_installing_the_project_is_the_dev_environment() -> None:
    plan = plan_test_env(corpus("httpx-2026"))
    assert set(plan.project_extras) == {"brotli", "cli", "http2", "socks", "zstd"}
    assert {"trustme", "uvicorn", "chardet", "trio", "h2", "socksio"} <= names(plan)
    assert spec(plan, "pytest") == ["pytest==8.4.1"]


def test_jaraco_tox_extras_and_setuptools_scm_from_news() -> None:
    plan = plan_test_env(corpus("jaraco-functools-2026"))
    assert "test" in plan.project_extras
    assert {"pytest-checkdocs", "pytest-cov", "pytest-enabler", "jaraco-classes"} <= names(plan)
    assert has_source(plan, "NEWS.rst")


def test_marko_pdm_dev_dependencies() -> None:
    plan = plan_test_env(corpus("marko-2026"))
    assert {"pytest", "pytest-cov", "pdm-backend"} <= names(plan)
    assert has_source(plan, "[tool.pdm.dev-dependencies] dev")


def test_dunamai_poetry_legacy_dependencies_with_python_markers() -> None:
    plan = plan_test_env(corpus("dunamai-2026"))
    assert 'pytest<8.0,>=7.2; python_version >= "3.7" and python_version < "4.0"' in plan.requirements
    assert "packaging" in names(plan)


def test_jsonschema_hatch_vcs_group_and_nox_group_argument() -> None:
    plan = plan_test_env(corpus("jsonschema-2026"))
    assert {"virtue", "jsonpath-ng"} <= names(plan)
    assert "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_JSONSCHEMA" in plan.env


# ---- declarations one by one --------------------------------------------------------------------


PEP621 = '[project]\nname = "demo"\nversion = "1"\ndependencies = ["attrs>=22"]\n'


def test_pep735_include_group_cycle_and_unknown_are_notes() -> None:
    plan = plan_test_env(
        {
            "pyproject.toml": (
                PEP621
                + '[dependency-groups]\ntest = ["pytest", {include-group = "base"},'
                + ' {include-group = "nope"}]\n'
                'base = ["hypothesis", {include-group = "test"}]\n'
            ).encode()
        }
    )
    assert {"pytest", "hypothesis", "attrs"} <= names(plan)
    assert any("includes itself" in n for n in plan.notes)
    assert any("'nope' is not declared" in n for n in plan.notes)


def test_dev_group_chosen_only_without_a_test_group() -> None:
    plan = plan_test_env(
        {"pyproject.toml": (PEP621 + '[dependency-groups]\ndev = ["pytest-mock"]\n').encode()}
    )
    assert "pytest-mock" in names(plan)


def test_self_referencing_extras_are_resolved() -> None:
    toml = PEP621 + '[project.optional-dependencies]\ntest = ["pytest", "demo[fast]"]\nfast = ["orjson"]\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert plan.project_extras == ("test", "fast")
    assert {"pytest", "orjson"} <= names(plan)
    assert "demo" not in names(plan)


def test_dynamic_dependencies_from_a_file_are_read() -> None:
    toml = (
        '[project]\nname = "demo"\nversion = "1"\ndynamic = ["dependencies"]\n'
        '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements/base.txt"]}\n'
    )
    plan = plan_test_env({"pyproject.toml": toml.encode(), "requirements/base.txt": b"six\n"})
    assert not plan.dynamic_dependencies
    assert "six" in names(plan)


def test_dynamic_dependencies_without_a_file_install_with_deps() -> None:
    toml = '[project]\nname = "demo"\nversion = "1"\ndynamic = ["dependencies"]\n'
    plan = plan_test_env(
        {"pyproject.toml": toml.encode(), "setup.py": b"from setuptools import setup\nsetup()\n"}
    )
    assert plan.dynamic_dependencies and plan.install_project


def test_setup_py_only_reads_literals_and_tests_require() -> None:
    setup = (
        "from setuptools import setup\nEXTRAS = {'testing': ['pytest-mock'], 'docs': ['sphinx']}\n"
        "setup(name='demo', install_requires=open('r.txt').read().split(), extras_require=EXTRAS,"
        " tests_require=['nose2'])\n"
    )
    plan = plan_test_env({"setup.py": setup.encode()})
    assert plan.install_project and plan.dynamic_dependencies
    assert plan.project_extras == ("testing",)
    assert {"pytest-mock", "nose2", "setuptools"} <= names(plan)
    assert "sphinx" not in names(plan)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^2", ">=2,<3"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1", ">=1,<2"),
        ("1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        (">=1.2, <2", ">=1.2,<2"),
        (">=1.2 <2", ">=1.2,<2"),
        ("^1.0 || ^2.0", None),
    ],
)
def test_poetry_constraints(constraint: str, expected: str | None) -> None:
    assert convert_constraint(constraint) == expected


def test_poetry_groups_extras_and_non_index_sources() -> None:
    toml = """
[tool.poetry]
name = "demo"
[tool.poetry.dependencies]
python = "^3.9"
requests = {version = "^2.28", extras = ["socks"]}
orjson = {version = "^3", optional = true}
local = {path = "../local"}
[tool.poetry.extras]
test = ["orjson"]
[tool.poetry.group.test.dependencies]
pytest = "^7"
mine = {git = "https://example.com/mine.git"}
[tool.poetry.group.docs.dependencies]
sphinx = "*"
"""
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert "requests[socks]<3.0,>=2.28" in plan.requirements
    assert "pytest<8,>=7" in plan.requirements
    assert "orjson<4,>=3" in plan.requirements  # extra test
    assert not {"sphinx", "local", "mine", "python"} & names(plan)
    assert any("local comes from a path" in n for n in plan.notes)
    assert any("mine comes from a git" in n for n in plan.notes)


def test_poetry_package_mode_false_does_not_install_the_project() -> None:
    toml = '[tool.poetry]\nname = "demo"\npackage-mode = false\n'
    toml += '[tool.poetry.group.dev.dependencies]\npytest = "*"\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert not plan.install_project
    assert "pytest" in plan.requirements


def test_hatch_test_env_defaults_and_features() -> None:
    toml = PEP621 + '[tool.hatch.envs.hatch-test]\nextra-dependencies = ["respx"]\nfeatures = ["http2"]\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert {"respx", "pytest-mock", "pytest-rerunfailures"} <= names(plan)
    assert plan.project_extras == ("http2",)


def test_flit_legacy_metadata() -> None:
    toml = '[tool.flit.metadata]\nmodule = "demo"\nrequires = ["attrs"]\n'
    toml += '[tool.flit.metadata.requires-extra]\ntest = ["pytest-cov"]\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert plan.install_project and {"attrs", "pytest-cov"} <= names(plan)


# ---- requirements files ---------------------------------------------------------------------------


def test_requirement_file_names() -> None:
    paths = [
        "requirements-test.txt", "requirements_dev.txt", "test-requirements.txt", "requirements/tests.in",
        "requirements/tests.txt", "requirements/docs.txt", "tests/requirements.txt", "dev-requirements.txt",
        "docs/requirements.txt", "examples/foo/requirements-test.txt", "requirements.txt",
    ]  # fmt: skip
    assert requirement_file_candidates(paths) == [
        "requirements-test.txt", "requirements/tests.txt", "test-requirements.txt", "tests/requirements.txt",
    ]  # fmt: skip
    assert requirement_file_candidates(["requirements_dev.txt", "docs/requirements.txt"]) == [
        "requirements_dev.txt"
    ]


def test_clean_requirements_file_with_includes_is_passed_as_is() -> None:
    files = {
        "setup.py": b"from setuptools import setup\nsetup(name='demo')\n",
        "requirements/test.txt": b"-r base.txt\n-c constraints.txt\npytest>=7  # the runner\n",
        "requirements/base.txt": b"attrs\n",
        "requirements/constraints.txt": b"attrs<30\n",
    }
    plan = plan_test_env(files)
    assert plan.requirement_files == ("requirements/test.txt",)
    assert {"requirements/test.txt", "requirements/base.txt", "requirements/constraints.txt"} <= set(
        plan.key_files
    )
    assert "pytest" not in names(plan)  # declared in the file


def test_requirements_with_editable_hashes_and_options_are_inlined() -> None:
    text = (
        "--index-url https://example.com/simple\n-e .[test]\n"
        "idna==3.4 \\\n    --hash=sha256:abc\n--pre\n"
        "git+https://github.com/x/y.git#egg=y\n-e ./plugins/other\nnot a requirement!!\n${TOKEN}pkg\n"
    )
    plan = plan_test_env(
        {
            "setup.py": b"from setuptools import setup\nsetup(name='demo')\n",
            "requirements-test.txt": text.encode(),
        }
    )
    assert plan.requirement_files == ()
    assert "idna==3.4" in plan.requirements
    assert plan.project_extras == ("test",)
    joined = "\n".join(plan.notes)
    for fragment in (
        "--index-url ignored",
        "is a URL",
        "is not the project root",
        "not a valid requirement",
        "environment variable",
    ):
        assert fragment in joined


def test_recursive_and_escaping_includes_are_notes() -> None:
    files = {
        "requirements-test.txt": b"-r requirements-test.txt\n-r ../../etc/passwd\n-r /etc/passwd\n"
        b"-r missing.txt\nsix\n",
    }
    plan = plan_test_env(files)
    assert "six" in names(plan)
    joined = "\n".join(plan.notes)
    assert "a cycle" in joined and "outside the repository" in joined and "does not exist" in joined


def test_deep_include_chain_stops() -> None:
    files = {
        f"requirements/test{'' if i == 0 else i}.txt": f"-r test{i + 1}.txt\n".encode() for i in range(30)
    }
    files["requirements/test30.txt"] = b"six\n"
    plan = plan_test_env(files)
    assert any("too deep" in n for n in plan.notes)


# ---- tox and nox ----------------------------------------------------------------------------------


def test_tox_expand() -> None:
    assert expand("py{39,310}-{a,b}") == ["py39-a", "py39-b", "py310-a", "py310-b"]
    assert expand("3.1{0-2}-tests") == ["3.10-tests", "3.11-tests", "3.12-tests"]


def test_tox_ini_factors_substitution_and_extras() -> None:
    tox = """
[tox]
envlist = lint, py{311,312}-django{42,50}
[base]
deps =
    pytest-django
    -r requirements/extra.txt
[testenv]
deps =
    {[base]deps}
    django42: django>=4.2,<5
    django50: django>=5,<5.1
    !django42: whitenoise
    lint: ruff
extras = test
"""
    files = {
        "tox.ini": tox.encode(),
        "requirements/extra.txt": b"freezegun\n",
        "pyproject.toml": (PEP621 + '[project.optional-dependencies]\ntest = ["pytest"]\n').encode(),
    }
    plan = plan_test_env(files)
    assert spec(plan, "django") == ["django<5,>=4.2"]  # py311-django42 is the env tox runs first
    assert "pytest-django" in names(plan)
    assert not {"ruff", "whitenoise"} & names(plan)
    assert plan.requirement_files == ("requirements/extra.txt",)
    assert plan.project_extras == ("test",)


def test_tox_in_setup_cfg_and_legacy_tox_ini_string() -> None:
    cfg = "[metadata]\nname = demo\n[tox:tox]\nenvlist = py3\n[testenv]\ndeps = mock\n"
    assert "mock" in names(plan_test_env({"setup.cfg": cfg.encode(), "setup.py": b"import setuptools\n"}))
    toml = (
        PEP621 + '[tool.tox]\nlegacy_tox_ini = """\n[tox]\nenvlist = py\n[testenv]\ndeps = responses\n"""\n'
    )
    assert "responses" in names(plan_test_env({"pyproject.toml": toml.encode()}))


def test_tox_toml() -> None:
    toml = 'env_list = ["style", "3.12"]\n[env_run_base]\ndeps = ["pytest-httpserver"]\nextras = ["tests"]\n'
    plan = plan_test_env({"tox.toml": toml.encode(), "pyproject.toml": PEP621.encode()})
    assert "pytest-httpserver" in names(plan) and plan.project_extras == ("tests",)


def test_nox_session_installs() -> None:
    nox = """
import nox
TEST_DEPS = ["pytest", "pytest-mock"]
@nox.session(python=["3.11"])
def lint(session):
    session.install("ruff")
def _common(session):
    session.install("-r", "requirements/ci.txt")
@nox.session(name="tests")
def run_tests(session):
    session.install(*TEST_DEPS, "coverage")
    session.install("-e", ".[test]")
    session.install(compute())
    _common(session)
"""
    files = {
        "noxfile.py": nox.encode(),
        "pyproject.toml": PEP621.encode(),
        "requirements/ci.txt": b"responses\n",
    }
    plan = plan_test_env(files)
    assert {"pytest", "pytest-mock", "coverage"} <= names(plan)
    assert "ruff" not in names(plan)
    assert plan.project_extras == ("test",)
    assert plan.requirement_files == ("requirements/ci.txt",)
    assert any("computed" in n for n in plan.notes)


# ---- pytest configuration -------------------------------------------------------------------------


def test_pytest_addopts_plugins_ini_keys_and_filterwarnings() -> None:
    ini = """
[pytest]
addopts = --cov=demo --cov-report=term -n auto -p pytest_randomly -p no:cacheprovider -p demo.plugin
          --timeout=30 --benchmark-skip --doctest-modules
required_plugins = pytest-html>=3 pytest-env
asyncio_mode = auto
filterwarnings =
    error
    ignore::yaml.YAMLLoadWarning
    ignore::DeprecationWarning:distutils
    ignore::demo.DemoWarning
    ignore::pytest.PytestUnraisableExceptionWarning
"""
    files = {"pytest.ini": ini.encode(), "pyproject.toml": PEP621.encode(), "src/demo/__init__.py": b""}
    plan = plan_test_env(files)
    expected = {
        "pytest-cov", "pytest-xdist", "pytest-randomly", "pytest-timeout", "pytest-benchmark",
        "pytest-html", "pytest-env", "pytest-asyncio", "pyyaml", "pytest",
    }  # fmt: skip
    assert expected <= names(plan)
    assert "demo" not in names(plan) and "cacheprovider" not in " ".join(plan.requirements)
    assert has_source(plan, "--cov=demo -> pytest-cov")
    assert has_source(plan, "ignore::yaml.YAMLLoadWarning")


def test_pytest_ini_wins_over_pyproject_and_unknown_plugin_is_a_note() -> None:
    files = {
        "pytest.ini": b"[pytest]\naddopts = -p somewhere_plugin\n",
        "pyproject.toml": (PEP621 + '[tool.pytest.ini_options]\naddopts = "--cov"\n').encode(),
    }
    plan = plan_test_env(files)
    assert "pytest-cov" not in names(plan)
    assert any("somewhere_plugin" in n and "install_command" in n for n in plan.notes)


def test_setup_cfg_tool_pytest_and_tox_ini_pytest_sections() -> None:
    cfg = "[metadata]\nname = demo\n[tool:pytest]\naddopts = --reruns 2\n"
    assert "pytest-rerunfailures" in names(plan_test_env({"setup.cfg": cfg.encode(), "setup.py": b""}))
    tox = "[pytest]\ntimeout = 60\n"
    assert "pytest-timeout" in names(
        plan_test_env({"tox.ini": tox.encode(), "pyproject.toml": PEP621.encode()})
    )


# ---- versioned from git -----------------------------------------------------------------------------


def test_setuptools_scm_fallback_version_wins() -> None:
    toml = (
        '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n[project]\nname = "Demo.Pkg"\n'
        'dynamic = ["version"]\n[tool.setuptools_scm]\nfallback_version = "2.5.0"\n'
    )
    plan = plan_test_env({"pyproject.toml": toml.encode(), "CHANGES.md": b"## 9.9.9\n"})
    assert plan.env == {
        "SETUPTOOLS_SCM_PRETEND_VERSION": "2.5.0",
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_DEMO_PKG": "2.5.0",
    }


def test_no_version_anywhere_is_zero_and_noted() -> None:
    toml = '[project]\nname = "demo"\ndynamic = ["version"]\n[tool.hatch.version]\nsource = "vcs"\n'
    plan = plan_test_env({"pyproject.toml": toml.encode(), "CHANGELOG.md": b"# Changelog\n\n## Unreleased\n"})
    assert plan.env["SETUPTOOLS_SCM_PRETEND_VERSION"] == "0.0.0"
    assert any("0.0.0" in n for n in plan.notes)


@pytest.mark.parametrize(
    ("table", "variable"),
    [
        ('[tool.pdm.version]\nsource = "scm"\n', "PDM_BUILD_SCM_VERSION"),
        ("[tool.poetry-dynamic-versioning]\nenable = true\n", "POETRY_DYNAMIC_VERSIONING_BYPASS"),
        ("[tool.uv-dynamic-versioning]\n", "UV_DYNAMIC_VERSIONING_BYPASS"),
    ],
)
def test_other_git_versioning_tools(table: str, variable: str) -> None:
    toml = '[project]\nname = "demo"\ndynamic = ["version"]\n' + table
    changelog = b"Changelog\n=========\n\nv1.4.2 (2024-01-01)\n-------------------\n"
    plan = plan_test_env({"pyproject.toml": toml.encode(), "CHANGELOG.rst": changelog})
    assert plan.env == {variable: "1.4.2"}


def test_versioneer_is_a_note() -> None:
    plan = plan_test_env(
        {"setup.py": b"import versioneer\n", "versioneer.py": b"", "setup.cfg": b"[versioneer]\nVCS = git\n"}
    )
    assert plan.env == {} and any("versioneer" in n for n in plan.notes)


# ---- hostile and malformed input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        {"pyproject.toml": b"[project\nname = 'x'"},
        {"pyproject.toml": b"\xff\xfe[project]"},
        {"pyproject.toml": b"[project]\nname = 'x'\n" + b"#" * 2_000_000},
        {"setup.cfg": b"[metadata\nname"},
        {"tox.ini": b"[tox]\nenvlist = py{" + b"{a,b}" * 40 + b"}\n[testenv]\ndeps = x\n"},
        {"tox.ini": b"[testenv]\ndeps = {[testenv]deps}\n"},
        {"setup.py": b"def (:\n"},
        {"setup.py": b"setup(" * 200_000},
        {"noxfile.py": b"@nox.session\ndef tests(s):\n    s.install(" + b"[" * 100_000},
        {
            "pyproject.toml": b'[project]\nname = "x"\ndependencies = [1, {"a": 2}, "ok"]\n'
            b'[dependency-groups]\ntest = "str"\n'
        },
        {"pyproject.toml": b'[project]\nname = "x"\n[tool.pytest.ini_options]\naddopts = "-p \\"unclosed"\n'},
        {"pyproject.toml": b"[tool.poetry]\nname = 3\n[tool.poetry.dependencies]\nx = 4\n"},
        {"requirements-test.txt": b"\x00\x01\x02"},
        {"CHANGELOG.md": b"\xff", "pyproject.toml": b'[project]\nname="x"\n[tool.setuptools_scm]\n'},
    ],
)
def test_hostile_input_gives_notes_never_exceptions(files: dict[str, bytes]) -> None:
    plan = plan_test_env(files)
    assert isinstance(plan, TestEnvPlan)
    assert not any(n.startswith("reviewbot could not read") for n in plan.notes), plan.notes
    plan.cache_key(files, image_id="i", python="3.11")


def test_unreadable_files_are_named_in_notes() -> None:
    plan = plan_test_env({"pyproject.toml": b"\xff\xfe[project]"})
    assert any("pyproject.toml: not UTF-8" in n for n in plan.notes)
    plan = plan_test_env({"pyproject.toml": b"[project\n"})
    assert any("pyproject.toml: not valid TOML" in n for n in plan.notes)
    plan = plan_test_env({"pyproject.toml": b"#" * 2_000_000})
    assert any("larger than" in n for n in plan.notes)


def test_nothing_declared_installs_pytest_and_says_so() -> None:
    plan = plan_test_env({"tests/test_x.py": b"def test(): pass\n"})
    assert plan.requirements == ("pytest",) and not plan.install_project
    assert any("no project metadata" in n for n in plan.notes)


def test_plain_requirements_txt_of_a_non_installable_project() -> None:
    plan = plan_test_env({"requirements.txt": b"flask\n", "app.py": b""})
    assert plan.requirement_files == ("requirements.txt",)


# ---- the cache key --------------------------------------------------------------------------------------


def test_cache_key_depends_on_plan_key_files_image_and_python() -> None:
    files = {"pyproject.toml": PEP621.encode(), "requirements-test.txt": b"pytest\n"}
    plan = plan_test_env(files)
    base = plan.cache_key(files, image_id="img1", python="3.11.7")
    assert plan.cache_key(dict(files), image_id="img1", python="3.11.7") == base
    assert plan.cache_key(files, image_id="img2", python="3.11.7") != base
    assert plan.cache_key(files, image_id="img1", python="3.12.0") != base
    changed = {**files, "requirements-test.txt": b"pytest<9\n"}
    assert plan.cache_key(changed, image_id="img1", python="3.11.7") != base
    unrelated = {**files, "src/demo/core.py": b"print()"}
    assert plan.cache_key(unrelated, image_id="img1", python="3.11.7") == base
    other = plan_test_env(
        {**files, "pyproject.toml": (PEP621 + '[dependency-groups]\ntest = ["mock"]\n').encode()}
    )
    assert other.cache_key(files, image_id="img1", python="3.11.7") != base  # the plan itself keys it


def test_uv_legacy_dev_dependencies() -> None:
    toml = PEP621 + '[tool.uv]\ndev-dependencies = ["pytest-asyncio"]\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert "pytest-asyncio" in names(plan)
    assert has_source(plan, "[tool.uv] dev-dependencies")


def test_builtin_and_local_plugins_need_nothing() -> None:
    ini = "[pytest]\naddopts = -p pytester -p _pytest.legacypath -ptests.fixtures -p no:randomly -n4\n"
    files = {"pytest.ini": ini.encode(), "pyproject.toml": PEP621.encode(), "tests/fixtures.py": b""}
    plan = plan_test_env(files)
    assert names(plan) == {"attrs", "pytest", "pytest-xdist"}
    assert plan.notes == ()


def test_tox_constraints_are_noted_not_silently_dropped() -> None:
    tox = "[tox]\nenvlist = py\n[testenv]\ndeps =\n    -c constraints.txt\n    mock\n"
    plan = plan_test_env(
        {"tox.ini": tox.encode(), "pyproject.toml": PEP621.encode(), "constraints.txt": b"mock<5\n"}
    )
    assert "mock" in names(plan)
    assert any("constraints constraints.txt not applied" in n for n in plan.notes)


def test_nox_fstring_extras_install_the_project() -> None:
    plan = plan_test_env(corpus("urllib3-2022"))
    assert plan.install_project
    assert any("extras are computed" in n for n in plan.notes)


def test_plugin_ini_keys_in_toml_are_case_insensitive() -> None:
    toml = PEP621 + '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "demo.settings"\n'
    assert "pytest-django" in names(plan_test_env({"pyproject.toml": toml.encode()}))


# ---- lock files -----------------------------------------------------------------------------------

LOCK = """version = 1
[[package]]
name = "pytest"
version = "8.3.4"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/pytest-8.3.4-py3-none-any.whl" }]
[[package]]
name = "numpy"
version = "1.26.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/numpy-1.26.0-cp311-cp311-manylinux_2_17_x86_64.whl" }]
[[package]]
name = "hypothesis"
version = "6.1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/hypothesis-6.1.0-py3-none-any.whl" }]
[[package]]
name = "hypothesis"
version = "6.2.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/hypothesis-6.2.0-py3-none-any.whl" }]
[[package]]
name = "mock"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/mock-1.0-py3-none-any.whl" }]
[[package]]
name = "responses"
version = "0.25.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/responses-0.25.0-py3-none-any.whl" }]
"""


def test_uv_lock_pins_only_unambiguous_pure_python_satisfying_versions() -> None:
    toml = (
        PEP621 + '[dependency-groups]\ntest = ["pytest>=8", "numpy", "hypothesis", "mock>=2", "responses"]\n'
    )
    files = {
        "pyproject.toml": toml.encode(),
        "uv.lock": LOCK.encode(),
        "requirements-test.txt": b"responses\n",
    }
    plan = plan_test_env(files)
    assert spec(plan, "pytest") == ["pytest==8.3.4"]
    assert spec(plan, "numpy") == ["numpy"]  # no pure-Python wheel: an old lock must not force a source build
    assert spec(plan, "hypothesis") == ["hypothesis"]  # two locked versions (per-Python forks)
    assert spec(plan, "mock") == ["mock>=2"]  # the lock is stale for it
    assert spec(plan, "responses") == ["responses"]  # requirements-test.txt (passed with -r) says its own
    assert has_source(plan, "uv.lock: pins pytest==8.3.4")


def test_unreadable_lock_is_a_note() -> None:
    plan = plan_test_env({"pyproject.toml": PEP621.encode(), "poetry.lock": b"[[package]\nname ="})
    assert any("poetry.lock: no [[package]] entries" in n for n in plan.notes)
    assert spec(plan, "attrs") == ["attrs>=22"]


def test_setuptools_dynamic_optional_dependencies_and_escaping_file() -> None:
    toml = (
        '[project]\nname = "demo"\nversion = "1"\ndynamic = ["dependencies", "optional-dependencies"]\n'
        '[tool.setuptools.dynamic]\ndependencies = {file = ["../outside.txt"]}\n'
        "optional-dependencies.test = {file = ['./requirements/test.in']}\n"
    )
    plan = plan_test_env({"pyproject.toml": toml.encode(), "requirements/test.in": b"pytest-mock\n"})
    assert plan.project_extras == ("test",) and "pytest-mock" in names(plan)
    assert any("outside the repository" in n for n in plan.notes)
    assert isinstance(plan.env, Mapping) and not isinstance(plan.env, dict)  # frozen like the plan


def test_setup_cfg_tests_require() -> None:
    cfg = "[metadata]\nname = demo\n[options]\ninstall_requires =\n    six\ntests_require =\n    nose2\n"
    plan = plan_test_env({"setup.cfg": cfg.encode(), "setup.py": b"from setuptools import setup\nsetup()\n"})
    assert {"six", "nose2"} <= names(plan) and not plan.dynamic_dependencies


def test_broken_lock_entry_is_a_note() -> None:
    lock = '[[package]]\nname = "attrs"\nversion = = "1"\n'
    plan = plan_test_env({"pyproject.toml": PEP621.encode(), "uv.lock": lock.encode()})
    assert any("uv.lock: not readable" in n for n in plan.notes)


def test_conftest_pytest_plugins() -> None:
    conftest = b'pytest_plugins = ["pytester", "pytest_asyncio", "tests.fixtures.db", "anyio",'
    conftest += b' "mystery_plugin"]\n'
    files = {"pyproject.toml": PEP621.encode(), "tests/conftest.py": conftest, "tests/fixtures/db.py": b""}
    plan = plan_test_env(files)
    assert {"pytest-asyncio", "anyio"} <= names(plan)
    assert any("mystery_plugin" in n for n in plan.notes)
    assert has_source(plan, "tests/conftest.py pytest_plugins 'pytest_asyncio' -> pytest-asyncio")
    assert "tests" not in names(plan)
    broken = plan_test_env({"conftest.py": b"pytest_plugins = [\n"})
    assert any("conftest.py: not valid Python" in n for n in broken.notes)


def test_pipfile_packages_and_dev_packages() -> None:
    pipfile = """
[packages]
flask = {version = ">=2", extras = ["dotenv"]}
requests = "*"
app = {path = ".", editable = true}
lib = {git = "https://example.com/lib.git"}
[dev-packages]
pytest = "==7.4.0"
freezegun = {version = "*", markers = "python_version >= '3.8'"}
"""
    plan = plan_test_env({"Pipfile": pipfile.encode(), "app.py": b""})
    assert "flask[dotenv]>=2" in plan.requirements and "requests" in plan.requirements
    assert "pytest==7.4.0" in plan.requirements
    assert 'freezegun; python_version >= "3.8"' in plan.requirements
    assert plan.install_project
    assert any("lib does not come from an index" in n for n in plan.notes)


def test_local_paths_in_a_requirements_folder_are_relative_to_the_root() -> None:
    setup = b"from setuptools import setup\nsetup(name='demo', extras_require={'test': ['pytest-mock']})\n"
    plan = plan_test_env({"setup.py": setup, "requirements/test.txt": b"-e .[test]\n"})
    assert plan.install_project and plan.project_extras == ("test",)
    assert "pytest-mock" in names(plan)
    assert not plan.notes


def test_unknown_pytest_ini_keys_are_noted() -> None:
    toml = PEP621 + '[tool.pytest.ini_options]\ntestpaths = ["tests"]\nmystery_option = "x"\n'
    plan = plan_test_env({"pyproject.toml": toml.encode()})
    assert any("mystery_option" in n and "install_command" in n for n in plan.notes)
    assert not any("testpaths" in n for n in plan.notes)


def test_ini_values_with_continuations_and_inline_comments() -> None:
    cfg = (
        "[metadata]\nname = demo\n[options.extras_require]\ntesting =\n    # upstream\n"
        '    pytest-black >= 0.3.7; \\\n        python_implementation != "PyPy"\n    pytest-cov  # coverage\n'
    )
    tox = "[tox]\nenvlist = py\n[testenv]\ndeps =\n    setuptools_scm # to avoid .eggs\n"
    plan = plan_test_env({"setup.cfg": cfg.encode(), "setup.py": b"", "tox.ini": tox.encode()})
    assert 'pytest-black>=0.3.7; platform_python_implementation != "PyPy"' in plan.requirements
    assert {"pytest-cov", "setuptools-scm"} <= names(plan)
    assert plan.notes == ()


def test_project_without_build_system_is_not_a_package_unless_something_installs_it() -> None:
    plan = plan_test_env({"pyproject.toml": PEP621.encode()})
    assert not plan.install_project and names(plan) == {"attrs", "pytest"}
    assert has_source(plan, "not a package")
    forced = plan_test_env({"pyproject.toml": (PEP621 + "[tool.uv]\npackage = true\n").encode()})
    assert forced.install_project and {"setuptools", "wheel"} <= names(forced)
    via_tox = plan_test_env({"pyproject.toml": PEP621.encode(), "tox.ini": b"[testenv]\nextras = test\n"})
    assert via_tox.install_project and "setuptools" in names(via_tox)  # build needs come last
