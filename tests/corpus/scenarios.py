"""Seeded pull requests on real code: each scenario builds a git repository from a corpus slice and
declares what `reviewbot local` must report, must not report, and which exit code it must return.

A scenario's repository always has `main` as its default branch; the branch checked out at the end
(plus whatever is left in the working tree) is the change under review. Expectations name lines by
a piece of their text (`line=`), resolved against the head side when checked, so a seed that moves
a line does not silently invalidate an expectation.

`tests/corpus/test_seeds.py` proves each expectation with ruff and pytest run directly (the seeds do
what they claim); `tests/corpus/test_scenarios.py` runs the real CLI and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tests.corpus.gitrepo import Repo

TOOLZ = "toolz"
MORE = "more-itertools"

#: Why reviewbot must stay silent about a problem that really is there:
#: baseline   - the same problem (rule + flagged text) exists at the base; the change did not add it
#: unchanged  - the line is not part of the change at all
#: ignored    - the file is ignored by git (not part of the working tree's change)
#: suppressed - the repository's own ruff configuration or a `noqa` turns the rule off there
NoiseKind = Literal["baseline", "unchanged", "ignored", "suppressed"]


@dataclass(frozen=True)
class Expect:
    """One finding (or, in `not_report`, one problem that must not become a finding)."""

    tool: Literal["ruff", "pytest"]
    path: str
    rule: str | None = None  # None = any rule of `tool`
    line: str | None = None  # text identifying exactly one head-side line; None = anywhere in `path`
    test: str | None = None  # pytest node id, for pytest expectations
    #: a finding that groups failing tests by their shared cause sits where the error is raised
    #: (`path`/`line`), and its message names these node ids
    tests: tuple[str, ...] = ()
    kind: NoiseKind = "baseline"  # only meaningful in `not_report`
    base_path: str | None = None  # path at the base when the file was renamed

    def describe(self) -> str:
        where = f"{self.path}:{self.line!r}" if self.line else self.path
        return f"{self.tool}/{self.rule or '*'} at {where}"


@dataclass(frozen=True)
class Scenario:
    name: str
    corpus: str
    description: str
    build: Callable[[Repo], None]
    exit_code: int
    report: tuple[Expect, ...] = ()
    not_report: tuple[Expect, ...] = ()
    preexisting: tuple[Expect, ...] = ()  # tests failing at base and head: Review.preexisting
    exact: bool = True  # the findings are exactly `report`, nothing else
    errors: bool = False  # Review.errors must say what broke
    nothing_to_review: bool = False
    worktree_changes: bool = False  # uncommitted/untracked files are part of the change
    cli_args: tuple[str, ...] = ()  # extra `reviewbot local` arguments

    @property
    def slow(self) -> bool:
        """more-itertools' suite takes ~15 s; toolz' ~1 s."""
        return self.corpus == MORE


# -- (a) lint slip ------------------------------------------------------------------------------
def _lint_slip(repo: Repo) -> None:
    repo.branch("feature/raises-expected")
    repo.replace(
        "toolz/utils.py",
        "def raises(err, lamda):\n    try:\n        lamda()\n        return False\n    except err:\n"
        "        return True\n",
        "import os\nimport subprocess\n\n\n"
        "def raises(err, lamda, expected=None):\n    try:\n        lamda()\n        return False\n"
        "    except err as exc:\n        if expected is not None:\n"
        '            return eval(expected, {"exc": exc})\n        return True\n\n\n'
        "def shell_output(command):\n"
        "    done = subprocess.run(command, shell=True, capture_output=True, check=False)\n"
        "    return done.stdout.decode(encodng)\n",
    )
    repo.commit_all("utils: let raises() check the exception; add shell_output()")


# -- (b) broken test -----------------------------------------------------------------------------
def _broken_test(repo: Repo) -> None:
    repo.branch("perf/second")
    repo.replace("toolz/itertoolz.py", "    seq = iter(seq)\n    next(seq)\n    return next(seq)\n",
                 "    seq = iter(seq)\n    return next(seq)\n")  # fmt: skip
    repo.commit_all("itertoolz: simplify second()")


# -- (c) pre-existing noise ----------------------------------------------------------------------
def _preexisting_noise(repo: Repo) -> None:
    # On main, before the branch: lint problems and an already-failing test, in files the PR touches.
    repo.append(
        "toolz/dicttoolz.py",
        "\n\ndef _debug_lookup(d, expr):\n    import pprint\n    return eval(expr, {}, d)\n",
    )
    repo.append(
        "toolz/tests/test_dicttoolz.py",
        "\n\ndef test_merge_factory_none():\n    assert merge({1: 2}, factory=None) == {1: 2}\n",
    )
    repo.commit_all("dicttoolz: debugging helper (WIP)")
    repo.branch("feature/lookup-default")
    # Shift everything below by two lines, and re-indent the noisy eval line (an *added* line whose
    # problem is the base's, not the change's).
    repo.replace(
        "toolz/dicttoolz.py",
        '    """ Merge a collection of dictionaries\n',
        '    """ Merge a collection of dictionaries\n\n    Later dictionaries take precedence.\n',
    )
    repo.replace(
        "toolz/dicttoolz.py",
        "def _debug_lookup(d, expr):\n    import pprint\n    return eval(expr, {}, d)\n",
        "def _debug_lookup(d, expr, default=None):\n    import pprint\n    try:\n"
        "        return eval(expr, {}, d)\n    except KeyError:\n        return default\n",
    )
    repo.replace(
        "toolz/tests/test_dicttoolz.py",
        "\n\ndef test_merge_factory_none():\n",
        "\n\ndef test_debug_lookup():\n    from toolz.dicttoolz import _debug_lookup\n"
        '    assert _debug_lookup({"a": 1}, "a") == 1\n\n\ndef test_merge_factory_none():\n',
    )
    repo.commit_all("dicttoolz: _debug_lookup takes a default")


