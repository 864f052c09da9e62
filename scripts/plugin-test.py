"""Tests of the headroom-route Hermes plugin on Hermes homes shaped as
`hermes setup` leaves them (testdata/hermes-homes), run by the Hermes
stand-in (testdata/hermes-standin, which behaves as Hermes 0.18.2 does where
the plugin touches it) with a real hr-proxy in front of a fake upstream on
loopback. Each home is patched by the real hr-patch-auth first.
    python3 scripts/plugin-test.py BUILD_DIR
Prints "ok plugin: NAME" / "not ok plugin: NAME: why" per test."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import (PLUGIN, ROOT, ROUTED, Checks, World, copy_home, expect, free_port,  # noqa: E402
                            hermes, read, standin_code, standin_run, state, write)

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
PATCH_AUTH = os.path.join(BUILD, "hr-patch-auth")
HERMES_BIN = os.path.join(ROOT, "testdata", "hermes-standin", "bin", "hermes")
world = World(BUILD, "hr-plugin-test.")
tmp, proxy_url, seen, proxy_log = world.tmp, world.proxy_url, world.seen, world.proxy_log
OFFICIAL = {"anthropic": "https://api.anthropic.com", "openai-codex": "https://chatgpt.com/backend-api/codex",
            "openai-api": "https://api.openai.com/v1"}
VIA_PROXY = {"anthropic": proxy_url, "openai-codex": proxy_url, "openai-api": proxy_url + "/v1"}
# the credentials as the fixture homes hold them (.env, Claude Code's login, the Codex login)
SETUP_TOKEN = "sk-ant-oat01-fake-setup-token-0000000000000000000000000000000000AA"

checks = Checks("plugin")
check = checks.check


def patch_auth(home, *args, proxy=None):
    env = dict(os.environ, HR_PLUGIN_SOURCE=PLUGIN)
    env.pop("HERMES_HOME", None)
    return subprocess.run([PATCH_AUTH, "--hermes-home", home, "--proxy-url", proxy or proxy_url, *args],
                          capture_output=True, text=True, env=env, timeout=60)


def patched_home(name, to=None, proxy=None):
    """A fixture home after hr-patch-auth --apply."""
    home = copy_home(tmp, name, to or f"{name}-{len(os.listdir(tmp))}")
    r = patch_auth(home, "--apply", proxy=proxy)
    expect(r.returncode == 0, f"hr-patch-auth --apply on {name}: {r.stderr}")
    return home


def pool_urls(home, providers=ROUTED + ["openrouter"], omit="", env=None):
    """{provider: {source: base_url}} from load_pool() after Hermes's start."""
    r = standin_code(home, "standin.load_plugins()\n"
                     "from agent.credential_pool import load_pool\n"
                     "print(json.dumps({p: {e.source: e.base_url for e in load_pool(p).entries()} for p in %r}))"
                     % providers, omit, env)
    expect(r.returncode == 0, f"load_pool: {r.stderr[-400:]}")
    return json.loads(r.stdout)


def disk_urls(home):
    with open(os.path.join(home, "auth.json"), encoding="utf-8") as f:
        pool = json.load(f).get("credential_pool", {})
    return {p: {e["source"]: e.get("base_url") for e in pool.get(p, [])} for p in pool}


# ---- without the plugin: the trap --------------------------------------------------------


def test_without_plugin_env_token_reseeded():
    """The edit alone does not last: with the plugin out, the next Hermes
    start re-creates env:ANTHROPIC_TOKEN with the official URL and saves it."""
    home = patched_home("claude-subscription")
    cfg = os.path.join(home, "config.yaml")
    text = read(cfg)
    expect("enabled: [headroom-route]" in text, f"config.yaml after apply: {text}")
    write(cfg, text.replace("enabled: [headroom-route]", "enabled: []"))
    expect(disk_urls(home)["anthropic"]["env:ANTHROPIC_TOKEN"] == proxy_url, "the apply did not edit auth.json")
    hermes(home, "anthropic", "--resolve-only")
    expect(disk_urls(home)["anthropic"]["env:ANTHROPIC_TOKEN"] == OFFICIAL["anthropic"],
           f"auth.json after the start: {disk_urls(home)}")


# ---- routed: main calls, auxiliary calls, what Hermes saves ---------------------------------


# provider -> (fixture home, path the upstream must see, credential header, its value)
ROUTES = {
    "anthropic": ("claude-subscription", "/v1/messages", "authorization", "Bearer " + SETUP_TOKEN),
    "openai-codex": ("codex", "/backend-api/codex/responses", "chatgpt-account-id", None),
    "openai-api": ("codex", "/v1/responses", "authorization", "Bearer sk-proj-"),
}


