"""The one error tree of reviewbot.

    ReviewbotError                 base; every error reviewbot raises on purpose
    ├── ConfigError                bad settings or config file (exit 2)
    ├── WorkspaceError             not a git repository, unknown revision, unreadable tree (exit 2)
    ├── AnalyzerError              an analyzer crashed or could not run: never "no findings" (exit 2)
    ├── SandboxUnavailable         no usable sandbox backend for this mode (exit 2)
    ├── ToolError                  a tool call failed; the agent turns it into an observation
    ├── CodeHostError              talking to GitHub failed
    │   ├── CodeHostAuthError      401/403/404: token, permissions, or a fork's read-only token
    │   └── CodeHostRejected       422: GitHub refused what we sent
    └── ModelError                 talking to an LLM failed

Adapters translate their dependency's exceptions into these at the edge; the CLI maps them to
exit codes in one place (`reviewbot.cli.main`).
"""

from __future__ import annotations

from collections.abc import Sequence


class ReviewbotError(Exception):
    """Base of every error reviewbot raises on purpose. `str(err)` is a one-line reason."""

    exit_code = 2


class ConfigError(ReviewbotError):
    """Settings or a config file are invalid. Say which key and what to do.

    `problems` lists every problem found (each naming its file or variable and the key as
    written); `str(err)` is the headline followed by all of them, on one line."""

    def __init__(self, headline: str, problems: Sequence[str] = ()) -> None:
        self.headline = headline
        self.problems = tuple(problems)
        count = len(self.problems)
        plural = "s" if count != 1 else ""
        detail = f" ({count} problem{plural}): " + "; ".join(self.problems) if count else ""
        super().__init__(headline + detail)


class WorkspaceError(ReviewbotError):
    """The repository or a revision cannot be read."""


class AnalyzerError(ReviewbotError):
    """An analyzer could not do its job (crash, bad config, timeout). Never reported as clean."""


class SandboxUnavailable(ReviewbotError):
    """No sandbox backend may run this code (no Docker engine, process backend refused)."""


class ToolError(ReviewbotError):
    """A tool call failed; the agent records it as an observation instead of crashing."""


class CodeHostError(ReviewbotError):
    """The code host (GitHub) failed or refused a request."""


class CodeHostAuthError(CodeHostError):
    """401/403/404 from the code host: bad token, missing permission, or read-only fork token."""


class CodeHostRejected(CodeHostError):
    """422 from the code host: the request was well-formed but refused."""


class ModelError(ReviewbotError):
    """An LLM provider failed (auth, context length, repeated 5xx)."""
