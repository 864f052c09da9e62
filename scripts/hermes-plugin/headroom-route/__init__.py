"""headroom-route: send Hermes's LLM calls through the local hr proxy.

Hermes takes the base URL of an OAuth provider from code, not from
config.yaml, so a config edit alone leaves that traffic going straight to the
provider. This plugin patches the places that decide the URL, for each routed
provider on its own:

  overlay    hermes_cli.providers.HERMES_OVERLAYS[provider].base_url_override
  seeding    agent.credential_pool._seed_from_singletons and _seed_from_env:
             load_pool() re-creates entries from singleton logins, then from
             ANTHROPIC_TOKEN / ANTHROPIC_API_KEY / OPENAI_API_KEY (.env or the
             environment), each time with the official URL
  runtime    hermes_cli.runtime_provider.resolve_runtime_provider (the result's
             base_url, including the early return taken for OAuth providers)
  auxiliary  agent.auxiliary_client's default URLs, used by the second client
             (titles, summaries, Hermes's own context compression) when it
             finds no pool entry

Only a URL that is empty, the provider's official one or the proxy's is
replaced: a user's own gateway is left alone and reported.

When the proxy's /health does not answer healthy at start (require_health,
the default), every routed provider goes to its OFFICIAL URL for this session
-- also where auth.json already names the proxy -- and that is said loudly:
one outcome for all of them, never a dead proxy for some and the provider for
others, and traffic going direct never looks like traffic going through hr.

A pre_api_request hook writes one line per API call to
$HERMES_HOME/headroom-route.calls.jsonl (time, pid, provider, base_url,
via_proxy): the witness hr-verify reads. What was done at start is written to
$HERMES_HOME/headroom-route.state.json. Standard library only.
"""

import dataclasses
import datetime
import functools
import json
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

try:
    import fcntl
except ImportError:  # no flock where there is no fcntl: appends still go whole
    fcntl = None

NAME = "headroom-route"
DEFAULT_PROXY = "http://127.0.0.1:8788"
HEALTH_TIMEOUT_S = 2.0

# provider id -> (official base URL, path the proxy URL takes for that client)
PROVIDERS = {
    "anthropic": ("https://api.anthropic.com", ""),
    "openai-codex": ("https://chatgpt.com/backend-api/codex", ""),
    "openai-api": ("https://api.openai.com/v1", "/v1"),
}
# agent.auxiliary_client's fallback URL for a provider, by module constant
AUX_DEFAULTS = {
    "anthropic": "_ANTHROPIC_DEFAULT_BASE_URL",
    "openai-codex": "_CODEX_AUX_BASE_URL",
}
CALLS_FILE = NAME + ".calls.jsonl"
CALLS_MAX_BYTES = 64 * 1024  # past this the witness keeps its newest CALLS_KEEP lines
CALLS_KEEP = 200

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


def _config_lines(path):
    """(indent, text) of each line of config.yaml that holds something; none
    when it cannot be read. The plugin reads it without a YAML library: what
    it needs is scalars and lists of scalars."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [(len(line) - len(line.lstrip(" ")), line.strip()) for line in lines
            if line.strip() and not line.strip().startswith("#")]


def _read_block(lines):
    """plugins.headroom-route: its keys, lists as lists."""
    block, in_plugins, indent, key = {}, False, None, None
    for depth, stripped in lines:
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


def _read_model(lines):
    """The model section's scalar keys (provider, base_url, api_mode)."""
    model, inside, indent = {}, False, None
    for depth, stripped in lines:
        if depth == 0:
            inside = stripped.split("#")[0].rstrip() == "model:"
            indent = None
            continue
        if not inside:
            continue
        indent = depth if indent is None else indent
        if depth == indent and ":" in stripped:
            name, _, value = stripped.partition(":")
            value = _scalar(value) if value.strip() else ""
            model[name.strip()] = value if isinstance(value, str) else ""
    return model


