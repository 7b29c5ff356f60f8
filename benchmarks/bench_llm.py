"""LLM layer figures: prompt tokens per review vs. the change's size, LLM calls per review, and
the agent loop's own overhead measured against a zero-latency scripted model server.

Changes are real code: files of the toolz corpus (tests/data/corpus) added to a repository, in
growing sets. The scripted model reads one file, then reports; the server answers instantly, so
whatever time is not spent in HTTP to the model nor in tools is the loop's and policy's own cost
(prompt building, history fitting, evidence and line checks, the output filter).

The overhead is also measured with the model habits the policy degrades gracefully for (prose
instead of the report, a JSON block in prose, duplicated calls in one turn, repeated calls, a
context-length error then success): the wrap-up paths must not cost more than the plain path.
Each row's overhead is the loop's share of that review's wall time, and its ratio to the plain
"report" habit measured in the same run. Target: <= 5% of the review's wall time.

    python benchmarks/bench_llm.py            # prints a table
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Unpack

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.adapters.llm.model import (  # noqa: E402
    Message,
    Model,
    ModelResponse,
    RequestOptions,
    ToolSpec,
    UsageMeter,
)
from reviewbot.adapters.llm.resolve import build_model  # noqa: E402
from reviewbot.adapters.llm.wiring import llm_reviewer  # noqa: E402
from reviewbot.pipeline.run import ReviewRequest, run_review  # noqa: E402
from reviewbot.settings import load_settings  # noqa: E402
from tests.fakes.llm_server import (  # noqa: E402
    Call,
    LLMServer,
    Reply,
    Step,
    Turn,
    call,
    calls,
    context_error,
    text,
)

CORPUS = ROOT / "tests" / "data" / "corpus" / "toolz" / "toolz"
FILES = sorted(p for p in CORPUS.rglob("*.py") if p.stat().st_size > 1000)


class TimedModel:
    """Delegates to a real adapter and adds up the time spent in its requests."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0

    def request(
        self,
        system: str,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        **options: Unpack[RequestOptions],
    ) -> ModelResponse:
        start = time.perf_counter()
        try:
            return self.inner.request(system, messages, tools, **options)
        finally:
            self.seconds += time.perf_counter() - start


