"""A small GitHub Actions runner for composite actions: runs `action.yml`'s steps the way a runner does.

What it does as the runner does (docs.github.com, "Metadata syntax for GitHub Actions" and
"Workflow commands"):
- `run:` steps through their `shell` (`bash` = `bash --noprofile --norc -eo pipefail {0}`,
  `sh` = `sh -e {0}`, `python` = `python {0}`), the script written to a file, in the workspace,
  with `GITHUB_ACTION_PATH` set to the action's directory;
- `${{ }}` expressions: `inputs.*`, `steps.<id>.outputs.*` / `.outcome` / `.conclusion`,
  `github.*`, `env.*`, `runner.*`, literals, `== != < <= > >= && || !`, parentheses, and the
  functions `success() failure() always() cancelled() hashFiles() contains() startsWith()
  endsWith() format()`; comparisons loose as GitHub's (strings case-insensitive, else numbers);
- `if:` conditions, with the implicit `success() &&` when no status function is named;
- per step `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY` files, both the
  `name=value` and the `name<<DELIMITER` forms; env and path carry over to later steps;
- a failed step fails the rest: later steps run only when their `if:` allows it (`always()`).

`uses:` steps: only the well-known ones the action may use, emulated:
- `actions/setup-python`: a Python on PATH (a venv of the interpreter running the tests, which
  sees the test environment's installed dependencies: no registry needed for them);
- `actions/cache/restore` and `actions/cache/save`: a local directory as the Actions cache, keyed
  by `key` (exact) then `restore-keys` (prefixes, newest first), versioned by `path` as the real
  cache is (a restore with other paths misses); paths are stored relative to the workspace;
  `cache-hit` is 'true' only for an exact key; saving an existing key is refused with a warning.
Anything else is an error: the action must not depend on what this runner cannot check.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_SHELLS = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    "python": ["python", "{0}"],
}
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_STATUS_FUNCS = ("success(", "failure(", "always(", "cancelled(")


class ActionError(Exception):
    """The action.yml asks for something a runner would refuse, or this runner cannot emulate."""


# -- expressions ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),.\[\]*])"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ActionError(f"cannot parse expression at {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _num(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return 0.0
        try:
            return float(s)
        except ValueError:
            return float("nan")
    return float("nan")


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) and not isinstance(a, (int, float)):
        return bool(a == b)
    return _num(a) == _num(b)


def truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v != ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0 and v == v
    return bool(v) if v is not None else False


def to_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v)
    return str(v)


class _Parser:
    """Recursive descent over GitHub's expression grammar (the subset action.yml files use)."""

    def __init__(self, text: str, contexts: Mapping[str, Any], funcs: Mapping[str, Callable[..., Any]]):
        self.toks = _tokens(text)
        self.i = 0
        self.contexts = contexts
        self.funcs = funcs

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ActionError("unexpected end of expression")
        tok = self.toks[self.i]
        if expected is not None and tok[1] != expected:
            raise ActionError(f"expected {expected!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.or_()
        if self.i != len(self.toks):
            raise ActionError(f"trailing tokens in expression: {self.toks[self.i :]}")
        return value

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            left = left if truthy(left) else right
        return left

    def and_(self) -> Any:
        left = self.cmp()
        while self.peek() == "&&":
            self.take()
            right = self.cmp()
            left = right if truthy(left) else left
        return left

    def cmp(self) -> Any:
        left = self.unary()
        while self.peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.unary()
            if op in ("==", "!="):
                left = _eq(left, right) == (op == "==")
            else:
                pair: tuple[Any, Any] = (  # two strings, or two numbers
                    (left.lower(), right.lower())
                    if isinstance(left, str) and isinstance(right, str)
                    else (_num(left), _num(right))
                )
                a, b = pair
                left = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if text == "(" and kind == "op":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if kind != "id":
            raise ActionError(f"unexpected {text!r} in expression")
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        if low == "null":
            return None
        if self.peek() == "(":
            return self.call(low)
        value = self.contexts.get(low)
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                name = self.take()[1]
            else:
                name = to_str(self.or_())
                self.take("]")
            value = _member(value, name)
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        fn = self.funcs.get(name)
        if fn is None:
            raise ActionError(f"function {name}() is not known to this runner")
        return fn(*args)


def _glob(pattern: str) -> re.Pattern[str]:
    """GitHub's glob: `**/` is zero or more directories, `*` and `?` stay within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        else:
            ch = pattern[i]
            out += "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch)
            i += 1
    return re.compile(out)


def _member(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        for key in value:
            if str(key).lower() == name.lower():
                return value[key]
    return None


# -- the runner -------------------------------------------------------------------------------------


@dataclass
class StepRecord:
    name: str
    id: str | None
    kind: str  # "run" or the `uses:` reference
    ran: bool
    outcome: str  # success, failure, skipped
    exit_code: int | None = None
    log: str = ""
    seconds: float = 0.0


@dataclass
class RunResult:
    steps: list[StepRecord]
    outputs: dict[str, str]
    failed: bool
    summary: str

    def step(self, name: str) -> StepRecord:
        for s in self.steps:
            if s.name == name or s.id == name:
                return s
        raise KeyError(name)

    @property
    def log(self) -> str:
        return "".join(f"##[group]{s.name} ({s.outcome})\n{s.log}##[endgroup]\n" for s in self.steps)

    @property
    def exit_code(self) -> int | None:
        """Exit code of the first failed step, else 0."""
        for s in self.steps:
            if s.outcome == "failure":
                return s.exit_code
        return 0


@dataclass
class Runner:
    """One fresh runner: its own temp/tool-cache/workspace dirs, sharing only `cache_dir` (the
    repository's Actions cache) with other runners."""

    root: Path
    cache_dir: Path
    workspace: Path
    github: dict[str, Any]
    base_env: dict[str, str]
    python: str = sys.executable
    os_name: str = "Linux"
    arch: str = "X64"
    timeout_s: float = 1800.0
    _env: dict[str, str] = field(default_factory=dict)
    _path: list[str] = field(default_factory=list)
    _steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failed: bool = False

    @property
    def temp(self) -> Path:
        return self.root / "_temp"

    @property
    def tool_cache(self) -> Path:
        return self.root / "_tool"

    def runner_context(self) -> dict[str, str]:
        return {
            "os": self.os_name,
            "arch": self.arch,
            "temp": str(self.temp),
            "tool_cache": str(self.tool_cache),
        }

    # -- expressions ----------------------------------------------------------------------------

    def evaluate(self, expr: str, inputs: Mapping[str, str], env: Mapping[str, str]) -> Any:
        contexts = {
            "inputs": dict(inputs),
            "steps": self._steps,
            "github": self.github,
            "env": dict(env),
            "runner": self.runner_context(),
        }
        funcs: dict[str, Callable[..., Any]] = {
            "success": lambda: not self._failed,
            "failure": lambda: self._failed,
            "always": lambda: True,
            "cancelled": lambda: False,
            "contains": lambda a, b: (
                any(_eq(x, b) for x in a) if isinstance(a, list) else to_str(b).lower() in to_str(a).lower()
            ),
            "startswith": lambda a, b: to_str(a).lower().startswith(to_str(b).lower()),
            "endswith": lambda a, b: to_str(a).lower().endswith(to_str(b).lower()),
            "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: to_str(a[int(m.group(1))]), to_str(f)),
            "hashfiles": self.hash_files,
        }
        return _Parser(expr, contexts, funcs).parse()

    def interpolate(self, text: Any, inputs: Mapping[str, str], env: Mapping[str, str]) -> str:
        text = to_str(text)
        whole = _EXPR.fullmatch(text.strip())
        if whole:
            return to_str(self.evaluate(whole.group(1), inputs, env))
        return _EXPR.sub(lambda m: to_str(self.evaluate(m.group(1), inputs, env)), text)

    def condition(self, cond: Any, inputs: Mapping[str, str], env: Mapping[str, str]) -> bool:
        if cond is None:
            return not self._failed
        if isinstance(cond, bool):
            return cond and not self._failed
        text = str(cond).strip()
        whole = _EXPR.fullmatch(text)
        if whole:
            text = whole.group(1).strip()
        if not any(f in text.replace(" ", "").lower() for f in _STATUS_FUNCS):
            text = f"success() && ({text})"
        return truthy(self.evaluate(text, inputs, env))

    def hash_files(self, *patterns: str) -> str:
        """hashFiles(): files under the WORKSPACE only (as GitHub's), sha256 of their sha256s."""
        files = sorted(
            {
                p
                for pattern in patterns
                for p in self.workspace.rglob("*")
                if p.is_file() and _glob(pattern).fullmatch(p.relative_to(self.workspace).as_posix())
            }
        )
        if not files:
            return ""
        outer = hashlib.sha256()
        for f in files:
            outer.update(hashlib.sha256(f.read_bytes()).digest())
        return outer.hexdigest()

    # -- running --------------------------------------------------------------------------------

    def run_action(self, action_dir: Path, with_: Mapping[str, str] | None = None) -> RunResult:
        spec = YAML(typ="safe").load((action_dir / "action.yml").read_text())
        if spec.get("runs", {}).get("using") != "composite":
            raise ActionError("only composite actions are emulated")
        for d in (self.temp, self.tool_cache, self.workspace):
            d.mkdir(parents=True, exist_ok=True)
        inputs = self._inputs(spec.get("inputs") or {}, with_ or {})
        records = []
        for index, step in enumerate(spec["runs"]["steps"]):
            records.append(self._step(index, step, inputs, action_dir))
        outputs = {
            name: self.interpolate(out.get("value", ""), inputs, self.step_env({}))
            for name, out in (spec.get("outputs") or {}).items()
        }
        summary = "".join(
            p.read_text() for p in sorted(self.temp.glob("_runner_file_commands/step_summary_*"))
        )
        return RunResult(records, outputs, self._failed, summary)

    def _inputs(self, declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
        unknown = set(given) - set(declared)
        if unknown:
            raise ActionError(f"unexpected inputs {sorted(unknown)} (a runner warns; this one refuses)")
        out = {}
        for name, spec in declared.items():
            if name in given:
                out[name] = str(given[name])
            else:
                out[name] = self.interpolate((spec or {}).get("default", ""), {}, self.step_env({}))
        return out

    def step_env(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(
            GITHUB_WORKSPACE=str(self.workspace),
            RUNNER_TEMP=str(self.temp),
            RUNNER_TOOL_CACHE=str(self.tool_cache),
            RUNNER_OS=self.os_name,
            RUNNER_ARCH=self.arch,
            CI="true",
            GITHUB_ACTIONS="true",
        )
        for key, github_key in (
            ("GITHUB_EVENT_NAME", "event_name"),
            ("GITHUB_EVENT_PATH", "event_path"),
            ("GITHUB_REPOSITORY", "repository"),
            ("GITHUB_API_URL", "api_url"),
            ("GITHUB_SHA", "sha"),
            ("GITHUB_REF", "ref"),
            ("GITHUB_RUN_ID", "run_id"),
        ):
            if self.github.get(github_key) is not None:
                env[key] = to_str(self.github[github_key])
        env.update(self._env)
        env["PATH"] = os.pathsep.join([*reversed(self._path), env.get("PATH", "")])
        env.update(extra)
        return env

    def _step(
        self, index: int, step: Mapping[str, Any], inputs: Mapping[str, str], action_dir: Path
    ) -> StepRecord:
        sid = step.get("id")
        kind = "run" if "run" in step else str(step.get("uses"))
        name = str(
            step.get("name") or (f"Run {str(step.get('run', '')).splitlines()[0]}" if "run" in step else kind)
        )
        env = self.step_env({})
        if not self.condition(step.get("if"), inputs, env):
            self._remember(sid, {}, "skipped")
            return StepRecord(name, sid, kind, ran=False, outcome="skipped")
        step_env = {k: self.interpolate(v, inputs, env) for k, v in (step.get("env") or {}).items()}
        started = time.monotonic()
        files = self._command_files(index)
        full_env = self.step_env(
            {**step_env, "GITHUB_ACTION_PATH": str(action_dir), **{k: str(v) for k, v in files.items()}}
        )
        if "run" in step:
            code, log = self._run_script(step, full_env, inputs, env)
            outputs = self._apply_files(files)
        else:
            with_ = {k: self.interpolate(v, inputs, env) for k, v in (step.get("with") or {}).items()}
            code, log, outputs = self._uses(kind, with_, full_env)
            outputs.update(self._apply_files(files))
        outcome = "success" if code == 0 else "failure"
        if code != 0 and not step.get("continue-on-error"):
            self._failed = True
        self._remember(sid, outputs, outcome)
        return StepRecord(name, sid, kind, True, outcome, code, log, time.monotonic() - started)

    def _remember(self, sid: str | None, outputs: dict[str, str], outcome: str) -> None:
        if sid:
            self._steps[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}

    def _command_files(self, index: int) -> dict[str, Path]:
        d = self.temp / "_runner_file_commands"
        d.mkdir(parents=True, exist_ok=True)
        tag = f"{index:02d}_{uuid.uuid4().hex[:8]}"
        files = {
            "GITHUB_OUTPUT": d / f"set_output_{tag}",
            "GITHUB_ENV": d / f"set_env_{tag}",
            "GITHUB_PATH": d / f"add_path_{tag}",
            "GITHUB_STEP_SUMMARY": d / f"step_summary_{tag}",
        }
        for f in files.values():
            f.write_text("")
        return files

    def _apply_files(self, files: Mapping[str, Path]) -> dict[str, str]:
        self._env.update(parse_file_command(files["GITHUB_ENV"].read_text()))
        self._path += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line.strip()]
        return parse_file_command(files["GITHUB_OUTPUT"].read_text())

    def _run_script(
        self,
        step: Mapping[str, Any],
        env: dict[str, str],
        inputs: Mapping[str, str],
        ctx_env: Mapping[str, str],
    ) -> tuple[int, str]:
        shell = step.get("shell")
        if shell not in _SHELLS:
            raise ActionError(f"composite run steps need a shell (bash, sh, python); got {shell!r}")
        script = self.interpolate(step["run"], inputs, ctx_env)
        path = self.temp / f"{uuid.uuid4()}.{'py' if shell == 'python' else 'sh'}"
        path.write_text(script)
        argv = [a.replace("{0}", str(path)) for a in _SHELLS[shell]]
        exe = shutil.which(argv[0], path=env["PATH"])
        if exe is None:
            raise ActionError(f"{argv[0]} is not on the runner's PATH")
        cwd = self.workspace / str(step.get("working-directory", "."))
        proc = subprocess.run(
            [exe, *argv[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=self.timeout_s
        )
        return proc.returncode, proc.stdout + proc.stderr

    # -- well-known actions -----------------------------------------------------------------------

    def _uses(self, ref: str, with_: dict[str, str], env: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        name = ref.split("@", 1)[0]
        if name == "actions/setup-python":
            return self._setup_python(with_)
        if name == "actions/cache/restore":
            return self._cache_restore(with_)
        if name == "actions/cache/save":
            return self._cache_save(with_)
        raise ActionError(f"uses: {ref} is not one of the well-known actions this runner emulates")

    def _setup_python(self, with_: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
        version = with_.get("python-version", "")
        home = self.tool_cache / "Python" / (version or "default") / "x64"
        if not (home / "bin" / "python").exists():
            base = getattr(sys, "_base_executable", sys.executable)
            subprocess.run([base, "-m", "venv", str(home)], check=True, capture_output=True)
            # The tests' own installed dependencies stay visible (the registry is not needed for them).
            site = subprocess.run(
                [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            target = subprocess.run(
                [
                    str(home / "bin" / "python"),
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            Path(target, "_runner_deps.pth").write_text(site + "\n")
        self._path.append(str(home / "bin"))
        self._env["pythonLocation"] = str(home)
        real = subprocess.run(
            [str(home / "bin" / "python"), "-c", "import platform; print(platform.python_version())"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        note = f"emulated setup-python: asked {version!r}, using Python {real} at {home}\n"
        return (
            0,
            note,
            {"python-version": real, "python-path": str(home / "bin" / "python"), "cache-hit": "false"},
        )

    def _cache_paths(self, with_: Mapping[str, str]) -> list[str]:
        paths = [p.strip() for p in with_.get("path", "").splitlines() if p.strip()]
        if not paths:
            raise ActionError("actions/cache: input 'path' is required")
        return paths

    def _cache_version(self, paths: list[str]) -> str:
        # The real version hashes the path strings; here runners live in different directories with
        # the same layout, so the paths are hashed relative to the workspace.
        rels = [os.path.relpath(self._resolve(p), self.workspace) for p in paths]
        return hashlib.sha256("|".join([*rels, "zstd-without-long", "1.0"]).encode()).hexdigest()

    def _resolve(self, path: str) -> Path:
        p = Path(os.path.expandvars(path)).expanduser()
        return p if p.is_absolute() else self.workspace / p

    def _entries(self) -> list[dict[str, Any]]:
        out = []
        for manifest in self.cache_dir.glob("*/manifest.json"):
            data = json.loads(manifest.read_text())
            data["dir"] = manifest.parent
            out.append(data)
        return sorted(out, key=lambda e: e["created"], reverse=True)

    def _cache_restore(self, with_: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
        key = with_.get("key", "").strip()
        if not key:
            raise ActionError("actions/cache/restore: input 'key' is required")
        paths = self._cache_paths(with_)
        version = self._cache_version(paths)
        entries = [e for e in self._entries() if e["version"] == version]
        restore_keys = [k.strip() for k in with_.get("restore-keys", "").splitlines() if k.strip()]
        hit = next((e for e in entries if e["key"] == key), None)
        if hit is None:
            hit = next((e for k in restore_keys for e in entries if e["key"].startswith(k)), None)
        outputs = {"cache-primary-key": key}
        if hit is None:
            return 0, f"Cache not found for input keys: {', '.join([key, *restore_keys])}\n", outputs
        for i, rel in enumerate(hit["paths"]):
            target = Path(os.path.normpath(self.workspace / rel))
            source = hit["dir"] / "files" / str(i)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            elif source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        outputs.update({"cache-hit": str(hit["key"] == key).lower(), "cache-matched-key": hit["key"]})
        return 0, f"Cache restored from key: {hit['key']}\n", outputs

    def _cache_save(self, with_: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
        key = with_.get("key", "").strip()
        if not key:
            raise ActionError("actions/cache/save: input 'key' is required")
        paths = self._cache_paths(with_)
        version = self._cache_version(paths)
        if any(e["key"] == key and e["version"] == version for e in self._entries()):
            return (
                0,
                f"Warning: Failed to save: Unable to reserve cache with key {key}, "
                "another job may be creating this cache.\n",
                {},
            )
        resolved = [self._resolve(p) for p in paths]
        if not any(p.exists() for p in resolved):
            return (
                0,
                "Warning: Path Validation Error: Path(s) specified in the action for caching do(es) not "
                "exist, hence no cache is being saved.\n",
                {},
            )
        entry = self.cache_dir / uuid.uuid4().hex
        for i, p in enumerate(resolved):
            dest = entry / "files" / str(i)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if p.is_dir():
                shutil.copytree(p, dest)
            elif p.exists():
                shutil.copy2(p, dest)
        rels = [os.path.relpath(p, self.workspace) for p in resolved]
        manifest = {"key": key, "version": version, "paths": rels, "created": time.time()}
        (entry / "manifest.json").write_text(json.dumps(manifest))
        return 0, f"Cache saved with key: {key}\n", {}


def parse_file_command(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIM` ... `DELIM` blocks, as the runner reads GITHUB_OUTPUT/ENV."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line:
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = heredoc.group(1), heredoc.group(2)
            body = []
            while i < len(lines) and lines[i].rstrip("\r") != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ActionError(f"matching delimiter {delim!r} not found for {name!r}")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise ActionError(f"invalid format {line!r} in a file command")
    return out