def _settings():
    """The plugins.headroom-route block of config.yaml (Hermes gives plugins
    no config accessor: the file is read here)."""
    lines = _config_lines(os.path.join(_hermes_home(), "config.yaml"))
    block = _read_block(lines)
    providers = block["providers"] if "providers" in block else list(PROVIDERS)
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(",") if p.strip()]
    return {
        "proxy_url": str(block.get("proxy_url") or DEFAULT_PROXY).rstrip("/"),
        "providers": [str(p) for p in providers],
        "require_health": block.get("require_health", True) is not False,
        "model": _read_model(lines),
    }


# ---- the proxy ----------------------------------------------------------------------


def _health(proxy_url):
    """None when the proxy says it is healthy, else why not."""
    try:
        with urllib.request.urlopen(proxy_url + "/health", timeout=HEALTH_TIMEOUT_S) as r:
            body = r.read(4096)
            doc = json.loads(body or b"{}")
            if r.status == 200 and isinstance(doc, dict) and doc.get("status") == "healthy":
                return None
            return f"/health answered {r.status}"
    except urllib.error.HTTPError as e:
        return f"/health answered {e.code}"
    except Exception as e:  # refused, timed out, not HTTP, not JSON: all mean "not the proxy"
        return f"cannot reach {proxy_url}/health: {getattr(e, 'reason', e)}"


def _host_port(url):
    """(host, port) of an http(s) URL, the port filled in; None when not one."""
    try:
        parts = urllib.parse.urlsplit(str(url))
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower(), port


class Router:
    """Which URL each routed provider gets (the proxy, or the official URL
    when the proxy is down) and which URLs it may replace: empty, the
    official host, or the proxy."""

    def __init__(self, proxy, providers, via_proxy, model=None):
        self.proxy = proxy
        self.via_proxy = via_proxy
        self.model = model or {}
        self.routes = {p: (proxy + PROVIDERS[p][1] if via_proxy else PROVIDERS[p][0]) for p in providers}
        self.left_alone = {}
        gateway = self.model.get("base_url")
        chosen = self.model.get("provider")
        # openai-api takes model.base_url while its pool holds the official
        # URL; giving the pool the proxy's would bypass the user's gateway
        if chosen == "openai-api" and chosen in self.routes and gateway and not self.replaceable(chosen, gateway):
            del self.routes[chosen]
            self.left_alone[chosen] = f"model.base_url is {gateway}, a gateway of yours"

    def replaceable(self, provider, url):
        if not url:
            return True
        where = _host_port(url)
        return where is not None and where in (_host_port(PROVIDERS[provider][0]), _host_port(self.proxy))

    def url_for(self, provider, current):
        """The URL provider's client should use instead of current, or None."""
        url = self.routes.get(provider)
        if url and url != current and self.replaceable(provider, current):
            return url
        return None


# ---- the patches ------------------------------------------------------------------


def _rebind(module, name, old, new):
    """module.name = new, and every module that imported the old function by name."""
    setattr(module, name, new)
    for other in list(sys.modules.values()):
        try:
            if other is not module and getattr(other, name, None) is old:
                setattr(other, name, new)
        except Exception:  # a lazy module that refuses getattr
            continue


def _patch_overlay(router, provider):
    """The overlay's base_url_override: the proxy, or left as it is (empty:
    the official URL) when the proxy is down."""
    if not router.via_proxy:
        return "patched"
    from hermes_cli import providers as hp

    overlay = hp.HERMES_OVERLAYS[provider]
    current = getattr(overlay, "base_url_override")
    if not router.replaceable(provider, current):
        return f"left alone: base_url_override is {current}"
    url = router.url_for(provider, current)
    if url:
        hp.HERMES_OVERLAYS[provider] = dataclasses.replace(overlay, base_url_override=url)
    return "patched"


def _patch_auxiliary(router):
    """agent.auxiliary_client's fallback URLs for routed providers."""
    from agent import auxiliary_client as aux

    for provider, constant in AUX_DEFAULTS.items():
        if provider not in router.routes:
            continue
        current = getattr(aux, constant)
        url = router.url_for(provider, current)
        if url:
            setattr(aux, constant, url)
    return "patched"


