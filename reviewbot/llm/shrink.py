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

from reviewbot.llm.model import ContextLengthError
from reviewbot.llm.tokens import CHARS_PER_TOKEN

SAFETY = 0.8  # aim this far below the stated limit
MIN_ANSWER_TOKENS = 256
MIN_CONTEXT_TOKENS = 1000
#: the tools offered once the context is tight: enough to look, prove and report
ESSENTIAL_TOOLS = frozenset({"report", "read_file", "get_diff", "run_snippet"})


@dataclass(frozen=True)
class Shrunk:
    context_tokens: int  # the policy's prompt budget, in estimated tokens, answer included
    max_tokens: int
    result_tokens: int  # cap per tool result


def plan_shrink(err: ContextLengthError, *, sent_chars: int, max_tokens: int) -> Shrunk:
    """The budgets for the next try after `err`, given the size of the refused request."""
    estimated = max(sent_chars // CHARS_PER_TOKEN, 1)
    if err.limit:
        answer = max(min(max_tokens, err.limit // 8), min(MIN_ANSWER_TOKENS, max_tokens))
        ratio = (err.sent or estimated) / estimated  # real tokens per estimated token
        target = int((err.limit * SAFETY - answer) / max(ratio, 0.1))
    else:
        answer = max(max_tokens // 2, min(MIN_ANSWER_TOKENS, max_tokens))
        target = estimated // 2
    target = min(target, int(estimated * 0.75))  # always really smaller than what was refused
    prompt = max(target, MIN_CONTEXT_TOKENS // 2)
    return Shrunk(context_tokens=prompt + answer, max_tokens=answer, result_tokens=max(prompt // 10, 200))
