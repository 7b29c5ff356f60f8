"""The corpus holds other projects' test suites as data: never collect them as reviewbot's tests.

tests/corpus/ copies a slice into a temporary git repository and runs its suite there.
"""

collect_ignore_glob = ["*"]
