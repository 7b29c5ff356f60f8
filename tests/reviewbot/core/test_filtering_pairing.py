"""Rule-level attribution: head lines paired with the base lines the diff says they replace.

The diffs come from real `git diff` runs on files the tests write."""

from __future__ import annotations

from pathlib import Path

from reviewbot.core.attribution import select_lint
from reviewbot.core.diff import Diff, parse_diff
from reviewbot.core.filtering import new_since_base
from reviewbot.core.pairing import line_map
from tests.reviewbot.core.findings_factory import make
from tests.support.git import GitRepo


def git_diff(tmp_path: Path, before: dict[str, str], after: dict[str, str], *extra: str) -> Diff:
    repo = GitRepo.create(tmp_path / "repo")
    repo.commit(before, "base")
    repo.write({**dict.fromkeys(before), **after})  # a file of `before` missing from `after` is deleted
    repo.git("add", "-A")
    return parse_diff(repo.git("diff", "--cached", "--find-renames", *extra))


BASE = "a = 1\nb = 2\nc = zip(x, y)\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\ni = 9\nj = 10\n"


def test_line_map_pairs_replaced_inserted_and_untouched_lines(tmp_path: Path) -> None:
    head = BASE.replace("c = zip(x, y)\n", "c = zip(\n    x,\n    y,\n)\n").replace("i = 9\n", "")
    change = git_diff(tmp_path, {"m.py": BASE}, {"m.py": "import os\n" + head}, "-U1").file("m.py")
    assert change is not None
    lines = line_map(change)
    assert lines.base_lines(1) == ()  # the inserted import replaces nothing
    assert lines.base_lines(2) == (1,)  # untouched, shifted by the insertion
    assert lines.region(4, 7) == frozenset({3})  # the re-wrapped call replaces base line 3
    assert lines.base_lines(8) == (4,)  # context after the block
    assert lines.base_lines(12) == (8,)
    assert lines.base_lines(13) == (10,)  # after the deleted line 9


def test_renamed_variable_keeps_its_old_finding(tmp_path: Path) -> None:
    head = BASE.replace("zip(x, y)", "zip(left, right)")
    diff = git_diff(tmp_path, {"m.py": BASE}, {"m.py": head})
    old = make("m.py", 3, rule="B905", snippet="c = zip(x, y)\n")
    renamed = make("m.py", 3, rule="B905", snippet="c = zip(left, right)\n")
    assert new_since_base([renamed], [old], diff) == ([], [renamed])
    # A different rule on the same line is new.
    other = make("m.py", 3, rule="F821", snippet="c = zip(left, right)\n")
    assert new_since_base([other], [old], diff) == ([other], [])


def test_each_base_finding_answers_for_one_head_finding(tmp_path: Path) -> None:
    head = BASE.replace("c = zip(x, y)\n", "c = zip(x, z)\nk = zip(y, z)\n")
    diff = git_diff(tmp_path, {"m.py": BASE}, {"m.py": head})
    old = make("m.py", 3, rule="B905", snippet="c = zip(x, y)\n")
    kept = make("m.py", 3, rule="B905", snippet="c = zip(x, z)\n")
    added = make("m.py", 4, rule="B905", snippet="k = zip(y, z)\n")
    new, pre = new_since_base([added, kept], [old], diff)
    assert (new, pre) == ([added], [kept])  # the most alike line keeps the base's finding


def test_a_finding_on_a_pure_insertion_is_new(tmp_path: Path) -> None:
    head = BASE.replace("e = 5\n", "e = 5\nk = zip(y, x)\n")
    diff = git_diff(tmp_path, {"m.py": BASE}, {"m.py": head})
    old = make("m.py", 3, rule="B905", snippet="c = zip(x, y)\n")
    still = make("m.py", 3, rule="B905", snippet="c = zip(x, y)\n")
    inserted = make("m.py", 6, rule="B905", snippet="k = zip(y, x)\n")
    assert select_lint([still, inserted], [old], diff=diff, scope="added") == [inserted]


def test_renamed_file_pairs_under_its_new_name(tmp_path: Path) -> None:
    head = BASE.replace("zip(x, y)", "zip(xs, ys)")
    diff = git_diff(tmp_path, {"old.py": BASE}, {"new.py": head})
    old = make("old.py", 3, rule="B905", snippet="c = zip(x, y)\n")
    renamed = make("new.py", 3, rule="B905", snippet="c = zip(xs, ys)\n")
    assert select_lint([renamed], [old], diff=diff, scope="added") == []


def test_syntax_error_counts_off_the_changed_lines(tmp_path: Path) -> None:
    head = "Y = [\n" + BASE
    diff = git_diff(tmp_path, {"m.py": BASE}, {"m.py": head})
    late = make("m.py", 11, rule="invalid-syntax", snippet="j = 10\n")
    style = make("m.py", 11, rule="E501", snippet="j = 10\n")
    assert select_lint([late, style], [], diff=diff, scope="added") == [late]
    # The same syntax error at the base is not the change's.
    assert (
        select_lint(
            [late], [make("m.py", 10, rule="invalid-syntax", snippet="j = 10\n")], diff=diff, scope="added"
        )
        == []
    )
