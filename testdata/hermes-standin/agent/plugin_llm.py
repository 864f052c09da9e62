"""Stand-in for agent/plugin_llm.py: ctx.llm, the host-owned model access a
plugin may use. The stand-in offers the object, not the calls."""


class PluginLlm:
    def __init__(self, plugin_id):
        self.plugin_id = plugin_id

    def chat(self, *args, **kwargs):
        raise NotImplementedError("the Hermes stand-in does not run plugin LLM calls")

    complete = chat
