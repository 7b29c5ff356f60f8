"""The lint policy read from a revision's files: which files configure ruff, the declared Python
target, whether formatting is enforced, and what a change does to lint/test configuration."""

from __future__ import annotations

import pytest

from reviewbot.core.diff import parse_diff
from reviewbot.core.lintconfig import (
    config_changes,
    file_exemptions,
    format_enforced_by,
    imported_names,
    lint_setup,
    lint_tree,
    ruff_config_files,
    target_version,
)


def b(files: dict[str, str]) -> dict[str, bytes]:
    return {k: v.encode() for k, v in files.items()}


def test_every_config_file_at_any_depth_and_what_it_extends() -> None:
    files = b(
        {
            "pyproject.toml": "[project]\nname = 'x'\n",
            "pkg/.ruff.toml": "extend = '../shared/base.toml'\n",
            "shared/base.toml": "extend = 'more.toml'\n",
            "shared/more.toml": "[lint]\nselect = ['F']\n",
            "deep/a/b/ruff.toml": "",
            "outside.toml": "",
            "abs/ruff.toml": "extend = '/etc/passwd'\n",
            "up/ruff.toml": "extend = '../../x.toml'\n",
            "lib.py": "",
        }
    )
    assert sorted(ruff_config_files(files)) == [
        "abs/ruff.toml",
        "deep/a/b/ruff.toml",
        "pkg/.ruff.toml",
        "pyproject.toml",
        "shared/base.toml",
        "shared/more.toml",
        "up/ruff.toml",
    ]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[project]\nrequires-python = '>=3.7'\n"}, "py37"),
        ({"pyproject.toml": "[project]\nrequires-python = '>=3.8, <4'\n"}, "py38"),
        ({"pyproject.toml": "[project]\nrequires-python = '~=3.9'\n"}, "py39"),
        ({"pyproject.toml": "[project]\nrequires-python = '>=3.6'\n"}, "py37"),  # ruff's oldest
        ({"pyproject.toml": "[project]\nrequires-python = '<3.13'\n"}, None),
        (
            {
                "pyproject.toml": "[project]\nrequires-python = '>=3.8'\n"
                "[tool.ruff]\ntarget-version = 'py311'\n"
            },
            "py311",
        ),
        (
            {
                "ruff.toml": "target-version = 'py312'\n",
                "pyproject.toml": "[project]\nrequires-python = '>=3.8'\n",
            },
            "py312",
        ),
        ({"ruff.toml": "extend = 'cfg/base.toml'\n", "cfg/base.toml": "target-version = 'py310'\n"}, "py310"),
        (
            {"ruff.toml": "line-length = 100\n", "pyproject.toml": "[project]\nrequires-python = '>=3.9'\n"},
            "py39",
        ),
        ({"lib.py": ""}, None),
    ],
)
def test_declared_target(files: dict[str, str], expected: str | None) -> None:
    assert target_version(b(files)) == expected


@pytest.mark.parametrize(
    ("texts", "enforced"),
    [
        ({".pre-commit-config.yaml": "hooks:\n  - id: ruff-format\n"}, True),
        ({".pre-commit-config.yaml": "hooks:\n  - id: ruff\n    args: [--fix]\n"}, False),
        ({".github/workflows/ci.yml": "steps:\n  - run: uv run ruff format --check src tests\n"}, True),
        ({".github/workflows/ci.yml": "steps:\n  - run: ruff format --diff .\n"}, True),
        (
            {
                ".github/workflows/lint.yaml": "- uses: astral-sh/ruff-action@v3\n"
                "  with:\n    args: 'format --check'\n"
            },
            True,
        ),
        ({".github/workflows/ci.yml": "steps:\n  - run: ruff check .\n"}, False),
        ({"tox.ini": "[testenv:lint]\ncommands = ruff format --check .\n"}, True),
        ({"Makefile": "fmt:\n\truff format .\n"}, False),  # formats on demand, refuses nothing
        ({"pyproject.toml": "[tool.ruff.format]\nquote-style = 'single'\n"}, False),
        ({"docs/ci.yml": "ruff format --check\n"}, False),  # not a CI file
    ],
)
def test_format_enforcement(texts: dict[str, str], enforced: bool) -> None:
    assert (format_enforced_by(texts) is not None) is enforced


DIFF = """\
diff --git a/pyproject.toml b/pyproject.toml
--- a/pyproject.toml
+++ b/pyproject.toml
@@ -1 +1 @@
-x
+y
diff --git a/setup.py b/setup.py
--- a/setup.py
+++ b/setup.py
@@ -1 +1 @@
-x
+y
diff --git a/pkg/.ruff.toml b/pkg/.ruff.toml
new file mode 100644
--- /dev/null
+++ b/pkg/.ruff.toml
@@ -0,0 +1 @@
+x
diff --git a/tox.ini b/tox.ini
--- a/tox.ini
+++ b/tox.ini
@@ -1 +1 @@
-x
+y
diff --git a/gen.py b/gen.py
--- a/gen.py
+++ b/gen.py
@@ -1 +1 @@
-x
+y
diff --git a/other.py b/other.py
--- a/other.py
+++ b/other.py
@@ -1 +1 @@
-x
+y
"""


