"""The self-hosted bot: Flask receiver, durable job queues (SQLite embedded, Redis/RQ scale-out),
GitHub App auth, a safe clone of the PR, and the worker that reviews and posts.

Layering: webhooks -> reviewbot -> sandbox. Nothing here reads os.environ; settings come in from
`webhooks.cli_serve` / `webhooks.cli_worker` (the `serve` and `worker` commands).
"""
