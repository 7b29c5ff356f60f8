"""The agent framework: typed tools with derived schemas, a bounded memory, and the
observe -> reason -> act -> learn loop with explicit budgets. Policies (deterministic, LLM) plug
in through `Policy.decide`.

    tools.py          Tool, FunctionTool, ToolOutput, ToolContext[Deps], ToolRegistry, schemas
    loop.py           CallTool | Finish, Policy, AgentState, AgentLoop, AgentRun, StopReason, Limits
    memory.py         Memory (context, knowledge, observations, actions; pruned by age and count)
    render.py         render_memory: memory as prompt text within a character budget
    events.py         AgentEvent, ListSink, JsonLinesSink (--trace), redact
    deps.py           RepoDeps protocol (root, diff_text, diff) and RepoContext
    builtin_tools.py  read_file, search_code, get_diff, report (fsjail.py confines file access)
    testing.py        ScriptedPolicy, FakeClock
"""
