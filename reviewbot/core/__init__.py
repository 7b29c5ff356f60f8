"""The pure core of reviewbot.

Rule: nothing in this package does I/O. No files, no subprocesses, no network, no clock, no
environment. Functions take values and return values: diffs are parsed from text, findings are
filtered against data, reports are rendered to strings. Adapters (git, sandbox, GitHub, LLMs)
live outside and feed this package. The rule is held by an import-linter contract in pyproject.toml.
"""
