"""search_code's bounds, on real trees in tmp dirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewbot.agent.repo_deps import RepoContext
from reviewbot.agent.search_code import SearchCode, SearchCodeParams, SearchResult
from reviewbot.agent.testing import FakeClock
from reviewbot.agent.tools import ToolCancelled, ToolContext, ToolErrorKind, ToolOutput, ToolRegistry


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "db.py").write_text('def run(q):\n    return cursor.execute("SELECT " + q)\n')
    (root / "src" / "app" / "util.py").write_text("import os\n\ndef helper():\n    return os.getcwd()\n")
    (root / "README.md").write_text("Run the app with `python -m app`.\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("execute = token\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.py").write_text("cursor.execute('leak')\n")
    return root


def search(root: Path, tool: SearchCode | None = None, **args: Any) -> ToolOutput:
    registry: ToolRegistry[RepoContext] = ToolRegistry([tool or SearchCode()])
    return registry.call("search_code", args, ToolContext(deps=RepoContext(root=root)))


def result(out: ToolOutput) -> SearchResult:
    found = out.typed(SearchResult)
    assert found is not None, out.text
    return found


def paths(out: ToolOutput) -> list[tuple[str, int]]:
    assert out.ok, out.text
    return [(m.path, m.line) for m in result(out).matches]


def test_finds_matches_with_path_and_line(repo: Path) -> None:
    out = search(repo, pattern=r"execute\(")
    assert paths(out) == [("src/app/db.py", 2)]
    assert 'src/app/db.py:2: return cursor.execute("SELECT " + q)' in out.text


def test_glob_and_case(repo: Path) -> None:
    assert paths(search(repo, pattern="run", path_glob="*.md")) == []
    assert paths(search(repo, pattern="run", path_glob="*.md", ignore_case=True)) == [("README.md", 1)]
    assert paths(search(repo, pattern=r"\bos\b", path_glob="src/*")) == [
        ("src/app/util.py", 1),
        ("src/app/util.py", 4),
    ]


def test_max_matches_truncates_and_says_so(repo: Path) -> None:
    (repo / "many.py").write_text("hit\n" * 100)
    out = search(repo, pattern="hit", max_matches=7)
    assert len(paths(out)) == 7
    assert result(out).truncated is True
    assert "stopped at max_matches=7" in out.text
    too_many = search(repo, pattern="hit", max_matches=10_000)
    assert too_many.error is ToolErrorKind.INVALID_ARGS


def test_invalid_regex_is_a_clear_error(repo: Path) -> None:
    out = search(repo, pattern="(unclosed")
    assert out.error is ToolErrorKind.FAILED and "invalid regular expression" in out.text


def test_skips_binaries_large_files_symlinks_and_vcs(repo: Path, tmp_path: Path) -> None:
    (repo / "blob.bin").write_bytes(b"execute(\x00\x01")
    (repo / "big.py").write_text("cursor.execute(x)\n" + "#" * 5000)
    (repo / "linked_dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (repo / "linked_file.py").symlink_to(tmp_path / "outside" / "secret.py")
    (repo / "inner_link.py").symlink_to("src/app/db.py")  # even inside: each file is searched once
    out = search(repo, SearchCode(max_file_bytes=4096), pattern="execute")
    assert paths(out) == [("src/app/db.py", 2)]
    assert result(out).skipped == {"binary": 1, "too_large": 1, "symlinks": 3, "unreadable": 0}
    assert "leak" not in out.text and "token" not in out.text


def test_long_lines_are_cut_before_matching(repo: Path) -> None:
    (repo / "minified.js").write_text("a" * 5000 + "NEEDLE\n" + "NEEDLE short\n")
    assert paths(search(repo, SearchCode(max_line_chars=1000), pattern="NEEDLE")) == [("minified.js", 2)]


def test_file_count_bound(repo: Path) -> None:
    for i in range(20):
        (repo / f"gen_{i:02d}.py").write_text("match\n")
    out = search(repo, SearchCode(max_files=5), pattern="match")
    assert result(out).truncated is True
    assert "stopped after visiting 5 files" in out.text
    assert len(paths(out)) < 5


def test_respects_the_call_deadline(repo: Path) -> None:
    clock = FakeClock(start=100.0)
    expired = ToolContext(deps=RepoContext(root=repo), clock=clock, deadline=99.0)
    with pytest.raises(ToolCancelled):
        SearchCode().run(SearchCodeParams(pattern="x"), expired)
    # Through the registry, a cancelled walk is a timeout observation.
    out = ToolRegistry([SearchCode()]).call("search_code", {"pattern": "x"}, expired)
    assert out.error is ToolErrorKind.TIMEOUT
