"""The review tools that execute code: `analyze_code` (ruff) and `run_tests` (pytest).

Both run only inside the sandbox session from `ReviewDeps`; both record what ran in the ledger and
return a typed result for the policy (`AnalyzeResult`, `testrun.TestsResult`: frozen findings and
failing tests, read as they are, never through JSON), plus a short text for logs and models.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from reviewbot.agent.tools import Tool, ToolContext, ToolOutput
from reviewbot.analyzers import ruff_parse, runners
from reviewbot.analyzers.runners import LintResult
from reviewbot.core.attribution import base_path_of_head
from reviewbot.core.diff import Diff
from reviewbot.core.filtering import dedupe
from reviewbot.core.finding import Finding
from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.core.testgroups import RepoLayout
from reviewbot.pipeline.install import tests_blocked
from reviewbot.pipeline.review_deps import SANDBOX_DIRS, ReviewDeps, Revision
from reviewbot.pipeline.testrun import TestsResult, failed_test, has_test_files, repo_layout
from sandbox.archive import FileEntry, build_tar


class AnalyzeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: Revision = Field(default="head", description="Analyze the change's head or its base")
    paths: list[str] | None = Field(
        default=None, description="Head-side paths to analyze; default: every changed Python file"
    )


@dataclass(frozen=True)
class AnalyzeResult:
    """What `analyze_code` returns: the findings at one revision (deduplicated), and the analyzers'
    errors (with errors the call is not ok, but the findings that were made still count)."""

    revision: Revision
    paths: tuple[str, ...]
    findings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()


#: Where the head's code is linted with the base's configuration (reviewbot/core/lintconfig.py).
LINT_DIR = "head-lint"


class AnalyzeCode(Tool[ReviewDeps, AnalyzeParams]):
    """Run ruff on Python files, inside the sandbox: the repository's own lint configuration (taken
    from the base revision), the curated high-signal rules (isolated from any configuration), and
    the formatter check where the project enforces ruff format. Returns findings with rule ids,
    lines and safe-fix suggestions."""

    name = "analyze_code"
    Params = AnalyzeParams

    def run(self, params: AnalyzeParams, ctx: ToolContext[ReviewDeps]) -> ToolOutput:
        deps = ctx.deps
        wanted = [p for p in (params.paths or deps.python_paths) if p in deps.python_paths]
        if params.revision == "base":
            # Base-side names of the files (renames map back); files new in the change have no base.
            paths = [deps.base_paths[p] for p in wanted if p in deps.base_paths]
            texts = deps.base_texts
        else:
            paths, texts = wanted, deps.head_texts
        results = _lint(deps, params.revision, paths, texts)
        findings: list[Finding] = []
        errors: list[str] = []
        for result in results:
            deps.ledger.runs.append(result.run)
            if result.error:
                deps.ledger.errors.append(result.error)
                errors.append(result.error)
            findings.extend(result.findings)
        text = f"{len(findings)} finding(s) in {len(paths)} file(s) at {params.revision}"
        if errors:
            text += "; analyzer errors: " + " | ".join(errors)
        value = AnalyzeResult(params.revision, tuple(paths), tuple(dedupe(findings)), tuple(errors))
        return ToolOutput(ok=not errors, text=text, value=value)


#: Makes LINT_DIR ($0) afresh in the work root, with the directories ($@) that give the head's tree
#: its shape (reviewbot/core/lintconfig.py lint_tree); the files are uploaded into it next. Fixed
#: text: the paths are arguments, never spliced into it.
_LINT_TREE_SCRIPT = 'rm -rf -- "$0" && mkdir -p -- "$0" && cd -- "$0" && mkdir -p -- . "$@"'


def _lint_dir(deps: ReviewDeps, revision: Revision) -> tuple[str, str | None]:
    """Where `revision` is linted, or an error: the base where it lies; the head in a tree of its
    own, built from the bot's copy of the change (nothing the head's code did to its sandbox tree
    counts), holding the base's lint configuration and none of the head's."""
    if revision == "base" or not deps.lint.from_base:
        return SANDBOX_DIRS[revision], None
    session = deps.session_for(revision)
    argv = ["sh", "-c", _LINT_TREE_SCRIPT, LINT_DIR, *deps.lint.tree_dirs]
    result = session.run(argv, cwd=".", timeout_s=runners.RUFF_TIMEOUT_S)
    if not result.completed or result.exit_code != 0:
        detail = result.text("stderr")[-300:] or result.outcome.value
        return LINT_DIR, f"could not prepare the head's lint tree (exit {result.exit_code}): {detail}"
    tar, _skipped = build_tar([FileEntry(path, data) for path, data in sorted(deps.lint.tree.items())])
    session.upload(LINT_DIR, tar)
    return LINT_DIR, None


def _lint(
    deps: ReviewDeps, revision: Revision, paths: list[str], texts: Mapping[str, str]
) -> list[LintResult]:
    analyzers, lint = deps.settings.analyzers, deps.lint
    session = deps.session_for(revision)
    cwd, error = _lint_dir(deps, revision) if paths else (SANDBOX_DIRS[revision], None)
    if error is not None:
        return [
            LintResult((), ToolRun(name=f"ruff ({revision})", status=RunStatus.ERROR, detail=error), error)
        ]
    curated = list(analyzers.curated_select) if analyzers.curated_rules else []
    results = []

    # The file-level noqa exemptions that count are the base's (a pull request cannot add one).
    trusted = (
        texts
        if revision == "base"
        else {p: deps.base_texts.get(deps.base_paths.get(p, ""), "") for p in paths}
    )

    def check(name: str, select: list[str], isolated: bool) -> LintResult:
        return runners.ruff_check(
            session,
            cwd=cwd,
            paths=paths,
            file_texts=texts,
            select=select,
            isolated=isolated,
            target_version=lint.target_version,
            trusted_texts=trusted,
            name=f"{name} ({revision})",
        )

    if analyzers.ruff and lint.configured:
        results.append(check("ruff check", curated, isolated=False))  # the repository's rules + curated
        guarded = [c for c in ruff_parse.UNSUPPRESSIBLE if any(c.startswith(s) for s in curated)]
        if guarded:  # the dangerous calls again, where no configuration can reach them
            results.append(check("ruff curated rules", guarded, isolated=True))
    elif analyzers.ruff:
        results.append(check("ruff check", [*runners.CLASSIC_DEFAULT_RULES, *curated], isolated=True))
    if _format_checked(deps, revision):
        broken = {f.path for r in results for f in r.findings if f.rule_id == ruff_parse.SYNTAX_ERROR}
        parsable = [p for p in paths if p not in broken]  # ruff format refuses what does not parse
        results.append(
            runners.ruff_format(session, cwd=cwd, paths=parsable, name=f"ruff format ({revision})")
        )
    return results


def _format_checked(deps: ReviewDeps, revision: Revision) -> bool:
    setting = deps.settings.analyzers.ruff_format
    if setting != "auto":
        return bool(setting)
    enforced = deps.lint.format_enforced_by
    if enforced is None and revision == "head":
        deps.ledger.skipped.append(
            "ruff format: not checked; the project does not enforce it (no ruff-format pre-commit hook, "
            "no `ruff format --check` in CI; set analyzers.ruff_format = true to check anyway)"
        )
    return enforced is not None


class RunTestsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: Revision = Field(default="head", description="Run the tests of the change's head or its base")
    node_ids: list[str] = Field(
        default_factory=list, description="pytest node ids to run (head-side names); empty = the whole suite"
    )


#: src/ layouts import without an install step; the repository root is on the path as pytest's rootdir.
_TEST_ENV = {"PYTHONPATH": "src:."}


def _to_base(node_id: str, diff: Diff) -> str:
    """The node id under the base's name of its file (a renamed test file keeps its tests)."""
    path, sep, rest = node_id.partition("::")
    return (base_path_of_head(diff, path) or path) + sep + rest


