"""A readable terminal report: findings grouped by file with a code excerpt, each suggestion as a
unified diff, then what ran, what was skipped, what broke, and a one-line summary.

Rendered with rich onto an in-memory console (no I/O, no environment: `_environ={}`), so the
caller decides where the text goes. Every piece of text from a finding is a `rich.text.Text`
(never parsed as markup) and passes through `sanitize` first.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Mapping, Sequence

from rich.console import Console, OverflowMethod
from rich.rule import Rule
from rich.text import Text

from reviewbot.core.finding import Finding, Severity
from reviewbot.core.review import Review, RunStatus, ToolRun
from reviewbot.core.text import one_line, sanitize

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "bold cyan"}
RUN_STYLE = {
    RunStatus.OK: ("ok", "green"),
    RunStatus.FAILED: ("failed", "red"),
    RunStatus.ERROR: ("error", "bold red"),
    RunStatus.TIMEOUT: ("timeout", "red"),
    RunStatus.SKIPPED: ("skipped", "yellow"),
}
EXCERPT_CONTEXT = 2
MAX_EXCERPT_LINES = 12
MAX_EVIDENCE_LINES = 15
PIPED_RULE_WIDTH = 100  # the header rule's width when there is no terminal


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _excerpt(finding: Finding, lines: list[str], overflow: OverflowMethod) -> Text | None:
    if finding.start_line is None or finding.start_line > len(lines):
        return None
    first = finding.start_line
    last = min(finding.last_line or first, len(lines))
    lo = max(1, first - EXCERPT_CONTEXT)
    hi = min(len(lines), last + EXCERPT_CONTEXT, lo + MAX_EXCERPT_LINES - 1)
    width = len(str(hi))
    out = Text(no_wrap=True, overflow=overflow)
    for n in range(lo, hi + 1):
        flagged = first <= n <= last
        out.append(f"  {'>' if flagged else ' '} {n:>{width}} | ", style="bold" if flagged else "dim")
        out.append(sanitize(lines[n - 1]).expandtabs(4), style="" if flagged else "dim")
        if n < hi:
            out.append("\n")
    return out


def suggestion_diff(finding: Finding, lines: list[str] | None) -> list[str]:
    """The suggestion as unified diff lines (without the file headers' trailing newlines)."""
    s = finding.suggestion
    if s is None:
        return []
    new = sanitize(s.replacement).splitlines(keepends=True)
    if lines is None or s.end_line > len(lines):
        header = f"@@ -{s.start_line},{s.end_line - s.start_line + 1} @@ (file text not available)"
        return [header, *("+" + ln.rstrip("\n") for ln in new)]
    old_full = [sanitize(ln) + "\n" for ln in lines]
    new_full = (
        old_full[: s.start_line - 1]
        + [ln if ln.endswith("\n") else ln + "\n" for ln in new]
        + old_full[s.end_line :]
    )
    path = one_line(finding.path) or "file"
    diff = difflib.unified_diff(old_full, new_full, fromfile=f"a/{path}", tofile=f"b/{path}", n=1)
    return [ln.rstrip("\n") for ln in diff]


def _diff_text(diff_lines: list[str], overflow: OverflowMethod) -> Text:
    out = Text(no_wrap=True, overflow=overflow)
    for i, line in enumerate(diff_lines):
        style = (
            "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        if line.startswith(("+++", "---")):
            style = "bold"
        out.append("    " + line.expandtabs(4), style=style)
        if i < len(diff_lines) - 1:
            out.append("\n")
    return out


def _finding(console: Console, finding: Finding, lines: list[str] | None, overflow: OverflowMethod) -> None:
    where = "file" if finding.start_line is None else f"line {finding.start_line}"
    if finding.last_line and finding.start_line and finding.last_line != finding.start_line:
        where = f"lines {finding.start_line}-{finding.last_line}"
    head = Text("  ")
    head.append(f"{finding.severity.value:<7}", style=SEVERITY_STYLE[finding.severity])
    head.append(f" {one_line(finding.rule_id)}", style="bold")
    head.append(f"  {where}  ({one_line(finding.tool)})", style="dim")
    if not finding.evidenced:
        head.append("  [opinion]", style="magenta")
    console.print(head)
    console.print(Text("    " + sanitize(finding.message).replace("\n", "\n    ")))
    if finding.rule_url:
        console.print(Text(f"    {one_line(finding.rule_url)}", style="dim underline"))
    excerpt = _excerpt(finding, lines, overflow) if lines is not None else None
    if excerpt is not None:
        console.print(excerpt)
    if finding.suggestion is not None:
        label = "    suggested fix" + (
            f": {one_line(finding.suggestion.description)}" if finding.suggestion.description else ""
        )
        console.print(Text(label, style="green"))
        console.print(_diff_text(suggestion_diff(finding, lines), overflow))
    if finding.evidence:
        evidence = sanitize(finding.evidence).rstrip("\n").splitlines()
        shown = evidence[:MAX_EVIDENCE_LINES]
        more = len(evidence) - len(shown)
        text = "\n".join("    | " + ln.expandtabs(4) for ln in shown) + (
            f"\n    | ... {more} more lines" if more > 0 else ""
        )
        console.print(Text("    evidence:", style="dim"))
        console.print(Text(text, style="dim", no_wrap=True, overflow=overflow))
    console.print()


def summary_line(review: Review) -> str:
    counts = review.counts()
    total = sum(counts.values())
    files = len({f.path for f in review.findings})
    if total:
        detail = ", ".join(_plural(counts[s], s.value) for s in Severity if counts[s])
        text = f"{_plural(total, 'finding')} ({detail}) in {_plural(files, 'file')}"
    else:
        text = "no findings"
    text += f"; {_plural(review.files_reviewed, 'file')} reviewed"
    if review.sandbox_backend:
        text += f" in the {one_line(review.sandbox_backend)} sandbox"
    if review.omitted:
        text += f"; {review.omitted} more not shown"
    if review.preexisting:
        text += f"; {len(review.preexisting)} already failing at the base"
    if not review.complete:
        text += "; INCOMPLETE review"
    return text


def _ran(runs: Sequence[ToolRun]) -> Text:
    """One line: each tool run's name, status, time (and why, when it did not pass)."""
    ran = Text("Ran: ")
    for i, run in enumerate(runs):
        label, style = RUN_STYLE[run.status]
        ran.append(f"{one_line(run.name)} ")
        ran.append(label, style=style)
        ran.append(f" {run.duration_s:.1f}s")
        if run.detail and run.status is not RunStatus.OK:
            ran.append(f" ({one_line(run.detail)})", style="dim")
        if i < len(runs) - 1:
            ran.append(" | ")
    return ran


def render_terminal(
    review: Review, files: Mapping[str, str], *, width: int | None = None, color: bool = False
) -> str:
    """The report as text. `files` maps head paths to their text, for excerpts and suggestion diffs.

    With a `width` (a terminal's), long lines of code end in an ellipsis at that width; without
    one (piped, written to a file) no line is wrapped or cut, so nothing breaks mid-identifier."""
    buffer = io.StringIO()
    overflow: OverflowMethod = "ellipsis" if width else "ignore"
    console = Console(
        file=buffer,
        width=width or PIPED_RULE_WIDTH,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=width is None,
        _environ={},
    )
    console.print(
        Rule(Text(f"reviewbot: {one_line(review.base)[:12]} -> {one_line(review.head)[:12]}"), style="dim")
    )
    groups: dict[str, list[Finding]] = {}
    for f in sorted(review.findings, key=Finding.sort_key):
        groups.setdefault(f.path, []).append(f)
    for path, findings in groups.items():
        console.print(Text(one_line(path) or "(the change as a whole)", style="bold underline"))
        text = files.get(path)
        lines = text.splitlines() if text is not None else None
        for finding in findings:
            _finding(console, finding, lines, overflow)
    if review.preexisting:
        console.print(Text("Already failing at the base (not caused by this change):", style="bold"))
        for f in sorted(review.preexisting, key=Finding.sort_key):
            console.print(Text(f"  {one_line(f.path) or '-'}: {one_line(f.message)}", style="dim"))
        console.print()
    if review.runs:
        console.print(_ran(review.runs))
    for item in review.skipped:
        console.print(Text(f"Skipped: {one_line(item)}", style="yellow"))
    for error in review.errors:
        console.print(Text(f"Error: {one_line(error)}", style="bold red"))
    style = "bold red" if not review.complete else "bold"
    console.print(Text(summary_line(review), style=style))
    return buffer.getvalue()
