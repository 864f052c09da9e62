"""headroom-route: send Hermes's LLM calls through the local hr proxy.

Hermes takes the base URL of an OAuth provider from code, not from
config.yaml, so a config edit alone leaves that traffic going straight to the
provider. This plugin patches the three places that decide the URL, for each
routed provider on its own:

  overlay   hermes_cli.providers.HERMES_OVERLAYS[provider].base_url_override
  seeding   agent.credential_pool._seed_from_singletons (entries re-created
            from singleton credentials get the proxy URL)
  runtime   hermes_cli.runtime_provider.resolve_runtime_provider (the result's
            base_url, including the early return taken for OAuth providers)

Only a URL that is empty or the provider's official one is replaced: a user's
own gateway is left alone and reported. Nothing is patched when the proxy's
/health does not answer healthy (require_health, the default), and that is
said loudly: traffic going direct must never look like traffic going through
the proxy. What was done is written to $HERMES_HOME/headroom-route.state.json
for hr-verify. Standard library only.
"""

import dataclasses
import datetime
import functools
import inspect
import json
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

NAME = "headroom-route"
DEFAULT_PROXY = "http://127.0.0.1:8788"
HEALTH_TIMEOUT_S = 2.0

# provider id -> (official host, path the proxy URL takes for that client)
PROVIDERS = {
    "anthropic": ("api.anthropic.com", ""),
    "openai-codex": ("chatgpt.com", ""),
    "openai-api": ("api.openai.com", "/v1"),
}

log = logging.getLogger("hermes.plugins." + NAME)


def _say(level, message):
    """Hermes's log and stderr both: a user must see a route that is not taken."""
    log.log(level, message)
    print(f"{NAME}: {message}", file=sys.stderr)


# ---- settings ------------------------------------------------------------------------


def _hermes_home():
    return os.environ.get("HERMES_HOME") or os.path.join(os.path.expanduser("~"), ".hermes")


def _scalar(text):
    text = text.split(" #", 1)[0].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(x) for x in text[1:-1].split(",") if x.strip()]
    return text