class RunTests(Tool[ReviewDeps, RunTestsParams]):
    """Run the project's test suite (pytest) inside the sandbox, at head or at base, optionally only
    some tests. Returns failing tests with their output and real cause, parsed from junit XML (and
    reviewbot's streamed test log, which keeps the results of a run stopped at its time limit)."""

    name = "run_tests"
    Params = RunTestsParams

    def run(self, params: RunTestsParams, ctx: ToolContext[ReviewDeps]) -> ToolOutput:
        deps = ctx.deps
        blocked = tests_blocked(deps.ledger)  # failures without the dependencies are not the change's
        if blocked is not None:
            return ToolOutput(ok=False, text=blocked, value=TestsResult(params.revision, error=blocked))
        settings = deps.settings.analyzers
        targets = params.node_ids
        if params.revision == "base":
            targets = [_to_base(n, deps.diff) for n in params.node_ids]
        budget = settings.test_timeout_s
        left = ctx.time_left()
        if left is not None:
            budget = max(1.0, min(budget, left))
        cwd = SANDBOX_DIRS[params.revision]
        session = deps.session_for(params.revision)
        run = functools.partial(
            runners.run_pytest,
            session,
            cwd=cwd,
            command=settings.test_command,
            timeout_s=budget,
            env=_TEST_ENV,
        )
        result = run(
            junit_path=f"junit-{params.revision}.xml", targets=targets, name=f"pytest ({params.revision})"
        )
        if params.revision == "base" and targets and result.exit_code == runners.PYTEST_USAGE_ERROR:
            # pytest refuses the whole run when one node id is unknown at base (a test the change added):
            # fall back to the files that exist, and let absent tests count as new.
            files = sorted({t.partition("::")[0] for t in targets})
            result = run(junit_path="junit-base-files.xml", targets=files, name="pytest (base, whole files)")
        deps.ledger.runs.append(result.run)
        layout = repo_layout(deps.root, deps.diff, deps.settings.max_files)
        if result.error:
            deps.ledger.errors.append(result.error)
            if result.report is None:
                return ToolOutput(
                    ok=False, text=result.error, value=TestsResult(params.revision, error=result.error)
                )
        elif params.revision == "head" and not targets:
            _nothing_ran(deps, result, layout)
        return ToolOutput(
            ok=True, text=result.error or result.run.detail, value=_result(params, result, layout)
        )


def _nothing_ran(deps: ReviewDeps, result: runners.TestRunResult, layout: RepoLayout) -> None:
    """No test ran at head: a review error when the repository has tests, a note when it has none.
    (Modules that failed to import are judged by the policy, which has the base run in hand.)"""
    report = result.report
    if report is None or report.cases or report.collection_errors:
        return
    if has_test_files(layout):
        deps.ledger.errors.append(
            "the tests could not run: pytest (head) collected no test although the repository has test "
            f"files ({result.run.detail}); check analyzers.test_command and the project's pytest config"
        )
    else:
        deps.ledger.skipped.append("tests: the repository has no tests (pytest collected none)")


def _result(params: RunTestsParams, result: runners.TestRunResult, layout: RepoLayout) -> TestsResult:
    report = result.report
    assert report is not None
    return TestsResult(
        revision=params.revision,
        error=result.error,
        running=tuple(result.progress.running),
        cases=report.cases,
        failures=tuple(failed_test(c, layout) for c in report.failures),
        collection_errors=tuple(failed_test(c, layout, collection=True) for c in report.collection_errors),
    )
