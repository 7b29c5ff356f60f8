"""How a project declares its test environment, read from its files (never guessed).

`plan_test_env(files)` takes the bytes of one revision's files and returns a `TestEnvPlan`:
the requirements to install, requirements files to pass with -r, whether to install the
project itself (and with which extras), the environment the build needs, the files that key
the cache, where each part came from, and what could not be honoured. The order in which the
declarations are read, and how to override them: docs/testenv.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector
from reviewbot.core.testenv.plan import TestEnvPlan
from reviewbot.core.testenv.steps import run_steps

__all__ = ["OVERRIDE_HINT", "TestEnvPlan", "plan_test_env"]


def plan_test_env(files: Mapping[str, bytes]) -> TestEnvPlan:
    """The test environment `files` (repo-relative path -> bytes) declare. Never raises: what
    cannot be read becomes a note."""
    out = Collector(files)
    try:
        run_steps(out)
    except Exception as exc:  # a reader's bug must not stop a review; it is reported as a note
        out.note(
            f"reviewbot could not read the declarations ({exc.__class__.__name__}: {exc}); {OVERRIDE_HINT}"
        )
    return out.plan()
