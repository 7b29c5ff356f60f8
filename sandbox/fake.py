"""A fake backend for unit tests of code that uses the sandbox port: no processes, no containers.

    def handler(argv):
        if argv[:2] == ["ruff", "check"]:
            return completed(stdout=b"[]")
        return completed(exit_code=127, stderr=b"unknown command")

    backend = FakeBackend(handler)
    with backend.session(SandboxSpec()) as s:
        s.upload("repo", tar)          # files are kept in memory; `download` reads them back
        s.run(["ruff", "check", "."])  # -> handler(["ruff", "check", "."])
    backend.calls                      # every run, with cwd/env/network, in order

The handler may also write files for `download` through `FakeSession.files` (a dict keyed by path
relative to the work root), e.g. to emulate a junit XML report.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Unpack

from sandbox.archive import check_relative_path
from sandbox.backend import Command, RunOptions
from sandbox.spec import CommandResult, Outcome, SandboxSpec

Handler = Callable[[Sequence[str]], CommandResult]


def completed(
    stdout: bytes = b"", stderr: bytes = b"", exit_code: int = 0, duration_s: float = 0.0
) -> CommandResult:
    """A result for a command that ran to its end (OK when exit_code is 0, else NONZERO)."""
    outcome = Outcome.OK if exit_code == 0 else Outcome.NONZERO
    return CommandResult(outcome, exit_code, stdout, stderr, duration_s)


@dataclass(frozen=True)
class FakeCall:
    argv: tuple[str, ...]
    cwd: str
    timeout_s: float | None
    env: dict[str, str]
    network: bool


@dataclass
class FakeSession:
    spec: SandboxSpec
    handler: Handler
    calls: list[FakeCall]
    files: dict[str, bytes] = field(default_factory=dict)
    backend_name: str = "fake"

    def upload(self, dest: str, tar_data: bytes) -> None:
        base = "" if dest in ("", ".") else check_relative_path(dest)
        with tarfile.open(fileobj=io.BytesIO(tar_data), mode="r:") as tar:
            for member in tar.getmembers():
                if member.isreg():
                    fh = tar.extractfile(member)
                    data = fh.read() if fh is not None else b""
                    self.files[
                        posixpath.join(base, check_relative_path(member.name))
                        if base
                        else check_relative_path(member.name)
                    ] = data

    def run(self, argv: Sequence[str], **options: Unpack[RunOptions]) -> CommandResult:
        command = Command.checked(self.spec, argv, options)
        asked = options.get("timeout_s")  # as asked: None means the spec's
        env = dict(command.env or {})
        self.calls.append(FakeCall(command.argv, command.cwd, asked, env, command.network))
        return self.handler(list(argv))

    def download(self, path: str, max_bytes: int) -> bytes | None:
        data = self.files.get(check_relative_path(path))
        if data is None or len(data) > max_bytes:
            return None
        return data


class FakeBackend:
    name = "fake"

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[FakeCall] = []
        self.sessions: list[FakeSession] = []

    @contextmanager
    def session(self, spec: SandboxSpec) -> Iterator[FakeSession]:
        session = FakeSession(spec, self.handler, self.calls)
        self.sessions.append(session)
        yield session
