"""SARIF 2.1.0 (validated against the OASIS schema) and the JSON dump."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from reviewbot.core.finding import Severity
from reviewbot.core.render.json_render import render_json
from reviewbot.core.render.sarif import FINGERPRINT_KEY, render_sarif, render_sarif_text
from reviewbot.core.review import Review
from tests.reviewbot.core.findings_factory import make, sample_review
from tests.shared_data import SHARED

SCHEMA_PATH = SHARED / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def errors_of(validator: jsonschema.Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


REVIEWS = {
    "sample": sample_review(),
    "empty": Review(base="b", head="h"),
    "incomplete": sample_review(errors=("ruff exited with 2",), partial=True),
    "change-level": Review(base="b", head="h", findings=(make("", None, message="about the change"),)),
    "columns": Review(
        base="b",
        head="h",
        findings=(make(line=3, end=4, start_column=5, end_column=9, suggestion=(3, 4, "x = 1\n")),),
    ),
}


@pytest.mark.parametrize("name", sorted(REVIEWS))
def test_sarif_is_valid_against_the_schema(name: str, validator: jsonschema.Draft4Validator) -> None:
    log = render_sarif(REVIEWS[name], "1.2.3")
    assert errors_of(validator, log) == []
    assert errors_of(validator, json.loads(render_sarif_text(REVIEWS[name], "1.2.3"))) == []


def test_the_schema_is_strict_enough_to_catch_mistakes(validator: jsonschema.Draft4Validator) -> None:
    log = render_sarif(sample_review(), "1.2.3")
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["version"]
    assert len(errors_of(validator, log)) == 2


def test_sarif_results_rules_and_fingerprints() -> None:
    review = sample_review()
    run = render_sarif(review, "1.2.3")["runs"][0]
    assert run["tool"]["driver"]["name"] == "reviewbot" and run["tool"]["driver"]["version"] == "1.2.3"
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(review.findings)  # preexisting ones are not results
    assert sorted(r["id"] for r in rules) == ["pytest/test-failure", "ruff/E711", "ruff/F401", "ruff/W292"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        for key in ("shortDescription", "fullDescription", "help"):
            assert rules[result["ruleIndex"]][key]["text"]
    by_rule = {r["ruleId"]: r for r in results}
    fingerprints = {f.fingerprint for f in review.findings}
    assert {r["partialFingerprints"][FINGERPRINT_KEY] for r in results} == fingerprints
    f401 = by_rule["ruff/F401"]
    assert f401["level"] == "error"
    assert f401["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app.py"
    assert f401["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    assert f401["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]["startLine"] == 2
    assert rules[f401["ruleIndex"]]["helpUri"] == "https://docs.astral.sh/ruff/rules/unused-import"
    test_failure = by_rule["pytest/test-failure"]
    assert test_failure["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "endLine": 7}
    assert test_failure["properties"]["evidence"] == "E   assert 1 == 2"
    note = by_rule["ruff/W292"]
    assert note["level"] == "note"
    # a file-level finding has no region; a space and a non-UTF-8 byte are percent-encoded
    assert note["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "my%20dir/caf%E9.py", "uriBaseId": "%SRCROOT%"}
    }
    assert by_rule["ruff/E711"]["level"] == "warning"


@pytest.mark.parametrize(
    ("severity", "level"), [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.NOTE, "note")]
)
def test_sarif_levels(severity: Severity, level: str) -> None:
    review = Review(base="b", head="h", findings=(make(severity=severity),))
    assert render_sarif(review, "0")["runs"][0]["results"][0]["level"] == level


def test_sarif_invocation_reports_incomplete_reviews() -> None:
    run = render_sarif(REVIEWS["incomplete"], "0")["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    levels = [n["level"] for n in invocation["toolExecutionNotifications"]]
    assert levels == ["error", "note", "warning"]
    assert render_sarif(REVIEWS["sample"], "0")["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_change_level_finding_has_no_location() -> None:
    result = render_sarif(REVIEWS["change-level"], "0")["runs"][0]["results"][0]
    assert "locations" not in result


def test_sarif_text_is_sanitized() -> None:
    review = Review(base="b", head="h", findings=(make(message="a\x1b[2Jb\u202e"),))
    text = render_sarif_text(review, "0")
    assert "\\u001b" not in text and "\x1b" not in text and "\u202e" not in text


def test_json_round_trip() -> None:
    review = sample_review()
    text = render_json(review)
    data = json.loads(text)
    assert Review.model_validate(data) == review
    assert [f["fingerprint"] for f in data["findings"]] == [f.fingerprint for f in review.findings]
    assert data["findings"][3]["path"] == "my dir/caf\udce9.py"  # the path survives, byte for byte


def test_json_is_ascii_and_escapes_controls() -> None:
    review = Review(base="b", head="h", findings=(make(message="x\x1b[31m\u202e\x9b"),))
    text = render_json(review)
    assert text.isascii()
    assert "\x1b" not in text
    assert json.loads(text)["findings"][0]["message"] == "x\x1b[31m\u202e\x9b"  # data, not display
