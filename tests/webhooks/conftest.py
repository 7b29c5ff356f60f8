"""Fixtures for the webhook bot's tests. pytest runs in importlib mode, so the helper modules next
to this file (wh_*.py, uniquely named) are put on sys.path here for the tests to import."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from wh_helpers import redis_server

__all__ = ["redis_server"]
