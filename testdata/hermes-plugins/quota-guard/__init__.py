"""A neighbour plugin for the tests: checks a quota before each LLM call, as
users run beside headroom-route. It must keep working with it."""


def register(ctx):
    ctx.register_hook("pre_llm_call", lambda **kwargs: None)
