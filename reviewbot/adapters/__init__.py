"""Adapters: the edges of reviewbot that do I/O (git, ...), each behind a small port.

The pure core (`reviewbot.core`) never imports from here; adapters turn the outside world into the
core's values (a diff as text, file contents as bytes) and translate their dependency's errors
into `reviewbot.errors`.
"""
