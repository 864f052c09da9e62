"""The stand-in Hermes process. Importing it loads $HERMES_HOME/.env into the
environment (replacing what the shell exported), as Hermes does at start-up.
main(): discovers and loads the plugins through the PluginManager, resolves
a provider's runtime settings, and (unless --resolve-only) sends one request
where they point, firing pre_llm_call, pre_api_request (Hermes's keyword
arguments) and post_api_request as Hermes's conversation loop does. --aux
then makes one auxiliary call (a session title, through
agent.auxiliary_client, which fires no hook, as in Hermes). Prints one JSON
line.
    python3 standin.py [--provider P] [--resolve-only] [--no-plugins] [--aux] [--prompt TEXT]
"""
import argparse
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hermes_cli import _standin  # noqa: E402
from hermes_cli.env_loader import load_hermes_dotenv  # noqa: E402

load_hermes_dotenv()

SESSION_ID = time.strftime("%Y%m%d_%H%M%S_") + uuid.uuid4().hex[:6]
DEFAULT_MODELS = {"anthropic_messages": "claude-opus-4-6", "codex_responses": "gpt-5.1-codex"}


class Context:
    """Kept for callers of the old stand-in (load_plugins(Context())): the
    plugins now get the PluginManager's own PluginContext."""


def load_plugins(ctx=None, force=True):
    """Discovers and loads the plugins (again, when force) as Hermes does;
    the names of those loaded."""
    from hermes_cli.plugins import get_plugin_manager

    manager = get_plugin_manager()
    manager.discover_and_load(force=force)
    return [p["key"] for p in manager.list_plugins() if p["enabled"]]


def plugin_report():
    """(loaded plugin names, registered hook names, {name: why not loaded})."""
    from hermes_cli.plugins import get_plugin_manager

    manager = get_plugin_manager()
    listed = manager.list_plugins()
    return ([p["key"] for p in listed if p["enabled"]], sorted(h for h, c in manager._hooks.items() if c),
            {p["key"]: p["error"] for p in listed if not p["enabled"]})


def model_for(runtime):
    from hermes_cli.config import load_config

    model = load_config().get("model")
    if isinstance(model, dict) and model.get("default") and \
            str(model.get("provider") or "").strip().lower() in ("", runtime["provider"]):
        return str(model["default"])
    return runtime.get("model") or DEFAULT_MODELS.get(runtime["api_mode"], "gpt-5.1")


def send_main(runtime, prompt, *, task_id=None, api_call_count=1):
    """One main-loop API call: the hooks Hermes fires around it, then the
    request. (url, status, body)."""
    from hermes_cli.plugins import has_hook, invoke_hook

    model = model_for(runtime)
    messages = [{"role": "user", "content": prompt}]
    task_id = task_id or str(uuid.uuid4())
    turn_id = uuid.uuid4().hex
    if api_call_count == 1:
        invoke_hook("pre_llm_call", session_id=SESSION_ID, task_id=task_id, turn_id=turn_id, user_message=prompt,
                    conversation_history=list(messages), is_first_turn=True, model=model, platform="cli",
                    sender_id="")
    request_id = uuid.uuid4().hex
    started = time.time()
    if has_hook("pre_api_request"):
        invoke_hook("pre_api_request", task_id=task_id, turn_id=turn_id, api_request_id=request_id,
                    session_id=SESSION_ID, user_message=prompt, conversation_history=list(messages), platform="cli",
                    model=model, provider=runtime["provider"], base_url=runtime["base_url"],
                    api_mode=runtime["api_mode"], api_call_count=api_call_count, request_messages=list(messages),
                    message_count=len(messages), tool_count=0, approx_input_tokens=max(1, len(prompt) // 4),
                    request_char_count=len(prompt), max_tokens=16, started_at=started, middleware_trace=[],
                    request={"body": {"model": model, "messages": list(messages)}})
    url, status, body = _standin.post(base_url=runtime["base_url"], api_mode=runtime["api_mode"],
                                      api_key=runtime["api_key"], provider=runtime["provider"], model=model,
                                      messages=messages)
    if has_hook("post_api_request") and 0 < status < 400:
        invoke_hook("post_api_request", task_id=task_id, turn_id=turn_id, api_request_id=request_id,
                    session_id=SESSION_ID, platform="cli", model=model, provider=runtime["provider"],
                    base_url=runtime["base_url"], api_mode=runtime["api_mode"], api_call_count=api_call_count,
                    api_duration=time.time() - started, started_at=started, ended_at=time.time(),
                    finish_reason="stop", message_count=len(messages), response_model=model, usage={})
    return url, status, body


def send_title(runtime, prompt, reply=""):
    """The auxiliary call Hermes makes after a first exchange: a session
    title, through the auxiliary client, with the main runtime passed along."""
    from agent.auxiliary_client import call_llm

    main = {k: runtime.get(k) or "" for k in ("provider", "base_url", "api_key", "api_mode")}
    main["model"] = model_for(runtime)
    messages = [{"role": "system", "content": "Write a short title for this conversation."},
                {"role": "user", "content": f"User: {prompt[:500]}\n\nAssistant: {reply[:500]}"}]
    return call_llm(task="title_generation", messages=messages, max_tokens=500, temperature=0.3, main_runtime=main)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", help="the provider asked for (default: as Hermes decides)")
    ap.add_argument("--resolve-only", action="store_true", help="resolve, send nothing")
    ap.add_argument("--no-plugins", action="store_true", help="start without plugins")
    ap.add_argument("--aux", action="store_true", help="also make one auxiliary (title) call")
    ap.add_argument("--prompt", default="hi")
    args = ap.parse_args()
    if not args.no_plugins:
        load_plugins(force=False)
    plugins, hooks, not_loaded = plugin_report()
    from hermes_cli import runtime_provider
    from hermes_cli.auth import AuthError

    try:
        runtime = runtime_provider.resolve_runtime_provider(requested=args.provider)
    except AuthError as e:
        print(f"standin: {e}", file=sys.stderr)
        return 1
    out = {"provider": runtime["provider"], "base_url": runtime["base_url"], "api_mode": runtime["api_mode"],
           "source": runtime.get("source"), "requested_provider": runtime.get("requested_provider"),
           "plugins": plugins, "hooks": hooks, "not_loaded": not_loaded}
    ok = True
    if not args.resolve_only:
        out["url"], out["status"], _ = send_main(runtime, args.prompt)
        ok = 0 < out["status"] < 400
    if args.aux and ok:
        if args.resolve_only:
            from agent.auxiliary_client import _resolve_auto

            main_rt = {k: runtime.get(k) or "" for k in ("provider", "base_url", "api_key", "api_mode")}
            main_rt["model"] = model_for(runtime)
            client, _ = _resolve_auto(main_runtime=main_rt, task="title_generation")
        else:
            try:
                reply = send_title(runtime, args.prompt)
                client = reply.client
                out["aux_url"], out["aux_status"] = reply.url, reply.status
            except RuntimeError as e:
                client = None
                out["aux_error"] = str(e)
        out["aux_provider"] = client.provider if client else None
        out["aux_base_url"] = client.base_url if client else None
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
