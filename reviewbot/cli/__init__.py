"""Command-line entry points: one module per subcommand, each `register(subparsers)` + `run(args) -> int`."""