def routed_through_proxy(provider):
    def run():
        name, path, header, value = ROUTES[provider]
        home = patched_home(name)
        before, records = len(seen), len(proxy_log())
        got, err = hermes(home, provider)
        expect(got["base_url"] == VIA_PROXY[provider] and got["status"] == 200, f"resolved {got}")
        expect(len(seen) == before + 1 and seen[-1]["path"] == path,
               f"upstream saw {[s['path'] for s in seen[before:]]}, want {path}")
        sent = seen[-1]["headers"].get(header) or ""
        expect(sent.startswith(value) if value else sent, f"{header} arrived as {sent!r}")
        time.sleep(0.05)
        expect(len(proxy_log()) == records + 1, "no proxy log record")
        st = state(home)
        expect(st["healthy"] is True and st["mode"] == "proxy" and provider in st["patched"] and not st["failed"],
               f"state {st}")
        expect(all(v == "patched" for k, v in st["providers"][provider].items() if k != "base_url"),
               f"state providers {st['providers']}")
        expect("NOT" not in err and "not healthy" not in err, f"stderr: {err}")
    return run


def test_env_token_all_entries():
    """Claude token in .env (the usual `hermes setup` path): every anthropic
    pool entry, env:ANTHROPIC_TOKEN and claude_code, carries the proxy URL;
    auth.json keeps it after Hermes's start; --status stays routed."""
    home = patched_home("claude-subscription")
    urls = pool_urls(home)
    expect(urls["anthropic"] == {"env:ANTHROPIC_TOKEN": proxy_url, "claude_code": proxy_url},
           f"anthropic pool after load: {urls['anthropic']}")
    expect(urls["openrouter"] == {"env:OPENROUTER_API_KEY": "https://openrouter.ai/api/v1"}, f"openrouter {urls}")
    disk = disk_urls(home)
    expect(disk["anthropic"]["env:ANTHROPIC_TOKEN"] == proxy_url, f"auth.json after the start: {disk}")
    expect(SETUP_TOKEN not in read(os.path.join(home, "auth.json")), "the .env token was saved in auth.json")
    r = patch_auth(home, "--status")
    expect(r.returncode == 0 and "DIRECT" not in r.stdout, f"--status after a Hermes start: {r.stdout}")


def aux_through_proxy(provider):
    def run():
        name, *_ = ROUTES[provider]
        home = patched_home(name)
        before = len(seen)
        got, err = hermes(home, provider, "--aux")
        expect(got.get("aux_base_url") == VIA_PROXY[provider] and got.get("aux_status") == 200,
               f"auxiliary client: {got} {err[-300:]}")
        expect(len(seen) == before + 2, f"upstream saw {[s['path'] for s in seen[before:]]}")
    return run


def test_aux_without_pool():
    """The auxiliary client's own default URL (used when the pool has no
    entry) is the proxy's for a routed provider, and only for one."""
    for name, want in (("claude-subscription", [proxy_url, OFFICIAL["openai-codex"]]),
                       ("codex", [OFFICIAL["anthropic"], proxy_url])):
        home = patched_home(name)
        r = standin_code(home, "standin.load_plugins()\nfrom agent import auxiliary_client as a\n"
                         "print(json.dumps([a._ANTHROPIC_DEFAULT_BASE_URL, a._CODEX_AUX_BASE_URL]))")
        expect(r.returncode == 0 and json.loads(r.stdout) == want, f"{name}: {r.stdout} {r.stderr[-300:]}")


def test_openai_api_keeps_responses():
    """Through the proxy Hermes would speak Chat Completions to openai-api
    (it picks the wire API by host); the plugin keeps the Responses API the
    official URL gets, unless config.yaml sets model.api_mode."""
    home = patched_home("codex")
    got, _ = hermes(home, "openai-api", "--resolve-only")
    expect(got["api_mode"] == "codex_responses", f"api_mode {got['api_mode']}")
    cfg = os.path.join(home, "config.yaml")
    text = read(cfg).replace("provider: openai-codex", "provider: openai-api").replace(
        "  base_url: https://chatgpt.com/backend-api/codex\n", "  api_mode: chat_completions\n")
    write(cfg, text)
    got, _ = hermes(home, "openai-api", "--resolve-only")
    expect(got["api_mode"] == "chat_completions", f"a configured api_mode was overridden: {got}")


