"""action.yml and the documented workflows validate against the schemas check-jsonschema ships."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["check-jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflows(tmp_path: Path) -> list[Path]:
    # The workflows the README's "The GitHub Action" section tells users to save.
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## The GitHub Action\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    paths = []
    for i, block in enumerate(blocks):
        path = tmp_path / f"workflow{i}.yml"
        path.write_text(block)
        paths.append(path)
    return paths


def test_action_yml_is_a_valid_action() -> None:
    result = check("vendor.github-actions", ROOT / "action.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_documented_workflows_are_valid(tmp_path: Path) -> None:
    paths = workflows(tmp_path)
    assert len(paths) == 2
    result = check("vendor.github-workflows", *paths)
    assert result.returncode == 0, result.stdout + result.stderr
    text = paths[0].read_text()
    for permission in ("pull-requests: write", "issues: write", "checks: write", "contents: read"):
        assert permission in text
    assert "pull_request_target" not in text


@pytest.mark.parametrize("breakage", [("runs-on: ubuntu-latest\n", ""), ("types: [", "kinds: [")])
def test_the_schema_check_bites(tmp_path: Path, breakage: tuple[str, str]) -> None:
    path = workflows(tmp_path)[0]
    path.write_text(path.read_text().replace(*breakage))
    assert check("vendor.github-workflows", path).returncode != 0


def test_inputs_never_interpolated_into_the_script() -> None:
    text = (ROOT / "action.yml").read_text()
    run_blocks = re.findall(r"run: \|\n((?:        .*\n)+)", text)
    assert run_blocks and not any("${{" in block for block in run_blocks)
