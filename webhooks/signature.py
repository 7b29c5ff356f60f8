"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw request body keyed with the webhook secret."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the body. Missing or malformed headers fail."""
    if not header or not header.startswith(PREFIX) or not secret:
        return False
    expected = sign(secret, body)
    # compare_digest on bytes: equal-length ASCII either way; a non-ASCII header just fails.
    try:
        return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii"))
    except UnicodeEncodeError:
        return False
