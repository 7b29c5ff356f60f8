"""The lint policy of a whole review (`reviewbot local`, in-process) on real git repositories.

docs/security-probes.md, probe 57: a pull request cannot change how it is linted. Its ruff
configuration (nested
`.ruff.toml`, `pyproject.toml` `[tool.ruff]`, `extend`) and its file-level `ruff: noqa` exemptions
have no say; the curated rules still fire (exit 1); the review names the configuration it edits.
docs/lint-policy.md: a rename re-reports nothing, a syntax error is one error, the declared Python target and
the project's formatting policy are respected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import SANDBOX_IMAGE, our_containers
from tests.reviewbot.pipeline.conftest import CliResult, Repo

Review = Callable[..., CliResult]
MakeRepo = Callable[[dict[str, str]], Repo]

LIB = "def add(a, b):\n    return a + b\n"
#: eval (S307), shell=True (S602), an unused import (F401): curated rules, all errors.
EVIL = (
    "import json\nimport subprocess\n\n\n"
    "def run(cmd, expr):\n"
    "    subprocess.run(cmd, shell=True)\n"
    "    return eval(expr)\n"
)
EVIL_RULES = {("S307", "pkg/evil.py", 7), ("S602", "pkg/evil.py", 6), ("F401", "pkg/evil.py", 1)}
BASE_CONFIG = (
    "[project]\nname = 'demo'\nrequires-python = '>=3.11'\n\n[tool.ruff.lint]\nselect = ['E4', 'F']\n"
)


def rules(result: CliResult) -> set[tuple[str, str, int | None]]:
    assert result.report is not None
    return {(f["rule_id"], f["path"], f["start_line"]) for f in result.report["findings"]}


def config_note(result: CliResult) -> str:
    assert result.report is not None
    notes = [f["message"] for f in result.report["findings"] if f["rule_id"] == "config-change"]
    assert len(notes) == 1, result.report["findings"]
    assert [f["severity"] for f in result.report["findings"] if f["rule_id"] == "config-change"] == ["note"]
    return str(notes[0])


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker), "process"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "process":
        yield "process"
        return
    client: Any = request.getfixturevalue("docker_client")
    monkeypatch.setenv("REVIEWBOT_SANDBOX__IMAGE", SANDBOX_IMAGE)
    yield "docker"
    assert our_containers(client) == [], "the review left sandbox containers behind"


ATTACKS = {
    "nested .ruff.toml ignoring ALL": {"pkg/.ruff.toml": 'lint.per-file-ignores = { "*" = ["ALL"] }\n'},
    "nested ruff.toml selecting nothing": {"pkg/ruff.toml": "[lint]\nselect = []\n"},
    "root pyproject ignore ALL": {"pyproject.toml": BASE_CONFIG + "ignore = ['ALL']\n"},
    "root pyproject exclude": {
        "pyproject.toml": BASE_CONFIG.replace(
            "[tool.ruff.lint]", "[tool.ruff]\nexclude = ['pkg']\n[tool.ruff.lint]"
        )
    },
    "extend elsewhere": {"pkg/pyproject.toml": '[tool.ruff]\nextend = "/etc/passwd"\n'},
    "extend a file ignoring ALL": {
        "pkg/.ruff.toml": 'extend = "../quiet.toml"\n',
        "quiet.toml": '[lint]\nper-file-ignores = { "*" = ["ALL"] }\n',
    },
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_pr_configuration_cannot_silence_the_review(
    make_repo: MakeRepo, review: Review, backend: str, attack: str
) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "pkg/__init__.py": "", "pkg/lib.py": LIB})
    repo.commit({**ATTACKS[attack], "pkg/evil.py": EVIL})
    result = review(repo, "--no-tests", "--sandbox", backend)
    assert result.report is not None and result.report["errors"] == []
    assert rules(result) >= EVIL_RULES
    assert result.code == 1
    note = config_note(result)
    for path in ATTACKS[attack]:
        if path.endswith(("toml",)) and path != "quiet.toml":
            assert path in note


def test_file_level_noqa_added_by_the_pr_is_ignored_and_named(
    make_repo: MakeRepo, review: Review, backend: str
) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "pkg/__init__.py": "", "pkg/lib.py": LIB})
    repo.commit(
        {"pkg/evil.py": "# ruff: noqa\n" + EVIL, "pkg/lib.py": "# flake8: noqa\n" + LIB + "import os\n"}
    )
    result = review(repo, "--no-tests", "--sandbox", backend)
    shifted = {(rule, path, line + 1) for rule, path, line in EVIL_RULES}
    assert shifted | {("F401", "pkg/lib.py", 4)} <= rules(result)
    assert result.code == 1
    note = config_note(result)
    assert "pkg/evil.py" in note and "pkg/lib.py" in note and "ruff: noqa" in note


def test_line_noqa_silences_its_line_but_never_a_dangerous_call(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "lib.py": LIB})
    repo.commit({"lib.py": "import os  # noqa: F401\nimport re\n" + LIB + "X = eval('1')  # noqa: S307\n"})
    result = review(repo, "--no-tests")
    assert rules(result) == {("F401", "lib.py", 2), ("S307", "lib.py", 5)}


def test_the_bases_own_exemptions_and_ignores_still_count(make_repo: MakeRepo, review: Review) -> None:
    config = BASE_CONFIG + "[tool.ruff.lint.per-file-ignores]\n'gen_*.py' = ['F401']\n"
    repo = make_repo(
        {"pyproject.toml": config, "gen_a.py": "import os\n", "old.py": "# ruff: noqa\nimport os\n"}
    )
    repo.commit({"gen_a.py": "import os\nimport sys\n", "old.py": "# ruff: noqa\nimport os\nimport sys\n"})
    result = review(repo, "--no-tests")
    assert result.report is not None and result.report["errors"] == []
    assert rules(result) == set()
    assert result.code == 0


def test_base_configuration_lints_the_head(make_repo: MakeRepo, review: Review) -> None:
    """The PR turns on a rule (E501 via select) and loosens another: neither takes effect."""
    repo = make_repo({"pyproject.toml": BASE_CONFIG + "ignore = ['E401']\n", "lib.py": LIB})
    loosened = BASE_CONFIG.replace("['E4', 'F']", "['E4', 'F', 'E501']") + "ignore = ['F841']\n"
    repo.commit(
        {
            "pyproject.toml": loosened,
            "lib.py": LIB + "import os, sys\n" + f"X = '{'x' * 120}'\n" + "def f():\n    y = 1\n",
        }
    )
    result = review(repo, "--no-tests")
    found = {r for r, _p, _l in rules(result)}
    assert "F841" in found  # the base does not ignore it
    assert "E501" not in found and "E401" not in found  # the base does not select / ignores them
    assert "pyproject.toml: [tool.ruff]" in config_note(result)


# -- introduced at the level of the rule (docs/lint-policy.md) -------------------------------------

ZIPS = (
    "def pairs(xs, ys):\n"
    "    return list(zip(xs, ys))\n\n\n"
    "def total(values, weights):\n"
    "    out = 0\n"
    "    for v, w in zip(values, weights):\n"
    "        out += v * w\n"
    "    return out\n"
)


def test_a_pure_rename_re_reports_nothing(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "calc.py": ZIPS})
    renamed = (
        ZIPS.replace("xs", "left").replace("ys", "right").replace("values", "amounts").replace("v,", "a,")
    )
    renamed = renamed.replace("v *", "a *").replace("weights", "factors")
    reformatted = renamed.replace("zip(amounts, factors)", "zip(\n        amounts,\n        factors,\n    )")
    repo.commit({"calc.py": reformatted})
    result = review(repo, "--no-tests")
    assert result.report is not None and result.report["errors"] == []
    assert rules(result) == set()
    assert result.code == 0


def test_a_new_zip_on_a_new_line_is_still_new(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"pyproject.toml": BASE_CONFIG, "calc.py": ZIPS})
    repo.commit(
        {
            "calc.py": ZIPS.replace(
                "xs, ys):\n    return", "xs, ys):\n    print(dict(zip(ys, xs)))\n    return"
            )
        }
    )
    result = review(repo, "--no-tests")
    assert rules(result) == {("B905", "calc.py", 2)}
    assert result.code == 0  # a bugbear finding is a warning


def test_b905_respects_the_declared_python(make_repo: MakeRepo, review: Review) -> None:
    old = BASE_CONFIG.replace(">=3.11", ">=3.7")
    repo = make_repo({"pyproject.toml": old, "calc.py": LIB})
    repo.commit({"calc.py": LIB + ZIPS})
    assert rules(review(repo, "--no-tests")) == set()


def test_b905_reported_for_a_modern_target(make_repo: MakeRepo, review: Review) -> None:
    repo = make_repo({"ruff.toml": "target-version = 'py312'\n", "calc.py": LIB})
    repo.commit({"calc.py": LIB + ZIPS})
    assert {r for r, _p, _l in rules(review(repo, "--no-tests"))} == {"B905"}


# -- a syntax error is one error (docs/lint-policy.md) ---------------------------------------------


def test_a_syntax_error_is_one_error_without_tests(make_repo: MakeRepo, review: Review, backend: str) -> None:
    repo = make_repo(
        {"pyproject.toml": BASE_CONFIG, "lib.py": LIB + "\n\ndef sub(a, b):\n    return a - b\n"}
    )
    repo.commit({"lib.py": LIB + "\n\ndef sub(a, b:\n    return a - b\n"})
    result = review(repo, "--no-tests", "--sandbox", backend)
    assert result.report is not None
    syntax = [f for f in result.report["findings"] if f["rule_id"] == "invalid-syntax"]
    assert len(syntax) == 1 and syntax[0]["severity"] == "error" and syntax[0]["start_line"] == 5
    assert result.code == 1


def test_a_syntax_error_reported_on_an_untouched_line_still_counts(
    make_repo: MakeRepo, review: Review
) -> None:
    body = "X = 1\n\n\ndef f():\n    return 2\n"
    repo = make_repo({"lib.py": body})
    repo.commit({"lib.py": "Y = [\n" + body})  # the parser notices at the end of the file
    result = review(repo, "--no-tests")
    assert result.report is not None
    syntax = [f for f in result.report["findings"] if f["rule_id"] == "invalid-syntax"]
    assert len(syntax) == 1 and result.code == 1


# -- formatting only where the project enforces it (docs/lint-policy.md) ---------------------------

UGLY = "X = [1,2 ,3]\n"
HOOKS = "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  hooks:\n  - id: ruff-format\n"


@pytest.mark.parametrize(
    ("files", "checked"),
    [
        ({"pyproject.toml": BASE_CONFIG + "[tool.ruff.format]\nquote-style = 'single'\n"}, False),
        (
            {".pre-commit-config.yaml": HOOKS},
            True,
        ),
        (
            {".github/workflows/ci.yml": "jobs:\n  lint:\n    steps:\n      - run: ruff format --check .\n"},
            True,
        ),
        ({"Makefile": "fmt:\n\truff format .\n"}, False),
    ],
)
def test_formatting_is_checked_only_where_enforced(
    make_repo: MakeRepo, review: Review, files: dict[str, str], checked: bool
) -> None:
    repo = make_repo({"lib.py": LIB, **files})
    repo.commit({"lib.py": LIB + UGLY})
    result = review(repo, "--no-tests")
    assert result.report is not None
    assert (("format", "lib.py", 3) in rules(result)) is checked
    assert any(r["name"] == "ruff format (head)" for r in result.report["runs"]) is checked
    if not checked:
        assert any("ruff format: not checked" in s for s in result.report["skipped"])


def test_formatting_setting_forces_the_check(
    make_repo: MakeRepo, review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWBOT_ANALYZERS__RUFF_FORMAT", "true")
    repo = make_repo({"lib.py": LIB})
    repo.commit({"lib.py": LIB + UGLY})
    assert ("format", "lib.py", 3) in rules(review(repo, "--no-tests"))
