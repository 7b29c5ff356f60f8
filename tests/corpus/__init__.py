"""End-to-end scenarios on real open-source code (tests/data/corpus)."""
