"""Shrinking a request the provider refused as too long for the model's context window.

Both wire formats say how big the prompt was and what the limit is (OpenAI: "maximum context
length is N tokens ... resulted in M tokens"; Anthropic: "prompt is too long: M tokens > N
maximum"). Our own token count is an estimate (`tokens.py`), so the provider's numbers calibrate
it: the new request targets `SAFETY` of the limit, minus the smaller answer it now asks for,
converted back into our estimate's units. Without numbers, the prompt budget is halved.
The policy then rebuilds the request (oldest tool outputs elided or folded into a summary, fewer
tool schemas, lower `max_tokens`) and sends it only if it really is smaller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewbot.adapters.llm.model import ContextLengthError, ToolSpec
from reviewbot.adapters.llm.tokens import CHARS_PER_TOKEN

SAFETY = 0.8  # aim this far below the stated limit
SAFETY_FIT = 0.95  # a rebuilt request further above its target than this is not sent
MIN_ANSWER_TOKENS = 256
MIN_CONTEXT_TOKENS = 1000
#: the tools offered once the context is tight: enough to look, prove and report
ESSENTIAL_TOOLS = frozenset({"report", "read_file", "get_diff", "run_snippet"})


@dataclass(frozen=True)
class Shrunk:
    context_tokens: int  # the policy's prompt budget, in estimated tokens, answer included
    max_tokens: int
    result_tokens: int  # cap per tool result
    limit: int | None = None  # the provider's stated window (tokens)
    ratio: float = 1.0  # the provider's tokens per estimated token, as the refusal showed

    def fits(self, chars: int) -> bool:
        """Would a request of `chars` characters, and the answer, fit the stated window?"""
        if self.limit is None:
            return True
        return (chars / CHARS_PER_TOKEN) * self.ratio + self.max_tokens <= self.limit * SAFETY_FIT


def plan_shrink(err: ContextLengthError, *, sent_chars: int, max_tokens: int) -> Shrunk:
    """The budgets for the next try after `err`, given the size of the refused request."""
    estimated = max(sent_chars // CHARS_PER_TOKEN, 1)
    ratio = 1.0
    if err.limit:
        answer = max(min(max_tokens, err.limit // 8), min(MIN_ANSWER_TOKENS, max_tokens))
        ratio = (err.sent or estimated) / estimated  # real tokens per estimated token
        target = int((err.limit * SAFETY - answer) / max(ratio, 0.1))
    else:
        answer = max(max_tokens // 2, min(MIN_ANSWER_TOKENS, max_tokens))
        target = estimated // 2
    target = min(target, int(estimated * 0.75))  # always really smaller than what was refused
    prompt = max(target, MIN_CONTEXT_TOKENS // 2)
    return Shrunk(
        context_tokens=prompt + answer,
        max_tokens=answer,
        result_tokens=max(prompt // 10, 200),
        limit=err.limit,
        ratio=ratio,
    )


_NOISE = frozenset({"description", "title", "examples", "default"})


def _strip(schema: Any) -> Any:
    if isinstance(schema, dict):
        # a property *named* like a keyword has a schema (a dict) as its value: kept
        return {k: _strip(v) for k, v in schema.items() if k not in _NOISE or not isinstance(v, str | list)}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def compact(spec: ToolSpec) -> ToolSpec:
    """The tool with its first sentence as description and a schema without prose (a tight
    context keeps what the model needs to call it right: names, types, required fields)."""
    first = spec["description"].split(". ")[0].strip().rstrip(".") + "."
    return {"name": spec["name"], "description": first, "parameters": _strip(spec["parameters"])}
