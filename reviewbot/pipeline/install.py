"""The install step: the project's dependencies, installed in the sandbox before any test runs.

    [tool.reviewbot.sandbox]
    install_command = ["python", "-m", "pip", "install", "--user", "-e", ".[test]"]
    install_timeout_s = 300
    ca_bundle = "/etc/ssl/certs/ca-certificates.crt"   # only behind a TLS-inspecting proxy

The command runs once per review, in the head revision's directory, through
`Session.run(..., network=True)`: with the Docker backend that is a *separate*, equally hardened
container with a bridge network, whose /work is copied back into the session's network-less
container afterwards (see `sandbox.docker_backend`). Tests then run with only `lo`.

`--user` is required with pip. The sandbox's root filesystem is read-only; the only writable
places are /work and /tmp. `PYTHONUSERBASE=/work/.local` and the image's venv (/opt/venv, created
with `--system-site-packages`, so the user site is on `sys.path`) make `pip install --user` land
where the tests will find it. A plain `pip install` fails with "Read-only file system"; the error
then says so. (With the process backend the user site is the session's temporary HOME.)

What the container gets: the allowlisted environment only (no token of the bot's is ever
forwarded), the CA bundle from `sandbox.ca_bundle` (a certificate is public, not a secret), and
the wall clock `install_timeout_s`. A command that carries credentials in a URL is refused before
it runs: the PR's own `setup.py`/build backend runs in that container and could read its argv.

The outcome is a `ToolRun` named "install" in the ledger. A failed install is a review error (the
report says why, the exit code is 2) and the tests are not run: without their dependencies they
would fail for reasons that are not the change's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.errors import ConfigError
from reviewbot.pipeline.deps import SANDBOX_DIRS, Ledger
from reviewbot.settings import Settings
from sandbox import CommandResult, Outcome, Session

INSTALL_RUN = "install"

#: scheme://user:password@host - a credential written into a URL.
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@")
_READ_ONLY_HINTS = ("Read-only file system", "[Errno 30]")


def check_install_command(command: Sequence[str]) -> None:
    """Raise ConfigError for an install command that would carry a secret into the sandbox."""
    if not command or not all(isinstance(arg, str) and arg for arg in command):
        raise ConfigError("sandbox.install_command must be a non-empty list of non-empty strings")
    for arg in command:
        if _URL_CREDENTIALS.search(arg):
            raise ConfigError(
                "sandbox.install_command contains credentials in a URL; the pull request's build code "
                "runs in the install container and could read them. Use a public or proxied index."
            )


def wanted(settings: Settings) -> bool:
    """The install step runs when configured and something will execute the project's code (tests,
    or an LLM policy that may run snippets); a lint-only review does not pay for the network."""
    return bool(settings.sandbox.install_command) and (
        settings.analyzers.tests or settings.llm.provider != "none"
    )


def _tail(result: CommandResult, limit: int = 600) -> str:
    """The end of what the command said, on one line (the CLI prints errors as one line)."""
    text = result.text("stderr").strip() or result.text("stdout").strip()
    lines = [" ".join(line.split()) for line in text.replace("\x00", "").splitlines()]
    return " | ".join(line for line in lines if line)[-limit:]


def _failure(result: CommandResult, timeout_s: float) -> tuple[RunStatus, str]:
    if result.outcome is Outcome.TIMEOUT:
        return RunStatus.TIMEOUT, f"the install step did not finish within install_timeout_s={timeout_s:g}"
    if result.outcome is Outcome.OOM:
        return RunStatus.ERROR, "the install step was killed by the sandbox's memory limit"
    if result.outcome is Outcome.TRUNCATED:
        return RunStatus.ERROR, "the install step printed more output than the sandbox allows"
    if result.outcome is Outcome.ERROR:
        return RunStatus.ERROR, f"the sandbox failed during the install step: {result.detail}"
    tail = _tail(result)
    message = f"the install step failed (exit {result.exit_code}): {tail}"
    if any(hint in tail for hint in _READ_ONLY_HINTS):
        message += " -- the sandbox's root is read-only: install with `pip install --user ...`"
    return RunStatus.ERROR, message


def run_install(session: Session, settings: Settings, ledger: Ledger) -> ToolRun | None:
    """Run `settings.sandbox.install_command` with network in the head revision's directory and
    record it in the ledger. Returns the run, or None when there was nothing to install."""
    command = settings.sandbox.install_command
    if not command:
        return None
    if not wanted(settings):
        ledger.skipped.append("install: not run, nothing executes the project's code (tests are disabled)")
        return None
    check_install_command(command)
    timeout = settings.sandbox.install_timeout_s
    result = session.run(list(command), cwd=SANDBOX_DIRS["head"], timeout_s=timeout, network=True)
    duration = round(result.duration_s, 3)
    if result.ok:
        lines = result.text().strip().splitlines()
        detail = lines[-1][:500] if lines else "done"
        run = ToolRun(name=INSTALL_RUN, status=RunStatus.OK, duration_s=duration, detail=detail)
    else:
        status, message = _failure(result, timeout)
        run = ToolRun(name=INSTALL_RUN, status=status, duration_s=duration, detail=message[:1000])
        ledger.errors.append(message)
        ledger.skipped.append("tests: not run because the install step failed")
    ledger.runs.append(run)
    return run


def tests_blocked(ledger: Ledger) -> str | None:
    """Why the tests must not run (the install step failed), or None."""
    for run in ledger.runs:
        if run.name == INSTALL_RUN and run.status is not RunStatus.OK:
            return f"tests not run: {run.detail}"
    return None
