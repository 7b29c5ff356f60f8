"""Every output action.yml declares is written by the step it names, and everything a step writes
to GITHUB_OUTPUT is used or declared: parsed from action.yml's scripts, and, for the review step,
from what `reviewbot action` really writes."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from reviewbot.adapters.github.action import ActionOptions, run_action
from tests.fakes.action_runner import parse_file_command

ROOT = Path(__file__).resolve().parents[4]
REF = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)")
#: What the well-known actions used by action.yml set (their action.yml files).
USES_OUTPUTS = {"actions/cache/restore": {"cache-hit", "cache-primary-key", "cache-matched-key"}}


def spec() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    return data


def review_step_outputs(tmp_path: Path) -> set[str]:
    """Run `reviewbot action` on an event it skips, and on one it cannot read: both set outputs."""
    names: set[str] = set()
    for name, event in (("skip", '{"action": "closed"}'), ("broken", "not json")):
        (tmp_path / f"{name}.json").write_text(event)
        out = tmp_path / f"{name}.out"
        out.write_text("")
        environ = {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(tmp_path / f"{name}.json"),
            "GITHUB_OUTPUT": str(out),
            "RUNNER_TEMP": str(tmp_path / name),
        }
        code, _ = run_action(ActionOptions(), environ, cwd=tmp_path, out=io.StringIO())
        assert code == (0 if name == "skip" else 2)
        written = parse_file_command(out.read_text())
        assert Path(written["sarif"]).is_file()
        names |= set(written)
    return names


def written_by_scripts() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for step in spec()["runs"]["steps"]:
        if "run" in step and step.get("id") and step["id"] != "review":
            names = set(re.findall(r'echo "([\w-]+)=', step["run"]))
            assert "GITHUB_OUTPUT" in step["run"] or not names
            out[step["id"]] = names
        elif step.get("id") and "uses" in step:
            out[step["id"]] = USES_OUTPUTS.get(step["uses"].split("@")[0], set())
    return out


def test_every_declared_output_is_written(tmp_path: Path) -> None:
    written = written_by_scripts()
    written["review"] = review_step_outputs(tmp_path)
    for name, output in spec()["outputs"].items():
        refs = REF.findall(output["value"])
        assert len(refs) == 1, f"output {name} should map one step output"
        step, key = refs[0]
        assert key in written[step], f"output {name}: step {step} never writes {key}"


def test_every_output_written_is_declared_or_used(tmp_path: Path) -> None:
    text = (ROOT / "action.yml").read_text()
    used = set(REF.findall(text))
    declared = {REF.findall(o["value"])[0] for o in spec()["outputs"].values()}
    written = written_by_scripts()
    written["review"] = review_step_outputs(tmp_path)
    for step, names in written.items():
        if "uses" in str(step):
            continue
        for key in names:
            if step in ("image-cache",):
                continue  # a well-known action's outputs: only cache-hit is needed
            assert (step, key) in used | declared, f"step {step} writes {key}, which nothing reads"
    assert written["review"] == {key for step, key in declared if step == "review"}
    # And no reference points at an output no step writes (a typo would read as '').
    for step, key in used:
        assert key in written.get(step, set()), f"action.yml reads steps.{step}.outputs.{key}, never written"
