"""The project's own test environment with no configuration (docs/testenv.md), on the real engine.

Installing is hermetic: wheels built by the test are served as a PEP 503 index over real HTTP on
the Docker bridge's gateway address, which the networked install container reaches; the review
containers have no network. Everything else is real: the install container, the cache volume
mounted read-only, the per-review editable install, both revisions in their own containers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import CliResult, Repo
from tests.reviewbot.pipeline.wheelhouse import Wheelhouse

pytestmark = pytest.mark.docker

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]

PYPROJECT = """\
[project]
name = "calc-proj"
version = "1.2.3"
dependencies = ["rbdep>=1"]

[project.optional-dependencies]
test = ["rbtestdep"]

[project.scripts]
calc-hello = "calc:hello"

[build-system]
requires = ["tinybuild"]
build-backend = "tinybuild"
"""
CALC = (
    "from rbdep import BASE\n\n\ndef add(a, b):\n    return a + b + BASE\n\n\n"
    "def hello():\n    print('hello')\n"
)
TESTS = """\
import importlib.metadata
import os
import shutil
import subprocess

import rbtestdep
from calc import add


def test_add():
    assert add(1, 2) == 3


def test_installed_project():
    assert importlib.metadata.version("calc-proj") == "1.2.3"
    assert shutil.which("calc-hello"), os.environ["PATH"]
    assert subprocess.run(["calc-hello"], capture_output=True, text=True).stdout == "hello\\n"


def test_helper_script_in_tmp_runs(tmp_path):
    script = tmp_path / "helper.sh"
    script.write_text("#!/bin/sh\\necho ran\\n")
    script.chmod(0o755)
    assert subprocess.run([str(script)], capture_output=True, text=True).stdout == "ran\\n"


def test_dependencies():
    assert rbtestdep.READY
"""
#: A pull request's test that tries to poison the cached environment for later reviews.
POISON = """\
import pathlib

import rbdep


def test_cannot_write_the_cache():
    target = pathlib.Path(rbdep.__file__)
    assert str(target).startswith("/env/"), target
    try:
        target.write_text("BASE = 1000\\n")
    except OSError as exc:
        assert exc.errno == 30, exc  # EROFS
    else:
        raise AssertionError("the cached environment was writable")
    for extra in (target.parent / "evil.py", pathlib.Path("/env/evil.pth")):
        try:
            extra.write_text("x = 1\\n")
        except OSError as exc:
            assert exc.errno == 30, exc
        else:
            raise AssertionError(f"{extra} was writable")
"""


def bridge_gateway(client: Any) -> str:
    config = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = config.get("Gateway")
    if gateway:
        return str(gateway)
    subnet = str(config["Subnet"]).split("/")[0].rsplit(".", 1)[0]
    return f"{subnet}.1"


@pytest.fixture
def index(docker_client: Any, tmp_path: Path) -> Iterator[Wheelhouse]:
    with Wheelhouse.serve(tmp_path / "wheelhouse", bridge_gateway(docker_client)) as house:
        house.with_tinybuild()
        house.add("rbdep", "1.0", {"rbdep/__init__.py": "BASE = 0\n"})
        house.add("rbtestdep", "1.0", {"rbtestdep.py": "READY = True\n"})
        yield house


@pytest.fixture
def env_review(
    docker_client: Any, review: Review, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, index: Wheelhouse
) -> Iterator[Review]:
    """`reviewbot local --sandbox docker` against the local index, with a cache of this test's own."""
    cache_dir = tmp_path / "env-cache"
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)
    monkeypatch.setenv("REVIEWBOT_SANDBOX__INDEX_URL", index.url)
    monkeypatch.setenv("REVIEWBOT_SANDBOX__ENV_CACHE_DIR", str(cache_dir))

    def run(repo: Repo | Path, *extra: str) -> CliResult:
        return review(repo, "--sandbox", "docker", *extra)

    yield run
    assert our_containers(docker_client) == [], "a review left sandbox containers behind"
    known = json.loads((cache_dir / "envs.json").read_text()) if (cache_dir / "envs.json").exists() else {}
    for name in known:
        for volume in docker_client.volumes.list(filters={"name": name}):
            volume.remove(force=True)


def runs(result: CliResult) -> dict[str, dict[str, Any]]:
    assert result.report is not None, result.err
    return {r["name"]: r for r in result.report["runs"]}


def project(make_repo: MakeRepo, **extra: str) -> Repo:
    return make_repo(
        {"pyproject.toml": PYPROJECT, "src/calc/__init__.py": CALC, "tests/test_calc.py": TESTS, **extra}
    )