# -- (d) renames ---------------------------------------------------------------------------------
def _rename_pure(repo: Repo) -> None:
    repo.branch("refactor/private-recipes")
    repo.mv("more_itertools/recipes.py", "more_itertools/_recipes.py")
    repo.mv("more_itertools/recipes.pyi", "more_itertools/_recipes.pyi")
    repo.replace(
        "more_itertools/__init__.py", "from .recipes import *  # noqa", "from ._recipes import *  # noqa"
    )
    repo.replace("more_itertools/__init__.pyi", "from .recipes import *", "from ._recipes import *")
    repo.replace("more_itertools/more.py", "from .recipes import (", "from ._recipes import (")
    repo.replace(
        "tests/test_recipes.py",
        "DocTestSuite('more_itertools.recipes')",
        "DocTestSuite('more_itertools._recipes')",
    )
    repo.replace(
        "tests/test_recipes.py",
        "@patch('more_itertools.recipes.groupby'",
        "@patch('more_itertools._recipes.groupby'",
    )
    repo.commit_all("Make the recipes module private")


def _rename_with_edits(repo: Repo) -> None:
    repo.branch("refactor/compat")
    repo.mv("toolz/compatibility.py", "toolz/compat.py")
    repo.replace("toolz/compat.py", "import warnings\n", "# Kept for old imports only.\nimport warnings\n")
    repo.replace(
        "toolz/compat.py", "import operator\nimport sys\n", "import operator\nimport os\nimport sys\n"
    )
    repo.replace(
        "toolz/tests/test_compatibility.py",
        "        import toolz.compatibility\n",
        "        import toolz.compat\n",
    )
    repo.replace(
        "toolz/tests/test_compatibility.py",
        "importlib.reload(toolz.compatibility)",
        "importlib.reload(toolz.compat)",
    )
    repo.commit_all("Rename toolz.compatibility to toolz.compat")


