"""Request validation against GitHub's own OpenAPI description (tests/data/shared/github/openapi-subset.json).

Every request the fake GitHub receives is matched to an operation by path template and method,
and its JSON body is validated with the operation's request schema (OAS 3.0 semantics, including
`nullable`). `discriminator` is dropped first: GitHub's check-run schema uses one without a
mapping, which strict validators cannot resolve (tests/data/shared/github/SOURCE-openapi.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from openapi_schema_validator import OAS30Validator

from tests.shared_data import SHARED

SPEC_PATH = SHARED / "github" / "openapi-subset.json"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    params: dict[str, str]
    body_schema: dict[str, Any] | None
    body_required: bool


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def _resolve(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # recursive schema: stop expanding, accept anything below
                return {}
            target: Any = root
            for part in ref.lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return _resolve(target, root, (*seen, ref))
        return {k: _resolve(v, root, seen) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_resolve(v, root, seen) for v in node]
    return node


@cache
def _routes() -> list[tuple[re.Pattern[str], str, str]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        out.append((re.compile(f"^{pattern}$"), template, template))
    # Literal segments first, so /pulls/comments/{id} wins over /pulls/{pull_number}.
    out.sort(key=lambda r: -len(re.sub(r"\{\w+\}", "", r[1])))
    return out


class NoSuchOperation(Exception):
    pass


def match(method: str, path: str) -> Operation:
    for pattern, template, _ in _routes():
        m = pattern.match(path)
        if not m:
            continue
        op = spec()["paths"][template].get(method.lower())
        if op is None:
            continue
        body = op.get("requestBody")
        schema = None
        if body is not None:
            body = _resolve(body, spec())
            schema = body["content"]["application/json"]["schema"]
        return Operation(
            method.upper(),
            template,
            op["operationId"],
            dict(m.groupdict()),
            schema,
            bool(body and body.get("required")),
        )
    raise NoSuchOperation(f"{method} {path}")


def body_errors(op: Operation, body: Any) -> list[str]:
    if op.body_schema is None:
        return [] if body is None else ["this operation takes no request body"]
    if body is None:
        return ["a JSON body is required"] if op.body_required else []
    validator = OAS30Validator(op.body_schema)
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
        for e in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    ]


def example(name: str) -> dict[str, Any]:
    value = spec()["components"]["examples"][name]["value"]
    copied: dict[str, Any] = json.loads(json.dumps(value))
    return copied
