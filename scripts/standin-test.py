"""Self-test of the Hermes stand-in (testdata/hermes-standin): the facts about
Hermes 0.18.2 that the plugin, hr-patch-auth and hr-verify tests rely on,
checked on the stand-in with no hr plugin, on copies of the fixture homes in
testdata/hermes-homes. When HR_HERMES_SRC names a Hermes source tree, the
same checks also run on Hermes's own modules (they import with Debian's
python3-yaml, -httpx, -dotenv, -packaging, -ruamel.yaml, -rich, -tenacity,
-jinja2), to show that the stand-in agrees; without it those lines say
"skip". Nothing is read from the network: the one request sent goes to a
fake provider on loopback.
    python3 scripts/standin-test.py
Prints "ok standin: NAME" / "ok hermes: NAME" / "not ok ..." / "skip ..." per check."""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import Checks, Upstream, expect, read, write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(ROOT, "testdata", "hermes-standin")
HOMES = os.path.join(ROOT, "testdata", "hermes-homes")
PLUGINS = os.path.join(ROOT, "testdata", "hermes-plugins")
PROXY = "http://127.0.0.1:8788"
ANTHROPIC = "https://api.anthropic.com"
CHATGPT = "https://chatgpt.com/backend-api/codex"
OPENAI = "https://api.openai.com/v1"
OPENROUTER = "https://openrouter.ai/api/v1"
tmp = tempfile.mkdtemp(prefix="hr-standin-test.")
_count = [0]


class Impl:
    def __init__(self, label, path, python):
        self.label, self.path, self.python = label, path, python
        self.checks = Checks(label)


standin = Impl("standin", STANDIN, sys.executable)
REAL_SRC = os.environ.get("HR_HERMES_SRC", "")
real = None
real_problem = "HR_HERMES_SRC is not set (a Hermes 0.18 source tree)"
if REAL_SRC:
    if not os.path.isfile(os.path.join(REAL_SRC, "hermes_cli", "runtime_provider.py")):
        real_problem = f"HR_HERMES_SRC={REAL_SRC} holds no hermes_cli/runtime_provider.py"
    else:
        # Hermes's modules need Debian's Python packages: the system interpreter.
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        real = Impl("hermes", REAL_SRC, python)
        real_problem = None


# ---- homes and runs -------------------------------------------------------------------


def make_home(name, auth=None, config=None, env=None, plugins=()):
    """A copy of testdata/hermes-homes/<name>; auth(dict), config(text) and
    env(text) change its files; plugins are copied in from testdata/hermes-plugins."""
    _count[0] += 1
    home = os.path.join(tmp, f"{_count[0]:03d}-{name}")
    shutil.copytree(os.path.join(HOMES, name), home)
    path = os.path.join(home, "auth.json")
    if auth:
        data = json.loads(read(path))
        auth(data)
        write(path, json.dumps(data, indent=2) + "\n")
    os.chmod(path, 0o600)
    if config:
        write(os.path.join(home, "config.yaml"), config(read(os.path.join(home, "config.yaml"))))
    if env:
        write(os.path.join(home, ".env"), env(read(os.path.join(home, ".env"))))
    for plugin in plugins:
        shutil.copytree(os.path.join(PLUGINS, plugin), os.path.join(home, "plugins", plugin))
    return home


def user_home(with_claude_code):
    """A $HOME: with Claude Code's credentials file (the fixture's), or empty."""
    _count[0] += 1
    path = os.path.join(tmp, f"{_count[0]:03d}-user-home")
    if with_claude_code:
        shutil.copytree(os.path.join(HOMES, "user-home"), path)
    else:
        os.makedirs(path)
    return path


def clean_env(home, claude_code=False, extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": user_home(claude_code), "HERMES_HOME": home,
           "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run_py(impl, home, code, claude_code=False, env=None, timeout=60):
    """code run with impl's modules first on sys.path; its last line, as JSON."""
    prelude = f"import sys, json, os\nsys.path.insert(0, {impl.path!r})\n"
    r = subprocess.run([impl.python, "-c", prelude + code], env=clean_env(home, claude_code, env),
                       capture_output=True, text=True, timeout=timeout, cwd=tmp)
    if r.returncode:
        raise AssertionError(f"exit {r.returncode}: {r.stderr.strip()[-600:]}")
    lines = r.stdout.strip().splitlines()
    expect(lines, f"no output; stderr: {r.stderr.strip()[-300:]}")
    return json.loads(lines[-1])


def auth_of(home):
    return json.loads(read(os.path.join(home, "auth.json")))


def env_value(home, key):
    for line in read(os.path.join(home, ".env")).splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1]
    return None


def fingerprint(secret):
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def set_pool_urls(provider, url):
    def change(data):
        for entry in data["credential_pool"][provider]:
            entry["base_url"] = url
    return change


