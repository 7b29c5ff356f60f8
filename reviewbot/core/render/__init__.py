"""Renderers: a `Review` as Markdown (PR comments, `--format markdown`), SARIF 2.1.0, JSON, and a
terminal report. Pure functions from values to strings; callers do the writing."""