def test_declared_environment_is_installed_at_both_revisions_and_cached(
    make_repo: MakeRepo, env_review: Review, index: Wheelhouse
) -> None:
    repo = project(make_repo)
    repo.commit({"src/calc/__init__.py": CALC.replace("a + b + BASE", "a + b + BASE + 1")})
    first = env_review(repo)
    ran = runs(first)
    assert first.code == 1, first.err
    assert first.report is not None
    assert [f["snippet"] for f in first.report["findings"]] == ["tests/test_calc.py::test_add"]
    assert "passes at the base" in first.report["findings"][0]["message"]
    assert first.report["errors"] == []
    head, base = ran["install (head)"], ran["install (base)"]
    assert head["status"] == base["status"] == "ok"
    assert "installed and cached" in head["detail"]
    assert "project installed (editable, offline, by its build backend's editable hook)" in head["detail"]
    assert "pyproject.toml [project.optional-dependencies] test" in head["detail"]
    assert "from the cache" in base["detail"], "same declarations at base: the same cache entry"
    assert any(r.startswith("/simple/rbdep/") for r in index.requests)
    assert ran["pytest (head)"]["status"] == "failed" and ran["pytest (base)"]["status"] == "ok"

    before = list(index.requests)
    repo.commit({"README.md": "a second push\n"})
    second = env_review(repo)
    assert second.code == 1 and second.report is not None, (second.err, second.report)
    assert "from the cache" in runs(second)["install (head)"]["detail"]
    assert index.requests == before, "a cached environment asks the index for nothing"


def test_review_containers_cannot_write_the_cache(
    make_repo: MakeRepo, env_review: Review, index: Wheelhouse
) -> None:
    repo = project(make_repo)
    repo.commit({"tests/test_poison.py": POISON})
    first = env_review(repo)
    assert first.code == 0, (first.err, first.report)
    assert "pytest (head)" in runs(first) and runs(first)["pytest (head)"]["status"] == "ok"
    # A later review with the same declarations gets the same, unpoisoned layer.
    repo.commit({"README.md": "later\n"})
    later = env_review(repo)
    assert later.code == 0 and "from the cache" in runs(later)["install (head)"]["detail"]


def test_failed_install_quotes_pip_and_blocks_the_tests(make_repo: MakeRepo, env_review: Review) -> None:
    repo = project(make_repo)
    repo.commit({"pyproject.toml": PYPROJECT.replace('"rbdep>=1"', '"rbdep>=1", "rb-missing-zz9"')})
    result = env_review(repo)
    assert result.code == 2
    assert result.err.startswith("reviewbot: error: the install step (head) failed (exit 1)")
    assert "rb-missing-zz9" in result.err
    assert not any(name.startswith("pytest") for name in runs(result))


def test_install_none_installs_nothing(make_repo: MakeRepo, env_review: Review, index: Wheelhouse) -> None:
    repo = project(make_repo, **{".reviewbot.toml": '[sandbox]\ninstall = "none"\n'})
    repo.commit({"src/calc/__init__.py": CALC + "\n"})
    result = env_review(repo)
    assert not any(name.startswith("install") for name in runs(result))
    assert index.requests == []


def test_dependencies_computed_by_setup_py_are_installed_per_review_uncached(
    make_repo: MakeRepo, env_review: Review, index: Wheelhouse
) -> None:
    # No [project] table: the dependencies are whatever the build computes (setup.py's way), so
    # the project is installed with them in the networked install container, every review.
    repo = make_repo(
        {
            "pyproject.toml": '[build-system]\nrequires = ["tinybuild"]\nbuild-backend = "tinybuild"\n',
            "setup.py": "raise SystemExit('tinybuild reads setup_meta.toml')\n",
            "setup_meta.toml": 'name = "calc-proj"\nversion = "1.2.3"\ndependencies = ["rbdep"]\n',
            "src/calc/__init__.py": CALC,
            "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        }
    )
    repo.commit({"src/calc/__init__.py": CALC.replace("a + b + BASE", "a + b + BASE + 1")})
    result = env_review(repo)
    assert result.code == 1, result.err
    head = runs(result)["install (head)"]
    assert head["status"] == "ok" and "not cached" in head["detail"]
    assert result.report is not None
    assert [f["snippet"] for f in result.report["findings"]] == ["tests/test_calc.py::test_add"]
    assert runs(result)["pytest (base)"]["status"] == "ok", "the base got its own install too"


def test_an_unusable_cache_directory_is_a_clear_error(
    make_repo: MakeRepo, env_review: Review, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("REVIEWBOT_SANDBOX__ENV_CACHE_DIR", str(blocker / "cache"))
    repo = project(make_repo)
    repo.commit({"README.md": "x\n"})
    result = env_review(repo)
    assert result.code == 2
    assert "sandbox.env_cache_dir" in result.err and "a-file" in result.err


def test_a_newer_version_of_something_the_image_has_wins(
    make_repo: MakeRepo, env_review: Review, index: Wheelhouse
) -> None:
    # The image ships wheel 0.38; the project needs wheel>=99 (as toolz needs setuptools>=77): the
    # layer holds its own copy, and it comes first on sys.path.
    index.add("wheel", "99.0", {"wheel/__init__.py": "__version__ = '99.0'\n"})
    test = "import wheel\n\n\ndef test_wheel():\n    assert wheel.__version__ == '99.0'\n"
    repo = project(make_repo, **{"tests/test_wheel.py": test})
    repo.commit({"pyproject.toml": PYPROJECT.replace('"rbdep>=1"', '"rbdep>=1", "wheel>=99"')})
    result = env_review(repo)
    assert result.code == 0, (result.err, result.report)
    assert runs(result)["pytest (head)"]["status"] == "ok"
