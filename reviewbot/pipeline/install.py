"""The install step of each revision: what runs, how it is recorded, and when it blocks the tests.

    [tool.reviewbot.sandbox]
    install = "auto"              # the default: install what the project declares (see pipeline.env)
    install_command = ["python", "-m", "pip", "install", "--user", "-e", ".[test]"]   # overrides auto
    install_timeout_s = 300
    ca_bundle = "/etc/ssl/certs/ca-certificates.crt"   # only behind a TLS-inspecting proxy

Each revision's session gets its own install step (`reviewbot.pipeline.sessions`), recorded as a
`ToolRun` named "install (head)" / "install (base)". A configured `install_command` runs through
`Session.run(..., network=True)`, in that revision's directory: with the Docker backend that is a
*separate*, equally hardened container with a bridge network, whose /work is copied back into the
session's network-less container afterwards (see `sandbox.docker_backend`). Tests then run with
only `lo`.

`--user` is required with pip. The sandbox's root filesystem is read-only; the only writable
places are /work and /tmp. `PYTHONUSERBASE=/work/.local` and the image's venv (/opt/venv, created
with `--system-site-packages`, so the user site is on `sys.path`) make `pip install --user` land
where the tests will find it. A plain `pip install` fails with "Read-only file system"; the error
then says so. (With the process backend the user site is the session's temporary HOME.)

What the container gets: the allowlisted environment only (no token of the bot's is ever
forwarded), the CA bundle from `sandbox.ca_bundle` (a certificate is public, not a secret), and
the wall clock `install_timeout_s`. A command that carries credentials in a URL is refused before
it runs: the PR's own `setup.py`/build backend runs in that container and could read its argv.

A failed install is a review error (the report quotes the installer's own last lines, the exit
code is 2) and the tests are not run: without their dependencies they would fail for reasons
that are not the change's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.core.review import RunStatus, ToolRun
from reviewbot.core.text import tail as text_tail
from reviewbot.errors import ConfigError
from reviewbot.pipeline.review_deps import SANDBOX_DIRS, Ledger, Revision
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
    """An install step runs only when something will execute the project's code (tests, or an LLM
    policy that may run snippets); a lint-only review does not pay for it."""
    return settings.analyzers.tests or settings.llm.provider != "none"


def run_name(revision: Revision) -> str:
    return f"{INSTALL_RUN} ({revision})"


def failure_message(result: CommandResult, timeout_s: float, what: str) -> tuple[RunStatus, str]:
    """(status, message) for a failed install command; `what` names the step ("the install step (head)")."""
    if result.outcome is Outcome.TIMEOUT:
        return RunStatus.TIMEOUT, f"{what} did not finish within install_timeout_s={timeout_s:g}"
    if result.outcome is Outcome.OOM:
        return RunStatus.ERROR, f"{what} was killed by the sandbox's memory limit"
    if result.outcome is Outcome.TRUNCATED:
        return RunStatus.ERROR, f"{what} printed more output than the sandbox allows"
    if result.outcome is Outcome.ERROR:
        return RunStatus.ERROR, f"the sandbox failed during {what}: {result.detail}"
    tail = text_tail(result.text("stderr").strip() or result.text("stdout").strip(), 600, one_line=True)
    message = f"{what} failed (exit {result.exit_code}): {tail}"
    if any(hint in tail for hint in _READ_ONLY_HINTS):
        message += " -- the sandbox's root is read-only: install with `pip install --user ...`"
    return RunStatus.ERROR, message


def last_line(result: CommandResult) -> str:
    lines = result.text().strip().splitlines()
    return lines[-1][:500] if lines else "done"


def record(ledger: Ledger, revision: Revision, run: ToolRun, message: str | None = None) -> ToolRun:
    """Add an install run to the ledger; a failure is a review error and blocks the tests."""
    ledger.runs.append(run)
    if message is not None:
        ledger.errors.append(message)
        ledger.skipped.append(f"tests: not run because the install step ({revision}) failed")
    return run


def run_install_command(session: Session, settings: Settings, ledger: Ledger, revision: Revision) -> ToolRun:
    """Run the configured `install_command` with network in `revision`'s directory."""
    command = settings.sandbox.install_command
    assert command
    check_install_command(command)
    timeout = settings.sandbox.install_timeout_s
    result = session.run(list(command), cwd=SANDBOX_DIRS[revision], timeout_s=timeout, network=True)
    duration = round(result.duration_s, 3)
    if result.ok:
        detail = f"install_command: {last_line(result)}"
        return record(
            ledger,
            revision,
            ToolRun(name=run_name(revision), status=RunStatus.OK, duration_s=duration, detail=detail),
        )
    status, message = failure_message(result, timeout, f"the install step ({revision})")
    run = ToolRun(name=run_name(revision), status=status, duration_s=duration, detail=message[:1000])
    return record(ledger, revision, run, message)


def install_failed(ledger: Ledger, revision: Revision | None = None) -> ToolRun | None:
    """The failed install run (of `revision`, or of any revision), or None."""
    for run in ledger.runs:
        failed = run.name.startswith(INSTALL_RUN) and run.status is not RunStatus.OK
        if failed and (revision is None or run.name == run_name(revision)):
            return run
    return None


def tests_blocked(ledger: Ledger) -> str | None:
    """Why the tests must not run (an install step failed), or None."""
    run = install_failed(ledger)
    return f"tests not run: {run.detail}" if run is not None else None
