"""action.yml, executed step by step as a runner does (tests/fakes/action_runner.py), on runners
whose Docker has no sandbox image and no registry: the base image is named through the documented
`sandbox-base-image` input (`reviewbot-base:bookworm`, built by scripts/setup-services.sh).

Run 1, a fresh runner: the image is built, the review is posted to the strict fake GitHub (one
review, every comment placed, no refused request — `GET /user` included), outputs are set, the
step fails by fail-on, and the image is saved to the Actions cache although the job failed.
Run 2, another fresh runner sharing only the Actions cache: the image is loaded (`docker load`),
not built, and nothing new is posted.

The built images carry a name unique to this module and are removed afterwards; the real
`reviewbot-sandbox:latest` is never touched. The image build (~1-2 min) happens once per module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import docker_unavailable
from tests.fakes.action_runner import Runner, RunResult
from tests.fakes.github_server import FakeGitHub
from tests.reviewbot.adapters.github.conftest import GitRepo
from tests.reviewbot.adapters.github.test_action_e2e import BASE_APP, HEAD_APP, payload

ROOT = Path(__file__).resolve().parents[4]
BASE_IMAGE = os.environ.get("REVIEWBOT_SANDBOX_BASE_IMAGE", "reviewbot-base:bookworm")
_HOST_ONLY = ("GITHUB_", "REVIEWBOT_", "RUNNER_", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_", "CI")


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300)


def the_action(target: Path) -> Path:
    """What a runner downloads for `uses: owner/reviewbot@ref`: the repository's files."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for rel in listed:
        if rel.startswith(("tests/", "benchmarks/")) or not (ROOT / rel).is_file():
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target / rel)
    return target


def host_env() -> dict[str, str]:
    """The runner machine's environment: nothing of this test process's venv or Actions variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_ONLY)}
    venv = Path(sys.prefix)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not Path(p).is_relative_to(venv)
    )
    return env


@dataclass
class World:
    tmp: Path
    repo: GitRepo
    gh: FakeGitHub
    cache: Path
    image_name: str

    def runner(self, name: str, inputs: dict[str, str]) -> RunResult:
        root = self.tmp / name
        workspace = root / "work" / "hello" / "hello"
        GitRepo.clone_shallow(self.repo.path, workspace, "feature")  # actions/checkout
        action_dir = the_action(root / "work" / "_actions" / "owner" / "reviewbot" / "main")
        base = self.repo.git("rev-parse", "main").strip()
        head = self.repo.git("rev-parse", "feature").strip()
        event = payload("opened", 9, base, head, self.gh.full_name, self.gh.full_name)
        event_path = root / "work" / "_temp" / "_github_workflow" / "event.json"
        event_path.parent.mkdir(parents=True, exist_ok=True)
        event_path.write_text(json.dumps(event))
        github: dict[str, Any] = {
            "token": self.gh.token,
            "event_name": "pull_request",
            "event_path": str(event_path),
            "event": event,
            "repository": self.gh.full_name,
            "api_url": self.gh.base_url,
            "workspace": str(workspace),
            "action_path": str(action_dir),
            "sha": head,
            "ref": "refs/pull/9/merge",
            "run_id": "1",
        }
        runner = Runner(
            root=root / "work", cache_dir=self.cache, workspace=workspace, github=github, base_env=host_env()
        )
        return runner.run_action(action_dir, {"sandbox-image-name": self.image_name, **inputs})

    def remove_images(self) -> None:
        """Untag this module's images, by name (never by id: an id may carry other tags too)."""
        listed = docker(
            "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference={self.image_name}:*"
        )
        for ref in listed.stdout.split():
            docker("rmi", ref)
        assert docker("images", "--quiet", "--filter", f"reference={self.image_name}:*").stdout.strip() == ""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        docker_unavailable("no Docker engine answered; run scripts/setup-services.sh")
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        docker_unavailable(f"base image {BASE_IMAGE} is missing; run scripts/setup-services.sh")
    tmp = tmp_path_factory.mktemp("actions")
    repo = GitRepo(tmp / "origin")
    repo.commit(
        {
            "app.py": BASE_APP,
            "pyproject.toml": "[project]\nname = 'demo'\nversion = '0'\n",
            ".reviewbot.toml": "[analyzers]\ntests = false\n",  # the project has no tests to run
        },
        "base",
    )
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app.py": HEAD_APP}, "feature")
    repo.git("checkout", "-q", "main")
    with FakeGitHub(repo.path) as gh:
        gh.open_pull(9, "main", "feature")
        world = World(tmp, repo, gh, tmp / "actions-cache", f"reviewbot-sandbox-test-{uuid.uuid4().hex[:10]}")
        try:
            yield world
        finally:
            world.remove_images()


