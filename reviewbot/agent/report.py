"""The `report` tool: the agent's final answer. A successful call ends the loop."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.core.finding import Finding

REPORT_TOOL = "report"


class Report(BaseModel):
    """The findings of the review and a summary of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    findings: list[Finding] = Field(
        default_factory=list, description="Problems the change introduced, each backed by evidence"
    )
    summary: str = Field(default="", max_length=20_000, description="A short overall summary of the review")


class ReportTool(Tool[Any, Report]):
    """Finish the review: submit every finding (each validated as a Finding) and a summary.
    Call it once, last."""

    name = REPORT_TOOL
    Params = Report

    def run(self, params: Report, ctx: ToolContext[Any]) -> ToolOutput:
        n = len(params.findings)
        return ToolOutput.success(f"report submitted: {n} finding{'s' if n != 1 else ''}", value=params)
