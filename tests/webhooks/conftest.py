"""Fixtures for the webhook bot's tests. pytest runs in importlib mode, so the helper modules next
to this file (wh_*.py, uniquely named) are put on sys.path here for the tests to import."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).parent))

from wh_helpers import redis_server

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
