"""Token counting by approximation: about 4 characters per token.

Exact counts need each model's tokenizer (tiktoken, Anthropic's counting endpoint, a local
model's vocabulary). For *budgeting* a prompt an estimate is enough, and it is the same for every
provider; usage reported by the provider (exact) is what the meter accounts. The estimate
over-counts code with long identifiers and under-counts dense non-ASCII text; budgets keep a
margin for that.
"""

from __future__ import annotations

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def chars_for(tokens: int) -> int:
    return max(tokens, 0) * CHARS_PER_TOKEN
