"""The one `Finding` model used end to end: analyzer output, LLM output, filter input,
renderer input, posted artifact.

A finding's fingerprint identifies *what* was flagged, not *where*: tool + rule + path + the
normalized flagged source text. Adding lines above a finding does not change it, so a second
review of the same PR can recognise what it already said and what got fixed.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from reviewbot.core.ignored_keys import without_key


class Severity(StrEnum):
    """How bad a finding is. Ordered: error > warning > note."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class Suggestion(BaseModel):
    """Replacement text for head-side lines `start_line..end_line` (inclusive, 1-based).

    `replacement` is the full new text of those lines, each line ending in a newline (an empty
    string deletes them). Only safe fixes become suggestions; unsafe ones are mentioned in the
    message instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    replacement: str
    description: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Suggestion:
        if self.end_line < self.start_line:
            raise ValueError("suggestion end_line precedes start_line")
        return self


_WS = re.compile(r"\s+")


def normalize_snippet(text: str) -> str:
    """Whitespace-insensitive form of flagged source text: indentation and re-wrapping of the
    surrounding code must not change a fingerprint."""
    return "\n".join(_WS.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def fingerprint_of(tool: str, rule_id: str, path: str, snippet: str) -> str:
    data = "\x1f".join((tool, rule_id, path, normalize_snippet(snippet)))
    return hashlib.sha256(data.encode("utf-8", "surrogateescape")).hexdigest()[:32]


class Finding(BaseModel):
    """One problem found in the change. Frozen; build modified copies with `model_copy(update=...)`.

    Lines and columns are 1-based and refer to the head side of the change. `start_line` None
    means the finding is about the whole file (or, with an empty path, about the change).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str = Field(min_length=1, description="Source of the finding: ruff, ruff-format, pytest, llm, ...")
    rule_id: str = Field(min_length=1, description="Rule or check id, e.g. F401, test-failure")
    rule_url: str | None = None
    path: str = Field(description="Repository-relative POSIX path on the head side")
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)
    start_column: int | None = Field(default=None, ge=1)
    end_column: int | None = Field(default=None, ge=1)
    severity: Severity = Severity.WARNING
    message: str = Field(min_length=1)
    snippet: str = Field(default="", description="The flagged source text (what the fingerprint hashes)")
    suggestion: Suggestion | None = None
    evidence: str | None = Field(default=None, description="What backs the finding: tool output, a test run")
    evidenced: bool = Field(default=True, description="False for opinions not backed by an executed tool")

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: object) -> object:
        # `fingerprint` is derived; accept it back from JSON (round trips) but never trust it.
        return without_key(data, "fingerprint")

    @model_validator(mode="after")
    def _lines_ordered(self) -> Finding:
        if self.start_line is None and self.end_line is not None:
            raise ValueError("end_line given without start_line")
        if self.start_line is not None and self.end_line is not None and self.end_line < self.start_line:
            raise ValueError("end_line precedes start_line")
        return self

    @property
    def last_line(self) -> int | None:
        return self.end_line if self.end_line is not None else self.start_line

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.tool, self.rule_id, self.path, self.snippet or self.message)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.start_line or 0, self.start_column or 0, self.rule_id)
