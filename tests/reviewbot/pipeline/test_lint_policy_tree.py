"""The head's lint tree in a real sandbox session: what the head's code may have written into its
own tree before the lint ran (an install step, or an LLM policy running the tests first) has no say
either; the lint tree is built from the bot's copy and leaves the head's tree as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reviewbot.agent.tools import ToolContext
from reviewbot.pipeline.prepare import prepare
from reviewbot.pipeline.review_deps import ReviewDeps, Revision
from reviewbot.pipeline.run import sandbox_spec
from reviewbot.pipeline.tools import LINT_DIR, AnalyzeCode, AnalyzeParams, AnalyzeResult
from reviewbot.settings import load_settings
from sandbox import Session
from sandbox.archive import FileEntry, build_tar
from sandbox.factory import open_backend
from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import Repo

BASE_CONFIG = "[tool.ruff.lint]\nselect = ['F']\n"
HEAD_CONFIG = BASE_CONFIG + "ignore = ['ALL']\n"
EVIL = (
    "import json\nimport subprocess\n\n\n"
    "def run(cmd, expr):\n    subprocess.run(cmd, shell=True)\n    return eval(expr)\n"
)


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker), "process"])
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    client: Any = request.getfixturevalue("docker_client") if request.param == "docker" else None
    settings = load_settings(overrides={"sandbox": {"image": SANDBOX_IMAGE}})
    backend, _warning = open_backend(
        request.param, untrusted=False, allow_process_for_untrusted=False, image=SANDBOX_IMAGE
    )
    with backend.session(sandbox_spec(settings)) as opened:
        yield opened
    if client is not None:
        assert our_containers(client) == []


class _Shared:
    """One session for both revisions: this test drives the lint tool directly, not run_review."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, revision: Revision) -> Session:
        return self._session


def tar(files: dict[str, str]) -> bytes:
    return build_tar([FileEntry(path, text.encode()) for path, text in files.items()])[0]


def test_head_tree_tampering_and_head_config_have_no_say(
    make_repo: Callable[[dict[str, str]], Repo], session: Session
) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "pkg/__init__.py": "", "pkg/lib.py": "X = 1\n"})
    repo.commit({"pyproject.toml": HEAD_CONFIG, "pkg/evil.py": EVIL})
    settings = load_settings()
    prepared = prepare(repo.path, settings, base="main", head="HEAD", all_files=False)
    session.upload("head", build_tar(prepared.head_files)[0])
    session.upload("base", build_tar(prepared.base_files)[0])
    # What the head's code could have done to its own tree before the lint ran.
    session.upload(
        "head",
        tar({"pkg/.ruff.toml": 'lint.per-file-ignores = { "*" = ["ALL"] }\n', "pkg/evil.py": "X = 2\n"}),
    )
    deps = ReviewDeps(
        root=repo.path,
        sessions=_Shared(session),
        settings=settings,
        diff=prepared.diff,
        diff_text=prepared.diff_text,
        scoped=True,
        python_paths=prepared.python_paths,
        base_paths=prepared.base_paths,
        head_texts=prepared.head_texts,
        base_texts=prepared.base_texts,
        has_base=True,
        uses_ruff_format=False,
        has_ruff_config=True,
        lint=prepared.lint,
    )
    for _twice in range(2):  # a second call rebuilds the tree from scratch
        output = AnalyzeCode().run(AnalyzeParams(revision="head"), ToolContext(deps=deps))
        assert output.ok, output.text
        result = output.typed(AnalyzeResult)
        assert result is not None
        found = {(f.rule_id, f.start_line) for f in result.findings}
        assert found == {("F401", 1), ("S602", 6), ("S307", 7)}
    # The head's own tree is left as it was; the lint tree holds the base's configuration only.
    assert session.download("head/pyproject.toml", 10_000) == HEAD_CONFIG.encode()
    assert session.download("head/pkg/evil.py", 10_000) == b"X = 2\n"
    assert session.download(f"{LINT_DIR}/pyproject.toml", 10_000) == BASE_CONFIG.encode()
    assert session.download(f"{LINT_DIR}/pkg/.ruff.toml", 10_000) is None
