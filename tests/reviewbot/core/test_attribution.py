"""What the change introduced: lint against the baseline, test failures against the base run."""

from __future__ import annotations

from reviewbot.core.attribution import FailedTest, attribute_tests, base_path_of_head, select_lint
from reviewbot.core.diff import parse_diff
from reviewbot.core.finding import Severity
from tests.reviewbot.core.findings_factory import make

DIFF = """diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,3 +1,5 @@
 import os
+import os
 x = 1
+y = 2
 z = 3
diff --git a/old.py b/new.py
similarity index 90%
rename from old.py
rename to new.py
index 3333333..4444444 100644
--- a/old.py
+++ b/new.py
@@ -1,2 +1,2 @@
-import sys
+import sys
 w = 1
diff --git a/tests/test_new.py b/tests/test_new.py
new file mode 100644
index 0000000..5555555
--- /dev/null
+++ b/tests/test_new.py
@@ -0,0 +1 @@
+def test_x(): assert 0
"""


def test_second_identical_problem_on_an_added_line_is_new() -> None:
    diff = parse_diff(DIFF)
    old = make("app.py", 1, snippet="import os")
    added = make("app.py", 2, snippet="import os")
    base = [make("app.py", 1, snippet="import os")]
    new = select_lint([old, added], base, diff=diff, scope="added")
    assert [f.start_line for f in new] == [2]


def test_problem_that_moved_with_a_rename_is_not_new() -> None:
    diff = parse_diff(DIFF)
    head = [make("new.py", 1, snippet="import sys")]
    base = [make("old.py", 1, snippet="import sys")]
    assert select_lint(head, base, diff=diff, scope="added") == []


def test_scope_and_path_filters() -> None:
    diff = parse_diff(DIFF)
    context_only = make("app.py", 3, snippet="x = 1")
    assert select_lint([context_only], [], diff=diff, scope="added") == []
    assert select_lint([context_only], [], diff=diff, scope="context") == [context_only]
    assert (
        select_lint([make("app.py", 4, snippet="y = 2")], [], diff=diff, scope="added", exclude=["app*"])
        == []
    )


def test_without_a_diff_everything_selected_counts() -> None:
    head = [make("app.py", 1), make("docs/x.py", 1)]
    assert select_lint(head, head, diff=None, scope="added", include=["app.py"]) == head[:1]


def _failure(nodeid: str, line: int = 3) -> FailedTest:
    return FailedTest(
        nodeid=nodeid, path=nodeid.partition("::")[0], line=line, message="assert 0", detail="E assert 0"
    )


def test_tests_failing_only_at_head_are_findings_at_both_are_preexisting() -> None:
    head = [_failure("tests/test_a.py::test_new_break"), _failure("tests/test_a.py::test_old_break")]
    result = attribute_tests(
        head,
        base_failed={"tests/test_a.py::test_old_break"},
        base_ran={"tests/test_a.py::test_new_break", "tests/test_a.py::test_old_break"},
        head_to_base={"tests/test_a.py": "tests/test_a.py"},
    )
    assert [f.snippet for f in result.new] == ["tests/test_a.py::test_new_break"]
    assert result.new[0].severity is Severity.ERROR and result.new[0].start_line == 3
    assert "passes at the base" in result.new[0].message
    assert [f.snippet for f in result.preexisting] == ["tests/test_a.py::test_old_break"]


def test_new_tests_renamed_files_and_unverified_failures() -> None:
    diff = parse_diff(DIFF)
    assert base_path_of_head(diff, "tests/test_new.py") is None
    assert base_path_of_head(diff, "new.py") == "old.py"
    assert base_path_of_head(diff, "untouched.py") == "untouched.py"
    head = [_failure("tests/test_new.py::test_x"), _failure("tests/test_a.py::test_added_at_head")]
    result = attribute_tests(
        head,
        base_failed=set(),
        base_ran={"tests/test_a.py::test_other"},
        head_to_base={"tests/test_new.py": None},
    )
    assert len(result.new) == 2 and not result.preexisting
    assert "new test file" in result.new[0].message and "does not exist at the base" in result.new[1].message
    unverified = attribute_tests(head[1:], base_failed=None, base_ran=None, head_to_base={})
    assert (
        unverified.new[0].severity is Severity.WARNING and "could not be re-run" in unverified.new[0].message
    )


def test_fingerprint_of_a_test_failure_is_its_node_id_not_its_line() -> None:
    a = attribute_tests(
        [_failure("t.py::test_a", line=3)], base_failed=None, base_ran=None, head_to_base={}, compare=False
    )
    b = attribute_tests(
        [_failure("t.py::test_a", line=30)], base_failed=None, base_ran=None, head_to_base={}, compare=False
    )
    assert a.new[0].fingerprint == b.new[0].fingerprint
