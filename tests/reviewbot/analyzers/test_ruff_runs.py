"""The ruff command lines reviewbot builds, run for real on files the tests write, and how their
output is read: isolation from configuration, noqa handling, the declared target, syntax errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reviewbot.analyzers.ruff_parse import SYNTAX_ERROR, honor_noqa, parse_check
from reviewbot.analyzers.runners import ruff_check_argv
from reviewbot.core.finding import Finding, Severity

EVIL = "# ruff: noqa\nimport json\nimport os  # noqa: F401\nX = eval('1')  # noqa: S307\nY = zip([1], [2])\n"


def run(tmp_path: Path, files: dict[str, str], argv: list[str]) -> list[Finding]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode in (0, 1), out.stderr
    paths = [a for a in argv[argv.index("--") + 1 :]]
    return parse_check(out.stdout, paths=paths, file_texts={p: files[p] for p in paths})


def codes(findings: list[Finding]) -> set[tuple[str, int | None]]:
    return {(f.rule_id, f.start_line) for f in findings}


def test_isolated_run_reads_no_configuration_and_no_noqa(tmp_path: Path) -> None:
    files = {"pkg/.ruff.toml": 'lint.per-file-ignores = { "*" = ["ALL"] }\n', "pkg/m.py": EVIL}
    argv = ruff_check_argv(["pkg/m.py"], ["F", "S307", "B905"], isolated=True, target_version="py312")
    assert codes(run(tmp_path, files, argv)) == {("F401", 2), ("F401", 3), ("S307", 4), ("B905", 5)}
    # The configuration-driven run does read the (here: hostile) config: why reviewbot lays the
    # base's configuration over the head's code before it runs.
    assert run(tmp_path, files, ruff_check_argv(["pkg/m.py"], ["F"])) == []


def test_target_version_gates_b905(tmp_path: Path) -> None:
    files = {"m.py": "Y = zip([1], [2])\n"}
    for target, fires in (("py37", False), ("py39", False), ("py310", True)):
        argv = ruff_check_argv(["m.py"], ["B905"], isolated=True, target_version=target)
        assert bool(run(tmp_path, files, argv)) is fires, target


def test_noqa_applied_by_reviewbot(tmp_path: Path) -> None:
    argv = ruff_check_argv(["m.py"], ["F", "S307", "B905"], isolated=True, target_version="py312")
    findings = run(tmp_path, {"m.py": EVIL}, argv)
    # The base did not have the file-level exemption: only per-line comments count, and never for eval.
    kept = honor_noqa(findings, {"m.py": EVIL}, {"m.py": ""})
    assert codes(kept) == {("F401", 2), ("S307", 4), ("B905", 5)}
    # With the exemption at the base too, it silences all but the dangerous call.
    assert codes(honor_noqa(findings, {"m.py": EVIL}, {"m.py": "# ruff: noqa\n"})) == {("S307", 4)}


def test_a_syntax_error_is_one_error(tmp_path: Path) -> None:
    files = {"m.py": "import os\n\ndef f(:\n    pass\n"}
    argv = ruff_check_argv(["m.py"], ["F", "E9"], isolated=True)
    findings = run(tmp_path, files, argv)
    assert [(f.rule_id, f.start_line, f.severity) for f in findings] == [(SYNTAX_ERROR, 3, Severity.ERROR)]
    assert findings[0].snippet == "def f(:\n"
