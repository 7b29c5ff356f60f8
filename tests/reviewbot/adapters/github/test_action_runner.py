"""The runner emulator (tests/fakes/action_runner.py) behaves as a runner: expressions, `if:`,
file commands, failure propagation, and the Actions cache. Small synthetic actions, no Docker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.action_runner import ActionError, Runner, parse_file_command


def runner(tmp_path: Path, name: str = "r1", cache: Path | None = None) -> Runner:
    root = tmp_path / name
    return Runner(
        root=root,
        cache_dir=cache or tmp_path / "cache",
        workspace=root / "work" / "repo" / "repo",
        github={"token": "ghs_t", "event_name": "pull_request", "repository": "o/r", "action_path": ""},
        base_env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
    )


def action(tmp_path: Path, steps: str, extra: str = "") -> Path:
    d = tmp_path / "action"
    d.mkdir(exist_ok=True)
    (d / "action.yml").write_text(
        "name: t\ndescription: t\ninputs:\n  mode:\n    description: m\n    default: fast\n"
        "  token:\n    description: t\n    default: ${{ github.token }}\n"
        f"{extra}runs:\n  using: composite\n  steps:\n{steps}"
    )
    return d


STEPS = """\
    - id: a
      shell: bash
      env:
        MODE: ${{ inputs.mode }}
        TOKEN: ${{ inputs.token }}
      run: |
        echo "mode=$MODE" >> "$GITHUB_OUTPUT"
        echo "token=$TOKEN" >> "$GITHUB_OUTPUT"
        { echo "multi<<EOF_1"; echo "line 1"; echo "line 2"; echo "EOF_1"; } >> "$GITHUB_OUTPUT"
        echo "FROM_A=yes" >> "$GITHUB_ENV"
        mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool"
        chmod +x "$RUNNER_TEMP/bin/mytool" && echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
        echo "## summary of a" >> "$GITHUB_STEP_SUMMARY"
    - id: b
      if: steps.a.outputs.mode == 'FAST' && env.FROM_A == 'yes'
      shell: bash
      run: mytool > "$RUNNER_TEMP/b.txt"; echo "ran=true" >> "$GITHUB_OUTPUT"
    - id: skipped
      if: steps.a.outputs.mode != 'fast' || inputs.mode < 1
      shell: bash
      run: echo "should not run"
    - id: fails
      shell: bash
      run: |
        false
        echo "after=false" >> "$GITHUB_OUTPUT"
    - id: after-failure
      shell: bash
      run: echo "ran=true" >> "$GITHUB_OUTPUT"
    - id: on-failure
      if: failure() && steps.fails.outcome == 'failure'
      shell: bash
      run: echo "ran=true" >> "$GITHUB_OUTPUT"
    - id: always
      if: ${{ always() }}
      shell: sh
      run: echo "ran=true" >> "$GITHUB_OUTPUT"
"""

OUTPUTS = """\
outputs:
  multi:
    description: m
    value: ${{ steps.a.outputs.multi }}
  token:
    description: t
    value: ${{ steps.a.outputs.token }}
"""


def test_expressions_conditions_file_commands_and_failure(tmp_path: Path) -> None:
    result = runner(tmp_path).run_action(action(tmp_path, STEPS, OUTPUTS))
    outcome = {s.id: s.outcome for s in result.steps}
    assert outcome == {
        "a": "success",
        "b": "success",
        "skipped": "skipped",
        "fails": "failure",
        "after-failure": "skipped",
        "on-failure": "success",
        "always": "success",
    }
    assert result.outputs == {"multi": "line 1\nline 2", "token": "ghs_t"}
    assert (tmp_path / "r1" / "_temp" / "b.txt").read_text() == "tool-ran\n"  # GITHUB_PATH applied
    assert result.failed and result.exit_code == 1  # bash -e stopped at `false`
    assert "## summary of a" in result.summary


def test_inputs_given_override_defaults_and_unknown_inputs_are_refused(tmp_path: Path) -> None:
    d = action(tmp_path, STEPS, OUTPUTS)
    result = runner(tmp_path).run_action(d, {"mode": "slow", "token": "x"})
    assert result.step("b").outcome == "skipped" and result.step("skipped").outcome == "success"
    with pytest.raises(ActionError, match="unexpected inputs"):
        runner(tmp_path, "r2").run_action(d, {"nope": "1"})


def test_unknown_uses_and_missing_shell_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match="well-known"):
        runner(tmp_path).run_action(action(tmp_path, "    - uses: someone/thing@v1\n"))
    with pytest.raises(ActionError, match="shell"):
        runner(tmp_path, "r2").run_action(action(tmp_path, "    - run: echo hi\n"))


CACHE = """\
    - id: restore
      uses: actions/cache/restore@v4
      with:
        path: ${{ runner.temp }}/stuff
        key: k-${{ inputs.mode }}
        restore-keys: |
          k-
    - id: make
      if: steps.restore.outputs.cache-hit != 'true'
      shell: bash
      run: mkdir -p "$RUNNER_TEMP/stuff" && echo "made by $RUNNER_TEMP" > "$RUNNER_TEMP/stuff/file"
    - id: hash
      shell: bash
      env:
        H: ${{ hashFiles('**/*.txt') }}
      run: echo "h=$H" >> "$GITHUB_OUTPUT"
    - shell: bash
      run: exit 1
    - if: always()
      uses: actions/cache/save@v4
      with:
        path: ${{ runner.temp }}/stuff
        key: k-${{ inputs.mode }}
"""


def test_cache_is_shared_between_fresh_runners_and_saved_after_a_failure(tmp_path: Path) -> None:
    d = action(tmp_path, CACHE)
    first = runner(tmp_path, "r1").run_action(d)
    assert first.step("restore").log.startswith("Cache not found") and first.step("make").outcome == "success"
    assert first.steps[-1].log.startswith("Cache saved")  # always(): saved although a step failed
    second = runner(tmp_path, "r2").run_action(d)
    assert second.step("make").outcome == "skipped"
    assert (
        tmp_path / "r2" / "_temp" / "stuff" / "file"
    ).read_text() == f"made by {tmp_path / 'r1' / '_temp'}\n"
    assert "Unable to reserve cache" in second.steps[-1].log  # the key exists: not saved again
    third = runner(tmp_path, "r3").run_action(d, {"mode": "other"})  # restore-keys prefix: not a hit
    assert third.step("restore").log.startswith("Cache restored from key: k-fast")
    assert third.step("make").outcome == "success"


def test_hash_files_sees_only_the_workspace(tmp_path: Path) -> None:
    r = runner(tmp_path)
    assert r.run_action(action(tmp_path, CACHE)).step("hash").outcome == "success"
    assert r.hash_files("**/*.txt") == ""
    (r.workspace / "a.txt").write_text("x")
    assert len(r.hash_files("**/*.txt")) == 64


def test_file_command_parsing() -> None:
    assert parse_file_command("a=1\nb<<X\nl1\nl2\nX\nc=x=y\n") == {"a": "1", "b": "l1\nl2", "c": "x=y"}
    with pytest.raises(ActionError):
        parse_file_command("b<<X\nnever closed\n")
