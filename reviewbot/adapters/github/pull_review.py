"""One pull-request review, the same for the GitHub Action and the webhook worker.

    service = PullReviewService(FullConfig(environ, overrides), environ=environ)  # `reviewbot action`
    service = PullReviewService(PolicyConfig(settings), environ={})  # the webhook worker
    reviewed = service.review(checkout, pull)  # settings + the BASE revision's config, policy, run_review
    published = service.publish(reviewed, poster)  # publish_review on a host opened now

The two steps are separate because each caller has work between them: the Action writes the SARIF
file and the log, the worker checks whether a newer push superseded the job. Settings are loaded
once per review, through `load_settings` (one alias table: `settings.ENV_ALIASES`), with the config
files read from the base revision: a pull request cannot change how it is reviewed. The PR's code
is a stranger's: the review runs it only in the sandbox (`untrusted=True`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from reviewbot.adapters.git.workspace import GitWorkspace
from reviewbot.adapters.github.identity import action_identity
from reviewbot.adapters.github.port import CodeHost
from reviewbot.adapters.github.publish import PublishResult, publish_review
from reviewbot.adapters.github.pygithub_host import PyGithubHost
from reviewbot.errors import ConfigError
from reviewbot.pipeline.run import ReviewOutcome, ReviewRequest, run_review
from reviewbot.policy_choice import PullRequestText, choose_reviewer
from reviewbot.settings import Settings, load_settings, with_repository_config

PYPROJECT = "pyproject.toml"
REVIEWBOT_TOML = ".reviewbot.toml"


@dataclass(frozen=True)
class PullToReview:
    """Which change: PR `number` of `repository` (owner/name), from `base_sha` to `head_sha`."""

    repository: str
    number: int
    base_sha: str
    head_sha: str
    text: PullRequestText = field(default_factory=PullRequestText)


class ConfigSource(Protocol):
    """How a review's settings are made from the config files of the base revision."""

    @property
    def config_path(self) -> str: ...

    def settings(self, pyproject_text: str | None, reviewbot_toml_text: str | None) -> Settings: ...


def _repository_path(path: str) -> str:
    clean = path.strip().lstrip("/")
    if not clean or ".." in Path(clean).parts:
        raise ConfigError(f"config path must be a repository-relative path, got {path!r}")
    return clean


@dataclass(frozen=True)
class FullConfig:
    """The repository runs reviewbot itself (its own Action): its config decides everything, below
    the `REVIEWBOT_*` environment and `overrides` (the command line, the Action's inputs)."""

    environ: Mapping[str, str]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    config_path: str = REVIEWBOT_TOML

    def __post_init__(self) -> None:
        object.__setattr__(self, "config_path", _repository_path(self.config_path))

    def settings(self, pyproject_text: str | None, reviewbot_toml_text: str | None) -> Settings:
        return load_settings(
            pyproject_text=pyproject_text,
            reviewbot_toml_text=reviewbot_toml_text,
            environ=self.environ,
            overrides=self.overrides,
        )


@dataclass(frozen=True)
class PolicyConfig:
    """A bot serving many repositories: the deployment's settings, with only the review-policy keys
    of the repository's config on top (`settings.REPOSITORY_KEYS`)."""

    deployment: Settings
    config_path: str = REVIEWBOT_TOML

    def settings(self, pyproject_text: str | None, reviewbot_toml_text: str | None) -> Settings:
        return with_repository_config(
            self.deployment, pyproject_text=pyproject_text, reviewbot_toml_text=reviewbot_toml_text
        )


class Poster(Protocol):
    """Where the review goes, opened at publish time: the review may outlive an earlier token."""

    def open(self, settings: Settings) -> tuple[CodeHost, str]:
        """The PR repository's host, and the login its token posts as (whose markers are trusted)."""
        ...


@dataclass(frozen=True)
class TokenPoster:
    """A fixed token (the Action's GITHUB_TOKEN, a personal access token) on `settings.github.api_url`."""

    repository: str
    token: str
    bot_login: str = ""

    def open(self, settings: Settings) -> tuple[CodeHost, str]:
        host = PyGithubHost(self.repository, self.token, base_url=settings.github.api_url)
        return host, action_identity(self.token, self.bot_login, host.whoami)


@dataclass(frozen=True)
class ReviewedPull:
    pull: PullToReview
    settings: Settings  # as loaded for this review (the base revision's config applied)
    outcome: ReviewOutcome


@dataclass(frozen=True)
class PublishedPull:
    reviewed: ReviewedPull
    result: PublishResult


class PullReviewService:
    """`environ` is what the LLM policy may read keys from: the Action's environment, or `{}` for the
    webhook worker, whose keys come from its settings only."""

    def __init__(self, config: ConfigSource, *, environ: Mapping[str, str]) -> None:
        self.config = config
        self.environ = environ

    def settings_at_base(self, checkout: Path, base_sha: str) -> Settings:
        """The config files as the base revision has them, read in one pass; a path that is absent
        there or not a regular file (a symlink's target is not configuration) counts as absent."""
        names = [PYPROJECT, self.config.config_path]
        entries = GitWorkspace(checkout).files_at(base_sha, names)
        texts = {e.path: e.data.decode("utf-8", "replace") for e in entries if e.symlink_target is None}
        return self.config.settings(texts.get(PYPROJECT), texts.get(self.config.config_path))

    def review(self, checkout: Path, pull: PullToReview) -> ReviewedPull:
        """Review `pull` in `checkout` (a git repository holding both commits)."""
        settings = self.settings_at_base(checkout, pull.base_sha)
        reviewer = choose_reviewer(settings, self.environ, pr=pull.text)
        request = ReviewRequest(repo_root=checkout, base=pull.base_sha, head=pull.head_sha, untrusted=True)
        return ReviewedPull(pull, settings, run_review(request, settings, reviewer=reviewer))

    def publish(self, reviewed: ReviewedPull, poster: Poster) -> PublishedPull:
        """Post the review (raises CodeHostError and subclasses: the caller decides what a failure means)."""
        host, identity = poster.open(reviewed.settings)
        outcome, pull = reviewed.outcome, reviewed.pull
        result = publish_review(
            host,
            pull.number,
            outcome.review,
            outcome.diff,
            reviewed.settings,
            head_sha=pull.head_sha,
            identity=identity,
        )
        return PublishedPull(reviewed, result)
