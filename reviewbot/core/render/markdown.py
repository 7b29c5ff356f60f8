"""Markdown: one finding as a review comment, and the whole review as PR mode posts it (and as
`reviewbot local --format markdown` prints it).

Every rendered finding ends with a hidden marker `<!-- reviewbot:fp=<fingerprint> -->`; the next
run reads the markers back (`parse_markers`) to post nothing twice. Text from findings is
sanitized, and `<` is escaped outside code so a message cannot forge a marker or inject HTML;
code blocks get a fence longer than any backtick run inside them, and `parse_markers` skips
fenced blocks, so source text quoted from the PR cannot forge a marker either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.placement import PlacedReview
from reviewbot.core.redact import scrub
from reviewbot.core.review import Review, RunStatus, ToolRun
from reviewbot.core.text import fence_for, one_line, sanitize

MARKER_PREFIX = "<!-- reviewbot:fp="
GITHUB_BODY_LIMIT = 65_536
SEVERITY_LABEL = {
    Severity.ERROR: "🔴 **error**",
    Severity.WARNING: "🟡 **warning**",
    Severity.NOTE: "🔵 **note**",
}
RUN_LABEL = {
    RunStatus.OK: "✅ ok",
    RunStatus.FAILED: "❌ failed",
    RunStatus.ERROR: "⚠️ error",
    RunStatus.TIMEOUT: "⏱️ timeout",
    RunStatus.SKIPPED: "⏭️ skipped",
}
_MARKER = re.compile(r"<!-- reviewbot:fp=([0-9a-f]{8,64}) -->")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SAFE_URL = re.compile(r"https?://[^\s<>()`\"']+\Z")


def marker(fingerprint: str) -> str:
    return f"{MARKER_PREFIX}{fingerprint} -->"


def escape_text(text: str) -> str:
    """Sanitized text safe outside code: no raw HTML (so no forged markers), no broken tables."""
    return sanitize(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_span(text: str) -> str:
    """Inline code for short one-line values (paths, rule ids)."""
    text = one_line(text)
    ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def code_block(text: str, info: str = "") -> str:
    body = sanitize(text)
    if body and not body.endswith("\n"):
        body += "\n"
    fence = fence_for(body)
    return f"{fence}{info}\n{body}{fence}"


def location(finding: Finding) -> str:
    if finding.start_line is None:
        return "file"
    last = finding.last_line
    if last is not None and last != finding.start_line:
        return f"lines {finding.start_line}-{last}"
    return f"line {finding.start_line}"


def _rule(finding: Finding) -> str:
    rule = code_span(finding.rule_id)
    url = finding.rule_url
    if url and _SAFE_URL.match(url):
        return f"[{rule}]({url})"
    return rule


def comment_body(finding: Finding, *, heading: str = "") -> str:
    """One finding as a comment: severity, rule (linked), message, suggestion, evidence, marker.

    The ```suggestion block is emitted whenever the finding has a suggestion; placement has
    already removed it where GitHub could not apply it.
    """
    head = f"{SEVERITY_LABEL[finding.severity]} · {_rule(finding)} · {escape_text(one_line(finding.tool))}"
    if heading:
        head = f"{heading} · {head}"
    parts = [head, "", escape_text(finding.message)]
    if not finding.evidenced:
        parts += ["", "_Not backed by a tool run: an opinion to check._"]
    if finding.suggestion is not None:
        if finding.suggestion.description:
            parts += ["", escape_text(finding.suggestion.description)]
        parts += ["", code_block(finding.suggestion.replacement, "suggestion")]
    if finding.evidence:
        parts += [
            "",
            "<details><summary>Evidence</summary>",
            "",
            code_block(finding.evidence, "text"),
            "",
            "</details>",
        ]
    parts += ["", marker(finding.fingerprint)]
    return "\n".join(parts)


def _closes(line: str, opened: re.Match[str] | None, fence: str) -> bool:
    """A closing fence: the same character, at least as long, nothing else on the line."""
    return (
        opened is not None
        and opened.group(1)[0] == fence[0]
        and len(opened.group(1)) >= len(fence)
        and not line.strip().strip(fence[0])
    )


def _split_fenced(text: str) -> tuple[list[str], str | None]:
    """The lines of `text` outside fenced code blocks (fence lines excluded), and the fence still
    open at its end (or None)."""
    prose: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE_OPEN.match(line)
        if fence is None:
            if opened:
                fence = opened.group(1)
                continue
            prose.append(line)
        elif _closes(line, opened, fence):
            fence = None
    return prose, fence


def _markers(text: str) -> list[str]:
    """Fingerprints of the markers in `text`, in order, ignoring anything inside fenced code blocks."""
    prose, _ = _split_fenced(text)
    return [marker for line in prose for marker in _MARKER.findall(line)]


def parse_markers(text: str) -> set[str]:
    """Fingerprints of the markers in posted text, ignoring anything inside fenced code blocks."""
    return set(_markers(text))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def counts_line(review: Review) -> str:
    counts = review.counts()
    total = sum(counts.values())
    if total == 0:
        return "**No findings** in this change."
    detail = ", ".join(_plural(counts[s], s.value) for s in Severity if counts[s])
    return f"**{_plural(total, 'finding')}**: {detail}."


def _cell(text: str) -> str:
    return escape_text(one_line(text)).replace("|", "\\|") or " "


def _runs_table(runs: Iterable[ToolRun]) -> list[str]:
    rows = ["| Step | Status | Time | Detail |", "| --- | --- | --- | --- |"]
    for run in runs:
        rows.append(
            f"| {_cell(run.name)} | {RUN_LABEL[run.status]} | {run.duration_s:.1f}s | {_cell(run.detail)} |"
        )
    return rows


def _short(rev: str) -> str:
    rev = one_line(rev)
    return rev[:12] if re.fullmatch(r"[0-9a-f]{40,64}", rev) else rev


def _grouped(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        groups.setdefault(f.path, []).append(f)
    return groups


def _findings_section(findings: Iterable[Finding], title: str) -> list[str]:
    groups = _grouped(findings)
    if not groups:
        return []
    out = [f"### {title}"]
    for path, items in groups.items():
        out += ["", f"#### {code_span(path) if path else 'The change as a whole'}"]
        for f in items:
            out += ["", comment_body(f, heading=f"**{location(f)}**")]
    return out


def _ran_in(review: Review) -> str:
    return f" in the {code_span(review.sandbox_backend)} sandbox" if review.sandbox_backend else ""


def review_markdown(review: Review, placed: PlacedReview | None = None) -> str:
    """The whole review. Without `placed` (local mode) every finding is listed, grouped by file;
    with it (PR mode) only the findings placed in the body are, and the comments are counted."""
    out = ["## reviewbot review", "", counts_line(review)]
    out.append(
        f"Compared {code_span(_short(review.base))} with {code_span(_short(review.head))}; "
        f"{_plural(review.files_reviewed, 'file')} reviewed{_ran_in(review)}."
    )
    if not review.complete:
        why = []
        if review.errors:
            why.append(_plural(len(review.errors), "error"))
        if review.partial:
            why.append("a budget ran out before the end")
        out += ["", f"> ⚠️ **Incomplete review** ({', '.join(why)}): findings may be missing."]
    if review.runs:
        out += ["", "**What ran**", "", *_runs_table(review.runs)]
    if review.errors:
        out += ["", "**Errors**", ""] + [f"- {escape_text(one_line(e))}" for e in review.errors]
    if review.skipped:
        out += ["", "**Skipped**", ""] + [f"- {escape_text(one_line(s))}" for s in review.skipped]

    if placed is None:
        body_findings: Iterable[Finding] = review.findings
        title = "Findings"
    else:
        body_findings = [p.finding for p in placed.body]
        title = "Findings not on the diff" if placed.comments else "Findings"
        if placed.comments:
            out += [
                "",
                f"{_plural(len(placed.inline), 'inline comment')} and "
                f"{_plural(len(placed.file_level), 'file-level comment')} are on the diff.",
            ]
        if placed.overflow:
            out += ["", f"{placed.overflow} more beyond the inline comment limit are listed below."]
    section = _findings_section(body_findings, title)
    if section:
        out += ["", *section]
    if review.omitted:
        out += ["", f"_{_plural(review.omitted, 'more finding')} not shown (max_findings cap)._"]
    if review.preexisting:
        out += ["", "### Already failing at the base (not caused by this change)", ""]
        for f in sorted(review.preexisting, key=Finding.sort_key):
            where = f"{code_span(f.path)} {location(f)}" if f.path else "the change"
            out.append(f"- {where}: {escape_text(one_line(f.message))}")
    return "\n".join(out) + "\n"


def _open_blocks(text: str) -> tuple[str | None, int]:
    """The fence still open at the end of `text` (or None) and how many <details> are unclosed."""
    prose, fence = _split_fenced(text)
    details = sum(line.count("<details>") - line.count("</details>") for line in prose)
    return fence, max(0, details)


def cap_body(text: str, limit: int = GITHUB_BODY_LIMIT) -> str:
    """Cut `text` to at most `limit` characters, at a line break, closing any open code block,
    with a visible note saying how much was left out."""
    if len(text) <= limit:
        return text
    budget = limit - 300  # room for the note and closing tags
    if budget <= 0:
        return text[:limit]
    while True:
        cut = text.rfind("\n", 0, budget)
        if cut < budget // 2:
            cut = budget
        kept = text[:cut]
        fence, details = _open_blocks(kept)
        closing = (f"\n{fence}" if fence else "") + "\n</details>" * details
        note = _truncation_note(text, kept, limit)
        result = kept + closing + note
        if len(result) <= limit:
            return result
        budget -= len(result) - limit


def _truncation_note(text: str, kept: str, limit: int) -> str:
    """What a cut left out, said plainly: how many findings, and how many characters."""
    findings = len(_markers(text)) - len(_markers(kept))
    more = f"{_plural(findings, 'more finding')} not shown; " if findings > 0 else ""
    return (
        f"\n\n---\n⚠️ **Truncated**: {more}{len(text) - len(kept):,} of {len(text):,} characters are not "
        f"shown (GitHub's limit is {limit:,}). The full report: `reviewbot local --format json`, or the "
        "SARIF file of the run."
    )


def posted_markdown(markdown: str, limit: int = GITHUB_BODY_LIMIT) -> str:
    """The last step before markdown leaves reviewbot, for PR mode and `--format markdown` alike:
    control characters out, secrets redacted, @mentions defused, then capped at GitHub's body limit
    (the cap says what it left out)."""
    return cap_body(scrub(sanitize(markdown)), limit)