@dataclass
class TwoRuns:
    first: RunResult
    after_first: tuple[int, int, int]
    second: RunResult
    gh: FakeGitHub


@pytest.fixture(scope="module")
def two_runs(world: World) -> TwoRuns:
    first = world.runner("runner-1", {"sandbox-base-image": BASE_IMAGE})
    gh = world.gh
    after_first = (len(gh.reviews), len(gh.review_comments), len(gh.issue_comments))
    world.remove_images()  # the next runner is a fresh machine: its Docker has no sandbox image
    second = world.runner("runner-2", {"sandbox-base-image": BASE_IMAGE, "fail-on": "never"})
    return TwoRuns(first, after_first, second, gh)


def test_a_fresh_runner_builds_the_image_and_posts_one_review(two_runs: TwoRuns) -> None:
    run, gh = two_runs.first, two_runs.gh
    assert run.step("image-cache").log.startswith("Cache not found")
    assert run.step("image-build").outcome == "success", run.log
    assert run.step("image-load").outcome == "skipped"
    assert run.outputs["sandbox-image-source"] == "built"
    assert run.outputs["sandbox-image"].startswith("reviewbot-sandbox-test-")
    # The review: posted once, every finding placed inline, the step failing by fail-on=error.
    assert run.step("review").exit_code == 1 and run.failed, run.log
    assert two_runs.after_first == (1, 2, 1), run.step("review").log
    bodies = " ".join(c["body"] for c in gh.review_comments)
    assert "F401" in bodies and "S307" in bodies
    assert all(c["subject_type"] == "line" for c in gh.review_comments)
    assert run.outputs["errors"] == "2" and run.outputs["findings"] == "2" and run.outputs["posted"] == "true"
    sarif = json.loads(Path(run.outputs["sarif"]).read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == 2
    assert "reviewbot review" in run.summary
    assert all(run.outputs.values()), run.outputs  # every declared output is set
    # The job failed, and the image was still saved to the cache (after the review, `always()`).
    assert run.steps[-1].kind.startswith("actions/cache/save") and run.steps[-1].log.startswith("Cache saved")


def test_another_fresh_runner_loads_the_image_from_the_cache_and_posts_nothing_new(two_runs: TwoRuns) -> None:
    run, gh = two_runs.second, two_runs.gh
    assert run.step("image-cache").log.startswith("Cache restored from key: reviewbot-sandbox-Linux-X64-")
    assert run.step("image-load").outcome == "success", run.log
    assert run.step("image-build").outcome == "skipped"  # docker build never ran
    assert "docker build" not in run.log and run.outputs["sandbox-image-source"] == "cache"
    assert run.step("review").exit_code == 0 and not run.failed, run.log  # fail-on: never
    assert (len(gh.reviews), len(gh.review_comments), len(gh.issue_comments)) == two_runs.after_first
    assert run.outputs["errors"] == "2" and run.outputs["posted"] == "true"
    assert run.steps[-1].outcome == "skipped"  # nothing was built, nothing to save


def test_no_refused_request_was_made(two_runs: TwoRuns) -> None:
    gh = two_runs.gh
    assert gh.requests and [f"{r.method} {r.path} {r.status}" for r in gh.requests if r.status >= 400] == []
    assert not any(r.path == "/user" for r in gh.requests)


def test_when_no_image_can_be_had_the_step_exits_2_with_sarif_and_outputs(world: World) -> None:
    run = world.runner(
        "runner-3", {"sandbox-base-image": "not a valid image name", "cache-sandbox-image": "false"}
    )
    assert run.step("image-build").outcome == "success"  # reports, does not fail the job by itself
    assert "::error title=reviewbot::building the sandbox image failed" in run.step("image-build").log
    review = run.step("review")
    assert review.exit_code == 2 and run.outputs["sandbox-image-source"] == "unavailable"
    assert "::error::reviewbot could not review this pull request: " in review.log, review.log
    assert "Traceback" not in review.log
    sarif = json.loads(Path(run.outputs["sarif"]).read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert run.outputs["findings"] == "0" and run.outputs["posted"] == "false"
    assert "could not review" in run.summary


def test_an_image_named_without_a_digest_is_used_only_if_present_never_pulled(world: World) -> None:
    run = world.runner("runner-4", {"sandbox-image": f"{world.image_name}:not-on-this-runner"})
    assert run.step("image-pull").outcome == "skipped" and run.step("image-build").outcome == "skipped"
    assert "only an image pinned by digest (name@sha256:...) is pulled" in run.step("image-source").log
    assert run.step("review").exit_code == 2 and run.outputs["sandbox-image-source"] == "unavailable"
    assert run.outputs["sarif"] and Path(run.outputs["sarif"]).is_file()
