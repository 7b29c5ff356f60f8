"""Memory bounds (age and count, on an injected clock) and prompt rendering within a budget."""

from __future__ import annotations

import pytest

from reviewbot.agent.memory import Memory
from reviewbot.agent.memory_render import render_memory
from reviewbot.agent.testing import FakeClock


def test_pruning_by_count_keeps_the_newest() -> None:
    mem = Memory(max_items=3, max_age_s=1e9, clock=FakeClock())
    for i in range(5):
        mem.observe("tool", f"obs {i}")
        mem.record_action("tool", {"i": i}, "ok", iteration=i)
    assert [o.text for o in mem.observations] == ["obs 2", "obs 3", "obs 4"]
    assert [a.args for a in mem.actions] == [{"i": 2}, {"i": 3}, {"i": 4}]
    assert mem.dropped.observations == 2 and mem.dropped.actions == 2


def test_pruning_by_age_uses_the_injected_clock() -> None:
    clock = FakeClock(start=0.0)
    mem = Memory(max_items=100, max_age_s=30.0, clock=clock)
    mem.observe("a", "old")
    mem.learn("python", "3.11")
    clock.advance(20)
    mem.observe("b", "newer")
    assert mem.prune() == 0
    clock.advance(15)  # "old" is 35s old, "newer" 15s
    assert mem.prune() == 2  # the old observation and the old fact
    assert [o.text for o in mem.observations] == ["newer"]
    assert mem.knowledge == {}
    assert mem.observations[0].at == 20.0


def test_learning_a_fact_again_refreshes_it() -> None:
    clock = FakeClock(start=0.0)
    mem = Memory(max_items=2, max_age_s=10.0, clock=clock)
    mem.learn("a", "1")
    mem.learn("b", "2")
    clock.advance(8)
    mem.learn("a", "updated")  # newest now; "b" is the oldest
    mem.learn("c", "3")  # over max_items: the oldest fact, "b", goes
    assert mem.knowledge == {"a": "updated", "c": "3"}
    clock.advance(5)  # 13s after "a" was first learned, 5s after it was refreshed
    mem.prune()
    assert mem.knowledge == {"a": "updated", "c": "3"}


def test_context_is_never_pruned() -> None:
    clock = FakeClock(start=0.0)
    mem = Memory(max_items=1, max_age_s=1.0, clock=clock)
    mem.set_context(base="main", files=["a.py"])
    clock.advance(100)
    mem.observe("x", "y")
    mem.prune()
    assert mem.context == {"base": "main", "files": ["a.py"]}


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Memory(max_items=0)


def test_render_fits_the_budget_and_keeps_what_matters() -> None:
    clock = FakeClock(start=0.0)
    mem = Memory(clock=clock)
    mem.set_context(base="main", changed_files=["a.py", "b.py"])
    mem.learn("test_command", "pytest -q")
    for i in range(40):
        mem.record_action("read_file", {"path": f"f{i}.py"}, "ok", iteration=i + 1)
        mem.observe("read_file", f"content of f{i}.py " + "y" * 300, iteration=i + 1)
        clock.advance(1)
    mem.observe("search_code", "HUGE " + "z" * 50_000)
    text = render_memory(mem, budget_chars=3000)
    assert len(text) <= 3000
    assert "- base: main" in text and '- changed_files: ["a.py","b.py"]' in text
    assert "- test_command: pytest -q" in text
    assert "HUGE" in text and "truncated" in text  # the newest, clipped with a note
    assert "content of f0.py" not in text  # the oldest went first
    assert "older observation(s) not shown" in text
    assert "earlier not shown" in text  # actions beyond max_actions


def test_render_small_memory_is_complete_and_ordered() -> None:
    clock = FakeClock(start=0.0)
    mem = Memory(clock=clock)
    mem.observe("get_diff", "2 changed files")
    clock.advance(5)
    mem.observe("read_file", "no such file", ok=False)
    text = render_memory(mem, budget_chars=1000)
    assert text.index("get_diff (ok)") < text.index("read_file (error)")
    assert "[5s ago] get_diff" in text and "not shown" not in text


def test_render_mentions_observations_forgotten_by_pruning() -> None:
    mem = Memory(max_items=2, clock=FakeClock())
    for i in range(5):
        mem.observe("t", f"o{i}")
    text = render_memory(mem, budget_chars=1000)
    assert "(3 older observation(s) not shown)" in text
