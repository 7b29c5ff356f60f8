"""Scope to the diff, baseline comparison, dedupe, cap, sort and path globs."""

from __future__ import annotations

import pytest

from reviewbot.core.filtering import cap, dedupe, glob_match, in_scope, new_since_base, path_selected, sort
from reviewbot.core.finding import Severity
from tests.reviewbot.core.diff_samples import sample
from tests.reviewbot.core.findings_factory import make

# modified_hunks: src/app.py, added 6,7,46,62,63; context 3-5,8-10,43-45,47-49,59-61
IN_SCOPE = [
    ("src/app.py", 6, None, "added", True),
    ("src/app.py", 7, None, "added", True),
    ("src/app.py", 5, None, "added", False),  # context line
    ("src/app.py", 5, None, "context", True),
    ("src/app.py", 11, None, "context", False),  # between hunks
    ("src/app.py", 11, None, "added", False),
    ("src/app.py", 1, 6, "added", True),  # a range that reaches an added line
    ("src/app.py", 11, 42, "context", False),
    ("src/app.py", 11, 1000, "added", True),
    ("src/app.py", None, None, "added", True),  # file-level finding on a changed file
    ("other.py", None, None, "added", False),
    ("other.py", 6, None, "context", False),
    ("", None, None, "added", False),
]


@pytest.mark.parametrize(("path", "line", "end", "scope", "expected"), IN_SCOPE)
def test_in_scope(path: str, line: int | None, end: int | None, scope: str, expected: bool) -> None:
    finding = make(path, line, end)
    assert in_scope(finding, sample("modified_hunks"), scope) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "path", "line", "expected"),
    [
        ("deleted", "gone.py", 1, False),  # deleted at head: nothing to comment on
        ("deleted", "gone.py", None, False),
        ("mode_only", "run.sh", None, True),  # no hunks, still a changed file
        ("mode_only", "run.sh", 1, False),
        ("rename_pure", "new/name.py", None, True),
        ("rename_pure", "old/name.py", None, False),
        ("rename_edit", "pkg/after.py", 26, True),
        ("binary_modified", "img/logo.png", None, True),
    ],
)
def test_in_scope_edge_files(name: str, path: str, line: int | None, expected: bool) -> None:
    assert in_scope(make(path, line), sample(name), "added") is expected


def test_new_since_base_counts_occurrences() -> None:
    base = [make(line=1, snippet="x = eval(s)"), make(line=9, snippet="x = eval(s)")]
    head = [
        make(line=1, snippet="x = eval(s)"),
        make(line=9, snippet="x = eval(s)"),
        make(line=20, snippet="x = eval(s)"),
    ]
    new, old = new_since_base(head, base)
    assert len(new) == 1 and len(old) == 2
    assert {f.fingerprint for f in new} == {base[0].fingerprint}


def test_new_since_base_survives_line_shifts() -> None:
    base = [make(line=3, snippet="import os"), make(line=8, rule="E711", snippet="if x == None:")]
    head = [make(line=13, snippet="import os"), make(line=18, rule="E711", snippet="if x == None:")]
    new, old = new_since_base(head, base)
    assert new == [] and old == head


def test_new_since_base_different_text_is_new() -> None:
    new, old = new_since_base([make(snippet="import sys")], [make(snippet="import os")])
    assert len(new) == 1 and old == []


def test_new_since_base_prefers_added_lines_as_the_new_ones() -> None:
    diff = sample("modified_hunks")  # line 46 added, 43 context
    base = [make(line=40, snippet="x = 1")]
    on_context, on_added = make(line=43, snippet="x = 1"), make(line=46, snippet="x = 1")
    new, old = new_since_base([on_added, on_context], base, diff)
    assert new == [on_added] and old == [on_context]


def test_new_since_base_follows_renames() -> None:
    diff = sample("rename_edit")
    base = [make("pkg/before.py", 26, snippet="return 7")]
    head = [make("pkg/after.py", 26, snippet="return 7")]
    assert new_since_base(head, base) == (head, [])  # without the diff the path differs
    assert new_since_base(head, base, diff) == ([], head)


