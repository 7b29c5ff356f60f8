"""`python -m reviewbot ...` is the `reviewbot` command."""

from reviewbot.cli.main import entrypoint

entrypoint()