def set_model(**fields):
    """config.yaml's model section with these fields set (None: removed)."""
    def change(text):
        head, rest = text.split("model:\n", 1)
        body, tail = re.match(r"((?:  [^\n]*\n)*)(.*)", rest, re.S).groups()
        model = dict(re.findall(r"  (\w+): (.*)\n", body))
        for k, v in fields.items():
            if v is None:
                model.pop(k, None)
            else:
                model[k] = v
        return head + "model:\n" + "".join(f"  {k}: {v}\n" for k, v in model.items()) + tail
    return change


def enable_plugins(*names, disabled=()):
    """config.yaml's plugins.enabled (and plugins.disabled) set to names."""
    def change(text):
        block = "plugins:\n  enabled:\n" + "".join(f"  - {n}\n" for n in names)
        if disabled:
            block += "  disabled:\n" + "".join(f"  - {n}\n" for n in disabled)
        return re.sub(r"plugins:\n(?:  .*\n)*", block, text)
    return change


RESOLVE = """
from hermes_cli.env_loader import load_hermes_dotenv
load_hermes_dotenv()
from hermes_cli.runtime_provider import resolve_runtime_provider
out = {}
for p in %r:
    try:
        r = resolve_runtime_provider(requested=p)
        out[str(p)] = {k: r.get(k) for k in ("provider", "api_mode", "base_url", "api_key", "source", "requested_provider")}
    except Exception as e:
        out[str(p)] = {"error": type(e).__name__, "message": str(e)[:200]}
print(json.dumps(out))
"""

POOL = """
from agent.credential_pool import load_pool
out = {}
for p in %r:
    out[p] = [dict(source=e.source, base_url=e.base_url, token=e.access_token, auth_type=e.auth_type,
                   priority=e.priority) for e in load_pool(p).entries()]
print(json.dumps(out))
"""


def resolve(impl, home, providers, **kw):
    return run_py(impl, home, RESOLVE % (list(providers),), **kw)


def pool(impl, home, providers, **kw):
    return run_py(impl, home, POOL % (list(providers),), **kw)


def by_source(entries):
    return {e["source"]: e for e in entries}


# ---- checks: the credential pool ----------------------------------------------------------


def env_entry_reseeded(impl):
    home = make_home("claude-subscription", auth=set_pool_urls("anthropic", PROXY))
    got = by_source(pool(impl, home, ["anthropic"], claude_code=True)["anthropic"])
    expect(sorted(got) == ["claude_code", "env:ANTHROPIC_TOKEN"], f"sources {sorted(got)}")
    env = got["env:ANTHROPIC_TOKEN"]
    expect(env["base_url"] == ANTHROPIC, f"env:ANTHROPIC_TOKEN base_url {env['base_url']}")
    expect(env["token"] == env_value(home, "ANTHROPIC_TOKEN") and env["auth_type"] == "oauth" and env["priority"] == 0,
           f"env:ANTHROPIC_TOKEN {env}")
    cc = got["claude_code"]
    expect(cc["priority"] == 1 and cc["token"].startswith("sk-ant-oat01-fake-claude-code"), f"claude_code {cc}")
    expect(cc["base_url"] == PROXY, f"claude_code's URL is not re-seeded, yet it became {cc['base_url']}")
    expect(resolve(impl, home, ["anthropic"], claude_code=True)["anthropic"]["base_url"] == ANTHROPIC,
           "anthropic did not resolve to the official URL")


def saved_without_secret(impl):
    home = make_home("claude-subscription", auth=set_pool_urls("anthropic", PROXY))
    before = auth_of(home)
    pool(impl, home, ["anthropic"], claude_code=True)
    text = read(os.path.join(home, "auth.json"))
    data = json.loads(text)
    expect(text == json.dumps(data, indent=2) + "\n", "auth.json is not JSON with indent 2 and a final newline")
    expect(data["updated_at"] != before["updated_at"] and data["version"] == 1, "updated_at / version")
    expect(os.stat(os.path.join(home, "auth.json")).st_mode & 0o777 == 0o600, "auth.json is not 0600")
    expect(os.path.exists(os.path.join(home, "auth.lock")), "no auth.lock")
    expect(not [f for f in os.listdir(home) if f.startswith("auth.json.")], f"left over: {os.listdir(home)}")
    entries = by_source(data["credential_pool"]["anthropic"])
    for source in ("env:ANTHROPIC_TOKEN", "claude_code"):
        e = entries[source]
        expect("access_token" not in e and "refresh_token" not in e, f"{source} saved with its secret: {e}")
    expect(entries["env:ANTHROPIC_TOKEN"]["secret_fingerprint"] == fingerprint(env_value(home, "ANTHROPIC_TOKEN")),
           "env:ANTHROPIC_TOKEN's secret_fingerprint is not sha256:<16 hex> of the token")
    expect(data["credential_pool"]["openrouter"] == before["credential_pool"]["openrouter"],
           "the openrouter pool changed although only anthropic's was loaded")


