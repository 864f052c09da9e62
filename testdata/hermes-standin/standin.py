"""The stand-in Hermes process: loads the enabled plugins, resolves a
provider's runtime settings, and (unless --resolve-only) sends one request
where they point, the way that provider's client would. Prints one JSON line.
    python3 standin.py --provider anthropic [--resolve-only] [--no-plugins]
"""
import argparse
import importlib.util
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hermes_cli import _standin  # noqa: E402


class Context:
    """The part of Hermes's plugin context the stand-in offers."""

    def __init__(self):
        self.hooks = {}

    def register_hook(self, name, fn):
        self.hooks.setdefault(name, []).append(fn)

    def register_tool(self, **kwargs):
        pass


def load_plugins(ctx):
    loaded = []
    for name in _standin.read_config()["enabled"]:
        path = os.path.join(_standin.home(), "plugins", name, "__init__.py")
        if not os.path.exists(path):
            print(f"standin: plugin {name} is not installed", file=sys.stderr)
            continue
        spec = importlib.util.spec_from_file_location("hermes_plugins." + name.replace("-", "_"), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.register(ctx)
        loaded.append(name)
    return loaded


def post(runtime, prompt):
    """One request as the provider's client sends it: (url, status, body)."""
    base, key, mode = runtime["base_url"].rstrip("/"), runtime["api_key"], runtime["api_mode"]
    headers = {"content-type": "application/json", "user-agent": "hermes-standin/0"}
    if mode == "anthropic_messages":
        url = base + "/v1/messages"
        body = {"model": "claude-opus-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": prompt}]}
        headers["anthropic-version"] = "2023-06-01"
        if key.startswith("sk-ant-oat"):
            headers["authorization"] = "Bearer " + key
            headers["anthropic-beta"] = "oauth-2025-04-20"
        else:
            headers["x-api-key"] = key
    else:
        url = base + "/responses"
        body = {"model": "gpt-5.1-codex", "input": prompt, "stream": False}
        headers["authorization"] = "Bearer " + key
        if runtime["provider"] == "openai-codex":
            tokens = _standin.read_auth()["providers"]["openai-codex"]["tokens"]
            headers["chatgpt-account-id"] = tokens["account_id"]
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return url, r.status, r.read()
    except urllib.error.HTTPError as e:
        return url, e.code, e.read()


def send(runtime):
    url, status, _ = post(runtime, "hi")
    return url, status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True)
    ap.add_argument("--resolve-only", action="store_true")
    ap.add_argument("--no-plugins", action="store_true")
    args = ap.parse_args()
    ctx = Context()
    plugins = [] if args.no_plugins else load_plugins(ctx)
    from hermes_cli import runtime_provider

    runtime = runtime_provider.resolve_runtime_provider(requested=args.provider)
    out = {"provider": runtime["provider"], "base_url": runtime["base_url"], "plugins": plugins,
           "hooks": sorted(ctx.hooks)}
    if not args.resolve_only:
        out["url"], out["status"] = send(runtime)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
