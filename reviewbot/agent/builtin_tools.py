"""The repository tools every review agent gets, wired from settings in one place.

`analyze_code` and `run_tests` need a sandbox session and live with the review code; register
them next to these: `ToolRegistry([*builtin_tools(settings), AnalyzeCode(...), RunTests(...)])`.
"""

from __future__ import annotations

from typing import Any

from reviewbot.agent.get_diff import GetDiff, GetDiffParams
from reviewbot.agent.read_file import ReadFile, ReadFileParams
from reviewbot.agent.report import REPORT_TOOL, Report, ReportTool
from reviewbot.agent.search_code import SearchCode, SearchCodeParams
from reviewbot.agent.tools import Tool
from reviewbot.settings import Settings

__all__ = [
    "REPORT_TOOL",
    "GetDiff",
    "GetDiffParams",
    "ReadFile",
    "ReadFileParams",
    "Report",
    "ReportTool",
    "SearchCode",
    "SearchCodeParams",
    "builtin_tools",
]


def builtin_tools(settings: Settings | None = None) -> list[Tool[Any, Any]]:
    """read_file, search_code, get_diff and report, with file caps from `settings`."""
    max_bytes = settings.max_file_bytes if settings is not None else 1_000_000
    return [
        ReadFile(max_bytes=max_bytes),
        SearchCode(max_file_bytes=max_bytes),
        GetDiff(),
        ReportTool(),
    ]
