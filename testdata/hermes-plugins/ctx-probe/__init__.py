"""A plugin for scripts/standin-test.py: writes what register(ctx) was given
to $HERMES_HOME/ctx-probe.json and appends the keyword arguments of each
pre_api_request call to $HERMES_HOME/ctx-probe.calls.jsonl. Its two
post_llm_call callbacks show that a failing callback does not stop the next."""
import json
import os

NAMES = ("manifest", "llm", "profile_name", "register_tool", "register_hook", "register_middleware",
         "register_command", "get_config")


def _home():
    return os.environ.get("HERMES_HOME") or os.path.join(os.path.expanduser("~"), ".hermes")


def _on_pre_api_request(**kwargs):
    record = {k: v for k, v in kwargs.items() if isinstance(v, (str, int, float, bool, type(None)))}
    record["request_messages"] = kwargs.get("request_messages")
    record["keys"] = sorted(kwargs)
    with open(os.path.join(_home(), "ctx-probe.calls.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _fails(**kwargs):
    raise RuntimeError("ctx-probe: a callback that fails")


def _answers(**kwargs):
    return "ctx-probe answered"


def register(ctx):
    seen = {"attrs": {name: name in dir(ctx) for name in NAMES},
            "manifest_name": getattr(ctx.manifest, "name", None), "profile_name": ctx.profile_name}
    with open(os.path.join(_home(), "ctx-probe.json"), "w", encoding="utf-8") as f:
        json.dump(seen, f)
    ctx.register_hook("pre_api_request", _on_pre_api_request)
    ctx.register_hook("post_llm_call", _fails)
    ctx.register_hook("post_llm_call", _answers)
