"""Typed settings, loaded once at an entry point and passed down. Nothing below reads os.environ.

Precedence, highest first: command-line overrides > `REVIEWBOT_*` environment > `.reviewbot.toml`
> `[tool.reviewbot]` in pyproject.toml > defaults. Nested keys use `__` in the environment
(`REVIEWBOT_SANDBOX__BACKEND=docker`) and tables in TOML (`[tool.reviewbot.sandbox]`); a few flat
names are aliases of nested ones (`ENV_ALIASES`: `REVIEWBOT_GITHUB_TOKEN`, `REVIEWBOT_LLM_MODEL`, …).

Config files are passed in as *text*, so a PR mode can read them from the base revision (a PR
cannot change how it is reviewed) and local mode from the working tree.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from reviewbot.core.finding import Severity
from reviewbot.errors import ConfigError, ReviewbotError

FailOn = Literal["error", "warning", "note", "never"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SandboxSettings(_Section):
    backend: Literal["auto", "docker", "process"] = "auto"
    image: str = "reviewbot-sandbox:latest"
    base_image: str = "python:3.12-slim"
    cpus: float = Field(default=1.0, gt=0)
    memory_mb: int = Field(default=2048, ge=64)
    pids: int = Field(default=512, ge=16)
    timeout_s: float = Field(default=600.0, gt=0)
    runtime: str | None = None
    install_command: list[str] | None = Field(
        default=None, description="Runs with network before the tests, e.g. ['pip','install','-e','.[test]']"
    )
    install: Literal["auto", "none"] = Field(
        default="auto",
        description="auto: install the test environment the project declares (cached); none: install nothing",
    )
    index_url: str | None = Field(
        default=None, description="Package index for installs (PIP_INDEX_URL); must not carry credentials"
    )
    env_cache_mb: int = Field(default=4096, ge=64, description="Size cap of the test environment cache")
    env_cache_dir: Path | None = Field(
        default=None, description="Where the cache's bookkeeping lives (default ~/.cache/reviewbot)"
    )
    install_timeout_s: float = Field(default=300.0, gt=0)
    ca_bundle: Path | None = Field(default=None, description="PEM bundle trusted inside the sandbox")
    allow_process_backend_for_untrusted: bool = False

    @field_validator("index_url")
    @classmethod
    def _index_url_without_credentials(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL of a package index, e.g. https://pypi.org/simple")
        if parts.username or parts.password:
            raise ValueError(
                "must not carry credentials: the pull request's build code runs where the index is used"
            )
        return value


class AnalyzerSettings(_Section):
    ruff: bool = True
    ruff_format: bool | Literal["auto"] = Field(
        default="auto",
        description="`ruff format --check`: true always, false never, auto where the project enforces it",
    )
    curated_rules: bool = True
    curated_select: list[str] = Field(
        default_factory=lambda: ["F", "E9", "B", "S102", "S307", "S602", "S604", "S605", "S608", "PLE"]
    )
    tests: bool = True
    test_command: list[str] = Field(default_factory=lambda: ["python", "-m", "pytest"])
    test_timeout_s: float = Field(default=600.0, gt=0)


class AgentSettings(_Section):
    max_iterations: int = Field(default=40, ge=1)
    budget_s: float = Field(default=1800.0, gt=0)
    tool_timeout_s: float = Field(default=900.0, gt=0)
    memory_max_items: int = Field(default=200, ge=1)
    memory_max_age_s: float = Field(default=3600.0, gt=0)


class GitHubSettings(_Section):
    token: SecretStr | None = None
    api_url: str = "https://api.github.com"
    review_event: Literal["COMMENT", "REQUEST_CHANGES"] = "COMMENT"
    max_inline_comments: int = Field(default=30, ge=0)
    app_id: str | None = None
    private_key: SecretStr | None = None
    private_key_path: Path | None = None


Specialist = Literal["correctness", "security", "tests"]
_SPECIALISTS: tuple[Specialist, ...] = ("correctness", "security", "tests")


class LLMSettings(_Section):
    provider: Literal["none", "openai", "anthropic"] = "none"
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=120.0, gt=0)
    max_tokens: int = Field(default=4096, ge=1)
    token_budget: int = Field(default=200_000, ge=1000)
    # The LLM review (reviewbot/adapters/llm): prompt size, retries, prices, Azure, multi-agent.
    context_tokens: int = Field(
        default=32_000, ge=2000, description="Prompt size limit per model call (approximate tokens)"
    )
    max_retries: int = Field(default=4, ge=0, description="Retries on 429/5xx/connection errors")
    max_retry_wait_s: float = Field(default=60.0, ge=0, description="Longest Retry-After honoured")
    api_version: str | None = Field(
        default=None, description="Azure OpenAI api-version; when set, the key goes in an api-key header"
    )
    price_input_per_mtok: float | None = Field(default=None, ge=0, description="USD per million input tokens")
    price_output_per_mtok: float | None = Field(
        default=None, ge=0, description="USD per million output tokens"
    )
    max_comments: int = Field(default=20, ge=0, description="Most LLM findings posted per review")
    max_comment_chars: int = Field(default=3000, ge=200)
    link_allowlist: list[str] = Field(
        default_factory=lambda: ["docs.python.org"], description="Hosts whose links survive the output filter"
    )
    multi_agent: bool = False
    specialists: list[Specialist] = Field(default_factory=lambda: list(_SPECIALISTS))


class Settings(BaseModel):
    """All settings. Build with `load_settings` (explicit inputs: files, environment, overrides)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fail_on: FailOn = "error"
    scope: Literal["added", "context"] = Field(
        default="added", description="Report lint on added lines only, or on any line of the diff's hunks"
    )
    include: list[str] = Field(default_factory=list, description="Glob patterns; empty = everything")
    exclude: list[str] = Field(default_factory=list)
    max_findings: int = Field(default=100, ge=1)
    max_file_bytes: int = Field(default=1_000_000, ge=1)
    max_files: int = Field(default=20_000, ge=1, description="Files per revision copied into the sandbox")
    max_repo_mb: int = Field(default=200, ge=1, description="Bytes per revision copied into the sandbox")
    sandbox: SandboxSettings = SandboxSettings()
    analyzers: AnalyzerSettings = AnalyzerSettings()
    agent: AgentSettings = AgentSettings()
    github: GitHubSettings = GitHubSettings()
    llm: LLMSettings = LLMSettings()
    # Webhook server (issue: self-hosted bot)
    webhook_secret: SecretStr | None = None
    queue: str = "sqlite"
    data_dir: Path = Path(".reviewbot")
    webhook_review_drafts: bool = Field(default=False, description="Review draft PRs on pull_request events")
    webhook_workers: int = Field(default=2, ge=1, description="Concurrent review jobs per bot process")

    @property
    def fail_on_severity(self) -> Severity | None:
        return None if self.fail_on == "never" else Severity(self.fail_on)