# -- (e) the base moved on -----------------------------------------------------------------------
def _base_moved_on(repo: Repo) -> None:
    repo.branch("feature/warnings")
    repo.replace(
        "toolz/utils.py", "def raises(err, lamda):\n", "import warnings\n\n\ndef raises(err, lamda):\n"
    )
    repo.commit_all("utils: prepare deprecation warnings")
    repo.checkout("main")
    # After the branch point: a cleanup of lines the branch still has in their old (noisy) form...
    repo.replace(
        "toolz/sandbox/__init__.py",
        "from .core import EqualityHashKey, unzip\nfrom .parallel import fold\n",
        "from .core import EqualityHashKey as EqualityHashKey, unzip as unzip\n"
        "from .parallel import fold as fold\n",
    )
    repo.replace(
        "toolz/functoolz.py",
        'raise TypeError("Arguments to memoized function must be hashable")\n',
        'raise TypeError("Arguments to memoized function must be hashable") from None\n',
    )
    repo.commit_all("Explicit re-exports; raise ... from None")
    # ...and new problems that only main has.
    repo.write("toolz/debugging.py", "import os\n\n\ndef evaluate(source):\n    return eval(source)\n")
    repo.append(
        "toolz/utils.py",
        "\n\ndef run(cmd):\n    import subprocess\n    return subprocess.call(cmd, shell=True)\n",
    )
    repo.commit_all("debugging helpers")
    repo.checkout("feature/warnings")


# -- (f) a clean PR ------------------------------------------------------------------------------
def _clean_pr(repo: Repo) -> None:
    repo.branch("docs/recipes")
    repo.replace(
        "toolz/recipes.py",
        '    """ Count elements of a collection by a key function\n',
        '    """ Count the elements of a collection by a key function\n',
    )
    repo.replace(
        "toolz/recipes.py",
        "    return map(tuple, pluck(1, itertools.groupby(seq, key=func)))\n",
        "    groups = itertools.groupby(seq, key=func)\n    return map(tuple, pluck(1, groups))\n",
    )
    repo.write(
        "doc/recipes.md", "# Recipes\n\n`countby` and `partitionby` build on `frequencies` and `groupby`.\n"
    )
    repo.commit_all("recipes: clearer docstring, name the groups")


# -- (g) uncommitted and untracked files ---------------------------------------------------------
def _worktree(repo: Repo) -> None:
    repo.write(".gitignore", "local/\n")
    repo.commit_all("Ignore local scratch files")
    repo.branch("feature/wip")
    repo.replace("toolz/utils.py", "        return True\n", "        return True  # the expected exception\n")
    repo.commit_all("utils: comment")
    # Not committed: a modified tracked file, a new untracked module, and an ignored file.
    repo.replace("toolz/utils.py", "def raises(err, lamda):\n", "import json\n\n\ndef raises(err, lamda):\n")
    repo.write(
        "toolz/scratch.py",
        "def evaluate(source, names=None):\n    return eval(source, {}, names or {})\n\n\n"
        "def mean(values):\n    return totl / len(values)\n",
    )
    repo.write("local/notes.py", "import os\n")


# -- (h) a mixed, real-sized PR on a project with its own ruff configuration ----------------------
def _mixed_pr(repo: Repo) -> None:
    repo.branch("perf/last")
    repo.replace(
        "more_itertools/more.py", "import math\nimport types\n", "import json\nimport math\nimport types\n"
    )
    repo.replace(
        "more_itertools/more.py",
        "from threading import Lock\n",
        "from threading import Lock\nimport shlex  # noqa: F401\n",
    )
    repo.replace("more_itertools/more.py", "__all__ = [\n", "_identity = lambda x: x\n\n__all__ = [\n")
    repo.replace(
        "more_itertools/more.py",
        "        return deque(iterable, maxlen=1)[-1]\n    except (IndexError, StopIteration):\n",
        "        return deque(iterable, maxlen=1)[-1]\n    except IndexError:\n",
    )
    repo.commit_all("more: last() only needs IndexError")