def _set_base_url(entries, index, url):
    entry = entries[index]
    try:
        entry.base_url = url
    except dataclasses.FrozenInstanceError:
        entries[index] = dataclasses.replace(entry, base_url=url)


def _install_wrapper(module, name, router, make_wrapper):
    """module.name wrapped by make_wrapper(original), once: a second register
    only gives the wrapper already there the new router. A wrapper reads it
    from its own headroom_router attribute."""
    current = getattr(module, name)
    if hasattr(current, "headroom_router"):
        current.headroom_router = router
        return
    wrapper = make_wrapper(current)
    wrapper.headroom_router = router
    _rebind(module, name, current, wrapper)


def _seeding_wrapper(original):
    """Both seeders return (changed, sources); an entry whose URL is set here
    counts as changed, so that auth.json is saved with the URL in use."""

    @functools.wraps(original)
    def seed(provider, entries, *args, **kwargs):
        result = original(provider, entries, *args, **kwargs)
        router = seed.headroom_router
        ours = False
        if provider in router.routes and isinstance(entries, list):
            for i, entry in enumerate(entries):
                url = router.url_for(provider, getattr(entry, "base_url", None))
                if url:
                    _set_base_url(entries, i, url)
                    ours = True
        if ours and isinstance(result, tuple) and len(result) == 2:
            result = (True, result[1])
        return result

    return seed


def _official_api_mode(router, provider, module):
    """The wire API Hermes picks for provider's official URL, where it picks
    one from the URL's host and config.yaml does not set it. Through the proxy
    Hermes would pick chat_completions for openai-api, which GPT-5.x tool
    calls with reasoning refuse: the proxy must get what the provider would."""
    if router.model.get("provider") == provider and router.model.get("api_mode"):
        return None
    detect = getattr(module, "_detect_api_mode_for_url", None)
    try:
        return detect(PROVIDERS[provider][0]) if callable(detect) else None
    except Exception:
        return None


def _runtime_wrapper(original):
    module = sys.modules.get(original.__module__)

    @functools.wraps(original)
    def resolve_runtime_provider(*args, **kwargs):
        result = original(*args, **kwargs)
        if not isinstance(result, dict) or kwargs.get("explicit_base_url"):
            return result  # a URL the caller asked for is the caller's
        router = resolve_runtime_provider.headroom_router
        provider = result.get("provider")
        url = router.url_for(provider, result.get("base_url"))
        if url:
            result = dict(result, base_url=url)
        if provider in router.routes and result.get("base_url") == router.routes[provider]:
            mode = _official_api_mode(router, provider, module)
            if mode and result.get("api_mode") != mode:
                result = dict(result, api_mode=mode)
        return result

    return resolve_runtime_provider


def _wrap_seeding(router):
    from agent import credential_pool as cp

    for name in ("_seed_from_singletons", "_seed_from_env"):
        _install_wrapper(cp, name, router, _seeding_wrapper)


def _wrap_runtime(router):
    from hermes_cli import runtime_provider as rp

    _install_wrapper(rp, "resolve_runtime_provider", router, _runtime_wrapper)


def _attempt(step):
    """A patch step's outcome; whatever it raises is reported, never passed to
    Hermes, so that one step failing leaves the others and the report."""
    try:
        return step() or "patched"
    except Exception as e:
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


def _write_whole(path, text):
    """path gets text whole or not at all: temp file, fsync, rename."""
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_state(state):
    """$HERMES_HOME/headroom-route.state.json, for hr-patch-auth --status and hr-verify."""
    home = _hermes_home()
    try:
        _write_whole(os.path.join(home, NAME + ".state.json"), json.dumps(state, indent=2) + "\n")
    except OSError as e:
        _say(logging.WARNING, f"cannot write the state file in {home}: {e}")


# ---- the witness: one line per API call ------------------------------------------------


def _public_url(url):
    """url without credentials, query or fragment: what may go in a file."""
    try:
        parts = urllib.parse.urlsplit(str(url or ""))
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return ""