def test_config_changes_name_what_changed() -> None:
    base = b(
        {
            "pyproject.toml": "[project]\nname = 'a'\n[tool.ruff.lint]\nselect = ['F']\n",
            "tox.ini": "[tox]\nenvlist = py\n[pytest]\naddopts = -q\n",
            "gen.py": "x = 1\n",
            "other.py": "# ruff: noqa\nx = 1\n",
        }
    )
    head = b(
        {
            "pyproject.toml": "[project]\nname = 'b'\n[tool.ruff.lint]\nselect = []\n"
            "[tool.pytest.ini_options]\naddopts = '-p x'\n",
            "pkg/.ruff.toml": "",
            "tox.ini": "[tox]\nenvlist = py,lint\n[pytest]\naddopts = -q\n",  # pytest untouched
            "gen.py": "#   ruff: noqa: F401, E501\nx = 2\n",
            "other.py": "# ruff: noqa\nx = 2\n",  # the base already had it
        }
    )
    assert config_changes(parse_diff(DIFF), base, head) == (
        "pyproject.toml: [tool.pytest], [tool.ruff]",
        "pkg/.ruff.toml: ruff configuration (added)",
        "gen.py: adds `#   ruff: noqa: F401, E501`",
    )


def test_imported_names() -> None:
    text = "import os.path, sys as s\nfrom . import x\nfrom .y import z\n"
    text += "  from pkg.sub import (a,\n b)\nimport a.b  # c\n"
    assert imported_names(text) == {"os", "sys", "pkg", "a"}


def test_file_exemptions() -> None:
    text = "# flake8: noqa\nx = 1  # noqa\n  # ruff: noqa: F401,E501\n# ruff:noqa\n"
    assert file_exemptions(text) == [
        ("# flake8: noqa", frozenset()),
        ("# ruff: noqa: F401,E501", frozenset({"F401", "E501"})),
        ("# ruff:noqa", frozenset()),
    ]


def test_setup_from_the_base_lays_its_config_over_the_heads_code() -> None:
    base = b({"pyproject.toml": "[tool.ruff]\ntarget-version = 'py38'\n", "a.py": "", "old.py": ""})
    # a.py imports b: the stand-in for b.py tells ruff it is first-party
    head = b(
        {
            "pyproject.toml": "[tool.ruff]\nselect = []\n",
            "pkg/ruff.toml": "",
            "a.py": "import b\n",
            "b.py": "x\n",
            "c.py": "x\n",  # not imported: not in the tree
        }
    )
    setup = lint_setup(head, base, parse_diff(""), ["a.py"])
    assert setup.from_base and setup.configured and setup.target_version == "py38"
    assert dict(setup.tree) == {
        "pyproject.toml": b"[tool.ruff]\ntarget-version = 'py38'\n",  # the base's
        "a.py": b"import b\n",  # reviewed: the head's text
        "b.py": b"",  # a first-party module: only that it exists matters
    }
    alone = lint_setup(head, None, parse_diff(""), ["a.py"])
    assert (
        not alone.from_base
        and alone.tree == {}
        and set(alone.config_files) == {"pyproject.toml", "pkg/ruff.toml"}
    )


def test_lint_tree_has_the_shape_ruff_asks_about() -> None:
    head = b(
        {
            "src/app/__init__.py": "x",
            "src/app/sub/__init__.py": "x",
            "src/app/sub/mod.py": "import os\nfrom app import other\nimport tool, pkg.a as x  # n\n",
            "src/unused/__init__.py": "x",
            "src/app/other.py": "x",
            "src/tool.py": "x",
            "src/data.txt": "x",
            "lib/pkg/a.py": "x",
            "tests/test_a.py": "x",
            "setup.py": "x",
            "pyproject.toml": "head's",
        }
    )
    config = b({"pyproject.toml": "[tool.ruff]\nsrc = ['src', 'lib']\n"})
    dirs, files = lint_tree(head, ["src/app/sub/mod.py"], config)
    assert dirs == ("lib/pkg", "src/app")
    assert files == {
        "src/app/sub/mod.py": b"import os\nfrom app import other\nimport tool, pkg.a as x  # n\n",
        "src/app/__init__.py": b"",
        "src/app/sub/__init__.py": b"",
        "src/tool.py": b"",
        "lib/pkg/a.py": b"",  # an imported submodule: ruff looks for it to call it first-party
        "pyproject.toml": b"[tool.ruff]\nsrc = ['src', 'lib']\n",
    }


def test_lint_tree_stands_in_for_imported_submodules() -> None:
    # click's tests: `import click` and `from click._compat import WIN` are one first-party section
    # only if ruff finds src/click/_compat.py too (without it, a merged commit drew I001).
    test = "import pytest\n\nimport click\nfrom click._compat import WIN\nfrom click.sub.deep import y\n"
    head = b(
        {
            "src/click/__init__.py": "x",
            "src/click/_compat.py": "x",
            "src/click/core.py": "x",
            "src/click/sub/__init__.py": "x",
            "src/click/sub/deep.py": "x",
            "tests/test_termui.py": test,
        }
    )
    config = b({"pyproject.toml": "[tool.ruff]\nsrc = ['src']\n"})
    dirs, files = lint_tree(head, ["tests/test_termui.py"], config)
    assert dirs == ("src/click",)
    stand_ins = {path for path, data in files.items() if data == b""}
    assert stand_ins == {"src/click/_compat.py", "src/click/sub/__init__.py", "src/click/sub/deep.py"}
    assert "src/click/core.py" not in files  # only what the reviewed files import
