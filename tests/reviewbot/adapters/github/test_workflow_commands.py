import io
import re
from pathlib import Path

from reviewbot.adapters.github.workflow_commands import (
    annotation,
    clean,
    echo_untrusted,
    escape_data,
    set_outputs,
)


def test_annotation_escapes_data_and_properties() -> None:
    line = annotation(
        "warning", "50% done\nnext::set-output", file="a,b:c.py", line=3, end_line=5, title="ruff: F401"
    )
    assert (
        line
        == "::warning file=a%2Cb%3Ac.py,line=3,endLine=5,title=ruff%3A F401::50%25 done%0Anext::set-output"
    )
    assert "\n" not in line


def test_annotation_cannot_be_broken_by_carriage_returns() -> None:
    assert escape_data("a\r\n::error::x") == "a%0D%0A::error::x"


def test_clean_strips_controls_keeps_newlines_and_tabs() -> None:
    assert clean("a\x1b[31mred\x07\tb\nc\u202e") == "a[31mred\tb\nc"


def test_untrusted_text_is_fenced_by_an_unguessable_stop_token() -> None:
    out = io.StringIO()
    echo_untrusted(out, "::add-mask::x\n::set-env name=A::b\n")
    first, *_middle, last = out.getvalue().splitlines()
    token = first.removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert last == f"::{token}::"
    other = io.StringIO()
    echo_untrusted(other, "x")
    assert token not in other.getvalue()


def test_outputs_use_random_heredoc_delimiters(tmp_path: Path) -> None:
    path = tmp_path / "out"
    set_outputs(path, {"errors": "2", "sarif": "/tmp/x\nerrors=999"})
    text = path.read_text()
    delims = re.findall(r"^(\w+)<<(ghadelimiter_[0-9a-f]+)$", text, re.M)
    assert [name for name, _ in delims] == ["errors", "sarif"]
    assert delims[0][1] != delims[1][1]
    assert f"\n{delims[1][1]}\n" in text
