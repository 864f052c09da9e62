"""End-to-end tests of hr against the real Hermes Agent: its own modules,
read from a source folder you already have, load the headroom-route plugin
that hr-patch-auth installed and decide every URL themselves, in front of a
real hr-proxy and a fake provider on loopback. Nothing is fetched.

    HR_HERMES_SRC=/path/to/hermes-agent python3 scripts/hermes-real-test.py BUILD_DIR
    python3 scripts/hermes-real-test.py BUILD_DIR --hermes-src /path/to/hermes-agent

Without the source, or when its modules do not import (they need Debian's
python3-yaml, -httpx, -dotenv, -packaging, -ruamel.yaml, -rich, -tenacity and
-jinja2; the openai / anthropic SDKs are not needed), it prints one
"skip real hermes: WHY" line and exits 0.

Each Hermes home is made by Hermes's own setup code (the functions
`hermes setup` / `hermes model` call: the Claude token saved to .env, a Codex
device-code login, `hermes plugins disable`), with HOME pointing at a scratch
folder that holds a Claude Code login (~/.claude/.credentials.json). Each
Hermes start is a fresh Python process that loads ~/.hermes/.env as the CLI
does, runs the real PluginManager, then asks Hermes's own resolvers:
resolve_runtime_provider, load_pool, the auxiliary client (_try_anthropic,
_build_codex_client) and invoke_hook('pre_api_request', ...) with the keyword
arguments agent/conversation_loop.py passes. The fixture homes of
testdata/hermes-homes, when there, go through the same flow, after a check
that a Hermes start before hr rewrites nothing in them (that they are what
Hermes itself leaves).
Prints "ok real-hermes: NAME" / "not ok real-hermes: NAME: why" per test."""
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # nothing left behind in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import PLUGIN, ROOT, ROUTED, Checks, World, expect  # noqa: E402

FIXTURES = os.path.join(ROOT, "testdata", "hermes-homes")
OFFICIAL = {"anthropic": "https://api.anthropic.com", "openai-codex": "https://chatgpt.com/backend-api/codex",
            "openai-api": "https://api.openai.com/v1"}
OPENROUTER = "https://openrouter.ai/api/v1"
CLAUDE_TOKEN = "sk-ant-oat01-hrtest-env-token-AAAA"          # `hermes setup` puts it in .env
CLAUDE_CODE_TOKEN = "sk-ant-oat01-hrtest-claude-code-BBBB"   # Claude Code's own login
OPENROUTER_KEY = "sk-or-v1-hrtest-EEEE"
CODEX_ACCOUNT = "acct-hrtest-5c1d"
CODEX_MODEL = "gpt-5.1-codex"

# ---- arguments; the skip line ----------------------------------------------------------

args = sys.argv[1:]
src = os.environ.get("HR_HERMES_SRC", "")
if "--hermes-src" in args:
    i = args.index("--hermes-src")
    src = args[i + 1] if i + 1 < len(args) else ""
    del args[i:i + 2]
BUILD = os.path.join(ROOT, args[0] if args else "build/release")
TOOL = os.path.join(BUILD, "hr-patch-auth")


def skip(why):
    print(f"skip real hermes: {why}")
    sys.exit(0)


if not src:
    skip("no Hermes Agent source (set HR_HERMES_SRC or pass --hermes-src DIR; nothing is fetched) # env")
SRC = os.path.abspath(src)
if not os.path.isfile(os.path.join(SRC, "hermes_cli", "plugins.py")):
    skip(f"{SRC} is not a Hermes Agent source folder (no hermes_cli/plugins.py)")

# what a Hermes process sees of this one's environment: no credentials, no
# Hermes settings, no HTTP proxy between the plugin and hr-proxy
_DROP = re.compile(r"^(HERMES_|ANTHROPIC_|CLAUDE_|OPENAI_|OPENROUTER_|CODEX_|NOUS_|XAI_|XDG_|HR_|HEADROOM_)|"
                   r"(_API_KEY|_TOKEN|_SECRET|_BASE_URL)$|^(http|https|all|no)_proxy$", re.I)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not _DROP.search(k) and k != "PYTHONPATH"}
    env.update(PYTHONDONTWRITEBYTECODE="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(extra)
    return env


PROBE = ("import sys; sys.path.insert(0, sys.argv[1])\n"
         "import hermes_cli, hermes_cli.env_loader, hermes_cli.config, hermes_cli.auth, hermes_cli.plugins\n"
         "import hermes_cli.plugins_cmd, hermes_cli.runtime_provider, agent.credential_pool, agent.auxiliary_client\n"
         "print(getattr(hermes_cli, '__version__', '?'))")
_scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"hr-real-hermes-probe.{os.getpid()}")
os.makedirs(_scratch, exist_ok=True)
try:
    probe = subprocess.run([sys.executable, "-c", PROBE, SRC], capture_output=True, text=True, timeout=120,
                           cwd=_scratch, env=clean_env(HERMES_HOME=os.path.join(_scratch, "h"), HOME=_scratch))
finally:
    shutil.rmtree(_scratch, ignore_errors=True)
if probe.returncode:
    last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
    skip(f"cannot import Hermes's modules from {SRC} with {sys.executable}: {last}")
HERMES_VERSION = probe.stdout.strip()
for prog in ("hr-proxy", "hr-patch-auth"):
    if not os.access(os.path.join(BUILD, prog), os.X_OK):
        print(f"not ok real-hermes: setup: {os.path.join(BUILD, prog)} is not built")
        sys.exit(1)
print(f"real Hermes {HERMES_VERSION} from {SRC}")

# ---- one Hermes process --------------------------------------------------------------------

