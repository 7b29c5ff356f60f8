"""The LLM layer: a `Model` port with OpenAI-compatible and Anthropic adapters, prompt building
with untrusted data fenced and a token budget, the `LLMPolicy` for the agent loop, evidence and
line verification, and the output filter applied before anything is posted."""