def read_named_file(path: Path, name: str, *, error: type[ReviewbotError] = ConfigError) -> bytes:
    """The bytes of the file a setting or flag (`name`) points at; `error` naming both if the file
    cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"{name} {path} cannot be read: {exc}") from exc


def _normalize_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).replace("-", "_"): _normalize_keys(v) for k, v in value.items()}
    return value


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# -- Loading, with the origin of every key kept so an error can name it as the user wrote it. --

Loc = tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    """Where a setting came from: `source` (a file, an environment variable, the command line) and
    the key as written there (`fail-on`, `analyzers.test-timeout-s`)."""

    source: str
    key: str


@dataclass
class _Layers:
    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[Loc, Origin] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, values: Mapping[str, Any], origins: Mapping[Loc, Origin]) -> None:
        self.values = _deep_merge(self.values, _normalize_keys(dict(values)))
        self.origins.update(origins)


def _written(section: Mapping[str, Any], source: str, loc: Loc = (), key: str = "") -> dict[Loc, Origin]:
    out: dict[Loc, Origin] = {}
    for k, v in section.items():
        here = (*loc, str(k).replace("-", "_"))
        written = f"{key}.{k}" if key else str(k)
        out[here] = Origin(source, written)
        if isinstance(v, dict):
            out.update(_written(v, source, here, written))
    return out


def _unwrap_reviewbot_toml(data: dict[str, Any]) -> dict[str, Any]:
    """`.reviewbot.toml` holds the settings at its top level; a pasted `[tool.reviewbot]` (or
    `[reviewbot]`) header around them is accepted too."""
    if set(data) == {"tool"} and isinstance(data["tool"], dict) and "reviewbot" in data["tool"]:
        inner: dict[str, Any] = data["tool"]["reviewbot"]
        return inner
    if set(data) == {"reviewbot"} and isinstance(data["reviewbot"], dict):
        inner = data["reviewbot"]
        return inner
    return data


def _pyproject_section(data: dict[str, Any]) -> Any:
    tool = data.get("tool", {})
    return tool.get("reviewbot", {}) if isinstance(tool, dict) else {}


def _add_file(
    layers: _Layers, name: str, text: str | None, pick: Callable[[dict[str, Any]], Any], table: str = ""
) -> None:
    if text is None:
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        layers.problems.append(f"{name}: not valid TOML: {exc}")
        return
    section = pick(data)
    where = f"{name} {table}".strip()
    if not isinstance(section, dict):
        layers.problems.append(f"{where}: must be a table of settings, not a {type(section).__name__}")
        return
    layers.add(section, _written(section, where))


def _file_layers(
    pyproject_text: str | None, reviewbot_toml_text: str | None, pyproject_name: str, reviewbot_toml_name: str
) -> _Layers:
    layers = _Layers()
    _add_file(layers, pyproject_name, pyproject_text, _pyproject_section, "[tool.reviewbot]")
    _add_file(layers, reviewbot_toml_name, reviewbot_toml_text, _unwrap_reviewbot_toml)
    return layers


def _leaves(values: Mapping[str, Any], loc: Loc = ()) -> list[Loc]:
    out: list[Loc] = []
    for k, v in values.items():
        out += _leaves(v, (*loc, k)) if isinstance(v, dict) else [(*loc, k)]
    return out


ENV_PREFIX = "REVIEWBOT_"

#: The one alias table: the flat names the documentation promises (README.md, "Settings") -> the
#: nested names `load_settings` reads. Every entry point (local, Action, serve, worker) goes
#: through `load_settings`, so each of them accepts the same names. A non-empty flat name wins
#: over its nested spelling.
ENV_ALIASES = {
    "REVIEWBOT_APP_ID": "REVIEWBOT_GITHUB__APP_ID",
    "REVIEWBOT_PRIVATE_KEY": "REVIEWBOT_GITHUB__PRIVATE_KEY",
    "REVIEWBOT_PRIVATE_KEY_PATH": "REVIEWBOT_GITHUB__PRIVATE_KEY_PATH",
    "REVIEWBOT_GITHUB_TOKEN": "REVIEWBOT_GITHUB__TOKEN",
    "REVIEWBOT_GITHUB_API_URL": "REVIEWBOT_GITHUB__API_URL",
    "REVIEWBOT_LLM_PROVIDER": "REVIEWBOT_LLM__PROVIDER",
    "REVIEWBOT_LLM_BASE_URL": "REVIEWBOT_LLM__BASE_URL",
    "REVIEWBOT_LLM_MODEL": "REVIEWBOT_LLM__MODEL",
}


def _aliased(environ: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(`environ` with every flat alias given under its nested name, nested name -> the alias used)."""
    out = {k: v for k, v in environ.items() if k.upper() not in ENV_ALIASES}
    used: dict[str, str] = {}
    for name, value in environ.items():
        nested = ENV_ALIASES.get(name.upper())
        if nested is not None and value:
            for other in [k for k in out if k.upper() == nested]:
                del out[other]
            out[nested], used[nested] = value, name
    return out, used


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_json(annotation: Any) -> bool:
    """Lists, tables and models are written as JSON in the environment; scalars as plain text."""
    if _submodel(annotation) is not None or get_origin(annotation) in (list, dict, tuple, set):
        return True
    return get_origin(annotation) in (Union, UnionType) and any(_is_json(a) for a in get_args(annotation))