DRIVER = r'''
"""One Hermes process for hermes-real-test.py. argv[1]: the Hermes source;
argv[2]: a JSON request. Its last stdout line is "HR-RESULT <json>"."""
import ast, base64, json, logging, os, sys, time, traceback
from pathlib import Path
from types import SimpleNamespace

SRC, REQ = sys.argv[1], json.loads(sys.argv[2])
sys.path.insert(0, SRC)
out = {"pid": os.getpid(), "warnings": []}


class KeepWarnings(logging.Handler):
    def emit(self, record):
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        out["warnings"].append({"logger": record.name, "level": record.levelname, "message": message[:600]})


logging.getLogger().addHandler(KeepWarnings(level=logging.WARNING))


def hermes_dotenv():
    """What cli.py does first: ~/.hermes/.env, then the source's own .env."""
    from hermes_cli.env_loader import load_hermes_dotenv
    load_hermes_dotenv(hermes_home=os.environ["HERMES_HOME"], project_env=Path(SRC) / ".env")


def jwt(claims):
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return part({"alg": "RS256", "typ": "JWT"}) + "." + part(claims) + ".c2lnbmF0dXJl"


# ---- setup: Hermes's own code writes the home --------------------------------------------

def codex_login(step):
    """What _login_openai_codex does once the device-code flow returned."""
    from hermes_cli import auth
    token = jwt({"https://api.openai.com/auth": {"chatgpt_account_id": step["account"], "chatgpt_plan_type": "plus"},
                 "exp": int(time.time()) + 30 * 86400, "sub": "user-hrtest"})
    auth._save_codex_tokens({"access_token": token, "refresh_token": "rt-hrtest-codex", "id_token": token,
                             "account_id": step["account"]})
    auth._update_config_for_provider("openai-codex", auth.DEFAULT_CODEX_BASE_URL)


def claude_subscription(step):
    """`hermes model` -> Anthropic -> Claude Pro/Max subscription: a
    setup-token goes to .env (ANTHROPIC_TOKEN), or, when Claude Code is
    logged in, Hermes uses Claude Code's own credentials (token null); then
    _model_flow_anthropic's config update."""
    from hermes_cli import auth
    from hermes_cli.config import (clear_model_endpoint_credentials, load_config, save_anthropic_oauth_token,
                                   save_config, save_env_value, use_anthropic_claude_code_credentials)
    if step.get("token"):
        save_anthropic_oauth_token(step["token"], save_fn=save_env_value)
    else:
        use_anthropic_claude_code_credentials(save_fn=save_env_value)
    auth._save_model_choice(step["model"])
    cfg = load_config()
    model = cfg.get("model") if isinstance(cfg.get("model"), dict) else {}
    model["provider"] = "anthropic"
    model.pop("base_url", None)
    clear_model_endpoint_credentials(model)
    cfg["model"] = model
    save_config(cfg)
    auth.deactivate_provider()


def env_value(step):
    from hermes_cli.config import save_env_value
    save_env_value(step["key"], step["value"])


def model_without_provider(step):
    from hermes_cli.config import load_config, save_config
    cfg = load_config()
    cfg["model"] = {"default": step["model"]}
    save_config(cfg)


def first_start(step):
    """A session before hr: the pools as Hermes saves them in auth.json."""
    from agent.credential_pool import load_pool
    for provider in step["providers"]:
        load_pool(provider)


def plugins_disable(step):
    """`hermes plugins disable NAME`."""
    from hermes_cli.plugins_cmd import cmd_disable
    cmd_disable(step["name"])


def plugins_enabled_add(step):
    """NAME back in plugins.enabled, plugins.disabled left as it is (a hand
    edit, or an older hr's --apply)."""
    from hermes_cli.config import load_config, save_config
    cfg = load_config()
    plugins = cfg.setdefault("plugins", {})
    enabled = plugins.get("enabled") if isinstance(plugins.get("enabled"), list) else []
    plugins["enabled"] = enabled + [step["name"]]
    save_config(cfg)


STEPS = {f.__name__: f for f in (codex_login, claude_subscription, env_value, model_without_provider, first_start,
                                 plugins_disable, plugins_enabled_add)}


def setup():
    hermes_dotenv()  # as the hermes command does before any of its subcommands
    for step in REQ["steps"]:
        STEPS[step["do"]](step)


# ---- start: what a Hermes session asks ---------------------------------------------------

def hook_kwarg_names():
    """The keyword names agent/conversation_loop.py passes to
    invoke_hook("pre_api_request", ...), read from its source."""
    tree = ast.parse(Path(SRC, "agent", "conversation_loop.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "pre_api_request" and node.keywords):
            return [k.arg for k in node.keywords if k.arg]
    raise RuntimeError("no invoke_hook('pre_api_request', ...) call in agent/conversation_loop.py")


def plugin_report(manager):
    plugins = {}
    for key, loaded in getattr(manager, "_plugins", {}).items():
        m = loaded.manifest
        if m.source == "bundled":
            continue
        plugins[key] = {"enabled": loaded.enabled, "error": loaded.error, "hooks": list(loaded.hooks_registered),
                        "manifest": {"name": m.name, "key": m.key, "version": m.version, "kind": m.kind,
                                     "source": m.source, "path": m.path, "provides_hooks": m.provides_hooks,
                                     "provides_tools": m.provides_tools, "requires_env": m.requires_env}}
    return plugins


def install_client_recorders():
    """The openai / anthropic SDKs are not installed here: the two calls that
    would build an SDK client become recorders of what Hermes passed them.
    Everything that picks the credential and the URL is Hermes's own code."""
    import agent.anthropic_adapter as adapter
    import agent.auxiliary_client as aux

    adapter.build_anthropic_client = lambda api_key, base_url=None, *a, **k: SimpleNamespace(
        api_key=api_key, base_url=base_url, close=lambda: None)
    aux.OpenAI = lambda **kw: SimpleNamespace(close=lambda: None, **kw)
    return aux


def guarded(fn):
    try:
        return fn()
    except Exception as e:
        return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=4)}


def start():
    hermes_dotenv()
    from hermes_cli.plugins import discover_plugins, get_plugin_manager, has_hook, invoke_hook
    discover_plugins()
    manager = get_plugin_manager()
    out["plugins"] = plugin_report(manager)
    out["loaded"] = sorted(k for k, p in getattr(manager, "_plugins", {}).items()
                           if p.enabled and not getattr(p, "deferred", False))
    out["hooks"] = sorted(h for h, cbs in getattr(manager, "_hooks", {}).items() if cbs)
    out["has_pre_api_request"] = has_hook("pre_api_request")

    from hermes_cli.runtime_provider import resolve_runtime_provider
    out["resolve"] = {}
    for p in REQ.get("resolve", []):
        def one(p=p):
            r = resolve_runtime_provider(requested=p)
            return {k: r.get(k) for k in ("provider", "base_url", "api_mode", "source", "api_key")}
        out["resolve"][p] = guarded(one)

    from agent.credential_pool import load_pool
    out["pools"] = {}
    for p in REQ.get("pools", []):
        out["pools"][p] = guarded(lambda p=p: [{"id": e.id, "source": e.source, "base_url": e.base_url}
                                               for e in load_pool(p).entries()])

    out["aux"] = {}
    if REQ.get("aux"):
        aux = install_client_recorders()
        builders = {"anthropic": lambda: aux._try_anthropic(), "openai-codex": lambda: aux._build_codex_client(
            REQ.get("codex_model", "gpt-5.1-codex"))}
        for p in REQ["aux"]:
            def one(p=p):
                client, model = builders[p]()
                return {"base_url": str(client.base_url) if client is not None else None, "model": model,
                        "client": type(client).__name__}
            out["aux"][p] = guarded(one)

    if REQ.get("hooks"):
        names = hook_kwarg_names()
        out["hook_kwargs"] = names
        out["hook_results"] = []
        for n, call in enumerate(REQ["hooks"]):
            provider = call["provider"]
            runtime = out["resolve"].get(provider) or {}
            base_url = call.get("base_url") or runtime.get("base_url")
            model = call.get("model", "claude-opus-4-6")
            messages = [{"role": "user", "content": "What does parse_config return?"}]
            values = {
                "task_id": "task-hrtest", "turn_id": f"turn-{n}", "api_request_id": f"req-hrtest-{n}",
                "session_id": "session-hrtest", "user_message": messages[0]["content"],
                "conversation_history": list(messages), "platform": "cli", "model": model, "provider": provider,
                "base_url": base_url, "api_mode": runtime.get("api_mode") or "chat_completions",
                "api_call_count": n + 1, "request_messages": list(messages), "message_count": len(messages),
                "tool_count": 0, "approx_input_tokens": 12, "request_char_count": 48, "max_tokens": 1024,
                "started_at": time.time(), "middleware_trace": [],
                "request": {"method": "POST", "body": {"model": model, "messages": messages}},
            }
            out["hook_results"].append(guarded(lambda: len(invoke_hook(
                "pre_api_request", **{k: values.get(k) for k in names}))))


try:
    {"setup": setup, "start": start}[REQ["action"]]()
except BaseException as e:  # noqa: B036 -- report it, whatever it is (SystemExit from a Hermes command too)
    out["crash"] = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}"
sys.stdout.flush()
print("HR-RESULT " + json.dumps(out, default=str))
'''

