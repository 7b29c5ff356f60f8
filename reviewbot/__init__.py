"""reviewbot: a sandboxed code-review agent for pull requests."""

__version__ = "0.1.0"
