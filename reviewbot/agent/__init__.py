"""The agent framework: typed tools with derived schemas, a bounded memory, and the
observe -> reason -> act -> learn loop with explicit budgets. Policies (deterministic, LLM) plug
in through `Policy.decide`."""
