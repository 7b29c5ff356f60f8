"""Analyzers: build the command line (pure), run it in a sandbox session, parse the output (pure).

Nothing here runs an analyzer in reviewbot's own process: ruff and pytest read configuration the
pull request controls (see docs/security-probes.md, probe 42), so they only ever run through `sandbox`.
"""
