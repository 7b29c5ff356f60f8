"""Where the copied ground truth lives (tests/data/shared: GitHub's OpenAPI subset and webhook
payloads, the SARIF schema), for tests, fakes and benchmarks."""

from pathlib import Path

SHARED = Path(__file__).resolve().parent / "data" / "shared"
