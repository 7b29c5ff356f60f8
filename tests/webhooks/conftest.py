"""Fixtures for the webhook bot's tests (the helper modules next to this file, wh_*.py, are modules
of this package: `from .wh_helpers import ...`)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .wh_helpers import redis_server

__all__ = ["redis_server"]


@pytest.fixture(scope="module")
def rsa_key() -> tuple[str, bytes]:
    """A GitHub App's key pair: (private PEM for reviewbot, public PEM for the fake GitHub)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
