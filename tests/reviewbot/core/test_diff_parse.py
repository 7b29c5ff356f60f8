"""parse_diff against real `git diff --find-renames` output, one sample per edge case."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from reviewbot.core.diff import (
    DiffParseError,
    FileChange,
    parse_diff,
    parse_hunks,
    read_sections,
    unquote_path,
)
from reviewbot.errors import WorkspaceError
from tests.reviewbot.core.diff_samples import SAMPLES, sample, sample_text


@dataclass(frozen=True)
class Expect:
    sample: str
    path: str
    old_path: str | None
    status: str
    binary: bool = False
    old_mode: str | None = "100644"
    new_mode: str | None = "100644"
    similarity: int | None = None
    added: tuple[int, ...] = ()
    context: tuple[int, ...] = ()
    deleted: tuple[int, ...] = ()
    hunks: int | None = None


CASES = [
    Expect("added", "pkg/new_module.py", None, "added", old_mode=None, added=(1, 2, 3, 4, 5), hunks=1),
    Expect("deleted", "gone.py", "gone.py", "deleted", new_mode=None, deleted=(1, 2), hunks=1),
    Expect(
        "modified_hunks",
        "src/app.py",
        "src/app.py",
        "modified",
        added=(6, 7, 46, 62, 63),
        context=(3, 4, 5, 8, 9, 10, 43, 44, 45, 47, 48, 49, 59, 60, 61),
        deleted=(6, 45),
        hunks=3,
    ),
    Expect(
        "rename_pure",
        "new/name.py",
        "old/name.py",
        "renamed",
        old_mode=None,
        new_mode=None,
        similarity=100,
        hunks=0,
    ),
    Expect(
        "rename_edit",
        "pkg/after.py",
        "pkg/before.py",
        "renamed",
        similarity=95,
        added=(26,),
        context=(23, 24, 25, 27, 28, 29),
        deleted=(26,),
        hunks=1,
    ),
    Expect(
        "copy",
        "copied.py",
        "orig.py",
        "copied",
        similarity=96,
        added=(10,),
        context=(7, 8, 9, 11, 12, 13),
        deleted=(10,),
    ),
    Expect(
        "copy", "exact_copy.py", "orig.py", "copied", old_mode=None, new_mode=None, similarity=100, hunks=0
    ),
    Expect("binary_modified", "img/logo.png", "img/logo.png", "modified", binary=True, hunks=0),
    Expect("binary_git_patch", "data/blob.bin", None, "added", binary=True, old_mode=None, hunks=0),
    # The text file after a GIT binary patch (base85 lines, blank lines) is still found.
    Expect("binary_git_patch", "data/notes.txt", None, "added", old_mode=None, added=(1,)),
    Expect("mode_only", "run.sh", "run.sh", "modified", new_mode="100755", hunks=0),
    Expect("mode_and_content", "tool.py", "tool.py", "modified", new_mode="100755", added=(1,), context=(2,)),
    Expect(
        "no_newline_eof", "drop_eol.txt", "drop_eol.txt", "modified", added=(3,), context=(1, 2), deleted=(3,)
    ),
    Expect(
        "no_newline_eof", "add_eol.txt", "add_eol.txt", "modified", added=(2,), context=(1,), deleted=(2,)
    ),
    Expect(
        "no_newline_eof", "edit_last.txt", "edit_last.txt", "modified", added=(2,), context=(1,), deleted=(2,)
    ),
    Expect(
        "non_utf8_content", "legacy.py", "legacy.py", "modified", added=(2, 4), context=(1, 3), deleted=(2,)
    ),
    Expect(
        "non_utf8_paths", "docs/\u00e4rger.txt", "docs/\u00e4rger.txt", "modified", added=(2,), context=(1,)
    ),
    # A Latin-1 byte in a name is not UTF-8: it comes back as a surrogate escape, as os.fsdecode does.
    Expect("non_utf8_paths", "latin/\udce4.txt", "latin/\udce4.txt", "modified", added=(2,), context=(1,)),
    Expect("non_utf8_paths", "new/\u65e5\u672c.py", None, "added", old_mode=None, added=(1,)),
    Expect("non_utf8_paths", "tab\there.txt", None, "added", old_mode=None, added=(1,)),
    Expect("non_utf8_paths", 'quote"and\\slash.txt', None, "added", old_mode=None, added=(1,)),
    Expect(
        "non_utf8_paths_unquoted",
        "docs/\u00e4rger.txt",
        "docs/\u00e4rger.txt",
        "modified",
        added=(2,),
        context=(1,),
    ),
    Expect(
        "non_utf8_paths_unquoted",
        "latin/\udce4.txt",
        "latin/\udce4.txt",
        "modified",
        added=(2,),
        context=(1,),
    ),
    Expect(
        "paths_with_spaces", "my dir/my file.py", "my dir/my file.py", "modified", added=(2,), context=(1,)
    ),
    Expect("paths_with_spaces", "x b/y", "x b/y", "modified", added=(2,), context=(1,)),
    # git quotes a non-ASCII name and, because it has a space, appends a tab after the quote.
    Expect("quoted_path_with_space", "ünï code.py", "ünï code.py", "modified", added=(2,), context=(1,)),
    Expect("paths_with_spaces", "pic ture.png", "pic ture.png", "modified", binary=True, hunks=0),
    Expect("paths_with_spaces", "brand new.txt", None, "added", old_mode=None, added=(1,)),
    Expect(
        "paths_with_spaces",
        "moved here.txt",
        "will move.txt",
        "renamed",
        old_mode=None,
        new_mode=None,
        similarity=100,
        hunks=0,
    ),
    Expect("empty_files", "empty_new", None, "added", old_mode=None, hunks=0),
    Expect("empty_files", "becomes_empty.txt", "becomes_empty.txt", "modified", deleted=(1,), hunks=1),
    Expect("empty_files", "was_empty.txt", "was_empty.txt", "modified", added=(1,), hunks=1),
    Expect("empty_deleted", "empty_gone", "empty_gone", "deleted", new_mode=None, hunks=0),
    Expect(
        "empty_renamed", "empty_new", "empty_old", "renamed", old_mode=None, new_mode=None, similarity=100
    ),
    Expect(
        "symlinks", "link", "link", "modified", old_mode="120000", new_mode="120000", added=(1,), deleted=(1,)
    ),
    Expect("symlinks", "new_link", None, "added", old_mode=None, new_mode="120000", added=(1,)),
    Expect("line_traps", "q.sql", "q.sql", "modified", added=(1, 3), context=(2,), deleted=(1, 3)),
    # "\r", "\x0b", U+2028 and "\x0c" inside a line do not split it.
    Expect("line_traps", "crlf.txt", "crlf.txt", "modified", added=(2,), context=(1, 3), deleted=(2,)),
    Expect("many_files", "lib/b.py", "b.py", "renamed", old_mode=None, new_mode=None, similarity=100),
    Expect("many_files", "c.txt", "c.txt", "deleted", new_mode=None, deleted=(1,)),
    Expect("many_files", "d.bin", None, "added", binary=True, old_mode=None),
    Expect(
        "many_files",
        "a.py",
        "a.py",
        "modified",
        added=(5,),
        context=(2, 3, 4, 6, 7, 8, *range(27, 33)),
        deleted=(5, 30),
        hunks=2,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.sample}:{c.path}")
def test_sample_file(case: Expect) -> None:
    diff = sample(case.sample)
    change = diff.file(case.path)
    assert change is not None, [f.path for f in diff.files]
    assert (change.path, change.old_path, change.status, change.binary) == (
        case.path, case.old_path, case.status, case.binary,
    )  # fmt: skip
    assert (change.old_mode, change.new_mode, change.similarity) == (
        case.old_mode,
        case.new_mode,
        case.similarity,
    )
    assert sorted(change.added_lines) == list(case.added)
    assert sorted(change.head_lines) == sorted({*case.added, *case.context})
    assert sorted(change.deleted_lines) == list(case.deleted)
    if case.hunks is not None:
        assert len(change.hunks) == case.hunks


@pytest.mark.parametrize(
    ("name", "count"),
    [("many_files", 5), ("non_utf8_paths", 5), ("paths_with_spaces", 5), ("empty", 0), ("copy", 2)],
)
def test_sample_file_count(name: str, count: int) -> None:
    assert len(sample(name).files) == count


def test_every_sample_has_a_case_and_parses() -> None:
    names = {p.stem for p in SAMPLES.glob("*.diff")}
    covered = {c.sample for c in CASES} | {"empty"}
    assert names == covered
    for name in names:
        parse_diff(sample_text(name))


def test_changed_paths_leave_out_deletions() -> None:
    diff = sample("many_files")
    assert set(diff.changed_paths) == {"a.py", "lib/b.py", "d.bin", "e.py"}
    assert diff.deleted_paths == ("c.txt",)


def test_hunk_headers_and_ranges() -> None:
    hunks = sample("modified_hunks").files[0].hunks
    assert [(h.old_start, h.old_length, h.new_start, h.new_length) for h in hunks] == [
        (3, 7, 3, 8), (42, 7, 43, 7), (58, 3, 59, 5),
    ]  # fmt: skip
    assert hunks[0].header == "def f1():"
    assert hunks[0].head_lines == frozenset(range(3, 11))


def test_hunk_index_and_same_hunk() -> None:
    change = sample("modified_hunks").files[0]
    assert change.hunk_index(3) == 0
    assert change.hunk_index(10) == 0
    assert change.hunk_index(11) is None  # between hunks
    assert change.hunk_index(46) == 1
    assert change.hunk_index(63) == 2
    assert change.same_hunk(5, 8)
    assert change.same_hunk(6, 6)
    assert not change.same_hunk(9, 44)  # spans the gap between two hunks
    assert not change.same_hunk(10, 11)
    assert not change.same_hunk(8, 6)
    assert not change.same_hunk(100, 100)


def test_deleted_file_has_no_head_lines() -> None:
    change = sample("deleted").file("gone.py")
    assert change is not None
    assert change.head_lines == frozenset()
    assert change.hunk_index(1) is None


def test_is_python() -> None:
    diff = sample("many_files")
    assert [f.path for f in diff.files if f.is_python] == ["a.py", "e.py", "lib/b.py"]


def test_file_lookup_prefers_the_head_side() -> None:
    # "a" deleted and "a" added again in one diff (e.g. a type change file -> symlink)
    text = (
        "diff --git a/a b/a\ndeleted file mode 100644\nindex 1..0\n"
        "--- a/a\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        "diff --git a/a b/a\nnew file mode 120000\nindex 0..2\n--- /dev/null\n+++ b/a\n@@ -0,0 +1 @@\n+t\n"
        "\\ No newline at end of file\n"
    )
    diff = parse_diff(text)
    assert [f.status for f in diff.files] == ["deleted", "added"]
    change = diff.file("a")
    assert change is not None and change.status == "added"
    assert diff.changed_paths == ("a",)


def test_plain_unified_diff_without_git_headers() -> None:
    text = "--- a/x.py\t2024-01-01\n+++ b/x.py\t2024-01-02\n@@ -1,2 +1,3 @@\n a\n+b\n c\n"
    diff = parse_diff(text)
    assert [(f.path, f.status, sorted(f.added_lines)) for f in diff.files] == [("x.py", "modified", [2])]


def test_parse_hunks_of_a_github_patch() -> None:
    patch = "@@ -1,2 +1,3 @@ def f():\n a\n+b\n c\n@@ -10 +11 @@\n-x\n+y"
    hunks = parse_hunks(patch)
    assert [sorted(h.added) for h in hunks] == [[2], [11]]
    assert hunks[0].header == "def f():"
    assert parse_hunks("") == ()


@pytest.mark.parametrize(
    ("quoted", "plain"),
    [
        ('"\\303\\244.txt"', "\u00e4.txt"),
        ('"a\\tb\\nc"', "a\tb\nc"),
        ('"q\\"\\\\"', 'q"\\'),
        ('"\\344"', "\udce4"),
        ("not quoted", "not quoted"),
        ('"', '"'),
    ],
)
def test_unquote_path(quoted: str, plain: str) -> None:
    assert unquote_path(quoted) == plain


@pytest.mark.parametrize(
    "text",
    [
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n",  # hunk shorter than its header
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n",  # hunk longer than its header
        "diff --git a/x b/x\n@@ -1 +1 @@\n-a\n+b\n",  # hunk without ---/+++
        "diff --git a/x b/x\nthis is not a header\n",
        "garbage before\ndiff --git a/x b/x\n",
        'diff --git "a/unterminated b/x\nnew file mode 100644\n',
        'diff --git a/x b/x\n--- "a/bad\\q"\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n',
        "diff --cc conflicted.py\n",
        "just some words\n",
    ],
)
def test_malformed_input_is_a_clear_error(text: str) -> None:
    with pytest.raises(DiffParseError) as info:
        parse_diff(text)
    assert isinstance(info.value, WorkspaceError)
    assert str(info.value)


def test_empty_and_blank_text() -> None:
    assert parse_diff("").files == ()
    assert parse_diff("\n\n").files == ()


def test_models_are_frozen_and_comparable() -> None:
    a, b = sample("added"), sample("added")
    assert a == b
    change = a.files[0]
    assert isinstance(change, FileChange)
    with pytest.raises(AttributeError):
        change.path = "other"  # type: ignore[misc]


# -- read_sections: each file's own text beside what it says ------------------------------------


@pytest.mark.parametrize("name", sorted(p.stem for p in SAMPLES.glob("*.diff")))
def test_sections_rebuild_the_text_and_agree_with_parse_diff(name: str) -> None:
    text = sample_text(name)
    sections = read_sections(text)
    assert "".join(s.text for s in sections) == text
    assert all(s.text.startswith("diff --git ") for s in sections)
    assert tuple(s.change for s in sections) == parse_diff(text).files
    # Given the parsed diff, the same files come back (not parsed again: the very same objects).
    parsed = parse_diff(text)
    assert all(s.change is f for s, f in zip(read_sections(text, parsed), parsed.files, strict=True))


def test_a_section_that_does_not_parse_does_not_hide_the_others() -> None:
    good = sample_text("modified_hunks")
    broken = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-only one line\n"
    with pytest.raises(DiffParseError):
        parse_diff(good + broken)
    sections = read_sections(good + broken)
    assert [s.path for s in sections] == ["src/app.py", "diff --git a/x.py b/x.py"]
    assert sections[0].change == parse_diff(good).files[0] and sections[1].change is None
    assert sections[1].text == broken
    # A parsed diff that does not match the text (another count of files) is not trusted.
    assert [s.path for s in read_sections(good + broken, parse_diff(sample_text("added")))] == [
        "src/app.py",
        "diff --git a/x.py b/x.py",
    ]


def test_sections_of_a_diff_without_git_headers_and_of_nothing() -> None:
    plain = "--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-a\n+b\n"
    (only,) = read_sections(plain)
    assert only.text == plain and only.path == "f.py" and only.change is not None
    assert read_sections("") == () and read_sections("\n\n") == ()