def _env_path(name: str) -> list[tuple[str, Any]] | None:
    """REVIEWBOT_SANDBOX__MEMORY_MB -> [("sandbox", SandboxSettings), ("memory_mb", int)], or None
    when the variable names no setting (other REVIEWBOT_* names, such as flat aliases, are not ours)."""
    model: type[BaseModel] | None = Settings
    path: list[tuple[str, Any]] = []
    for part in name[len(ENV_PREFIX) :].lower().split("__"):
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return None
        path.append((part, info.annotation))
        model = _submodel(info.annotation)
    return path


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """`REVIEWBOT_*` variables as a nested dict: `__` nests (REVIEWBOT_SANDBOX__BACKEND), names are
    case-insensitive, lists and tables are JSON (REVIEWBOT_EXCLUDE='["docs/*"]')."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in sorted(environ.items()):
        path = _env_path(name) if name.upper().startswith(ENV_PREFIX) else None
        if not path:
            continue
        target = out
        for part, _ in path[:-1]:
            # REVIEWBOT_SANDBOX__X wins over a REVIEWBOT_SANDBOX that is not a table
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        key, annotation = path[-1]
        try:
            target[key] = json.loads(raw) if _is_json(annotation) else raw
        except ValueError:
            problems.append(
                f"environment variable {name}: not valid JSON (lists and tables are JSON: '[\"docs/**\"]')"
            )
    if problems:
        raise ConfigError("invalid configuration", problems)
    return out


def _env_origins(
    values: Mapping[str, Any], environ: Mapping[str, str], aliases: Mapping[str, str]
) -> dict[Loc, Origin]:
    by_upper = {k.upper(): k for k in environ} | dict(aliases)
    out: dict[Loc, Origin] = {}
    for loc in _leaves(values):
        name = "REVIEWBOT_" + "__".join(loc).upper()
        out[loc] = Origin(f"environment variable {by_upper.get(name, name)}", by_upper.get(name, name))
    return out


def _model_at(loc: Loc) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Settings
    for part in loc:
        info = model.model_fields.get(part) if model is not None else None
        model = _submodel(info.annotation) if info is not None else None
    return model


def _did_you_mean(loc: Loc, written: str) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    hyphen = "_" not in written
    names = [n.replace("_", "-") if hyphen else n for n in model.model_fields]
    close = difflib.get_close_matches(written, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else f"; known keys here: {', '.join(sorted(names))}"


def _origin_of(loc: Loc, origins: Mapping[Loc, Origin]) -> tuple[Origin, str]:
    """The origin of the longest known prefix of `loc`, and what is left of `loc` (list indexes)."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origins:
            return origins[loc[:n]], "".join(f"[{p}]" for p in loc[n:])
    return Origin("settings", ".".join(loc).replace("_", "-")), ""


