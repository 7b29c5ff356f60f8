"""Talking to the Actions runner through stdout and its files, without letting a PR talk to it.

The runner executes any stdout line that looks like a workflow command (`::set-output`,
`::add-mask`, `::stop-commands`, legacy `##[...]`). Text from the PR (finding messages, test
output, paths) is therefore echoed only between `::stop-commands::<random token>` and
`::<token>::`, with control characters removed, and every value we put into a command is escaped
the way the runner unescapes it (actions/toolkit `escapeData` / `escapeProperty`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TextIO

from reviewbot.errors import WorkspaceError

LogLevel = Literal["error", "warning", "notice"]

# C0 controls but \t and \n, DEL, C1 (incl. the 8-bit CSI), and bidi overrides that disguise text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    return _CONTROL.sub("", text)


def escape_data(text: str) -> str:
    return clean_keep_cr(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def clean_keep_cr(text: str) -> str:
    # \r is escaped (not dropped) in command values, like the toolkit does.
    return _CONTROL.sub(lambda m: m.group(0) if m.group(0) == "\r" else "", text)


def annotation(
    level: LogLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    end_line: int | None = None,
    title: str | None = None,
) -> str:
    props: list[str] = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line is not None:
        props.append(f"line={line}")
        if end_line is not None and end_line != line:
            props.append(f"endLine={end_line}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level}" + (" " + ",".join(props) if props else "")
    return f"{head}::{escape_data(message)}"


def echo_untrusted(out: TextIO, text: str) -> None:
    """Print text a PR may have influenced, with workflow commands switched off around it."""
    token = secrets.token_hex(16)
    body = clean(text)
    out.write(f"::stop-commands::{token}\n{body}{'' if body.endswith(chr(10)) else chr(10)}::{token}::\n")


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise WorkspaceError(f"cannot write {path}: {exc}") from exc


def set_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Write step outputs in the heredoc form with a random delimiter, so no value can end its
    own entry early and smuggle in another output."""
    chunks = []
    for name, value in values.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(12)}"
        chunks.append(f"{name}<<{delimiter}\n{clean(value)}\n{delimiter}\n")
    _append(path, "".join(chunks))


def append_step_summary(path: Path, markdown: str) -> None:
    _append(path, clean(markdown) + "\n")