def test_dedupe_keeps_first_and_upgrades() -> None:
    a = make(line=6, severity=Severity.NOTE)
    b = make(line=6, severity=Severity.ERROR, suggestion=(6, 6, "y\n"))
    c = make(line=7)
    out = dedupe([a, b, c, a])
    assert len(out) == 2
    assert out[0].severity is Severity.ERROR and out[0].suggestion is not None
    assert out[1] == c


def test_dedupe_keeps_same_text_at_different_places() -> None:
    assert len(dedupe([make(line=6, snippet="s"), make(line=9, snippet="s")])) == 2


def test_cap_keeps_most_severe_sorted_by_location() -> None:
    findings = [
        make("b.py", 1, severity=Severity.NOTE),
        make("a.py", 9, severity=Severity.ERROR),
        make("a.py", 2, severity=Severity.WARNING),
        make("c.py", 1, severity=Severity.ERROR),
        make("a.py", 1, severity=Severity.WARNING, evidenced=False),
    ]
    kept, omitted = cap(findings, 3)
    assert omitted == 2
    assert [(f.path, f.start_line) for f in kept] == [("a.py", 2), ("a.py", 9), ("c.py", 1)]
    assert cap(findings, 10) == (sort(findings), 0)
    assert cap([], 5) == ([], 0)
    with pytest.raises(ValueError, match="max_findings"):
        cap(findings, -1)


def test_sort_by_location() -> None:
    findings = [make("b.py", 1), make("a.py", 10), make("a.py", 2), make("a.py", None)]
    assert [(f.path, f.start_line) for f in sort(findings)] == [
        ("a.py", None),
        ("a.py", 2),
        ("a.py", 10),
        ("b.py", 1),
    ]


GLOBS = [
    ("src/app.py", "*.py", True),
    ("src/app.py", "src/*", True),  # fnmatch: '*' crosses '/'
    ("src/pkg/app.py", "src/*.py", True),
    ("app.py", "**/app.py", True),  # '**/' matches no directory too
    ("a/b/c/app.py", "**/app.py", True),
    ("a/b/xapp.py", "**/app.py", False),
    ("a/d.py", "a/**/d.py", True),
    ("a/b/c/d.py", "a/**/d.py", True),
    ("vendor/lib/x.py", "vendor", True),  # a directory selects what is under it
    ("vendor/lib/x.py", "vendor/", True),
    ("vendorx/y.py", "vendor", False),
    ("docs/index.md", "docs/**", True),
    ("src/x.py", "tests/**", False),
    ("f1.py", "f?.py", True),
    ("f10.py", "f?.py", False),
    ("a.py", "[ab].py", True),
    ("c.py", "[!ab].py", True),
    ("a.py", "[!ab].py", False),
    ("A.py", "a.py", False),  # case-sensitive, like git
    ("weird[1].py", "weird[[]1].py", True),
    ("x.py", "", False),
    ("./x.py", "./x.py", False),
    ("x.py", "./x.py", True),
    ("\u00e4/x.py", "\u00e4/*", True),
]


@pytest.mark.parametrize(("path", "pattern", "expected"), GLOBS)
def test_glob_match(path: str, pattern: str, expected: bool) -> None:
    assert glob_match(path, pattern) is expected


@pytest.mark.parametrize(
    ("path", "include", "exclude", "expected"),
    [
        ("src/a.py", [], [], True),
        ("src/a.py", ["src/**"], [], True),
        ("lib/a.py", ["src/**"], [], False),
        ("src/gen/a_pb2.py", ["src/**"], ["*_pb2.py"], False),
        ("src/a.py", [], ["tests"], True),
        ("tests/test_a.py", [], ["tests"], False),
    ],
)
def test_path_selected(path: str, include: list[str], exclude: list[str], expected: bool) -> None:
    assert path_selected(path, include, exclude) is expected