# -- (i) the repository's ruff configuration is broken --------------------------------------------
def _broken_config(repo: Repo) -> None:
    # The base branch carries the configuration (a pull request's own ruff configuration has no
    # say in its review: docs/lint-policy.md), so ruff, run as the repository configures it, breaks.
    repo.write("ruff.toml", '[lint]\nselect = ["NOPE999"]\n')
    repo.commit_all("Add a ruff configuration")
    repo.branch("fix/utils-comment")
    repo.replace("toolz/utils.py", "        return True\n", "        return True  # the expected exception\n")
    repo.commit_all("utils: say why")


def _nothing(repo: Repo) -> None:
    """On the default branch with a clean working tree: nothing to review."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="lint_slip",
        corpus=TOOLZ,
        description="(a) unused import, undefined name, eval and shell=True added in changed code",
        build=_lint_slip,
        exit_code=1,
        report=(
            Expect("ruff", "toolz/utils.py", "F401", line="import os"),
            Expect("ruff", "toolz/utils.py", "S307", line="return eval(expected"),
            Expect("ruff", "toolz/utils.py", "S602", line="shell=True"),
            Expect("ruff", "toolz/utils.py", "F821", line="decode(encodng)"),
        ),
    ),
    Scenario(
        name="broken_test",
        corpus=TOOLZ,
        description="(b) a library change that makes an existing test fail",
        build=_broken_test,
        exit_code=1,
        # second() is used by join() and by a curried test too: one change, five failing tests.
        report=tuple(
            Expect("pytest", path, line=f"def {name}():", test=f"{path}::{name}")
            for path, name in (
                ("toolz/tests/test_itertoolz.py", "test_second"),
                ("toolz/tests/test_itertoolz.py", "test_join"),
                ("toolz/tests/test_itertoolz.py", "test_join_double_repeats"),
                ("toolz/tests/test_itertoolz.py", "test_join_missing_element"),
                ("toolz/tests/test_curried.py", "test_sorted"),
            )
        ),
    ),
    Scenario(
        name="preexisting_noise",
        corpus=TOOLZ,
        description="(c) the base already has lint problems and a failing test in the touched files",
        build=_preexisting_noise,
        exit_code=0,
        not_report=(
            Expect("ruff", "toolz/dicttoolz.py", "S307", line="return eval(expr, {}, d)"),
            Expect("ruff", "toolz/dicttoolz.py", "F401", line="import pprint"),
            Expect("pytest", "toolz/tests/test_dicttoolz.py", line="def test_merge_factory_none():"),
        ),
        preexisting=(
            Expect(
                "pytest",
                "toolz/tests/test_dicttoolz.py",
                line="def test_merge_factory_none():",
                test="toolz/tests/test_dicttoolz.py::test_merge_factory_none",
            ),
        ),
    ),
    Scenario(
        name="rename_pure",
        corpus=MORE,
        description="(d) a module renamed unchanged, its imports updated (noqa'd star import)",
        build=_rename_pure,
        exit_code=0,
        not_report=(
            Expect(
                "ruff",
                "more_itertools/_recipes.py",
                "B007",
                line="    for first in iterator:\n        for second in iterator:",
                base_path="more_itertools/recipes.py",
            ),
            Expect("ruff", "more_itertools/_recipes.py", "B905", base_path="more_itertools/recipes.py"),
        ),
    ),
    Scenario(
        name="rename_with_edits",
        corpus=TOOLZ,
        description="(d) a module renamed with small edits (one of them a new problem), imports updated",
        build=_rename_with_edits,
        exit_code=1,
        cli_args=("--fail-on", "warning"),
        report=(
            Expect("ruff", "toolz/compat.py", "F401", line="import os"),
            Expect("ruff", "toolz/compat.py", "E402", line="import os"),
        ),
        not_report=(
            Expect(
                "ruff", "toolz/compat.py", "E402", line="import operator", base_path="toolz/compatibility.py"
            ),
            Expect("ruff", "toolz/compat.py", "E402", line="import sys", base_path="toolz/compatibility.py"),
            Expect(
                "ruff",
                "toolz/compat.py",
                "F401",
                line="from collections.abc import Sequence",
                base_path="toolz/compatibility.py",
            ),
        ),
    ),
    Scenario(
        name="base_moved_on",
        corpus=TOOLZ,
        description="(e) main got new commits (a cleanup and new problems) after the branch point",
        build=_base_moved_on,
        exit_code=1,
        cli_args=("--fail-on", "warning"),
        report=(Expect("ruff", "toolz/utils.py", "F401", line="import warnings"),),
        not_report=(
            Expect("ruff", "toolz/sandbox/__init__.py", "F401", line="from .core import", kind="unchanged"),
            Expect(
                "ruff", "toolz/sandbox/__init__.py", "F401", line="from .parallel import", kind="unchanged"
            ),
            Expect("ruff", "toolz/functoolz.py", "B904", line="must be hashable", kind="unchanged"),
        ),
    ),
    Scenario(
        name="clean_pr",
        corpus=TOOLZ,
        description="(f) docs and a refactor: no findings",
        build=_clean_pr,
        exit_code=0,
        not_report=(Expect("ruff", "toolz/functoolz.py", "B904", line="must be hashable"),),
    ),
    Scenario(
        name="worktree",
        corpus=TOOLZ,
        description="(g) uncommitted and untracked files are reviewed; ignored files are not",
        build=_worktree,
        exit_code=1,
        worktree_changes=True,
        report=(
            Expect("ruff", "toolz/utils.py", "F401", line="import json"),
            Expect("ruff", "toolz/scratch.py", "S307", line="return eval(source"),
            Expect("ruff", "toolz/scratch.py", "F821", line="return totl"),
        ),
        not_report=(Expect("ruff", "local/notes.py", "F401", line="import os", kind="ignored"),),
    ),
    Scenario(
        name="mixed_pr",
        corpus=MORE,
        description="(h) a real-sized PR on more-itertools: its own ruff config, noqa, a broken test",
        build=_mixed_pr,
        exit_code=1,
        report=(
            Expect("ruff", "more_itertools/more.py", "F401", line="import json"),
            Expect(
                "pytest",
                "more_itertools/more.py",
                line="            return next(reversed(iterable))\n"
                "        return deque(iterable, maxlen=1)[-1]\n    except IndexError:",
                tests=(
                    "tests/test_more.py::LastTests::test_default",
                    "tests/test_more.py::LastTests::test_empty",
                ),
            ),
        ),
        not_report=(
            Expect(
                "ruff", "more_itertools/more.py", "F401", line="import shlex  # noqa: F401", kind="suppressed"
            ),
            Expect(
                "ruff", "more_itertools/more.py", "E731", line="_identity = lambda x: x", kind="suppressed"
            ),
            Expect(
                "ruff",
                "more_itertools/more.py",
                "B904",
                line="            raise ValueError(\n                'last() was called",
                kind="baseline",
            ),
        ),
    ),
    Scenario(
        name="broken_config",
        corpus=TOOLZ,
        description="(i) the repository's ruff configuration makes ruff exit 2: an analyzer error, "
        "never 'clean'",
        build=_broken_config,
        exit_code=2,
        exact=False,
        errors=True,
    ),
    Scenario(
        name="nothing_to_review",
        corpus=TOOLZ,
        description="on the default branch with a clean working tree",
        build=_nothing,
        exit_code=0,
        nothing_to_review=True,
    ),
)

BY_NAME = {s.name: s for s in SCENARIOS}
