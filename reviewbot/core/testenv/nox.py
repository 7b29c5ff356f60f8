"""Simple nox declarations: what the test session installs, read from noxfile.py with `ast`.

The session is the one named test, tests, testing or unit (by function name or `name=`), else
the first whose name starts with "test". Its `session.install("...")` calls with string
literals (or a module-level list of them, unpacked) are read, in the session and in the
module-level functions it calls directly. Nothing in noxfile.py is executed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from reviewbot.core.testenv.collect import Collector

_TEST_SESSIONS = ("test", "tests", "testing", "unit")


@dataclass
class NoxSession:
    where: str
    args: list[list[str]] = field(default_factory=list)  # one argument list per install call


def _is_session_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr == "session"
    return isinstance(target, ast.Name) and target.id == "session"


def _session_name(func: ast.FunctionDef) -> str | None:
    for deco in func.decorator_list:
        if not _is_session_decorator(deco):
            continue
        if isinstance(deco, ast.Call):
            for kw in deco.keywords:
                if (
                    kw.arg == "name"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ):
                    return kw.value.value
        return func.name
    return None


def _pick(sessions: dict[str, ast.FunctionDef]) -> str | None:
    for name in _TEST_SESSIONS:
        if name in sessions:
            return name
    return next((n for n in sessions if n.startswith("test")), None)


def _literal_list(node: ast.expr, constants: dict[str, ast.expr]) -> list[str] | None:
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return None


def _install_args(call: ast.Call, constants: dict[str, ast.expr], where: str, out: Collector) -> list[str]:
    args: list[str] = []
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            args.append(arg.value)
            continue
        values = _literal_list(arg.value, constants) if isinstance(arg, ast.Starred) else None
        if values is None and _is_project_fstring(arg):
            args.append(".")
            out.note(
                f"{where}: the project's extras are computed (line {arg.lineno}); installed without them"
            )
        elif values is None:
            out.note(f"{where}: a session.install argument is computed (line {arg.lineno}); not read")
        else:
            args.extend(values)
    return args


def _is_project_fstring(arg: ast.expr) -> bool:
    """f".[{extras}]": the project itself, with extras computed at run time."""
    if not isinstance(arg, ast.JoinedStr) or not arg.values:
        return False
    first = arg.values[0]
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith(".[")


def _calls(func: ast.FunctionDef) -> list[ast.Call]:
    return [n for n in ast.walk(func) if isinstance(n, ast.Call)]


def read_nox(out: Collector) -> NoxSession | None:
    text = out.text("noxfile.py") if "noxfile.py" in out.files else None
    if text is None:
        return None
    try:
        tree = ast.parse(text, "noxfile.py")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        out.note("noxfile.py: not valid Python; not read")
        return None
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    constants = {
        n.targets[0].id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
    }
    sessions = {name: f for f in functions.values() if (name := _session_name(f))}
    chosen = _pick(sessions)
    if chosen is None:
        return None
    result = NoxSession(f"noxfile.py session {chosen}")
    body = [sessions[chosen]]
    body += [
        functions[c.func.id]
        for c in _calls(sessions[chosen])
        if isinstance(c.func, ast.Name) and c.func.id in functions and c.func.id not in sessions
    ]
    for func in body:
        for call in _calls(func):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "install":
                result.args.append(_install_args(call, constants, result.where, out))
    return result
