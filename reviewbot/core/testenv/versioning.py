"""Projects versioned from git build without .git when told their version.

The sandbox copies the tree, not the repository, so setuptools-scm (directly or through
hatch-vcs), pdm-backend's scm source, poetry-dynamic-versioning and uv-dynamic-versioning would
fail or say 0.0.0. Each has an environment variable that supplies the version; the value is the
project's declared fallback version, else the newest version heading of its changelog (so
dependants' constraints such as `pluggy>=1.5` still hold), else 0.0.0 (noted).
"""

from __future__ import annotations

import re
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reviewbot.core.testenv.collect import Collector, string_list, table

_CHANGELOGS = ("CHANGELOG", "CHANGES", "HISTORY", "NEWS", "RELEASE_NOTES", "RELEASES")
_VERSION = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?)(?![\w])")
_RST_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`])\1{2,}\s*$")


def _scm_tool(data: dict[str, Any], out: Collector) -> str | None:
    """Which git-versioning tool the project uses, or None."""
    tool = table(data.get("tool"))
    requires = " ".join(string_list(table(data.get("build-system")).get("requires"))).lower()
    if table(table(tool.get("hatch")).get("version")).get("source") == "vcs":
        return "hatch-vcs"
    if table(table(tool.get("pdm")).get("version")).get("source") == "scm":
        return "pdm-backend scm"
    if table(tool.get("poetry-dynamic-versioning")).get("enable") is True:
        return "poetry-dynamic-versioning"
    if "uv-dynamic-versioning" in tool:
        return "uv-dynamic-versioning"
    setup_py = out.text("setup.py") if "setup.py" in out.files else ""
    if (
        "setuptools_scm" in tool
        or re.search(r"setuptools[-_]scm", requires)
        or "use_scm_version" in (setup_py or "")
    ):
        return "setuptools-scm"
    cfg = out.text("setup.cfg") if "setup.cfg" in out.files else ""
    if "versioneer.py" in out.files or "[versioneer]" in (cfg or "") or "versioneer" in tool:
        return "versioneer"
    return None


def _fallback_version(data: dict[str, Any]) -> str | None:
    tool = table(data.get("tool"))
    for options in (
        table(tool.get("setuptools_scm")),
        table(table(table(tool.get("hatch")).get("version")).get("raw-options")),
    ):
        value = options.get("fallback_version")
        if isinstance(value, str):
            return value
    return None


def changelog_version(out: Collector) -> tuple[str, str] | None:
    """(version, file) from the first version-bearing heading of a root changelog."""
    names = sorted(p for p in out.files if "/" not in p and p.upper().split(".")[0] in _CHANGELOGS)
    for path in names:
        lines = (out.text(path) or "").splitlines()[:2000]
        for index, line in enumerate(lines):
            heading = line.startswith("#") or (
                index + 1 < len(lines) and _RST_UNDERLINE.match(lines[index + 1]) and line.strip()
            )
            match = _VERSION.search(line) if heading else None
            if match and _valid(match.group(1)):
                return match.group(1), path
    return None


def _valid(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def add_version_env(out: Collector, data: dict[str, Any]) -> None:
    scm = _scm_tool(data, out)
    if scm is None:
        return
    if scm == "versioneer":
        out.note(
            "versioneer: without .git the project's version is 0+unknown; if that breaks the "
            "install, set [tool.reviewbot.sandbox] install_command (see docs/testenv.md)"
        )
        return
    version, origin = _fallback_version(data), "fallback_version in pyproject.toml"
    if version is None and (found := changelog_version(out)):
        version, origin = found[0], f"the newest version heading of {found[1]}"
    if version is None:
        version, origin = "0.0.0", "no version declared anywhere (0.0.0)"
        out.note(f"{scm}: no fallback version or changelog found; the project installs as 0.0.0")
    names = {
        "hatch-vcs": ["SETUPTOOLS_SCM_PRETEND_VERSION", *_for_dist(out)],
        "setuptools-scm": ["SETUPTOOLS_SCM_PRETEND_VERSION", *_for_dist(out)],
        "pdm-backend scm": ["PDM_BUILD_SCM_VERSION"],
        "poetry-dynamic-versioning": ["POETRY_DYNAMIC_VERSIONING_BYPASS"],
        "uv-dynamic-versioning": ["UV_DYNAMIC_VERSIONING_BYPASS"],
    }[scm]
    for name in names:
        out.env[name] = version
    out.source(f"{scm} (no .git in the sandbox): {', '.join(names)}={version} from {origin}")


def _for_dist(out: Collector) -> list[str]:
    if not out.project_name:
        return []
    return [
        "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_"
        + re.sub(r"\W", "_", canonicalize_name(out.project_name)).upper()
    ]