def dotenv_wins(impl):
    home = make_home("claude-subscription")
    code = """
from hermes_cli.env_loader import load_hermes_dotenv
load_hermes_dotenv()
from agent.credential_pool import load_pool
entry = [e for e in load_pool('anthropic').entries() if e.source == 'env:ANTHROPIC_TOKEN'][0]
print(json.dumps({'environ': os.environ.get('ANTHROPIC_TOKEN'), 'entry': entry.access_token}))
"""
    got = run_py(impl, home, code, env={"ANTHROPIC_TOKEN": "sk-ant-oat01-exported-by-the-shell"})
    want = env_value(home, "ANTHROPIC_TOKEN")
    expect(got == {"environ": want, "entry": want}, f"{got}, .env holds {want}")


def api_key_path(impl):
    def stale_oauth(data):
        data["credential_pool"]["anthropic"].append(
            {"id": "0a0a0a", "label": "claude_code", "auth_type": "oauth", "priority": 1, "source": "claude_code",
             "base_url": ANTHROPIC, "secret_fingerprint": "sha256:0000000000000000"})
    home = make_home("anthropic-api-key", auth=stale_oauth)
    got = pool(impl, home, ["anthropic"], claude_code=True)["anthropic"]
    expect([e["source"] for e in got] == ["env:ANTHROPIC_API_KEY"], f"sources {[e['source'] for e in got]}")
    expect([e["source"] for e in auth_of(home)["credential_pool"]["anthropic"]] == ["env:ANTHROPIC_API_KEY"],
           "the stale claude_code entry stayed in auth.json")


def claude_code_needs_explicit_anthropic(impl):
    home = make_home("codex")
    got = pool(impl, home, ["anthropic"], claude_code=True)["anthropic"]
    expect(got == [], f"Claude Code's credentials were read for a home not configured for anthropic: {got}")


def borrowed_entries_pruned(impl):
    home = make_home("claude-subscription", env=lambda t: re.sub(r"ANTHROPIC_TOKEN=.*\n", "", t))
    got = pool(impl, home, ["anthropic"], claude_code=False)["anthropic"]
    expect([(e["source"], e["token"]) for e in got] == [("env:ANTHROPIC_TOKEN", "")],
           f"entries {[(e['source'], e['token'][:12]) for e in got]}")
    r = resolve(impl, home, ["anthropic"])["anthropic"]
    expect(r.get("error") == "AuthError", f"resolved without a credential: {r}")


def codex_reseeded(impl):
    home = make_home("codex", auth=set_pool_urls("openai-codex", PROXY), config=set_model(base_url=PROXY))
    r = resolve(impl, home, ["openai-codex"])["openai-codex"]
    expect((r["provider"], r["base_url"], r["api_mode"], r["source"]) ==
           ("openai-codex", CHATGPT, "codex_responses", "device_code"), f"resolved {r}")
    entry = auth_of(home)["credential_pool"]["openai-codex"][0]
    expect(entry["base_url"] == CHATGPT and entry["access_token"].startswith("eyJ"),
           f"saved entry {dict(entry, access_token=entry.get('access_token', '')[:8])}")


def openai_api_env(impl):
    home = make_home("codex")
    r = resolve(impl, home, ["openai-api"])["openai-api"]
    expect((r["base_url"], r["api_mode"], r["source"]) == (OPENAI, "codex_responses", "env:OPENAI_API_KEY"),
           f"resolved {r}")
    home = make_home("codex", env=lambda t: t + f"OPENAI_BASE_URL={PROXY}/v1\n")
    r = resolve(impl, home, ["openai-api"])["openai-api"]
    expect((r["base_url"], r["api_mode"]) == (PROXY + "/v1", "chat_completions"), f"with OPENAI_BASE_URL: {r}")
    entry = by_source(auth_of(home)["credential_pool"]["openai-api"])["env:OPENAI_API_KEY"]
    expect(entry["base_url"] == PROXY + "/v1" and "access_token" not in entry, f"saved {entry}")


def openai_api_model_base_url(impl):
    home = make_home("codex", config=set_model(provider="openai-api", base_url=PROXY + "/v1", default="gpt-5.1"))
    r = resolve(impl, home, ["openai-api", "openai-codex"])
    expect(r["openai-api"]["base_url"] == PROXY + "/v1", f"openai-api {r['openai-api']}")
    expect(r["openai-codex"]["base_url"] == CHATGPT, f"openai-codex {r['openai-codex']}")


