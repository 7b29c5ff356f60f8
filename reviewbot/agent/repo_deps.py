"""What the built-in repository tools need from their context's `deps`.

`RepoDeps` is a protocol, so a review's own deps object (with a sandbox session, settings, ...)
can carry these attributes and use the built-in tools as they are; `RepoContext` is the plain
implementation for tests and simple runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reviewbot.core.diff import Diff


class RepoDeps(Protocol):
    @property
    def root(self) -> Path:
        """The repository checkout the file tools are confined to."""
        ...

    @property
    def diff_text(self) -> str:
        """The unified diff under review (`git diff` output), possibly empty."""
        ...

    @property
    def diff(self) -> Diff | None:
        """`diff_text` parsed (`reviewbot.core.diff.parse_diff`), when the caller has it; without
        it the tools parse `diff_text` themselves."""
        ...


@dataclass(frozen=True)
class RepoContext:
    root: Path
    diff_text: str = ""
    diff: Diff | None = None
