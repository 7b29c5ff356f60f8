"""The review pipeline: prepare the sandbox, give the agent its tools, assemble the Review.

`reviewbot.pipeline.run.run_review` is the entry point; this package holds its parts.
"""