def test_other_providers_left_alone():
    home = patched_home("claude-subscription")
    got, _ = hermes(home, "openrouter", "--resolve-only")
    expect(got["base_url"] == "https://openrouter.ai/api/v1", f"openrouter resolved to {got['base_url']}")


# ---- proxy down: one outcome for every routed provider ------------------------------------


def test_unhealthy_goes_official():
    """The proxy down at Hermes's start: every routed provider, main and
    auxiliary client, goes to its official URL, also where auth.json names the
    (dead) proxy; the plugin says so; nothing pretends to be routed."""
    dead = f"http://127.0.0.1:{free_port()}"
    for name in ("claude-subscription", "codex"):
        home = patched_home(name, proxy=dead)
        expect(any(u == dead for u in disk_urls(home).get("anthropic", {}).values()) or name == "codex",
               "the apply did not point auth.json at the proxy")
        providers = ["anthropic"] if name == "claude-subscription" else ["openai-codex", "openai-api"]
        for p in providers:
            got, err = hermes(home, p, "--resolve-only", "--aux")
            expect(got["base_url"] == OFFICIAL[p], f"{name}: {p} resolved to {got['base_url']} with the proxy down")
            if p != "openai-api":
                expect(got.get("aux_base_url") == OFFICIAL[p], f"{name}: {p} auxiliary client {got}")
            expect("not healthy" in err and "cannot reach" in err and "DIRECT" in err, f"stderr: {err!r}")
        urls = pool_urls(home, providers)
        expect(all(u == OFFICIAL[p] for p in providers for u in urls[p].values()), f"{name}: pool {urls}")
        st = state(home)
        expect(st["healthy"] is False and st["mode"] == "direct" and not st["patched"] and
               set(providers) <= set(st["direct"]) and "cannot reach" in st["reason"], f"state {st}")


def test_not_a_proxy_on_the_port():
    """Something else on the proxy's port (an SSH banner, a JSON list): the
    plugin still loads, reports, and sends every routed provider direct."""
    import socket
    import threading
    for answer in (b"SSH-2.0-OpenSSH_9.2\r\n",
                   b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]"):
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)

        def serve(s=srv, a=answer):
            while True:
                try:
                    c, _ = s.accept()
                except OSError:
                    return
                c.recv(4096)
                c.sendall(a)
                c.close()
        threading.Thread(target=serve, daemon=True).start()
        url = f"http://127.0.0.1:{srv.getsockname()[1]}"
        home = patched_home("claude-subscription", proxy=url)
        got, err = hermes(home, "anthropic", "--resolve-only")
        srv.close()
        expect(got["base_url"] == OFFICIAL["anthropic"] and "headroom-route" in got["plugins"],
               f"{answer[:12]!r}: {got} {err[-300:]}")
        st = state(home)
        expect(st["healthy"] is False and st["mode"] == "direct", f"{answer[:12]!r}: state {st}")


def test_empty_providers_list():
    """providers: [] in the block routes nothing (hr-patch-auth reads it so too)."""
    home = patched_home("claude-subscription")
    cfg = os.path.join(home, "config.yaml")
    text = read(cfg)
    expect("providers: [anthropic]" in text, f"config.yaml: {text}")
    write(cfg, text.replace("providers: [anthropic]", "providers: []"))
    got, _ = hermes(home, "anthropic", "--resolve-only")
    st = state(home)
    expect(not st["patched"] and not st["providers"], f"state {st}")


# ---- the witness ----------------------------------------------------------------------------


def calls(home):
    path = os.path.join(home, "headroom-route.calls.jsonl")
    return [json.loads(line) for line in read(path).splitlines()] if os.path.exists(path) else []


def test_witness_per_call():
    """One line per API call of `hermes chat` (the auxiliary title call fires
    no hook in Hermes), with provider, base_url, via_proxy; no secret."""
    home = patched_home("claude-subscription")
    r = standin_run(home, [HERMES_BIN, "chat", "-q", "hello"])
    expect(r.returncode == 0, f"hermes chat: {r.stderr[-300:]}")
    got = calls(home)
    expect(len(got) == 1, f"{len(got)} lines for one chat: {got}")
    c = got[0]
    expect(c["provider"] == "anthropic" and c["base_url"] == proxy_url and c["via_proxy"] is True and
           c["pid"] > 0 and c["time"].endswith("Z"), f"line {c}")
    standin_run(home, [HERMES_BIN, "chat", "-q", "again"])
    expect(len(calls(home)) == 2, "the second call was not appended")
    text = read(os.path.join(home, "headroom-route.calls.jsonl"))
    expect(SETUP_TOKEN not in text and "sk-" not in text, "a credential in the witness")
    dead = f"http://127.0.0.1:{free_port()}"
    home = patched_home("claude-subscription", proxy=dead)
    standin_run(home, [HERMES_BIN, "chat", "-q", "hello"])
    got = calls(home)
    expect(len(got) == 1 and got[0]["via_proxy"] is False and got[0]["base_url"] == OFFICIAL["anthropic"],
           f"proxy down: {got}")