_SECRET_WORDS = ("token", "key", "secret", "password")
#: user:password@ in a URL: never echoed back in an error.
_URL_USERINFO = re.compile(r"://[^/@\s]+@")


def _problem(error: Mapping[str, Any], origins: Mapping[Loc, Origin]) -> str:
    loc = tuple(str(p) for p in error["loc"])
    origin, rest = _origin_of(loc, origins)
    key = origin.key + rest
    where = origin.source if origin.source.startswith("environment variable") else f"{origin.source}: {key}"
    if error["type"] == "extra_forbidden":
        last = key.rsplit(".", 1)[-1]
        return f"{where}: unknown key{_did_you_mean(loc, last)}"
    shown = error.get("input")
    got = ""
    if isinstance(shown, str | int | float | bool) and not any(w in key.lower() for w in _SECRET_WORDS):
        text = repr(_URL_USERINFO.sub("://***@", shown)) if isinstance(shown, str) else repr(shown)
        got = f" (got {text[:60]})"
    return f"{where}: {error['msg']}{got}"


def _validate(values: dict[str, Any], layers: _Layers, headline: str) -> Settings:
    problems = list(layers.problems)
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        problems += [_problem(e, layers.origins) for e in exc.errors()]
    if problems or settings is None:
        raise ConfigError(headline, list(dict.fromkeys(problems)))
    return settings


def load_settings(
    *,
    pyproject_text: str | None = None,
    reviewbot_toml_text: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    pyproject_name: str = "pyproject.toml",
    reviewbot_toml_name: str = ".reviewbot.toml",
) -> Settings:
    """Build the settings once. Raises ConfigError listing every problem, each with the file (or
    environment variable) and the key as written there. `*_name` is how the files are named in
    errors (a path the user recognizes)."""
    layers = _file_layers(pyproject_text, reviewbot_toml_text, pyproject_name, reviewbot_toml_name)
    env = {}
    named, aliases = _aliased(environ or {})
    try:
        env = env_values(named)
    except ConfigError as exc:
        layers.problems += exc.problems
    layers.add(env, _env_origins(env, named, aliases))
    given = _normalize_keys(dict(overrides or {}))
    flags = {loc: Origin("command line", ".".join(loc).replace("_", "-")) for loc in _leaves(given)}
    layers.add(given, flags)
    return _validate(layers.values, layers, "invalid configuration")


#: What a repository's own config (read from the PR's base revision) may decide in a multi-tenant
#: deployment: how its changes are reviewed. Not the sandbox's limits, credentials, the LLM
#: endpoint, or the queue — those belong to whoever runs the bot.
REPOSITORY_KEYS = frozenset(
    {"fail_on", "scope", "include", "exclude", "max_findings", "max_file_bytes", "analyzers"}
)


def with_repository_config(
    settings: Settings,
    *,
    pyproject_text: str | None,
    reviewbot_toml_text: str | None,
    pyproject_name: str = "pyproject.toml",
    reviewbot_toml_name: str = ".reviewbot.toml",
) -> Settings:
    """`settings` with the repository's review-policy keys applied on top (others are ignored)."""
    layers = _file_layers(pyproject_text, reviewbot_toml_text, pyproject_name, reviewbot_toml_name)
    headline = "the repository's reviewbot config is invalid"
    if layers.problems:
        raise ConfigError(headline, layers.problems)
    allowed = {k: v for k, v in layers.values.items() if k in REPOSITORY_KEYS}
    if not allowed:
        return settings
    return _validate(_deep_merge(settings.model_dump(), allowed), layers, headline)