def anthropic_base_url_gate(impl):
    home = make_home("claude-subscription", config=set_model(base_url=PROXY))
    r = resolve(impl, home, ["anthropic", None])
    expect(r["anthropic"]["base_url"] == ANTHROPIC and r["None"]["base_url"] == ANTHROPIC,
           f"model.base_url {PROXY} was honoured: {r}")
    home = make_home("claude-subscription", config=set_model(base_url=PROXY + "/anthropic"))
    r = resolve(impl, home, ["anthropic"])["anthropic"]
    expect(r["base_url"] == PROXY + "/anthropic" and r["api_mode"] == "anthropic_messages", f"/anthropic path: {r}")
    home = make_home("codex", config=set_model(base_url=PROXY), env=lambda t: t + "ANTHROPIC_API_KEY=sk-ant-api03-x\n")
    r = resolve(impl, home, ["anthropic"])["anthropic"]
    expect(r["base_url"] == ANTHROPIC, f"model.provider openai-codex, requested anthropic: {r}")


def no_provider_custom(impl):
    home = make_home("no-provider", config=set_model(base_url=PROXY))
    r = resolve(impl, home, [None, "anthropic", "openai-codex", "openai-api", "custom"])
    expect({k: r["None"].get(k) for k in ("provider", "base_url", "api_mode", "requested_provider")} ==
           {"provider": "openrouter", "base_url": PROXY, "api_mode": "chat_completions", "requested_provider": "auto"},
           f"unrequested: {r['None']}")
    for p in ("anthropic", "openai-codex", "openai-api"):
        expect((r[p]["provider"], r[p]["base_url"], r[p]["api_mode"]) == ("openrouter", OPENROUTER, "chat_completions"),
               f"{p}: {r[p]}")
    expect((r["custom"]["provider"], r["custom"]["base_url"]) == ("custom", PROXY), f"custom: {r['custom']}")


def no_provider_auto(impl):
    home = make_home("no-provider")
    r = resolve(impl, home, [None])["None"]
    expect((r["provider"], r["base_url"], r["source"]) == ("anthropic", ANTHROPIC, "env:ANTHROPIC_TOKEN"), f"{r}")


def fixtures_reproduced(impl):
    """The fixture auth.json files are what Hermes writes: from the logins
    alone (auth.json without a pool), loading the pools gives them again."""
    for name, providers, claude_code in (("claude-subscription", ["anthropic", "openrouter"], True),
                                         ("plugins-disabled", ["anthropic", "openrouter"], True),
                                         ("anthropic-api-key", ["anthropic"], True),
                                         ("no-provider", ["anthropic"], False),
                                         ("codex", ["openai-codex", "openai-api"], False)):
        def bare(data):
            data.pop("credential_pool")
            data.pop("updated_at")
        home = make_home(name, auth=bare)
        pool(impl, home, providers, claude_code=claude_code)
        got, want = auth_of(home), json.loads(read(os.path.join(HOMES, name, "auth.json")))
        for doc in (got, want):
            doc.pop("updated_at", None)
            for entries in doc.get("credential_pool", {}).values():
                for e in entries:
                    e["id"] = "<id>"
        expect(got == want, f"{name}: {json.dumps(got)[:900]}")