def _whole_record(line):
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _trim_calls(path):
    """Keeps the witness small: past CALLS_MAX_BYTES, its newest CALLS_KEEP
    lines, less any a killed writer left half-written. Called under the lock."""
    if os.path.getsize(path) <= CALLS_MAX_BYTES:
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines(True)
    _write_whole(path, "".join(line for line in lines[-CALLS_KEEP:] if _whole_record(line)))


def _append_line(path, line):
    """Appends one record under an exclusive lock on a sibling lock file, so
    that a trim (a rename) of another Hermes process cannot lose it; a
    half-written line a killed process left is ended first."""
    with open(path + ".lock", "a") as lock:
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
        finally:
            os.close(fd)
        _trim_calls(path)


def _witness_hook(proxy):
    here = _host_port(proxy)

    def pre_api_request(provider=None, base_url=None, **_):
        path = os.path.join(_hermes_home(), CALLS_FILE)
        record = {
            "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pid": os.getpid(),
            "provider": str(provider or ""),
            "base_url": _public_url(base_url),
            "via_proxy": here is not None and _host_port(base_url) == here,
        }
        line = (json.dumps(record) + "\n").encode("utf-8")
        try:
            _append_line(path, line)
        except OSError as e:
            log.warning("cannot record the call in %s: %s", path, e)

    return pre_api_request


# ---- register -------------------------------------------------------------------------


def _route(router, state):
    """Installs every patch for router; fills state's per-provider steps."""
    seeding = _attempt(lambda: _wrap_seeding(router))
    runtime = _attempt(lambda: _wrap_runtime(router))
    auxiliary = _attempt(lambda: _patch_auxiliary(router))
    done = []
    for provider, url in sorted(router.routes.items()):
        steps = {
            "overlay": _attempt(functools.partial(_patch_overlay, router, provider)),
            "seeding": seeding,
            "runtime": runtime,
            "auxiliary": auxiliary if provider in AUX_DEFAULTS else "patched",
        }
        state["providers"][provider] = dict(steps, base_url=url)
        bad = {k: v for k, v in steps.items() if v != "patched"}
        if not bad:
            done.append(provider)
            continue
        state["failed"].append(provider)
        _say(logging.ERROR, f"{provider} is NOT fully routed to {url}: "
             + "; ".join(f"{k} {v}" for k, v in bad.items()))
    return done


def register(ctx):
    settings = _settings()
    proxy = settings["proxy_url"]
    state = {
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "hermes_version": _hermes_version(),
        "proxy_url": proxy,
        "healthy": None,
        "mode": "proxy",
        "providers": {},
        "patched": [],
        "direct": [],
        "failed": [],
        "not_routed": [],
    }
    unknown = [p for p in settings["providers"] if p not in PROVIDERS]
    for p in unknown:
        _say(logging.ERROR, f"provider {p} is not one the proxy can forward; left alone")
    state["not_routed"] = sorted(set(unknown))
    providers = [p for p in settings["providers"] if p in PROVIDERS]

    problem = _health(proxy) if settings["require_health"] else None
    state["healthy"] = problem is None
    router = Router(proxy, providers, via_proxy=problem is None, model=settings["model"])
    for provider, why in sorted(router.left_alone.items()):
        _say(logging.WARNING, f"{provider} left alone: {why}")
        state["not_routed"].append(provider)
    done = _route(router, state)
    if problem:
        state["reason"] = problem
        state["mode"] = "direct"
        state["direct"] = done
        _say(logging.ERROR, f"the proxy is not healthy ({problem}): {', '.join(sorted(router.routes)) or 'no provider'} "
             "go DIRECT to the provider's official URL this session, NOT through hr (no compression, no "
             "savings); start hr-proxy, then restart Hermes")
    else:
        state["patched"] = done
        if done:
            log.info("routing %s through %s", ", ".join(done), proxy)
    hook = getattr(ctx, "register_hook", None)
    if callable(hook):
        hook("pre_api_request", _witness_hook(proxy))
    _write_state(state)
