"""What the agent actually ran, numbered E1, E2, ... — the only things a finding may cite.

Each tool result the policy passes to the model gets an id. A finding may cite (by id) results of
tools that execute something — `analyze_code`, `run_tests`, `run_snippet`; whether a cited result
really backs the finding (it failed, on that code) is `relevance.bears_on`'s decision. The
finding's `evidence` text is then written by the bot from the recorded result (tool, outcome,
exit code, the start of the output), never taken from the model. Reading a file or searching is
context, not proof. A test whose output claims "all tests passed" does not change the exit code
the bot recorded (docs/security-probes.md, probe 51).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from reviewbot.adapters.llm.snippet_tool import SnippetResult
from reviewbot.core.redact import redact_secrets

EVIDENCE_TOOLS = frozenset({"analyze_code", "run_tests", "run_snippet"})
_ID = re.compile(r"\bE(\d{1,4})\b")
EXCERPT_CHARS = 800


@dataclass(frozen=True)
class Evidence:
    id: str
    tool: str
    args: dict[str, Any]
    ok: bool
    text: str
    value: object = None  # the tool's typed result (ToolOutput.value), e.g. a TestsResult

    @property
    def executes(self) -> bool:
        """A result of running something (the only kind that can back a finding)."""
        return self.tool in EVIDENCE_TOOLS

    def describe(self) -> str:
        """The bot's own account of this result, for a finding's `evidence`."""
        head = f"{self.tool} ({self.id})"
        if isinstance(self.value, SnippetResult):
            head += f": exit code {self.value.exit_code} ({self.value.outcome})"
        excerpt = redact_secrets(self.text.strip())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS] + " …"
        return f"{head}\n{excerpt}"


@dataclass
class EvidenceLog:
    entries: dict[str, Evidence] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, tool: str, args: dict[str, Any], *, ok: bool, text: str, value: object = None) -> Evidence:
        with self._lock:
            entry = Evidence(f"E{len(self.entries) + 1}", tool, dict(args), ok, text, value)
            self.entries[entry.id] = entry
            return entry

    def cited(self, text: str | None) -> list[Evidence]:
        """The executed results `text` cites (unknown ids and mere reads are ignored)."""
        out: list[Evidence] = []
        for number in dict.fromkeys(_ID.findall(text or "")):
            entry = self.entries.get(f"E{int(number)}")
            if entry is not None and entry.executes:
                out.append(entry)
        return out

    def paths_seen(self) -> set[str]:
        """Files the agent looked at through get_diff/read_file (for the not-reviewed list)."""
        return {
            str(e.args["path"])
            for e in self.entries.values()
            if e.ok and e.tool in ("get_diff", "read_file") and isinstance(e.args.get("path"), str)
        }
