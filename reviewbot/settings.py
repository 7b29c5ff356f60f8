"""Typed settings, loaded once at an entry point and passed down. Nothing below reads os.environ.

Precedence, highest first: command-line overrides > `REVIEWBOT_*` environment > `.reviewbot.toml`
> `[tool.reviewbot]` in pyproject.toml > defaults. Nested keys use `__` in the environment
(`REVIEWBOT_SANDBOX__BACKEND=docker`) and tables in TOML (`[tool.reviewbot.sandbox]`).

Config files are passed in as *text*, so a PR mode can read them from the base revision (a PR
cannot change how it is reviewed) and local mode from the working tree.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from reviewbot.core.finding import Severity
from reviewbot.errors import ConfigError

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
    # Added for issue 6 (reviewbot/llm): prompt size, retries, prices, Azure, multi-agent.
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


class Settings(BaseSettings):
    """All settings. Build with `load_settings` (explicit inputs); `Settings()` would read os.environ."""

    model_config = SettingsConfigDict(
        env_prefix="REVIEWBOT_", env_nested_delimiter="__", frozen=True, extra="forbid", case_sensitive=False
    )

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


def config_from_files(pyproject_text: str | None, reviewbot_toml_text: str | None) -> dict[str, Any]:
    """Parse `[tool.reviewbot]` of pyproject.toml and the whole of `.reviewbot.toml` (which wins)."""
    merged: dict[str, Any] = {}
    sources: tuple[tuple[str, str | None, Callable[[dict[str, Any]], Any]], ...] = (
        ("pyproject.toml", pyproject_text, lambda d: d.get("tool", {}).get("reviewbot", {})),
        (".reviewbot.toml", reviewbot_toml_text, lambda d: d),
    )
    for name, text, pick in sources:
        if text is None:
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name} is not valid TOML: {exc}") from exc
        section = pick(data)
        if not isinstance(section, dict):
            raise ConfigError(f"{name}: the reviewbot section must be a table")
        merged = _deep_merge(merged, _normalize_keys(section))
    return merged


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """`REVIEWBOT_*` variables as a nested dict (JSON for lists: REVIEWBOT_EXCLUDE='["docs/*"]')."""
    source = EnvSettingsSource(Settings, case_sensitive=False)
    source.env_vars = {k.lower(): v for k, v in environ.items() if k.upper().startswith("REVIEWBOT_")}
    try:
        values: dict[str, Any] = _normalize_keys(source())
        return values
    except ValueError as exc:
        raise ConfigError(f"a REVIEWBOT_* environment variable could not be parsed: {exc}") from exc


def load_settings(
    *,
    pyproject_text: str | None = None,
    reviewbot_toml_text: str | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings once. Raises ConfigError naming the bad key."""
    values = config_from_files(pyproject_text, reviewbot_toml_text)
    values = _deep_merge(values, env_values(environ or {}))
    values = _deep_merge(values, _normalize_keys(dict(overrides or {})))
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"invalid setting {where}: {first['msg']} ({len(exc.errors())} error(s) in all)"
        ) from exc


#: What a repository's own config (read from the PR's base revision) may decide in a multi-tenant
#: deployment: how its changes are reviewed. Not the sandbox's limits, credentials, the LLM
#: endpoint, or the queue — those belong to whoever runs the bot.
REPOSITORY_KEYS = frozenset(
    {"fail_on", "scope", "include", "exclude", "max_findings", "max_file_bytes", "analyzers"}
)


def with_repository_config(
    settings: Settings, *, pyproject_text: str | None, reviewbot_toml_text: str | None
) -> Settings:
    """`settings` with the repository's review-policy keys applied on top (others are ignored)."""
    repo = config_from_files(pyproject_text, reviewbot_toml_text)
    allowed = {k: v for k, v in repo.items() if k in REPOSITORY_KEYS}
    if not allowed:
        return settings
    try:
        return Settings.model_validate(_deep_merge(settings.model_dump(), allowed))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"the repository's reviewbot config is invalid at {where}: {first['msg']}") from exc
