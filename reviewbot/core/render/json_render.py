"""The review as JSON: the pydantic models dumped as they are (`Review.model_validate_json` reads
it back), fingerprints included."""

from __future__ import annotations

import json
from typing import Any

from reviewbot.core.review import Review


def review_dict(review: Review) -> dict[str, Any]:
    return review.model_dump(mode="json")


def render_json(review: Review, *, indent: int | None = 2) -> str:
    # ensure_ascii: escapes every control character and every undecodable byte of a path, so the
    # text is safe in a terminal and survives any output encoding.
    return json.dumps(review_dict(review), indent=indent, ensure_ascii=True) + "\n"
