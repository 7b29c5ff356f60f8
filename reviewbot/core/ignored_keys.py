"""Keys a model accepts in its input and drops before validation (derived values sent back in a
round trip, what earlier versions stored): the one body of those pydantic "before" validators."""

from __future__ import annotations


def without_key(data: object, key: str) -> object:
    """`data` without `key` when it is a dict that holds it, else `data` as it is."""
    if isinstance(data, dict) and key in data:
        return {k: v for k, v in data.items() if k != key}
    return data
