"""The project's own test environment, with no configuration (`[tool.reviewbot.sandbox] install = "auto"`).

    plan = plan_test_env(files)              # reviewbot.core.testenv: what the revision declares
    reqs, notes = requirements_text(plan, files)

Two parts, so that no code of the pull request ever runs where the cache is writable:
1. the *dependency layer*: only index requirements (the project's dependencies, its test extras,
   groups, requirements files, pytest plugins, its build backend), written into one
   requirements file and installed by `sandbox.envcache` in a networked container that holds
   nothing else. It is cached by `plan.cache_key(...)` (declarations + image + Python) and mounted
   read-only at /env in the review's containers;
2. the *project itself*, installed editable in the review's own container, offline
   (`--no-deps --no-build-isolation --no-index`), into the review's writable user site
   (/work/.local), so `importlib.metadata` and entry points work.

When the dependencies cannot be read statically (a setup.py computes them), the project is
installed with its dependencies in the networked install container, per review, uncached; the
ledger says so.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reviewbot.core.testenv import TestEnvPlan
from sandbox.environment import allowed_name

PIP = ["python", "-m", "pip", "install", "--user", "--no-input", "--disable-pip-version-check"]
QUIET = ["--progress-bar", "off", "--no-warn-script-location"]
#: The project, editable, from the files already in the container and the read-only layer.
EDITABLE_OFFLINE = [*PIP, *QUIET, "--no-deps", "--no-build-isolation", "--no-index", "-e", "."]
_MAX_NESTING = 3


def _requirement(line: str) -> tuple[str | None, str | None]:
    """(requirement, None) for an index requirement, or (None, why it is left out)."""
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None, f"{line!r} is not a requirement reviewbot installs (a path, URL or pip option)"
    if req.url:
        return None, f"{req.name}: a direct URL reference is not installed into the shared cache"
    if canonicalize_name(req.name) == "pytest" and not (req.specifier or req.extras or req.marker):
        return None, None  # any pytest will do: the image's (the layer installs with --ignore-installed)
    return str(req), None


def _nested_file(line: str) -> str | None:
    """The file named by `-r FILE`, `-rFILE`, `--requirement FILE` or `--requirement=FILE`."""
    for flag in ("--requirement", "-r"):
        if line.startswith(flag):
            rest = line[len(flag) :].lstrip("= ").strip()
            return rest or None
    return None


def _file_lines(path: str, files: Mapping[str, bytes], depth: int = 0) -> tuple[list[str], list[str]]:
    """Requirement lines of a requirements file, following `-r other.txt` inside the repository."""
    lines: list[str] = []
    notes: list[str] = []
    text = files.get(path, b"").decode("utf-8", "replace")
    for raw in text.replace("\\\n", "").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        target = _nested_file(line)
        if target is not None and depth < _MAX_NESTING:
            nested = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            more, more_notes = _file_lines(nested, files, depth + 1)
            lines += more
            notes += more_notes
        elif line.startswith("-"):
            notes.append(
                f"{path}: {line.split()[0]} ignored (options in requirements files are not followed)"
            )
        else:
            lines.append(line)
    return lines, notes


def requirements_text(plan: TestEnvPlan, files: Mapping[str, bytes]) -> tuple[bytes, list[str]]:
    """The dependency layer's requirements file, and what was left out of it and why."""
    candidates = list(plan.requirements)
    notes: list[str] = []
    for path in plan.requirement_files:
        lines, file_notes = _file_lines(path, files)
        candidates += lines
        notes += file_notes
    kept: list[str] = []
    for line in candidates:
        req, why = _requirement(line)
        if req is not None:
            kept.append(req)
        elif why is not None:
            notes.append(why)
    body = "".join(f"{r}\n" for r in dict.fromkeys(kept))
    return body.encode(), list(dict.fromkeys(notes))


def project_env(plan: TestEnvPlan) -> tuple[dict[str, str], list[str]]:
    """The plan's environment variables the sandbox accepts, and notes for the ones it does not."""
    env = {k: v for k, v in plan.env.items() if allowed_name(k)}
    notes = [f"environment variable {k} not passed into the sandbox" for k in plan.env if k not in env]
    return env, notes


#: pip into the container's own writable user base, self-contained like the cached layer (see
#: sandbox.envcache: `--user` refuses a version of something the image also has).
_PIP_PREFIX = [
    "sh",
    "-c",
    'exec python -m pip install --prefix "$PYTHONUSERBASE" --ignore-installed --no-input '
    '--disable-pip-version-check "$@"',
    "pip-install",
]


def dynamic_install_argv(plan: TestEnvPlan, requirements: bytes) -> list[str]:
    """The project with its (computed) dependencies and the declared test requirements."""
    target = "." + (f"[{','.join(plan.project_extras)}]" if plan.project_extras else "")
    return [*_PIP_PREFIX, *QUIET, "-e", target, *requirements.decode().splitlines()]


def describe(plan: TestEnvPlan) -> str:
    return "; ".join(plan.sources) if plan.sources else "no declarations found"


#: The project's PEP 660 hook called directly and its editable wheel unpacked into the user site,
#: console scripts included: the same result as `pip install --no-deps -e .` for the .pth-style
#: editable wheels build backends produce, at a fraction of pip's start-up. Any failure falls back
#: to pip (EDITABLE_OFFLINE), whose own words then explain what went wrong.
EDITABLE_FAST_PY = r"""
import configparser, importlib, os, site, sys, tempfile, tomllib, zipfile
build = {}
if os.path.exists("pyproject.toml"):
    with open("pyproject.toml", "rb") as fh:
        build = tomllib.load(fh).get("build-system", {})
spec = build.get("build-backend", "setuptools.build_meta:__legacy__")
sys.path[:0] = [os.path.abspath(p) for p in build.get("backend-path", [])]
module, _, attrs = spec.partition(":")
backend = importlib.import_module(module)
for attr in filter(None, attrs.split(".")):
    backend = getattr(backend, attr)
wheel = os.path.join(tempfile.gettempdir(), "reviewbot-editable")
os.makedirs(wheel, exist_ok=True)
wheel = os.path.join(wheel, backend.build_editable(wheel))
lib, bin_dir = site.getusersitepackages(), os.path.join(site.getuserbase(), "bin")
with zipfile.ZipFile(wheel) as zf:
    for info in zf.infolist():
        parts = info.filename.split("/")
        dest = os.path.join(lib, info.filename)
        if parts[0].endswith(".data") and len(parts) > 2:
            where = {"purelib": lib, "platlib": lib, "scripts": bin_dir}.get(parts[1])
            if where is None:
                continue
            dest = os.path.join(where, *parts[2:])
        if not info.is_dir():
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as out:
                out.write(zf.read(info))
    points = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str
    parser.read_string(zf.read(points[0]).decode() if points else "")
for section in ("console_scripts", "gui_scripts"):
    for name, target in parser.items(section) if parser.has_section(section) else []:
        module, _, attr = target.split("[")[0].strip().partition(":")
        os.makedirs(bin_dir, exist_ok=True)
        path = os.path.join(bin_dir, name)
        with open(path, "w") as out:
            out.write(f"#!{sys.executable}\nimport sys\nimport {module.strip()}\n")
            out.write(f"sys.exit({module.strip()}.{attr.strip() or 'main'}())\n")
        os.chmod(path, 0o755)
print("installed", os.path.basename(wheel))
"""
EDITABLE_FAST = ["python", "-c", EDITABLE_FAST_PY]