def waits_for_auth_lock(impl):
    home = make_home("claude-subscription", auth=set_pool_urls("anthropic", PROXY))
    before = read(os.path.join(home, "auth.json"))
    prelude = f"import sys\nsys.path.insert(0, {impl.path!r})\nfrom agent.credential_pool import load_pool\n"
    with open(os.path.join(home, "auth.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.Popen([impl.python, "-c", prelude + "load_pool('anthropic')"], env=clean_env(home, True),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp)
        time.sleep(2.5)
        still = p.poll() is None and read(os.path.join(home, "auth.json")) == before
        fcntl.flock(lock, fcntl.LOCK_UN)
        rc = p.wait(timeout=30)
    expect(still, "load_pool wrote auth.json while auth.lock was held")
    expect(rc == 0 and read(os.path.join(home, "auth.json")) != before, f"after the lock: exit {rc} {p.stderr.read()}")


# ---- checks: providers and runtime ------------------------------------------------------


def keyword_only(impl):
    code = """
import inspect
from hermes_cli.runtime_provider import resolve_runtime_provider as f
params = inspect.signature(f).parameters
try:
    f('anthropic'); positional = 'accepted'
except TypeError:
    positional = 'TypeError'
print(json.dumps({'params': [[n, str(p.kind)] for n, p in params.items()], 'positional': positional}))
"""
    got = run_py(impl, make_home("claude-subscription"), code)
    expect(got["positional"] == "TypeError", "a positional argument was accepted")
    names = [n for n, _ in got["params"]]
    expect(names[:4] == ["requested", "explicit_api_key", "explicit_base_url", "target_model"], f"parameters {names}")
    expect(all(k == "KEYWORD_ONLY" for _, k in got["params"]), f"parameter kinds {got['params']}")


def overlays(impl):
    code = """
import dataclasses
from hermes_cli.providers import HERMES_OVERLAYS, HermesOverlay, get_provider
o = HERMES_OVERLAYS
try:
    o['anthropic'].base_url_override = 'x'; frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps({
  'fields': [[f.name, f.default] for f in dataclasses.fields(HermesOverlay)], 'frozen': frozen,
  'overlays': {p: dataclasses.asdict(o[p]) for p in ('anthropic', 'openai-codex', 'openai-api', 'openrouter')},
  'codex_def': [get_provider('openai-codex').base_url, get_provider('openai-codex').auth_type]}))
"""
    got = run_py(impl, make_home("claude-subscription"), code)
    fields = dict((n, d) for n, d in got["fields"])
    expect(list(fields) == ["transport", "is_aggregator", "auth_type", "extra_env_vars", "base_url_override",
                            "base_url_env_var"], f"fields {list(fields)}")
    expect(fields["base_url_override"] == "" and fields["base_url_env_var"] == "", f"defaults {fields}")
    expect(got["frozen"], "HermesOverlay is not frozen")
    o = got["overlays"]
    expect(o["anthropic"]["base_url_override"] == "" and o["anthropic"]["transport"] == "anthropic_messages" and
           o["anthropic"]["extra_env_vars"] == ["ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"], f"anthropic {o['anthropic']}")
    expect(o["openai-codex"]["base_url_override"] == CHATGPT and o["openai-codex"]["auth_type"] == "oauth_external",
           f"openai-codex {o['openai-codex']}")
    expect(o["openai-api"]["base_url_override"] == OPENAI and o["openai-api"]["base_url_env_var"] == "OPENAI_BASE_URL",
           f"openai-api {o['openai-api']}")
    expect(o["openrouter"]["base_url_override"] == "" and o["openrouter"]["is_aggregator"], f"openrouter {o['openrouter']}")
    expect(got["codex_def"] == [CHATGPT, "oauth_external"], f"get_provider('openai-codex') {got['codex_def']}")


def registry(impl):
    code = """
import dataclasses
from hermes_cli.auth import PROVIDER_REGISTRY as R
keys = ('id', 'name', 'auth_type', 'inference_base_url', 'api_key_env_vars', 'base_url_env_var')
print(json.dumps({p: ({k: getattr(R[p], k) for k in keys} if p in R else None)
                  for p in ('anthropic', 'openai-codex', 'openai-api', 'openrouter')}))
"""
    got = run_py(impl, make_home("claude-subscription"), code)
    expect(got["anthropic"] == {"id": "anthropic", "name": "Anthropic", "auth_type": "api_key",
                                "inference_base_url": ANTHROPIC, "base_url_env_var": "ANTHROPIC_BASE_URL",
                                "api_key_env_vars": ["ANTHROPIC_API_KEY", "ANTHROPIC_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"]},
           f"anthropic {got['anthropic']}")
    expect(got["openai-codex"] == {"id": "openai-codex", "name": "OpenAI Codex", "auth_type": "oauth_external",
                                   "inference_base_url": CHATGPT, "api_key_env_vars": [], "base_url_env_var": ""},
           f"openai-codex {got['openai-codex']}")
    expect(got["openai-api"] == {"id": "openai-api", "name": "OpenAI API", "auth_type": "api_key",
                                 "inference_base_url": OPENAI, "api_key_env_vars": ["OPENAI_API_KEY"],
                                 "base_url_env_var": "OPENAI_BASE_URL"}, f"openai-api {got['openai-api']}")
    expect(got["openrouter"] is None, "openrouter is in PROVIDER_REGISTRY (Hermes keeps it apart)")


# ---- checks: plugins ----------------------------------------------------------------


LIST_PLUGINS = """
from hermes_cli.plugins import discover_plugins, get_plugin_manager, has_hook, invoke_hook
discover_plugins()
m = get_plugin_manager()
print(json.dumps({'plugins': {p['key']: [p['enabled'], p['error']] for p in m.list_plugins()},
                  'pre_api_request': has_hook('pre_api_request'),
                  'post_llm_call': invoke_hook('post_llm_call', session_id='s') if has_hook('post_llm_call') else None,
                  'probe': os.path.exists(os.path.join(os.environ['HERMES_HOME'], 'ctx-probe.json'))}))
"""


def disabled_wins(impl):
    home = make_home("plugins-disabled", plugins=("ctx-probe", "quota-guard"),
                     config=enable_plugins("headroom-route", "ctx-probe", disabled=("headroom-route", "ctx-probe")))
    got = run_py(impl, home, LIST_PLUGINS)
    expect(got["plugins"].get("ctx-probe") == [False, "disabled via config"], f"ctx-probe {got['plugins']}")
    qg = got["plugins"].get("quota-guard") or [None, ""]
    expect(qg[0] is False and qg[1].startswith("not enabled in config"), f"quota-guard {qg}")
    expect(not got["pre_api_request"] and not got["probe"], "the disabled plugin's register() ran")


def safe_mode(impl):
    home = make_home("claude-subscription", plugins=("ctx-probe", "quota-guard"),
                     config=enable_plugins("ctx-probe", "quota-guard"))
    for value in ("1", "true", "yes", "on"):
        got = run_py(impl, home, LIST_PLUGINS, env={"HERMES_SAFE_MODE": value})
        expect(got["plugins"] == {} and not got["pre_api_request"] and not got["probe"],
               f"HERMES_SAFE_MODE={value}: {got}")
    got = run_py(impl, home, LIST_PLUGINS, env={"HERMES_SAFE_MODE": "0"})
    expect(got["plugins"].get("ctx-probe") == [True, None] and got["plugins"].get("quota-guard") == [True, None],
           f"HERMES_SAFE_MODE=0: {got['plugins']}")


def plugin_context(impl):
    home = make_home("claude-subscription", plugins=("ctx-probe",), config=enable_plugins("ctx-probe"))
    got = run_py(impl, home, LIST_PLUGINS)
    expect(got["plugins"].get("ctx-probe") == [True, None] and got["pre_api_request"], f"{got}")
    seen = json.loads(read(os.path.join(home, "ctx-probe.json")))
    attrs = seen["attrs"]
    expect(attrs.pop("get_config") is False, "ctx has get_config")
    expect(all(attrs.values()), f"ctx lacks {[k for k, v in attrs.items() if not v]}")
    expect(seen["manifest_name"] == "ctx-probe" and seen["profile_name"] == "default", f"{seen}")


def manifest_required(impl):
    def bare_plugin(text):
        return enable_plugins("bare", "ctx-probe")(text)
    home = make_home("claude-subscription", plugins=("ctx-probe",), config=bare_plugin)
    os.makedirs(os.path.join(home, "plugins", "bare"))
    write(os.path.join(home, "plugins", "bare", "__init__.py"), "def register(ctx):\n    raise SystemExit(3)\n")
    got = run_py(impl, home, LIST_PLUGINS)
    expect("bare" not in got["plugins"] and got["plugins"].get("ctx-probe") == [True, None],
           f"a folder without plugin.yaml: {got['plugins']}")


def hook_isolation(impl):
    home = make_home("claude-subscription", plugins=("ctx-probe",), config=enable_plugins("ctx-probe"))
    got = run_py(impl, home, LIST_PLUGINS)
    expect(got["post_llm_call"] == ["ctx-probe answered"], f"invoke_hook gave {got['post_llm_call']}")


# ---- checks: the auxiliary client ------------------------------------------------------------


AUX = """
import agent.auxiliary_client as a
out = {'consts': [a._ANTHROPIC_DEFAULT_BASE_URL, a._CODEX_AUX_BASE_URL],
       'none': a._pool_runtime_base_url(None, a._CODEX_AUX_BASE_URL + '/')}
for p, fallback in (('anthropic', a._ANTHROPIC_DEFAULT_BASE_URL), ('openai-codex', a._CODEX_AUX_BASE_URL)):
    present, entry = a._select_pool_entry(p)
    out[p] = [present, getattr(entry, 'source', None), a._pool_runtime_base_url(entry, fallback) if present else None,
              bool(a._pool_runtime_api_key(entry))]
print(json.dumps(out))
"""


def aux_from_pool(impl):
    got = run_py(impl, make_home("claude-subscription"), AUX, claude_code=True)
    expect(got["consts"] == [ANTHROPIC, CHATGPT] and got["none"] == CHATGPT, f"constants {got}")
    expect(got["anthropic"] == [True, "env:ANTHROPIC_TOKEN", ANTHROPIC, True], f"anthropic {got['anthropic']}")
    expect(got["openai-codex"] == [False, None, None, False], f"openai-codex {got['openai-codex']}")
    def claude_code_only(data):
        data["credential_pool"]["anthropic"] = [dict(e, base_url=PROXY) for e in data["credential_pool"]["anthropic"]
                                                if e["source"] == "claude_code"]
    home = make_home("claude-subscription", auth=claude_code_only, env=lambda t: re.sub(r"ANTHROPIC_TOKEN=.*\n", "", t))
    got = run_py(impl, home, AUX, claude_code=True)
    expect(got["anthropic"] == [True, "claude_code", PROXY, True], f"the pool entry's URL: {got['anthropic']}")
    home = make_home("codex", auth=set_pool_urls("openai-codex", PROXY))
    got = run_py(impl, home, AUX)
    expect(got["openai-codex"] == [True, "device_code", CHATGPT, True], f"openai-codex {got['openai-codex']}")


# ---- checks the stand-in alone can make (they need a process that sends) ----------------------


def probe_calls(home):
    path = os.path.join(home, "ctx-probe.calls.jsonl")
    return [json.loads(x) for x in read(path).splitlines()] if os.path.exists(path) else []


def pre_api_request_witness():
    up = Upstream()
    try:
        home = make_home("claude-subscription", plugins=("ctx-probe",), config=lambda t: enable_plugins("ctx-probe")(
            set_model(base_url=up.url + "/anthropic")(t)))
        r = subprocess.run([sys.executable, os.path.join(STANDIN, "standin.py"), "--provider", "anthropic", "--aux",
                            "--prompt", "witness me"], env=clean_env(home, True), capture_output=True, text=True,
                           timeout=60)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr[-400:]}")
        got = json.loads(r.stdout)
        expect(got["url"] == up.url + "/anthropic/v1/messages" and got["status"] == 200, f"main call {got}")
        expect(got["plugins"] == ["ctx-probe"] and "pre_api_request" in got["hooks"], f"plugins {got}")
        expect(len(up.seen) == 1 and up.seen[0]["headers"].get("authorization") ==
               "Bearer " + env_value(home, "ANTHROPIC_TOKEN"), f"the provider saw {[s['path'] for s in up.seen]}")
        calls = probe_calls(home)
        expect(len(calls) == 1, f"pre_api_request fired {len(calls)} times (the auxiliary call fires none)")
        c = calls[0]
        for key in ("task_id", "turn_id", "api_request_id", "session_id", "user_message", "conversation_history",
                    "platform", "model", "provider", "base_url", "api_mode", "api_call_count", "request_messages",
                    "message_count", "tool_count", "approx_input_tokens", "request_char_count", "max_tokens",
                    "started_at", "middleware_trace", "request", "telemetry_schema_version"):
            expect(key in c["keys"], f"pre_api_request has no {key}: {c['keys']}")
        expect((c["provider"], c["base_url"], c["api_mode"], c["api_call_count"], c["model"]) ==
               ("anthropic", up.url + "/anthropic", "anthropic_messages", 1, "claude-opus-4-6"), f"{c}")
        expect(c["request_messages"] == [{"role": "user", "content": "witness me"}], f"{c['request_messages']}")
        # the title call goes where the pool says (the official URL), not where the main call went
        expect(got["aux_provider"] == "anthropic" and got["aux_base_url"] == ANTHROPIC and got["aux_status"] == 0 and
               got["aux_url"] == ANTHROPIC + "/v1/messages", f"auxiliary call {got}")
    finally:
        up.close()


def hermes_chat_title():
    up = Upstream()
    try:
        def to_upstream(data):
            for e in data["credential_pool"]["anthropic"]:
                e["base_url"] = up.url
        home = make_home("anthropic-api-key", plugins=("ctx-probe",), config=enable_plugins("ctx-probe"),
                         env=lambda t: t.replace("ANTHROPIC_TOKEN=\n", "") + f"ANTHROPIC_BASE_URL={up.url}\n")
        r = subprocess.run([os.path.join(STANDIN, "bin", "hermes"), "chat", "-q", "title me"],
                           env=clean_env(home), capture_output=True, text=True, timeout=60)
        expect(r.returncode == 0 and r.stdout == "OK\n", f"exit {r.returncode}: {r.stdout} {r.stderr[-300:]}")
        expect([s["path"] for s in up.seen] == ["/v1/messages", "/v1/messages"],
               f"the provider saw {[s['path'] for s in up.seen]} (main call, then the title)")
        expect(b"title me" in up.seen[0]["body"] and b"User: title me" in up.seen[1]["body"], "the two bodies")
        expect(len(probe_calls(home)) == 1, "pre_api_request fired for the title call")
        r = subprocess.run([os.path.join(STANDIN, "bin", "hermes"), "chat", "-q", "no title"],
                           env=clean_env(home, extra={"HERMES_STANDIN_NO_TITLE": "1"}), capture_output=True, text=True,
                           timeout=60)
        expect(r.returncode == 0 and len(up.seen) == 3, f"HERMES_STANDIN_NO_TITLE=1: {len(up.seen)} requests")
    finally:
        up.close()


def omit_seed_env():
    home = make_home("claude-subscription", auth=set_pool_urls("anthropic", PROXY))
    code = POOL % (["anthropic"],)
    got = by_source(run_py(standin, home, code, claude_code=True, env={"HERMES_STANDIN_OMIT": "seed_env"})["anthropic"])
    expect(got["env:ANTHROPIC_TOKEN"]["base_url"] == PROXY and got["env:ANTHROPIC_TOKEN"]["token"] == "",
           f"HERMES_STANDIN_OMIT=seed_env still seeded: {got['env:ANTHROPIC_TOKEN']}")


def loopback_only():
    code = """
from hermes_cli import _standin
print(json.dumps(_standin.post(base_url='https://api.anthropic.com', api_mode='anthropic_messages', api_key='k',
                               provider='anthropic', model='m', messages=[])[:2]))
"""
    got = run_py(standin, make_home("claude-subscription"), code)
    expect(got == [ANTHROPIC + "/v1/messages", 0], f"{got}")


SHARED = [
    ("claude-subscription: load_pool('anthropic') re-creates env:ANTHROPIC_TOKEN with the official URL although "
     "auth.json held the proxy's; claude_code keeps its URL; anthropic resolves to the official URL",
     env_entry_reseeded),
    ("auth.json rewritten whole (indent 2, 0600, under auth.lock, no temporary file left); env and claude_code "
     "entries saved without access_token, with secret_fingerprint", saved_without_secret),
    ("$HERMES_HOME/.env wins over the exported environment (start-up load and the env seeder)", dotenv_wins),
    ("API-key path (ANTHROPIC_API_KEY, no OAuth token): no claude_code entry, a stale one removed", api_key_path),
    ("Claude Code's credentials are read only when anthropic is explicitly configured",
     claude_code_needs_explicit_anthropic),
    ("the credentials file gone: claude_code pruned, env:ANTHROPIC_TOKEN kept without a secret, anthropic no longer "
     "resolves", borrowed_entries_pruned),
    ("openai-codex: the device-code entry gets the chatgpt URL back at every load; model.base_url ignored",
     codex_reseeded),
    ("openai-api: env:OPENAI_API_KEY with the official URL, or OPENAI_BASE_URL's (then spoken to as "
     "chat_completions)", openai_api_env),
    ("openai-api: model.base_url used when model.provider is openai-api and the pool holds the official URL",
     openai_api_model_base_url),
    ("anthropic: model.base_url honoured only for Anthropic/Azure hosts or an /anthropic path, and only with "
     "model.provider anthropic", anthropic_base_url_gate),
    ("no model.provider, model.base_url at the proxy: every resolution becomes OpenAI-compatible (unrequested: the "
     "proxy, labelled openrouter; anthropic, openai-codex, openai-api: openrouter.ai)", no_provider_custom),
    ("no model.provider, no model.base_url: auto resolves to anthropic from ANTHROPIC_TOKEN", no_provider_auto),
    ("the fixture homes' auth.json are what loading the pools writes from their logins", fixtures_reproduced),
    ("load_pool waits while another process holds auth.lock", waits_for_auth_lock),
    ("resolve_runtime_provider takes keyword arguments only (requested, explicit_api_key, explicit_base_url, "
     "target_model)", keyword_only),
    ("HERMES_OVERLAYS: frozen HermesOverlay, \"\" defaults, anthropic without a URL, codex with the chatgpt URL and "
     "oauth_external", overlays),
    ("PROVIDER_REGISTRY: anthropic, openai-codex, openai-api as Hermes has them; no openrouter", registry),
    ("plugins.disabled wins over plugins.enabled (\"disabled via config\"); not enabled: not loaded", disabled_wins),
    ("HERMES_SAFE_MODE=1/true/yes/on loads no plugin; 0 loads them", safe_mode),
    ("register(ctx): manifest, llm, profile_name, register_tool/hook/middleware/command, no get_config",
     plugin_context),
    ("a plugin folder without plugin.yaml is not discovered", manifest_required),
    ("invoke_hook: a failing callback does not stop the next", hook_isolation),
    ("auxiliary client: _select_pool_entry and _pool_runtime_base_url give the pool entry's URL, else "
     "_ANTHROPIC_DEFAULT_BASE_URL / _CODEX_AUX_BASE_URL", aux_from_pool),
]
STANDIN_ONLY = [
    ("standin.py --aux: pre_api_request gets Hermes's keyword arguments for the main call and is not fired for the "
     "auxiliary one, which goes where the pool says", pre_api_request_witness),
    ("hermes chat -q: the reply, then one title call through the auxiliary client (HERMES_STANDIN_NO_TITLE=1: none)",
     hermes_chat_title),
    ("HERMES_STANDIN_OMIT=seed_env leaves _seed_from_env out", omit_seed_env),
    ("the stand-in sends nothing off loopback", loopback_only),
]

failures = 0
try:
    if real is not None:
        r = subprocess.run([real.python, "-c", "import yaml, dotenv, httpx, packaging, ruamel.yaml, rich, tenacity, jinja2"],
                           capture_output=True, text=True)
        if r.returncode:
            real_problem = ("Hermes's modules need python3-yaml, -dotenv, -httpx, -packaging, -ruamel.yaml, -rich, "
                            "-tenacity, -jinja2 (run scripts/install-deps): " + r.stderr.strip().splitlines()[-1])
    for name, fn in SHARED:
        standin.checks.check(name, lambda fn=fn: fn(standin))
        if real is not None and real_problem is None:
            real.checks.check(name, lambda fn=fn: fn(real))
        elif real is not None:
            real.checks.check(name, lambda: expect(False, real_problem))
        else:
            print(f"skip hermes: {name}: {real_problem}" + ("" if REAL_SRC else " # env"))
    for name, fn in STANDIN_ONLY:
        standin.checks.check(name, fn)
    failures = standin.checks.failures + (real.checks.failures if real is not None else 0)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