def test_witness_bounded():
    """The witness stays small: past 64 KiB its newest 200 lines stay; a
    half-written line left by a killed Hermes does not stop appends."""
    home = patched_home("claude-subscription")
    old = json.dumps({"time": "2026-01-01T00:00:00Z", "pid": 1, "provider": "anthropic", "base_url": proxy_url,
                      "via_proxy": True})
    write(os.path.join(home, "headroom-route.calls.jsonl"), (old + "\n") * 1000 + '{"time": "2026-01-0')
    standin_run(home, [HERMES_BIN, "chat", "-q", "hello"])
    lines = read(os.path.join(home, "headroom-route.calls.jsonl")).splitlines()
    expect(len(lines) <= 200 and json.loads(lines[-1])["pid"] != 1, f"{len(lines)} lines, last {lines[-1][:80]}")
    expect(all(json.loads(x) for x in lines), "a broken line was kept")


def test_witness_strips_credentials():
    import importlib.util
    spec = importlib.util.spec_from_file_location("headroom_route_url", os.path.join(PLUGIN, "__init__.py"))
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    got = plugin._public_url("https://user:sk-secret@gw.example:8443/v1?key=sk-abc#x")
    expect(got == "https://gw.example:8443/v1", f"{got}")


# ---- other Hermes versions, other setups --------------------------------------------------


def test_missing_seeders():
    for omit, name in (("seed", "_seed_from_singletons"), ("seed_env", "_seed_from_env")):
        home = patched_home("claude-subscription")
        got, err = hermes(home, "anthropic", "--resolve-only", omit=omit)
        expect(got["base_url"] == proxy_url, f"{omit}: resolved {got['base_url']}")
        expect("anthropic is NOT fully routed" in err and "seeding failed: AttributeError" in err and name in err,
               f"{omit}: stderr {err!r}")
        st = state(home)
        expect("anthropic" in st["failed"] and st["providers"]["anthropic"]["seeding"].startswith("failed"),
               f"{omit}: state {st['providers']}")


def test_missing_overlay_entry():
    home = patched_home("codex")
    got, err = hermes(home, "openai-api", omit="overlay:openai-codex")
    expect(got["base_url"] == proxy_url + "/v1" and got["status"] == 200, f"openai-api: {got}")
    expect("openai-codex is NOT fully routed" in err and "overlay failed: KeyError" in err, f"stderr: {err!r}")
    expect("openai-api is NOT" not in err, f"stderr: {err!r}")
    st = state(home)
    expect("openai-codex" in st["failed"] and "openai-api" in st["patched"], f"state {st}")


def test_missing_runtime_symbol():
    home = patched_home("claude-subscription")
    r = standin_code(home, "standin.load_plugins()", omit="runtime")
    expect(r.returncode == 0, f"the plugin crashed: {r.stderr[-300:]}")
    expect("runtime failed: AttributeError" in r.stderr, f"stderr: {r.stderr!r}")


def test_custom_gateway_left_alone():
    """openai-api takes model.base_url while its pool holds the official URL:
    with a gateway of the user's there, the plugin leaves openai-api alone."""
    home = patched_home("codex")
    cfg = os.path.join(home, "config.yaml")
    write(cfg, read(cfg).replace("provider: openai-codex", "provider: openai-api").replace(
        "base_url: https://chatgpt.com/backend-api/codex", "base_url: https://gateway.example/v1"))
    got, err = hermes(home, "openai-api", "--resolve-only")
    expect(got["base_url"] == "https://gateway.example/v1", f"a user's gateway became {got['base_url']}")
    expect("openai-api left alone" in err and "openai-api" in state(home)["not_routed"], f"stderr {err!r}")