def _read_block(path):
    """plugins.headroom-route of config.yaml, read without a YAML library: the
    block hr-patch-auth writes holds scalars and lists of scalars only."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    block, in_plugins, indent, key = {}, False, None, None
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if depth == 0:
            in_plugins = stripped.split("#")[0].rstrip() == "plugins:"
            indent = None
            continue
        if not in_plugins:
            continue
        if indent is None:
            if stripped.rstrip(":").strip("'\"") == NAME and stripped.endswith(":"):
                indent = depth
            continue
        if depth <= indent:
            indent = None if stripped.rstrip(":").strip("'\"") != NAME else depth
            continue
        if stripped.startswith("- ") and key:
            block.setdefault(key, [])
            if isinstance(block[key], list):
                block[key].append(_scalar(stripped[2:]))
            continue
        name, _, value = stripped.partition(":")
        key = name.strip()
        block[key] = _scalar(value) if value.strip() else []
    return block


def _settings(ctx):
    block = None
    getter = getattr(ctx, "get_config", None)
    if callable(getter):
        try:
            cfg = getter()
            if isinstance(cfg, dict):
                block = cfg if "proxy_url" in cfg else (cfg.get("plugins") or {}).get(NAME)
        except Exception:  # an older ctx: read the file instead
            block = None
    if not isinstance(block, dict):
        block = _read_block(os.path.join(_hermes_home(), "config.yaml"))
    providers = block.get("providers") or list(PROVIDERS)
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(",") if p.strip()]
    return {
        "proxy_url": str(block.get("proxy_url") or DEFAULT_PROXY).rstrip("/"),
        "providers": [str(p) for p in providers],
        "require_health": block.get("require_health", True) is not False,
    }


# ---- the proxy ----------------------------------------------------------------------


def _health(proxy_url):
    """None when the proxy says it is healthy, else why not."""
    try:
        with urllib.request.urlopen(proxy_url + "/health", timeout=HEALTH_TIMEOUT_S) as r:
            body = r.read(4096)
            if r.status == 200 and json.loads(body or b"{}").get("status") == "healthy":
                return None
            return f"/health answered {r.status}"
    except urllib.error.HTTPError as e:
        return f"/health answered {e.code}"
    except (OSError, ValueError) as e:
        return f"cannot reach {proxy_url}/health: {getattr(e, 'reason', e)}"


def _routable(provider, url):
    """Whether a base URL may be replaced: empty, the official host, or the proxy."""
    if not url:
        return True
    host = urllib.parse.urlsplit(str(url)).hostname or ""
    return host == PROVIDERS[provider][0]


# ---- the three patches -------------------------------------------------------------


def _rebind(module, name, old, new):
    """module.name = new, and every module that imported the old function by name."""
    setattr(module, name, new)
    for other in list(sys.modules.values()):
        try:
            if other is not module and getattr(other, name, None) is old:
                setattr(other, name, new)
        except Exception:  # a lazy module that refuses getattr
            continue


def _patch_overlay(provider, url):
    from hermes_cli import providers as hp

    overlay = hp.HERMES_OVERLAYS[provider]
    current = getattr(overlay, "base_url_override")
    if current == url:
        return "patched"
    if not _routable(provider, current):
        return f"left alone: base_url_override is {current}"
    hp.HERMES_OVERLAYS[provider] = dataclasses.replace(overlay, base_url_override=url)
    return "patched"


def _set_base_url(entries, index, url):
    entry = entries[index]
    try:
        entry.base_url = url
    except dataclasses.FrozenInstanceError:
        entries[index] = dataclasses.replace(entry, base_url=url)


def _install_wrapper(module, name, routes, make_wrapper):
    """module.name wrapped by make_wrapper(original), once: a second register
    only gives the wrapper already there the new routes. A wrapper reads its
    routes from its own headroom_routes attribute."""
    current = getattr(module, name)
    if hasattr(current, "headroom_routes"):
        current.headroom_routes.clear()
        current.headroom_routes.update(routes)
        return
    wrapper = make_wrapper(current)
    wrapper.headroom_routes = dict(routes)
    _rebind(module, name, current, wrapper)


def _seeding_wrapper(original):
    @functools.wraps(original)
    def _seed_from_singletons(provider, entries, *args, **kwargs):
        result = original(provider, entries, *args, **kwargs)
        url = _seed_from_singletons.headroom_routes.get(provider)
        if url and isinstance(entries, list):
            for i, entry in enumerate(entries):
                if _routable(provider, getattr(entry, "base_url", None)):
                    _set_base_url(entries, i, url)
        return result

    return _seed_from_singletons


def _runtime_wrapper(original):
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None

    def explicit_base_url(args, kwargs):
        if signature is None:
            return kwargs.get("explicit_base_url")
        try:
            return signature.bind_partial(*args, **kwargs).arguments.get("explicit_base_url")
        except TypeError:
            return None

    @functools.wraps(original)
    def resolve_runtime_provider(*args, **kwargs):
        result = original(*args, **kwargs)
        if not isinstance(result, dict) or explicit_base_url(args, kwargs):
            return result  # a URL the caller asked for is the caller's
        provider = result.get("provider")
        url = resolve_runtime_provider.headroom_routes.get(provider)
        if url and _routable(provider, result.get("base_url")):
            result = dict(result, base_url=url)
        return result

    return resolve_runtime_provider


def _wrap_seeding(routes):
    from agent import credential_pool as cp

    _install_wrapper(cp, "_seed_from_singletons", routes, _seeding_wrapper)


def _wrap_runtime(routes):
    from hermes_cli import runtime_provider as rp

    _install_wrapper(rp, "resolve_runtime_provider", routes, _runtime_wrapper)


def _attempt(step):
    try:
        return step() or "patched"
    except (ImportError, AttributeError, KeyError, TypeError) as e:
        return f"failed: {type(e).__name__}: {e}"


# ---- register -------------------------------------------------------------------------


def _hermes_version():
    try:
        import hermes_cli

        version = getattr(hermes_cli, "__version__", None)
        if version:
            return str(version)
    except ImportError:
        pass
    try:
        from importlib import metadata

        return metadata.version("hermes-agent")
    except Exception:
        return None


def _write_state(state):
    """$HERMES_HOME/headroom-route.state.json, whole or not at all."""
    home = _hermes_home()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".headroom-route.state.", dir=home)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(home, "headroom-route.state.json"))
    except OSError as e:
        _say(logging.WARNING, f"cannot write the state file in {home}: {e}")


def register(ctx):
    settings = _settings(ctx)
    proxy = settings["proxy_url"]
    state = {
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "hermes_version": _hermes_version(),
        "proxy_url": proxy,
        "healthy": None,
        "providers": {},
        "patched": [],
        "failed": [],
        "not_routed": [],
    }
    unknown = [p for p in settings["providers"] if p not in PROVIDERS]
    for p in unknown:
        _say(logging.ERROR, f"provider {p} is not one the proxy can forward; left alone")
    routes = {p: proxy + PROVIDERS[p][1] for p in settings["providers"] if p in PROVIDERS}
    state["not_routed"] = sorted(set(unknown))

    problem = _health(proxy) if settings["require_health"] else None
    state["healthy"] = problem is None
    if problem:
        state["reason"] = problem
        state["failed"] = sorted(routes)
        _say(logging.ERROR, f"the proxy is not healthy ({problem}); NOTHING IS PATCHED: "
             f"{', '.join(sorted(routes)) or 'no provider'} go straight to the provider this session")
        _write_state(state)
        return

    seeding = _attempt(lambda: _wrap_seeding(routes))
    runtime = _attempt(lambda: _wrap_runtime(routes))
    for provider, url in sorted(routes.items()):
        steps = {
            "overlay": _attempt(functools.partial(_patch_overlay, provider, url)),
            "seeding": seeding,
            "runtime": runtime,
        }
        state["providers"][provider] = dict(steps, base_url=url)
        bad = {k: v for k, v in steps.items() if v != "patched"}
        if bad:
            state["failed"].append(provider)
            _say(logging.ERROR, f"{provider} is NOT fully routed through {url}: "
                 + "; ".join(f"{k} {v}" for k, v in bad.items()))
        else:
            state["patched"].append(provider)
    if state["patched"]:
        log.info("routing %s through %s", ", ".join(state["patched"]), proxy)
    _write_state(state)
