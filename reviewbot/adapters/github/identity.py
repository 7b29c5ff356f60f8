"""Who posts the review: the login whose hidden markers and sticky summary reviewbot trusts.

GitHub answers 403 to `GET /user` with an installation token (GITHUB_TOKEN, an App's token): there
is no user behind it. So the identity is known without asking, except for a personal access token:
- GITHUB_TOKEN in Actions posts as `github-actions[bot]`;
- a GitHub App posts as `<slug>[bot]`, the slug coming from `GET /app` with the App's JWT
  (webhooks/auth.py);
- a personal access token (`ghp_…`, `github_pat_…`) is a user, and `GET /user` names it;
- anything else (an App token minted in a workflow) must be named explicitly (the action's
  `bot-login` input).
Markers from every other account, bots included, are ignored: another workflow or App cannot
silence a finding by posting "already reported".
"""

from __future__ import annotations

from collections.abc import Callable

ACTIONS_BOT = "github-actions[bot]"
#: Token prefixes of personal access tokens (classic and fine-grained): the only tokens a user is behind.
PERSONAL_TOKEN_PREFIXES = ("ghp_", "github_pat_")


def app_bot_login(slug: str) -> str:
    """The login a GitHub App's installation posts as."""
    return f"{slug}[bot]"


def is_personal_token(token: str) -> bool:
    return token.startswith(PERSONAL_TOKEN_PREFIXES)


def action_identity(token: str, explicit: str, whoami: Callable[[], str]) -> str:
    """The Action's identity: `explicit` when given, else `GET /user` (via `whoami`) for a personal
    access token, else GITHUB_TOKEN's `github-actions[bot]`."""
    if explicit.strip():
        return explicit.strip()
    if is_personal_token(token):
        return whoami()
    return ACTIONS_BOT