world = World(BUILD, "hr-real-hermes-test.")
tmp, proxy_url = world.tmp, world.proxy_url
DRIVER_PATH = os.path.join(tmp, "hermes_driver.py")
with open(DRIVER_PATH, "w", encoding="utf-8") as f:
    f.write(DRIVER)
checks = Checks("real-hermes")


class Home:
    """A Hermes home ($HERMES_HOME) and the user's home ($HOME) around it."""

    def __init__(self, name, steps, claude_code=True, fixture=None):
        self.user = os.path.join(tmp, name)
        self.path = os.path.join(self.user, ".hermes")
        if fixture:  # a copy of testdata/hermes-homes/<fixture>, and of its user-home when it has Claude Code
            if claude_code:
                shutil.copytree(os.path.join(FIXTURES, "user-home"), self.user)
            shutil.copytree(os.path.join(FIXTURES, fixture), self.path)
            os.chmod(self.file("auth.json"), 0o600)
            return
        os.makedirs(self.path)
        if claude_code:  # Claude Code's login, which Hermes picks up as the claude_code pool entry
            os.makedirs(os.path.join(self.user, ".claude"))
            with open(os.path.join(self.user, ".claude", ".credentials.json"), "w", encoding="utf-8") as f:
                json.dump({"claudeAiOauth": {"accessToken": CLAUDE_CODE_TOKEN, "refreshToken": "sk-ant-ort01-hrtest",
                                             "expiresAt": int((time.time() + 30 * 86400) * 1000),
                                             "scopes": ["user:inference", "user:profile"],
                                             "subscriptionType": "max"}}, f)
        got = self.hermes({"action": "setup", "steps": steps})
        expect("crash" not in got, f"making the home with Hermes's setup code failed: {got.get('crash')}")

    def hermes(self, request, **env):
        """A fresh Hermes process on this home: its HR-RESULT object, with
        its stderr as ["stderr"]."""
        r = subprocess.run([sys.executable, DRIVER_PATH, SRC, json.dumps(request)], capture_output=True, text=True,
                           timeout=180, cwd=self.user,
                           env=clean_env(HERMES_HOME=self.path, HOME=self.user, **env))
        lines = [x for x in r.stdout.splitlines() if x.startswith("HR-RESULT ")]
        if not lines:
            raise AssertionError(f"the Hermes process exited {r.returncode} without a result: {r.stderr[-600:]}")
        got = json.loads(lines[-1][len("HR-RESULT "):])
        got["stderr"] = r.stderr
        return got

    def start(self, **request):
        """A Hermes start; a crash inside it fails the check that asked."""
        got = self.hermes(dict(request, action="start", codex_model=CODEX_MODEL))
        expect("crash" not in got, f"the Hermes start crashed: {got.get('crash')}")
        return got

    def patch_auth(self, *args, **env):
        return subprocess.run([TOOL, "--hermes-home", self.path, *args], capture_output=True, text=True, timeout=60,
                              env=clean_env(HOME=self.user, HR_PLUGIN_SOURCE=PLUGIN, **env))

    def apply(self, proxy=None):
        r = self.patch_auth("--apply", "--proxy-url", proxy or proxy_url, "--plugin-source", PLUGIN)
        expect(r.returncode == 0, f"hr-patch-auth --apply exited {r.returncode}: {r.stderr.strip()} {r.stdout.strip()}")
        return r

    def file(self, name):
        return os.path.join(self.path, name)

    def auth(self):
        with open(self.file("auth.json"), encoding="utf-8") as f:
            return json.load(f)

    def config(self):
        import yaml  # python3-yaml: Hermes's own modules need it too

        with open(self.file("config.yaml"), encoding="utf-8") as f:
            return yaml.safe_load(f) or {}

    def model(self):
        m = self.config().get("model")
        return m if isinstance(m, dict) else {}

    def state(self):
        with open(self.file("headroom-route.state.json"), encoding="utf-8") as f:
            return json.load(f)

    def calls(self):
        try:
            with open(self.file("headroom-route.calls.jsonl"), encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


# the homes, as `hermes setup` / `hermes model` leave them
CODEX_LOGIN = {"do": "codex_login", "account": CODEX_ACCOUNT}
CLAUDE_SUBSCRIPTION = {"do": "claude_subscription", "token": CLAUDE_TOKEN, "model": "claude-opus-4-6"}
CLAUDE_CODE_SUBSCRIPTION = {"do": "claude_subscription", "token": None, "model": "claude-opus-4-6"}
OPENROUTER_KEY_STEP = {"do": "env_value", "key": "OPENROUTER_API_KEY", "value": OPENROUTER_KEY}


def claude_home(name):
    """A Claude subscription user: the setup-token in .env (ANTHROPIC_TOKEN),
    Claude Code logged in too, an earlier ChatGPT/Codex device-code login and
    an OpenRouter key; model.provider anthropic; one session before hr."""
    return Home(name, [CODEX_LOGIN, CLAUDE_SUBSCRIPTION, OPENROUTER_KEY_STEP,
                       {"do": "first_start", "providers": ["anthropic", "openai-codex", "openrouter"]}])


def claude_code_home(name):
    """A Claude subscription through Claude Code's own login (no token in
    .env) and an earlier Codex login; model.provider anthropic."""
    return Home(name, [CODEX_LOGIN, CLAUDE_CODE_SUBSCRIPTION,
                       {"do": "first_start", "providers": ["anthropic", "openai-codex"]}])


def codex_home(name):
    """A ChatGPT/Codex user (device-code login) and nothing else."""
    return Home(name, [CODEX_LOGIN, {"do": "first_start", "providers": ["openai-codex"]}], claude_code=False)


def no_provider_home(name, codex_login=True):
    """A Claude token in .env and a config.yaml whose model has no provider
    (written by hand, or by an older Hermes). With codex_login, an earlier
    Codex login left auth.json's active_provider at openai-codex."""
    return Home(name, ([CODEX_LOGIN] if codex_login else []) + [
        {"do": "env_value", "key": "ANTHROPIC_TOKEN", "value": CLAUDE_TOKEN},
        {"do": "model_without_provider", "model": "claude-opus-4-6"},
        {"do": "first_start", "providers": ["anthropic"] + (["openai-codex"] if codex_login else [])}])


def once(fn):
    """fn runs once per argument list; its result, or its failure, is what
    every later call gets (the checks that share a Hermes start)."""
    memo = {}

    @functools.wraps(fn)
    def run(*a):
        if a not in memo:
            try:
                memo[a] = (True, fn(*a))
            except Exception as e:
                memo[a] = (False, e if isinstance(e, AssertionError) else
                           AssertionError(f"{type(e).__name__}: {e}"))
        ok, value = memo[a]
        if not ok:
            raise AssertionError(f"{fn.__name__} failed: {value}")
        return value
    return run


def proxy_form(provider, proxy=None):
    return (proxy or proxy_url) + ("/v1" if provider == "openai-api" else "")


def warnings_of(got, *words):
    return [w for w in got["warnings"] if any(x in (w["logger"] + " " + w["message"]) for x in words)]


def pool_urls(got, provider):
    pool = got["pools"][provider]
    expect(isinstance(pool, list), f"load_pool({provider!r}) failed: {pool}")
    return {e["source"]: e["base_url"] for e in pool}


# ---- the Claude subscription user, proxy up ------------------------------------------------

ROUTE_REQUEST = {"resolve": ["anthropic", "openai-codex", "openrouter"],
                 "pools": ["anthropic", "openai-codex", "openrouter"], "aux": ["anthropic", "openai-codex"],
                 "hooks": [{"provider": "anthropic"}, {"provider": "openai-codex", "model": CODEX_MODEL},
                           {"provider": "openrouter", "model": "anthropic/claude-opus-4.6"}]}
main = {}  # what the tests below share: the home, its model section before --apply, one Hermes start


@once
def main_start():
    if "got" not in main:
        home = main["home"] = claude_home("claude")
        main["model_before"] = home.model()
        main["apply"] = home.apply()
        main["got"] = home.start(**ROUTE_REQUEST)
    return main["home"], main["got"]


def test_plugin_loads():
    home, got = main_start()
    plugin = got["plugins"].get("headroom-route")
    expect(plugin is not None, f"the real PluginManager did not find headroom-route in {home.file('plugins')}: "
           f"{sorted(got['plugins'])}")
    expect(plugin["enabled"] and not plugin["error"], f"headroom-route not loaded: {plugin}")
    expect(plugin["manifest"]["source"] == "user" and plugin["manifest"]["key"] == "headroom-route",
           f"manifest {plugin['manifest']}")
    bad = warnings_of(got, "headroom-route", "headroom_route", "hermes_plugins")
    expect(not bad, f"warnings while loading: {bad}")
    expect("Traceback" not in got["stderr"], f"stderr: {got['stderr'][-600:]}")
    st = home.state()
    expect(st.get("healthy") is True and st.get("pid") == got["pid"] and st.get("hermes_version") == HERMES_VERSION,
           f"state file after the start: {st}")


def test_manifest():
    _, got = main_start()
    plugin = got["plugins"].get("headroom-route") or {}
    m = plugin.get("manifest") or {}
    expect(m.get("name") == "headroom-route" and m.get("kind") == "standalone", f"manifest as Hermes parsed it: {m}")
    expect(m.get("version"), f"no version for `hermes plugins list`: {m}")
    expect(isinstance(m.get("provides_hooks"), list) and isinstance(m.get("provides_tools"), list), f"{m}")
    missing = sorted(set(plugin.get("hooks", [])) - set(m.get("provides_hooks") or []))
    expect(not missing, f"hooks registered but not in provides_hooks: {missing}")
    bad = warnings_of(got, "plugin.yaml", "unknown kind", "unknown hook")
    expect(not bad, f"Hermes warned about the manifest or a hook: {bad}")


def test_claude_runtime():
    _, got = main_start()
    r = got["resolve"]["anthropic"]
    expect(r.get("provider") == "anthropic" and r.get("base_url") == proxy_url,
           f"resolve_runtime_provider(requested='anthropic') gave {r}")


def test_claude_pool():
    _, got = main_start()
    urls = pool_urls(got, "anthropic")
    expect({"env:ANTHROPIC_TOKEN", "claude_code"} <= set(urls), f"the home lacks the entries it should have: {urls}")
    off = {s: u for s, u in urls.items() if u != proxy_url}
    expect(not off, f"load_pool('anthropic') entries not on the proxy: {off}")


def test_claude_aux():
    _, got = main_start()
    a = got["aux"]["anthropic"]
    expect(a.get("base_url") == proxy_url, f"the auxiliary client's Anthropic client (_try_anthropic) uses {a}")


def test_codex_routed():
    _, got = main_start()
    r, a = got["resolve"]["openai-codex"], got["aux"]["openai-codex"]
    urls = pool_urls(got, "openai-codex")
    wrong = []
    if r.get("base_url") != proxy_url:
        wrong.append(f"runtime {r}")
    if not urls or any(u != proxy_url for u in urls.values()):
        wrong.append(f"pool {urls}")
    if a.get("base_url") != proxy_url:
        wrong.append(f"auxiliary (_build_codex_client) {a}")
    expect(not wrong, "; ".join(wrong))


def test_openrouter_alone():
    _, got = main_start()
    r = got["resolve"]["openrouter"]
    urls = pool_urls(got, "openrouter")
    expect(r.get("provider") == "openrouter" and r.get("base_url") == OPENROUTER, f"runtime {r}")
    expect(urls == {"env:OPENROUTER_API_KEY": OPENROUTER}, f"pool {urls}")


def test_disk_after_start():
    home, _ = main_start()
    pools = home.auth().get("credential_pool") or {}
    off = {f"{p}[{i}] {e.get('source')}": e.get("base_url") for p in ROUTED for i, e in enumerate(pools.get(p) or [])
           if e.get("base_url") != proxy_form(p)}
    expect(pools.get("anthropic") and pools.get("openai-codex"), f"auth.json pools: {sorted(pools)}")
    expect(not off, f"auth.json after a Hermes start, entries not on the proxy: {off}")
    expect([e.get("base_url") for e in pools.get("openrouter") or []] == [OPENROUTER], "openrouter's entry changed")
    r = home.patch_auth("--status")
    expect(r.returncode == 0, f"hr-patch-auth --status exited {r.returncode} after a Hermes start: "
           f"{r.stdout.strip()} {r.stderr.strip()}")


def post(url, headers, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers=dict(headers, **{"content-type": "application/json"}))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_requests_reach_upstream():
    _, got = main_start()
    a, c = got["resolve"]["anthropic"], got["resolve"]["openai-codex"]
    expect(a.get("base_url") == proxy_url and c.get("base_url") == proxy_url, "not resolved to the proxy (see above)")
    cases = [  # what Hermes's clients post: {base}/v1/messages with the OAuth token, {base}/responses with the JWT
        (a["base_url"] + "/v1/messages", {"authorization": "Bearer " + a["api_key"], "anthropic-version": "2023-06-01"},
         {"model": "claude-opus-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
         "/v1/messages", "authorization", "Bearer " + a["api_key"]),
        (c["base_url"] + "/responses", {"authorization": "Bearer " + c["api_key"], "chatgpt-account-id": CODEX_ACCOUNT},
         {"model": CODEX_MODEL, "input": [{"role": "user", "content": "hi"}], "store": False},
         "/backend-api/codex/responses", "chatgpt-account-id", CODEX_ACCOUNT),
    ]
    for url, headers, body, path, header, value in cases:
        before, records = len(world.seen), len(world.proxy_log())
        status = post(url, headers, body)
        expect(status == 200, f"POST {url}: {status}")
        expect(len(world.seen) == before + 1 and world.seen[-1]["path"] == path,
               f"POST {url}: the provider saw {[s['path'] for s in world.seen[before:]]}")
        got_value = world.seen[-1]["headers"].get(header)
        expect(got_value == value, f"POST {url}: {header} arrived as {got_value}")
        time.sleep(0.05)
        expect(len(world.proxy_log()) == records + 1, f"POST {url}: no hr-proxy log record")


def test_witness():
    home, got = main_start()
    expect(got["has_pre_api_request"] and "pre_api_request" in got["hooks"],
           f"pre_api_request not registered (hooks: {got['hooks']})")
    expect(all(isinstance(r, int) for r in got["hook_results"]), f"invoke_hook failed: {got['hook_results']}")
    raised = warnings_of(got, "Hook 'pre_api_request'")
    expect(not raised, f"the hook raised with conversation_loop.py's kwargs ({', '.join(got['hook_kwargs'])}): "
           f"{raised}")
    lines = home.calls()
    want = [(c["provider"], got["resolve"][c["provider"]]["base_url"]) for c in ROUTE_REQUEST["hooks"]]
    expect(len(lines) == len(want), f"{len(want)} calls, {len(lines)} lines in headroom-route.calls.jsonl: {lines}")
    for line, (provider, base_url) in zip(lines, want):
        missing = {"time", "pid", "provider", "base_url", "via_proxy"} - set(line)
        expect(not missing, f"line lacks {sorted(missing)}: {line}")
        expect(line["pid"] == got["pid"] and line["provider"] == provider and line["base_url"] == base_url and
               line["via_proxy"] is str(base_url).startswith(proxy_url), f"for {provider} at {base_url}: {line}")


# ---- a Codex user ------------------------------------------------------------------------------

codex = {}


@once
def codex_start():
    if "got" not in codex:
        home = codex["home"] = codex_home("codex")
        codex["model_before"] = home.model()
        home.apply()
        codex["got"] = home.start(resolve=["openai-codex"], pools=["openai-codex"], aux=["openai-codex"])
    return codex["home"], codex["got"]


def test_codex_user():
    home, got = codex_start()
    r, a = got["resolve"]["openai-codex"], got["aux"]["openai-codex"]
    urls = pool_urls(got, "openai-codex")
    expect(r.get("provider") == "openai-codex" and r.get("base_url") == proxy_url, f"runtime {r}")
    expect(urls == {"device_code": proxy_url}, f"pool {urls}")
    expect(a.get("base_url") == proxy_url, f"auxiliary (_build_codex_client) {a}")
    plugin = got["plugins"].get("headroom-route") or {}
    expect(plugin.get("enabled"), f"plugin {plugin}")


def test_model_base_url_untouched():
    _, _ = main_start()
    _, _ = codex_start()
    after = {"anthropic": main["home"].model(), "openai-codex": codex["home"].model()}
    before = {"anthropic": main["model_before"], "openai-codex": codex["model_before"]}
    for provider in before:
        expect(before[provider].get("provider") == provider, f"the {provider} home: model {before[provider]}")
        expect(after[provider].get("base_url") == before[provider].get("base_url"),
               f"model.provider {provider}: model.base_url {before[provider].get('base_url')!r} -> "
               f"{after[provider].get('base_url')!r} after --apply")


# ---- the proxy down --------------------------------------------------------------------------------

down = {}
DOWN_HOMES = {"Claude token in .env": claude_home, "Claude Code's login": claude_code_home}


@once
def down_start():
    """The proxy stopped after --apply, then Hermes starts: one home with the
    Claude token in .env, one using Claude Code's login."""
    if "got" not in down:
        w = down["world"] = World(BUILD, "hr-real-hermes-down.")
        homes = {what: make(f"down{i}") for i, (what, make) in enumerate(DOWN_HOMES.items())}
        for home in homes.values():
            home.apply(proxy=w.proxy_url)
        w.proxy.terminate()
        w.proxy.wait(timeout=10)
        ask = {"resolve": ["anthropic", "openai-codex"], "pools": ["anthropic", "openai-codex"],
               "aux": ["anthropic", "openai-codex"]}
        down["got"] = {what: (home, home.start(**ask)) for what, home in homes.items()}
    return down["got"]


def test_down_official():
    wrong = []
    for what, (_, got) in down_start().items():
        for p in ("anthropic", "openai-codex"):
            r, a = got["resolve"][p], got["aux"][p]
            if r.get("base_url") != OFFICIAL[p]:
                wrong.append(f"{what}: {p} runtime {r.get('base_url') or r}")
            if a.get("base_url") != OFFICIAL[p]:
                wrong.append(f"{what}: {p} auxiliary {a.get('base_url') or a}")
            pool = pool_urls(got, p)
            off = {s: u for s, u in pool.items() if u not in (OFFICIAL[p], None, "")}
            if off:
                wrong.append(f"{what}: {p} pool {off}")
    expect(not wrong, "with the proxy down, not the official URL: " + "; ".join(wrong))


def test_down_warning():
    for what, (home, got) in down_start().items():
        dead = down["world"].proxy_url
        said = got["stderr"]
        expect(dead.split("//", 1)[1] in said and re.search(r"(?i)\bdirect|straight to", said) and
               re.search(r"(?i)\bdown\b|not healthy|unhealthy|cannot reach|unreachable|not reachable|refused", said),
               f"{what}: no warning on stderr that the proxy {dead} is down and traffic goes direct: "
               f"{got['stderr'].strip()[-600:]!r}")
        st = home.state()
        expect(st.get("healthy") is False and st.get("pid") == got["pid"], f"{what}: state file: {st}")


# ---- config.yaml without model.provider; a home patched by the previous hr --------------------------


def test_no_provider():
    for what, home in (("after a Codex login (active_provider openai-codex)", no_provider_home("noprovider")),
                       ("active_provider null", no_provider_home("noprovider-plain", codex_login=False))):
        before = home.model()
        expect("provider" not in before and "base_url" not in before, f"{what}: model before: {before}")
        home.apply()
        expect("base_url" not in home.model(), f"{what}: --apply wrote model.base_url: {home.model()}")
        r = home.start(resolve=["anthropic"])["resolve"]["anthropic"]
        expect(r.get("provider") == "anthropic" and r.get("base_url") == proxy_url,
               f"{what}: resolve_runtime_provider(requested='anthropic') gave {r}")


def test_previous_version_repaired():
    home = no_provider_home("previous")
    home.apply()
    # what the previous hr left: model.base_url = the proxy, with no model.provider
    path = home.file("config.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"(?m)^  base_url: .*\n", "", text).replace("model:\n", f"model:\n  base_url: {proxy_url}\n", 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    broken = home.start(resolve=["anthropic"])["resolve"]["anthropic"]
    r = home.patch_auth("--apply", "--proxy-url", proxy_url, "--plugin-source", PLUGIN)
    expect(r.returncode == 0, f"--apply exited {r.returncode}: {r.stderr.strip()}")
    model = home.model()
    expect(not str(model.get("base_url") or "").startswith(proxy_url),
           f"model.base_url still {model.get('base_url')} after --apply (before it, Hermes resolved anthropic as "
           f"{broken.get('provider')} at {broken.get('base_url')})")
    got = home.start(resolve=["anthropic"])["resolve"]["anthropic"]
    expect(got.get("provider") == "anthropic" and got.get("base_url") == proxy_url,
           f"after the repair resolve_runtime_provider(requested='anthropic') gave {got}")


# ---- the fixture homes of testdata/hermes-homes, when there ----------------------------------------------


def fixture_names():
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(d for d in os.listdir(FIXTURES) if d != "user-home" and
                  os.path.isfile(os.path.join(FIXTURES, d, "auth.json")))


def fixture_pools(name):
    with open(os.path.join(FIXTURES, name, "auth.json"), encoding="utf-8") as f:
        return json.load(f).get("credential_pool") or {}


@once
def fixture_home(name):
    """A copy of the fixture; $HOME holds Claude Code's login when its pool
    has a claude_code entry, else nothing."""
    claude_code = any(e.get("source") == "claude_code" for e in fixture_pools(name).get("anthropic") or [])
    return Home("fixture-" + name, None, claude_code=claude_code, fixture=name)


def pool_summary(auth):
    return {p: {e.get("source"): {k: v for k, v in e.items() if k not in ("id", "label", "priority")} for e in v}
            for p, v in (auth.get("credential_pool") or {}).items()}


def fixture_as_hermes_leaves_it(name):
    def run():
        home = fixture_home(name)
        before = home.auth()
        providers = sorted(set(ROUTED + ["openrouter"]) | set(fixture_pools(name)))
        got = home.hermes({"action": "setup", "steps": [{"do": "first_start", "providers": providers}]})
        expect("crash" not in got, f"load_pool crashed: {got.get('crash')}")
        after = home.auth()
        a, b = pool_summary(before), pool_summary(after)
        diff = {p: {"before": a.get(p), "after": b.get(p)} for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)}
        expect(before == after, f"a Hermes start (load_pool of {', '.join(providers)}) rewrote auth.json: "
               f"{diff or 'outside credential_pool'}")
    return run


def fixture_routed(name):
    def run():
        home = fixture_home(name)
        pools = fixture_pools(name)
        routed = [p for p in ROUTED if pools.get(p)]
        model_before = home.model()
        home.apply()
        got = home.start(resolve=routed, pools=routed, aux=[p for p in routed if p in ("anthropic", "openai-codex")])
        plugin = got["plugins"].get("headroom-route") or {}
        wrong = [] if plugin.get("enabled") else [f"plugin {plugin}"]
        for p in routed:
            want, r = proxy_form(p), got["resolve"][p]
            if r.get("provider") != p or r.get("base_url") != want:
                wrong.append(f"{p} runtime {r.get('provider')} at {r.get('base_url') or r}")
            off = {s: u for s, u in pool_urls(got, p).items() if u != want}
            if off:
                wrong.append(f"{p} pool {off}")
            a = got["aux"].get(p)
            if a is not None and a.get("base_url") != want:
                wrong.append(f"{p} auxiliary {a.get('base_url') or a}")
        if home.model().get("base_url") != model_before.get("base_url"):
            wrong.append(f"model.base_url {model_before.get('base_url')!r} -> {home.model().get('base_url')!r}")
        expect(routed and not wrong, f"routed {routed}: " + "; ".join(wrong))
    return run


# ---- plugins.disabled and HERMES_SAFE_MODE -------------------------------------------------------------

disabled = {}


@once
def disabled_home(both):
    """A patched home after `hermes plugins disable headroom-route`; with
    both, headroom-route then put back in plugins.enabled by hand (so it is in
    both lists, as an older hr's --apply also leaves it)."""
    key = "both" if both else "disabled"
    if key not in disabled:
        home = claude_home("disabled-" + key)
        home.apply()
        steps = [{"do": "plugins_disable", "name": "headroom-route"}]
        if both:
            steps.append({"do": "plugins_enabled_add", "name": "headroom-route"})
        got = home.hermes({"action": "setup", "steps": steps})
        expect("crash" not in got, f"`hermes plugins disable headroom-route` ({key}): {got.get('crash')}")
        disabled[key] = home
    return disabled[key]


def test_disabled_status():
    home = disabled_home(True)
    plugins = home.config().get("plugins") or {}
    expect("headroom-route" in (plugins.get("disabled") or []) and "headroom-route" in (plugins.get("enabled") or []),
           f"the home should have headroom-route in both lists: plugins {plugins}")
    got = home.start()
    hermes_says = got["plugins"].get("headroom-route") or {}
    expect(not hermes_says.get("enabled"), f"Hermes loaded it although it is in plugins.disabled: {hermes_says}")
    r = home.patch_auth("--status")
    expect(r.returncode != 0 and "plugins.disabled" in r.stdout,
           f"Hermes says {hermes_says.get('error')!r}; hr-patch-auth --status exited {r.returncode}: "
           f"{r.stdout.strip()}")


def disabled_applied(both):
    def run():
        home = disabled_home(both)
        before = home.config().get("plugins") or {}
        expect("headroom-route" in (before.get("disabled") or []), f"before --apply: plugins {before}")
        r = home.apply()
        plugins = home.config().get("plugins") or {}
        expect("headroom-route" not in (plugins.get("disabled") or []) and
               "headroom-route" in (plugins.get("enabled") or []), f"after --apply: plugins {plugins}")
        expect("plugins.disabled" in r.stdout + r.stderr, f"--apply did not say it took it out of plugins.disabled: "
               f"{r.stdout.strip()}")
        got = home.start(resolve=["anthropic"])
        plugin = got["plugins"].get("headroom-route") or {}
        expect(plugin.get("enabled") and not plugin.get("error"), f"the real PluginManager: {plugin}")
        expect(got["resolve"]["anthropic"].get("base_url") == proxy_url, f"anthropic {got['resolve']['anthropic']}")
    return run


def test_safe_mode():
    home = disabled_home(False)
    got = home.hermes({"action": "start", "resolve": ["anthropic"]}, HERMES_SAFE_MODE="1")
    expect("crash" not in got, f"the Hermes start crashed: {got.get('crash')}")
    expect(not got["loaded"] and not got["hooks"], f"HERMES_SAFE_MODE=1 and Hermes loaded {got['loaded']}, "
           f"hooks {got['hooks']}")
    r = home.patch_auth("--status", HERMES_SAFE_MODE="1")
    said = r.stdout + r.stderr
    expect(re.search(r"(?i)safe.mode", said), f"hr-patch-auth --status under HERMES_SAFE_MODE=1 exited "
           f"{r.returncode} without naming safe mode: {said.strip()}")


try:
    check = checks.check
    check("the real PluginManager loads headroom-route from $HERMES_HOME/plugins with its real ctx: enabled, "
          "no error or warning, state file from this start", test_plugin_loads)
    check("plugin.yaml as Hermes parses it: name, standalone, a version, registered hooks in provides_hooks",
          test_manifest)
    check("Claude token in .env: resolve_runtime_provider(requested='anthropic') gives the proxy", test_claude_runtime)
    check("Claude token in .env: every load_pool('anthropic') entry (env:ANTHROPIC_TOKEN, claude_code) has the proxy",
          test_claude_pool)
    check("Claude token in .env: the auxiliary client's Anthropic base URL (_try_anthropic) is the proxy",
          test_claude_aux)
    check("Codex login beside it: runtime, every pool entry and the auxiliary client (_build_codex_client) use "
          "the proxy", test_codex_routed)
    check("openrouter is left alone: runtime and pool keep openrouter.ai", test_openrouter_alone)
    check("after a Hermes start auth.json still routes every entry of the routed providers to the proxy, and "
          "hr-patch-auth --status exits 0", test_disk_after_start)
    check("requests to the URLs real Hermes resolved reach the provider through hr-proxy with their credentials",
          test_requests_reach_upstream)
    check("witness: pre_api_request registered; each invoke_hook('pre_api_request', <conversation_loop.py's "
          "kwargs>) appends one {time, pid, provider, base_url, via_proxy} line to headroom-route.calls.jsonl",
          test_witness)
    check("Codex user (device-code login): runtime, pool and auxiliary client use the proxy", test_codex_user)
    check("model.provider anthropic or openai-codex: --apply leaves model.base_url as it was",
          test_model_base_url_untouched)
    check("proxy down: anthropic and openai-codex runtime, pool entries and auxiliary clients all get their "
          "official URLs", test_down_official)
    check("proxy down: a warning on stderr that the proxy is down and traffic goes direct; state says healthy "
          "false", test_down_warning)
    check("no model.provider: --apply writes no model.base_url; requested='anthropic' resolves to provider "
          "anthropic at the proxy", test_no_provider)
    check("a home patched by the previous hr (model.base_url = the proxy, no model.provider) is repaired by "
          "--apply", test_previous_version_repaired)
    check("headroom-route in plugins.disabled and plugins.enabled: Hermes does not load it, hr-patch-auth --status "
          "names plugins.disabled and exits non-zero", test_disabled_status)
    check("headroom-route in plugins.disabled (hermes plugins disable): --apply takes it out and says so; the "
          "real PluginManager loads it", disabled_applied(both=False))
    check("headroom-route in plugins.disabled and plugins.enabled: the same", disabled_applied(both=True))
    check("HERMES_SAFE_MODE=1: Hermes loads no plugin, and hr-patch-auth --status says safe mode", test_safe_mode)
    for name in fixture_names():
        check(f"testdata/hermes-homes/{name} is as Hermes leaves it: a Hermes start before hr rewrites nothing in "
              "auth.json", fixture_as_hermes_leaves_it(name))
        check(f"testdata/hermes-homes/{name} after --apply: each routed provider's runtime, pool entries and "
              "auxiliary client use the proxy; model.base_url as it was; the plugin loads", fixture_routed(name))
finally:
    world.close()
    if "world" in down:
        down["world"].close()
sys.exit(1 if checks.failures else 0)
