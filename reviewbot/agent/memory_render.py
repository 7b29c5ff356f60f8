"""Memory rendered as compact text for an LLM prompt, within a character budget.

Priorities, because the budget is usually too small for everything: the task context and the
knowledge come first (small, and what the model must not lose), then the most recent actions,
then observations newest first until the budget is used; older observations are dropped with a
note saying how many. Each item is clipped on its own (`max_item_chars`) with a note, so one huge
tool output can not crowd out everything else. The result never exceeds `budget_chars`.

The LLM policy reasons from it: every request carries it (`reviewbot.adapters.llm.prompt.memory_section`).
"""

from __future__ import annotations

from reviewbot.agent.events import canonical_json, clip
from reviewbot.agent.memory import Memory


def render_memory(
    memory: Memory,
    *,
    budget_chars: int = 12_000,
    max_item_chars: int | None = None,
    max_actions: int = 12,
) -> str:
    if budget_chars < 100:
        raise ValueError("budget_chars must be at least 100")
    item_cap = max_item_chars or max(200, budget_chars // 4)
    now = memory.clock()
    parts: list[str] = []

    if memory.context:
        parts.append("## Task")
        parts += [f"- {k}: {clip(_plain(v), item_cap)}" for k, v in memory.context.items()]
    if memory.facts:
        parts.append("## Known facts")
        parts += [f"- {f.key}: {clip(f.value, item_cap)}" for f in memory.facts]
    if memory.actions:
        recent = memory.actions[-max_actions:]
        older = len(memory.actions) - len(recent) + memory.dropped.actions
        parts.append("## Actions so far" + (f" ({older} earlier not shown)" if older else ""))
        parts += [
            f"- #{a.iteration} {a.tool}({clip(canonical_json(a.args), 200)}) -> {a.outcome}" for a in recent
        ]
    head = "\n".join(parts)
    if len(head) > budget_chars:
        return clip(head, budget_chars)

    remaining = budget_chars - len(head) - 100  # room for the section title and the omission note
    chosen: list[str] = []
    for obs in reversed(memory.observations):
        status = "ok" if obs.ok else "error"
        line = f"[{now - obs.at:.0f}s ago] {obs.source} ({status}): {clip(obs.text, item_cap)}"
        if len(line) + 1 > remaining:
            if remaining < 200:
                break
            line = clip(line, remaining - 1)
        chosen.append(line)
        remaining -= len(line) + 1
    omitted = len(memory.observations) - len(chosen) + memory.dropped.observations
    tail: list[str] = []
    if memory.observations or omitted:
        tail.append("## Observations (oldest first)")
        if omitted:
            tail.append(f"({omitted} older observation(s) not shown)")
        tail += reversed(chosen)
    text = "\n".join(p for p in (head, "\n".join(tail)) if p)
    return clip(text, budget_chars)


def _plain(value: object) -> str:
    return value if isinstance(value, str) else canonical_json(value)
