from reviewbot.adapters.github.summary import (
    SUMMARY_MARKER,
    Remembered,
    SummaryFacts,
    SummaryState,
    next_state,
    parse_state,
    render_summary,
)
from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review, RunStatus, ToolRun


def finding(rule: str, path: str = "pkg/a b.py", sev: Severity = Severity.WARNING) -> Finding:
    return Finding(
        tool="ruff", rule_id=rule, path=path, start_line=1, message=f"{rule} msg", snippet=rule, severity=sev
    )


def test_state_round_trips_odd_paths_and_rules() -> None:
    state = SummaryState(
        "abc123", (Remembered("0" * 32, "E:1,2", "a/-->b,c.py"),), (Remembered("f" * 32, "x", "@y"),)
    )
    encoded = state.encode()
    assert encoded.count("-->") == 1  # nothing inside can close the HTML comment early
    assert parse_state("text\n" + encoded + "\nmore") == state


def test_fixed_is_what_disappeared_since_the_last_head() -> None:
    a, b, c = finding("A"), finding("B"), finding("C")
    first = next_state(None, "h1", [a, b])
    second = next_state(first, "h2", [b, c])
    assert [r.rule_id for r in second.fixed] == ["A"]
    rerun = next_state(second, "h2", [b, c])
    assert rerun.fixed == second.fixed  # a re-run on the same head does not forget what was fixed


def test_summary_says_incomplete_and_what_ran_and_was_skipped() -> None:
    review = Review(
        base="b",
        head="h",
        findings=(finding("A", sev=Severity.ERROR),),
        runs=(
            ToolRun(name="pytest", status=RunStatus.TIMEOUT, duration_s=600.0, detail="killed | at 600 s"),
        ),
        skipped=("big.bin: file too large",),
        errors=("ruff crashed",),
    )
    state = next_state(SummaryState("h0", (Remembered("1" * 32, "OLD", "x.py"),)), "h", review.findings)
    text = render_summary(review, state, SummaryFacts(head_sha="h" * 40, new=1, inline=1))
    assert text.startswith(SUMMARY_MARKER)
    assert "incomplete" in text and "ruff crashed" in text
    assert "pytest" in text and "timeout" in text and "killed \\| at 600 s" in text
    assert "big.bin: file too large" in text
    assert "Fixed since the last review (1)" in text and "OLD" in text
    assert "| 🔴 error | 1 |" in text
    assert parse_state(text) == state