def git(repo: Path, *args: str) -> None:
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def make_change(tmp: Path, files: list[Path]) -> tuple[Path, int]:
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("bench\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    lines = 0
    for src in files:
        dest = repo / "pkg" / src.relative_to(CORPUS)
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text()
        dest.write_text(text)
        lines += text.count("\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return repo, lines


def script(turn: Turn) -> Any:
    if turn.index == 0:
        return call("get_diff")
    return call("report", findings=[], summary="nothing to add")


def _prose(turn: Turn) -> Step:
    return call("get_diff") if turn.index == 0 else text("Looks fine to me, nothing to add.")


def _fence(turn: Turn) -> Step:
    block = json.dumps({"findings": [{"rule_id": "x", "path": "pkg/x.py", "message": "m"}]})
    return call("get_diff") if turn.index == 0 else text(f"Review:\n```json\n{block}\n```")


def _duplicates(turn: Turn) -> Step:
    if turn.index < 3:
        twice = Call("search_code", {"pattern": f"def {'abc'[turn.index]}"})
        return calls(twice, twice)
    return call("report", findings=[], summary="done")


def _repeats(turn: Turn) -> Step:
    return call("get_diff")


def _context(turn: Turn) -> Step | Reply:
    if turn.index == 0:
        sent = len(json.dumps(turn.body)) // 4
        return context_error("openai", limit=int(sent * 0.85), sent=sent)
    return call("report", findings=[], summary="done")


HABITS: dict[str, Callable[[Turn], Any]] = {
    "report": script,
    "prose": _prose,
    "json-fence": _fence,
    "duplicates": _duplicates,
    "repeats": _repeats,
    "context": _context,
}


def one_review(
    files: list[Path],
    *,
    analyzers: bool,
    context_tokens: int = 32_000,
    habit: Callable[[Turn], Any] = script,
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, LLMServer("openai", habit, validate=False) as srv:
        repo, lines = make_change(Path(tmp), files)
        overrides: dict[str, Any] = {
            "sandbox": {"backend": "process"},
            "llm": {
                "provider": "openai",
                "model": "bench",
                "base_url": srv.base_url,
                "context_tokens": context_tokens,
            },
        }
        if not analyzers:
            overrides["analyzers"] = {"tests": False, "ruff": False, "ruff_format": False}
        settings = load_settings(overrides=overrides)
        inner = build_model(settings.llm, {})
        assert inner is not None
        model = TimedModel(inner)
        meter = UsageMeter()
        start = time.perf_counter()
        outcome = run_review(
            ReviewRequest(repo_root=repo, base="main", head="feature"),
            settings,
            reviewer=llm_reviewer(model, settings, meter=meter),
        )
        total = time.perf_counter() - start
        run = outcome.agent
        assert run is not None
        tools = sum(e.duration_s or 0.0 for e in run.events if e.kind.value == "result")
        loop_own = max(run.elapsed_s - tools - model.seconds, 0.0)
        return {
            "files": len(files),
            "lines": lines,
            "prompt_tokens": meter.input_tokens,
            "largest_prompt": max(len(str(r)) // 4 for r in srv.requests),
            "calls": meter.calls,
            "total_s": total,
            "model_s": model.seconds,
            "tools_s": tools,
            "loop_s": loop_own,
            "skipped": sum("not reviewed by the LLM" in s for s in outcome.review.skipped),
        }


def main() -> int:
    if "--habits" in sys.argv:  # only the per-habit overhead table
        habits_table()
        return 0
    sizes = [1, 2, 4, 8, 16, len(FILES)]
    print(f"{'files':>5} {'lines':>6} {'prompt tok':>10} {'max prompt':>10} {'calls':>5} {'not revd':>8}")
    for n in sizes:
        r = one_review(FILES[:n], analyzers=False)
        print(
            f"{r['files']:>5} {r['lines']:>6} {r['prompt_tokens']:>10,} {r['largest_prompt']:>10,} "
            f"{r['calls']:>5} {r['skipped']:>8}"
        )
    print("\nloop overhead with a zero-latency model (full review: ruff + pytest + LLM), 3 runs:")
    print(f"{'files':>5} {'total s':>8} {'tools s':>8} {'model s':>12} {'loop s':>13} {'overhead':>8}")
    for n in (4, 16):
        for _ in range(3):
            r = one_review(FILES[:n], analyzers=True)
            print(
                f"{r['files']:>5} {r['total_s']:>8.3f} {r['tools_s']:>8.3f} {r['model_s']:>12.3f} "
                f"{r['loop_s']:>13.4f} {100 * r['loop_s'] / r['total_s']:>7.2f}%"
            )
    habits_table()
    return 0


def habits_table(files: int = 4, runs: int = 5) -> None:
    """Loop overhead per model habit (median of `runs`), and its ratio to the plain report habit."""
    print(f"\nloop overhead per model habit ({files} files, full review, median of {runs} runs):")
    print(f"{'habit':>11} {'calls':>5} {'total s':>8} {'loop s':>8} {'overhead':>8} {'vs report':>9}")
    base: float | None = None
    for name, habit in HABITS.items():
        rows = sorted(
            (one_review(FILES[:files], analyzers=True, habit=habit) for _ in range(runs)),
            key=lambda r: r["loop_s"] / r["total_s"],
        )
        r = rows[len(rows) // 2]
        share = r["loop_s"] / r["total_s"]
        base = share if base is None else base
        print(
            f"{name:>11} {r['calls']:>5} {r['total_s']:>8.3f} {r['loop_s']:>8.4f} "
            f"{100 * share:>7.2f}% {share / base:>8.2f}x"
        )


if __name__ == "__main__":
    raise SystemExit(main())
