"""The environment a sandboxed command sees: built from an allowlist, never from the bot's own env.

The bot's environment may hold GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN, LLM keys...; none of it is
forwarded. Callers may add variables, but only names on `ENV_ALLOWLIST`; anything else is refused
loudly (a caller passing `os.environ` learns at once instead of leaking quietly).
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.spec import ENV_ALLOWED_PREFIXES, ENV_ALLOWLIST

#: Variables every backend sets and callers may not override (they point at the sandbox's own dirs).
RESERVED = frozenset({"HOME", "TMPDIR"})


def checked_extra_env(*extras: Mapping[str, str] | None) -> dict[str, str]:
    """Merge caller-supplied env mappings (later wins); raise ValueError on a name not allowed."""
    out: dict[str, str] = {}
    for extra in extras:
        if not extra:
            continue
        refused = sorted(k for k in extra if not allowed_name(k))
        if refused:
            raise ValueError(
                f"environment variables not allowed in the sandbox: {', '.join(refused)} "
                f"(allowed: {', '.join(k for k in ENV_ALLOWLIST if k not in RESERVED)})"
            )
        for key, value in extra.items():
            if "\x00" in key or "\x00" in value or "=" in key:
                raise ValueError(f"invalid environment variable {key!r}")
            out[key] = value
    return out


def allowed_name(name: str) -> bool:
    if name in RESERVED:
        return False
    return name in ENV_ALLOWLIST or any(
        name.startswith(p) and name[len(p) :].replace("_", "").isalnum() for p in ENV_ALLOWED_PREFIXES
    )


def base_env(*, path: str, home: str, tmpdir: str) -> dict[str, str]:
    """The variables every sandboxed command gets."""
    return {
        "PATH": path,
        "HOME": home,
        "TMPDIR": tmpdir,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
