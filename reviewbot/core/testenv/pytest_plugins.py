"""The pytest plugins the project's pytest configuration needs, read from that configuration.

pytest reads the first of pytest.ini, .pytest.ini, pyproject.toml (`[tool.pytest.ini_options]`
or `[tool.pytest]`), tox.ini `[pytest]`, setup.cfg `[tool:pytest]`. From it:
- `required_plugins`: distributions, as written;
- `addopts`: `-p name` and options that belong to a plugin (`--cov` -> pytest-cov, `-n` ->
  pytest-xdist, ...: `_OPTIONS`);
- ini keys that belong to a plugin (`asyncio_mode` -> pytest-asyncio, `timeout` -> pytest-timeout);
- `filterwarnings` entries whose category lives in a module of another distribution
  (`ignore::sqlalchemy.exc.SAWarning` -> SQLAlchemy; import names differ from distribution
  names in `IMPORT_TO_DIST`, otherwise the import name is the distribution name).
"""

from __future__ import annotations

import ast
import shlex
import sys
from collections.abc import Callable, Iterable
from typing import Any

from reviewbot.core.testenv.collect import OVERRIDE_HINT, Collector, ini_lines, string_list, table

# Command-line options (prefixes of the option name) -> the distribution that provides them.
_OPTIONS: dict[str, str] = {
    "--cov": "pytest-cov",
    "--no-cov": "pytest-cov",
    "-n": "pytest-xdist",
    "--numprocesses": "pytest-xdist",
    "--dist": "pytest-xdist",
    "--maxprocesses": "pytest-xdist",
    "--max-worker-restart": "pytest-xdist",
    "--tx": "pytest-xdist",
    "--looponfail": "pytest-xdist",
    "--timeout": "pytest-timeout",
    "--timeout-method": "pytest-timeout",
    "--timeout_method": "pytest-timeout",
    "--benchmark-": "pytest-benchmark",
    "--reruns": "pytest-rerunfailures",
    "--only-rerun": "pytest-rerunfailures",
    "--randomly-": "pytest-randomly",
    "--asyncio-mode": "pytest-asyncio",
    "--mypy": "pytest-mypy",
    "--flake8": "pytest-flake8",
    "--black": "pytest-black",
    "--isort": "pytest-isort",
    "--pylint": "pytest-pylint",
    "--ruff": "pytest-ruff",
    "--doctest-plus": "pytest-doctestplus",
    "--doctest-rst": "pytest-doctestplus",
    "--html": "pytest-html",
    "--self-contained-html": "pytest-html",
    "--json-report": "pytest-json-report",
    "--ds": "pytest-django",
    "--dc": "pytest-django",
    "--reuse-db": "pytest-django",
    "--create-db": "pytest-django",
    "--nomigrations": "pytest-django",
    "--no-migrations": "pytest-django",
    "--mpl": "pytest-mpl",
    "--hypothesis-": "hypothesis",
    "--disable-socket": "pytest-socket",
    "--allow-hosts": "pytest-socket",
    "--allow-unix-socket": "pytest-socket",
    "--memray": "pytest-memray",
    "--codspeed": "pytest-codspeed",
    "--snapshot-update": "syrupy",
    "--instafail": "pytest-instafail",
    "--testmon": "pytest-testmon",
    "--forked": "pytest-forked",
    "--count": "pytest-repeat",
    "--force-sugar": "pytest-sugar",
    "--md-report": "pytest-md-report",
    "--emoji": "pytest-emoji",
    "--env": "pytest-env",
    "--record-mode": "pytest-recording",
    "--block-network": "pytest-recording",
    "--vcr-record": "pytest-vcr",
    "--splinter-": "pytest-splinter",
    "--spec": "pytest-spec",
    "--pdbcls": "",  # builtin
}
# ini keys -> the distribution that declares them.
_INI_KEYS: dict[str, str] = {
    "asyncio_mode": "pytest-asyncio",
    "asyncio_default_fixture_loop_scope": "pytest-asyncio",
    "asyncio_default_test_loop_scope": "pytest-asyncio",
    "timeout": "pytest-timeout",
    "timeout_method": "pytest-timeout",
    "timeout_func_only": "pytest-timeout",
    "django_settings_module": "pytest-django",
    "django_find_project": "pytest-django",
    "env": "pytest-env",
    "mock_use_standalone_module": "pytest-mock",
    "mock_traceback_monkeypatch": "pytest-mock",
    "trio_mode": "pytest-trio",
    "qt_api": "pytest-qt",
    "httpserver_listen_address": "pytest-httpserver",
    "doctest_plus": "pytest-doctestplus",
    "doctest_rst": "pytest-doctestplus",
    "flake8-ignore": "pytest-flake8",
    "mpl-baseline-path": "pytest-mpl",
    "looponfailroots": "pytest-xdist",
    "rsyncdirs": "pytest-xdist",
    "reruns": "pytest-rerunfailures",
    "reruns_delay": "pytest-rerunfailures",
    "randomly_seed": "pytest-randomly",
    "socket_allow_hosts": "pytest-socket",
    "vcr_record_mode": "pytest-vcr",
    "spec_header_format": "pytest-spec",
    "cov_context": "pytest-cov",
    "bdd_features_base_dir": "pytest-bdd",
    "xvfb_width": "pytest-xvfb",
    "benchmark_disable": "pytest-benchmark",
    "console_output_style": "",  # builtin
}
# `-p` plugin names (module or entry-point names) -> distribution.
_PLUGIN_NAMES: dict[str, str] = {
    "xdist": "pytest-xdist",
    "xdist.plugin": "pytest-xdist",
    "pytest_cov": "pytest-cov",
    "anyio": "anyio",
    "trio": "pytest-trio",
    "pytest_asyncio": "pytest-asyncio",
    "asyncio": "pytest-asyncio",
    "randomly": "pytest-randomly",
    "timeout": "pytest-timeout",
    "django": "pytest-django",
    "hypothesispytest": "hypothesis",
    "syrupy": "syrupy",
    "pytest_mock": "pytest-mock",
}
# Import names whose distribution has another name (for filterwarnings categories).
IMPORT_TO_DIST: dict[str, str] = {
    "yaml": "PyYAML",
    "attr": "attrs",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "bs4": "beautifulsoup4",
    "PIL": "Pillow",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "google": "protobuf",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "serial": "pyserial",
    "magic": "python-magic",
    "git": "GitPython",
    "github": "PyGithub",
    "multipart": "python-multipart",
    "jose": "python-jose",
    "pkg_resources": "setuptools",
    "_pytest": "pytest",
    "py": "py",
    "importlib_metadata": "importlib-metadata",
    "typing_extensions": "typing-extensions",
    "zmq": "pyzmq",
    "docutils": "docutils",
    "sqlalchemy": "SQLAlchemy",
    "markdown": "Markdown",
    "Cryptodome": "pycryptodomex",
    "websocket": "websocket-client",
    "nacl": "PyNaCl",
    "usb": "pyusb",
    "socks": "PySocks",
    "xdist": "pytest-xdist",
    "pytest_asyncio": "pytest-asyncio",
}
_CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
_SECTIONS = {"pytest.ini": "pytest", ".pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}


def read_pytest_config(out: Collector) -> tuple[str, dict[str, Any]] | None:
    """(where, {key: value}) of the configuration pytest would use, or None."""
    for path in _CONFIG_FILES:
        if path not in out.files:
            continue
        if path == "pyproject.toml":
            tool = table(table(out.toml(path)).get("tool"))
            pytest = table(tool.get("pytest"))
            if "ini_options" in pytest:
                return f"{path} [tool.pytest.ini_options]", table(pytest["ini_options"])
            if pytest:
                return f"{path} [tool.pytest]", pytest
            continue
        parser = out.ini(path)
        section = _SECTIONS[path]
        if parser is not None and parser.has_section(section):
            return f"{path} [{section}]", dict(parser.items(section))
        if path in ("pytest.ini", ".pytest.ini"):
            return None  # pytest.ini is the config even without a [pytest] section
    return None


def _list(value: object) -> list[str]:
    if isinstance(value, str):
        return ini_lines(value)
    return string_list(value)


def _addopts_tokens(value: object, where: str, out: Collector) -> list[str]:
    text = " ".join(string_list(value)) if isinstance(value, list) else str(value or "")
    try:
        return shlex.split(text)
    except ValueError as exc:
        out.note(f"{where} addopts: cannot be split ({exc}); plugins in it were not read")
        return text.split()


# Plugins that ship with pytest itself (`-p pytester` needs nothing installed).
_BUILTIN_PLUGINS = frozenset(
    [
        "pytester",
        "doctest",
        "cacheprovider",
        "faulthandler",
        "junitxml",
        "logging",
        "tmpdir",
        "monkeypatch",
        "capture",
        "debugging",
        "warnings",
        "unittest",
        "stepwise",
        "setuponly",
        "setupplan",
        "skipping",
        "terminal",
        "python",
        "runner",
        "main",
        "mark",
        "nose",
        "pastebin",
        "recwarn",
        "legacypath",
        "unraisableexception",
        "threadexception",
        "python_path",
        "helpconfig",
        "fixtures",
        "assertion",
        "reports",
        "subtests",
        "tmp_path",
        "raises",
    ]
)


def _plugin_dist(name: str) -> str:
    """The distribution for `-p name` ("" when unknown): the table, else the `pytest_x` ->
    `pytest-x` naming convention of plugin modules."""
    if name in _PLUGIN_NAMES:
        return _PLUGIN_NAMES[name]
    return name.replace("_", "-") if name.startswith("pytest_") else ""


def _option_dist(arg: str) -> str | None:
    option = arg.split("=", 1)[0]
    if arg.startswith("-n") and not arg.startswith("--") and len(arg) > 2:
        return "pytest-xdist"  # -n4, -nauto
    for prefix, dist in _OPTIONS.items():
        if option == prefix or (prefix.endswith("-") and option.startswith(prefix)):
            return dist or None
    return None


def plugins_from_addopts(tokens: list[str], is_local: Callable[[str], bool]) -> list[tuple[str, str]]:
    """[(distribution, why)] for the plugins `tokens` need ("" when unknown); `is_local(module)`
    excludes the project's own plugins."""
    found: list[tuple[str, str]] = []
    for index, arg in enumerate(tokens):
        if arg == "-p" or (arg.startswith("-p") and not arg.startswith("--")):
            name = (
                (tokens[index + 1] if index + 1 < len(tokens) else "") if arg == "-p" else arg[2:].lstrip("=")
            )
            builtin = name in _BUILTIN_PLUGINS or name.startswith("_pytest.")
            if name and not (name.startswith("no:") or builtin or is_local(name)):
                found.append((_plugin_dist(name), f"-p {name}"))
            continue
        dist = _option_dist(arg)
        if dist:
            found.append((dist, arg))
    return found


def warning_modules(entries: Iterable[str]) -> list[tuple[str, str]]:
    """[(top-level module, entry)] for filterwarnings entries whose category is in a module."""
    found = []
    for entry in entries:
        parts = entry.split(":")
        category = parts[2].strip() if len(parts) > 2 else ""
        if "." in category:
            found.append((category.split(".")[0], entry))
    return found


def dist_for_module(module: str) -> str | None:
    """The distribution providing an import name, None for the standard library."""
    if module in sys.stdlib_module_names or module in ("builtins", "__main__"):
        return None
    return IMPORT_TO_DIST.get(module, module)


def _required_plugins(value: object) -> list[str]:
    return value.split() if isinstance(value, str) else string_list(value)


# pytest's own ini keys (pytest 8/9); a key in neither this list nor _INI_KEYS is noted.
_PYTEST_KEYS = frozenset(
    [
        "addopts",
        "cache_dir",
        "consider_namespace_packages",
        "console_output_style",
        "doctest_encoding",
        "doctest_optionflags",
        "empty_parameter_set_mark",
        "enable_assertion_pass_hook",
        "faulthandler_exit_on_timeout",
        "faulthandler_timeout",
        "filterwarnings",
        "junit_duration_report",
        "junit_family",
        "junit_log_passing_tests",
        "junit_logging",
        "junit_suite_name",
        "log_auto_indent",
        "log_cli",
        "log_cli_date_format",
        "log_cli_format",
        "log_cli_level",
        "log_date_format",
        "log_file",
        "log_file_date_format",
        "log_file_format",
        "log_file_level",
        "log_file_mode",
        "log_format",
        "log_level",
        "markers",
        "minversion",
        "norecursedirs",
        "python_classes",
        "python_files",
        "python_functions",
        "pythonpath",
        "required_plugins",
        "testpaths",
        "tmp_path_retention_count",
        "tmp_path_retention_policy",
        "truncation_limit_chars",
        "truncation_limit_lines",
        "usefixtures",
        "verbosity_assertions",
        "verbosity_test_cases",
        "verbosity_subtests",
        "xfail_strict",
        "strict",
        "strict_config",
        "strict_markers",
        "strict_parametrization_ids",
        "strict_xfail",
        "collect_imported_tests",
        "pytester_example_dir",
        "disable_test_id_escaping_and_forfeit_all_rights_to_community_support",
        "ini_options",
    ]
)
_CONFTESTS = (
    "conftest.py",
    "tests/conftest.py",
    "test/conftest.py",
    "testing/conftest.py",
    "src/conftest.py",
)


def conftest_plugins(out: Collector, is_local: Callable[[str], bool]) -> list[tuple[str, str]]:
    """`pytest_plugins = [...]` (string literals) in the top conftest.py files, read with ast."""
    found: list[tuple[str, str]] = []
    for path in _CONFTESTS:
        text = out.text(path) if path in out.files else None
        try:
            tree = ast.parse(text or "", path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            out.note(f"{path}: not valid Python; its pytest_plugins were not read")
            continue
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in stmt.targets
            ):
                found += [(_plugin_dist(n), f"{path} pytest_plugins {n!r}") for n in _names(stmt, is_local)]
    return found


def _names(stmt: ast.Assign, is_local: Callable[[str], bool]) -> list[str]:
    try:
        value = ast.literal_eval(stmt.value)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return []
    names = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    return [
        n for n in names if n not in _BUILTIN_PLUGINS and not n.startswith("_pytest.") and not is_local(n)
    ]


def _config_needs(out: Collector, is_local: Callable[[str], bool]) -> tuple[str, list[tuple[str, str]]]:
    config = read_pytest_config(out)
    if config is None:
        return "pytest", []
    where, values = config
    out.add_requirements(_required_plugins(values.get("required_plugins")), f"{where} required_plugins")
    needs = plugins_from_addopts(_addopts_tokens(values.get("addopts"), where, out), is_local)
    keys = {key.lower() for key in values}  # INI keys are case-insensitive (DJANGO_SETTINGS_MODULE)
    needs += [(dist, key) for key, dist in _INI_KEYS.items() if key in keys and dist]
    unknown = sorted(keys - _PYTEST_KEYS - _INI_KEYS.keys())
    if unknown:
        out.note(
            f"{where}: keys {', '.join(unknown)} are not pytest's own and their plugin is not known "
            f"to reviewbot; if pytest reports them, {OVERRIDE_HINT}"
        )
    for module, entry in warning_modules(_list(values.get("filterwarnings"))):
        dist = None if is_local(module) else dist_for_module(module)
        if dist:
            needs.append((dist, f"filterwarnings {entry!r} (module {module})"))
    return where, needs


def add_pytest_plugins(out: Collector, is_local: Callable[[str], bool]) -> None:
    """Add the distributions the pytest configuration needs, each with its reason."""
    where, needs = _config_needs(out, is_local)
    needs += conftest_plugins(out, is_local)
    for dist, why in needs:
        if not dist:
            out.note(f"{where}: {why} names a plugin reviewbot cannot map to a distribution; {OVERRIDE_HINT}")
        elif out.declares(dist):
            out.source(f"{where}: {why} -> {dist} (already declared)")
        else:
            out.add_requirements([dist], f"{where}: {why} -> {dist}")