def test_register_twice_wraps_once():
    home = patched_home("claude-subscription")
    r = standin_code(home, "standin.load_plugins(); standin.load_plugins()\n"
                     "from hermes_cli import runtime_provider as rp\n"
                     "assert not hasattr(rp.resolve_runtime_provider.__wrapped__, 'headroom_router'), 'wrapped twice'\n"
                     "print(rp.resolve_runtime_provider(requested='anthropic')['base_url'])")
    expect(r.returncode == 0 and r.stdout.strip() == proxy_url, f"{r.stdout} {r.stderr[-300:]}")


def test_overlays():
    home = patched_home("codex")
    r = standin_code(home, "standin.load_plugins()\nfrom hermes_cli.providers import HERMES_OVERLAYS\n"
                     "print(json.dumps({p: HERMES_OVERLAYS[p].base_url_override for p in %r}))"
                     % (ROUTED + ["openrouter"]))
    expect(r.returncode == 0, r.stderr[-300:])
    got = json.loads(r.stdout)
    expect(got == {"anthropic": "", "openai-codex": proxy_url, "openai-api": proxy_url + "/v1", "openrouter": ""},
           f"overlays (the codex home routes openai-codex and openai-api only) {got}")


def test_settings_forms():
    import importlib.util

    spec = importlib.util.spec_from_file_location("headroom_route_under_test", os.path.join(PLUGIN, "__init__.py"))
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    home = os.path.join(tmp, "forms")
    os.makedirs(home)
    write(os.path.join(home, "config.yaml"),
          "plugins:\n  enabled:\n    - headroom-route\n  headroom-route:\n"
          "    proxy_url: 'http://127.0.0.1:9999/'   # a comment\n    providers:\n      - anthropic\n"
          "      - openai-api\n    require_health: false\n  other-plugin:\n    proxy_url: http://x\n"
          "model:\n  provider: anthropic\n  base_url: \"https://api.anthropic.com\"  # note\n")
    old = os.environ.get("HERMES_HOME")
    os.environ["HERMES_HOME"] = home
    try:
        got = plugin._settings()
        want = {"proxy_url": "http://127.0.0.1:9999", "providers": ["anthropic", "openai-api"],
                "require_health": False, "model": {"provider": "anthropic", "base_url": "https://api.anthropic.com"}}
        expect(got == want, f"block-style file: {got}")
    finally:
        if old is None:
            del os.environ["HERMES_HOME"]
        else:
            os.environ["HERMES_HOME"] = old


try:
    check("settings: block lists, quotes and comments in config.yaml; model section", test_settings_forms)
    check("without the plugin, Hermes re-seeds env:ANTHROPIC_TOKEN with the official URL and saves it",
          test_without_plugin_env_token_reseeded)
    for p in ROUTED:
        check(f"{p}: resolved to the proxy, the request reaches the upstream through it with its credential; "
              "state file", routed_through_proxy(p))
    check("Claude token in .env: every pool entry on the proxy, auth.json keeps it, --status stays routed",
          test_env_token_all_entries)
    for p in ("anthropic", "openai-codex"):
        check(f"{p}: Hermes's auxiliary client (titles, summaries) goes through the proxy", aux_through_proxy(p))
    check("the auxiliary client's default URLs are the proxy's", test_aux_without_pool)
    check("openai-api keeps the Responses API through the proxy unless model.api_mode says otherwise",
          test_openai_api_keeps_responses)
    check("a provider that is not routed keeps its URL", test_other_providers_left_alone)
    check("proxy down: every routed provider, main and auxiliary, to its official URL, also where auth.json "
          "names the proxy; said on stderr; state says why", test_unhealthy_goes_official)
    check("something else on the proxy's port: the plugin loads and sends every routed provider direct",
          test_not_a_proxy_on_the_port)
    check("providers: [] routes nothing", test_empty_providers_list)
    check("witness: one line per API call, where it went, no secrets", test_witness_per_call)
    check("witness: bounded, survives a half-written line", test_witness_bounded)
    check("witness: URLs lose credentials and query", test_witness_strips_credentials)
    check("no _seed_from_singletons or _seed_from_env (another Hermes): reported, the rest patched",
          test_missing_seeders)
    check("no overlay for one provider: that one reported, the others routed", test_missing_overlay_entry)
    check("no resolve_runtime_provider: reported, no crash", test_missing_runtime_symbol)
    check("openai-api with a gateway of the user's in model.base_url is left alone", test_custom_gateway_left_alone)
    check("register called twice wraps once", test_register_twice_wraps_once)
    check("overlays of routed providers carry the proxy URL; others untouched", test_overlays)
finally:
    world.close()
sys.exit(1 if checks.failures else 0)
