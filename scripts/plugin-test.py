"""Tests of the headroom-route Hermes plugin, run against the Hermes stand-in
in testdata/hermes-standin (Hermes itself cannot be installed here) and a
real hr-proxy in front of a fake upstream on loopback.
    python3 scripts/plugin-test.py BUILD_DIR
Prints "ok NAME" / "not ok NAME: why" per test."""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import (PLUGIN, ROOT, ROUTED, STANDIN, Checks, World, expect, free_port, hermes,  # noqa: E402
                            standin_code, state)

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
world = World(BUILD, "hr-plugin-test.")
tmp, proxy_url, seen, proxy_log = world.tmp, world.proxy_url, world.seen, world.proxy_log

# ---- a Hermes home -----------------------------------------------------------------------


def make_home(name, enable=True, proxy=None, providers=ROUTED, extra_block=""):
    """The fixture home with the plugin installed and enabled as hr-patch-auth
    leaves it, and model.base_url pointed at the proxy (all a config edit can
    do). auth.json keeps the official URLs: the plugin alone must route."""
    home = os.path.join(tmp, name)
    shutil.copytree(os.path.join(ROOT, "testdata", "hermes-home"), home)
    shutil.copytree(PLUGIN, os.path.join(home, "plugins", "headroom-route"))
    shutil.copytree(os.path.join(ROOT, "testdata", "hermes-plugins", "quota-guard"),
                    os.path.join(home, "plugins", "quota-guard"))
    path = os.path.join(home, "config.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("  api_mode: anthropic_messages\n",
                        f"  api_mode: anthropic_messages\n  base_url: {proxy or proxy_url}\n")
    if enable:
        text = text.replace("    - session-notes\n", "    - session-notes\n    - headroom-route\n")
    text = text.replace("    warn_at: 0.8\n", "    warn_at: 0.8\n  headroom-route:\n"
                        f"    proxy_url: {proxy or proxy_url}\n    providers: [{', '.join(providers)}]\n"
                        f"    require_health: true\n{extra_block}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return home


checks = Checks("plugin")
check = checks.check


def test_without_plugin():
    home = make_home("plain", enable=False)
    got, _ = hermes(home, "anthropic", "--resolve-only")
    expect(got["base_url"] == "https://api.anthropic.com",
           f"OAuth anthropic resolved to {got['base_url']} without the plugin (the stand-in lost the trap)")
    expect(not os.path.exists(os.path.join(home, "headroom-route.state.json")), "a state file without the plugin")


EXPECT = {  # provider -> (base URL it must get, path the upstream must see, credential header, value)
    "anthropic": (proxy_url, "/v1/messages", "authorization", "Bearer sk-ant-oat01-fixture-access-token-AAAA"),
    "openai-codex": (proxy_url, "/backend-api/codex/responses", "chatgpt-account-id", "acct-fixture-7f3e"),
    "openai-api": (proxy_url + "/v1", "/v1/responses", "authorization", "Bearer sk-proj-fixture-key-DDDD"),
}


def routed_through_proxy(provider):
    def run():
        home = make_home("routed-" + provider)
        before, records = len(seen), len(proxy_log())
        got, err = hermes(home, provider)
        base, path, header, value = EXPECT[provider]
        expect(got["base_url"] == base, f"resolved {got['base_url']}, want {base}")
        expect(got["status"] == 200, f"status {got['status']}")
        expect(len(seen) == before + 1 and seen[-1]["path"] == path, f"upstream saw {[s['path'] for s in seen[before:]]}")
        expect(seen[-1]["headers"].get(header) == value, f"{header} arrived as {seen[-1]['headers'].get(header)}")
        time.sleep(0.05)
        log = proxy_log()[records:]
        expect(len(log) == 1 and log[0]["path"] == path.replace("/backend-api/codex", ""),
               f"proxy log: {[r['path'] for r in log]}")
        st = state(home)
        expect(st["healthy"] is True and sorted(st["patched"]) == sorted(ROUTED) and not st["failed"],
               f"state {st}")
        expect(all(st["providers"][p][k] == "patched" for p in ROUTED for k in ("overlay", "seeding", "runtime")),
               f"state providers {st['providers']}")
        expect(st["pid"] > 0 and st["hermes_version"] == "0.0.0-standin" and st["proxy_url"] == proxy_url, "state")
        expect("quota-guard" in got["plugins"] and "pre_llm_call" in got["hooks"], f"neighbour plugin: {got}")
        expect("NOT" not in err, f"stderr: {err}")
    return run


def test_other_providers_left_alone():
    home = make_home("others")
    got, _ = hermes(home, "openrouter", "--resolve-only")
    expect(got["base_url"] == "https://openrouter.ai/api/v1", f"openrouter resolved to {got['base_url']}")


def test_unhealthy_patches_nothing():
    dead = f"http://127.0.0.1:{free_port()}"
    home = make_home("unhealthy", proxy=dead)
    got, err = hermes(home, "anthropic", "--resolve-only")
    expect(got["base_url"] == "https://api.anthropic.com", f"resolved {got['base_url']} with the proxy down")
    expect("NOTHING IS PATCHED" in err and "cannot reach" in err, f"stderr: {err!r}")
    st = state(home)
    expect(st["healthy"] is False and not st["patched"] and sorted(st["failed"]) == sorted(ROUTED), f"state {st}")


def test_missing_seeding_symbol():
    home = make_home("noseed")
    got, err = hermes(home, "openai-codex", "--resolve-only", omit="seed")
    expect(got["base_url"] == proxy_url, f"resolved {got['base_url']}")
    for p in ROUTED:
        expect(f"{p} is NOT fully routed" in err and "seeding failed" in err, f"stderr: {err!r}")
    st = state(home)
    expect(st["providers"]["anthropic"]["overlay"] == "patched" and
           st["providers"]["anthropic"]["seeding"].startswith("failed: AttributeError"), f"state {st['providers']}")


def test_missing_overlay_entry():
    home = make_home("nooverlay")
    got, err = hermes(home, "openai-api", omit="overlay:anthropic")
    expect(got["base_url"] == proxy_url + "/v1" and got["status"] == 200, f"openai-api: {got}")
    expect("anthropic is NOT fully routed" in err and "overlay failed: KeyError" in err, f"stderr: {err!r}")
    expect("openai-api is NOT" not in err and "openai-codex is NOT" not in err, f"stderr: {err!r}")
    st = state(home)
    expect(st["failed"] == ["anthropic"] and sorted(st["patched"]) == ["openai-api", "openai-codex"], f"state {st}")


def test_missing_runtime_symbol():
    home = make_home("noruntime")
    r = standin_code(home, "standin.load_plugins(standin.Context())", omit="runtime")
    expect(r.returncode == 0, f"the plugin crashed: {r.stderr[-300:]}")
    expect("runtime failed: AttributeError" in r.stderr, f"stderr: {r.stderr!r}")


def test_custom_gateway_left_alone():
    home = make_home("gateway", providers=["openai-api"])
    path = os.path.join(home, "config.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("  provider: anthropic          # the active provider\n",
                        "  provider: openai-api\n").replace(f"  base_url: {proxy_url}\n",
                                                             "  base_url: https://gateway.example/v1\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    got, _ = hermes(home, "openai-api", "--resolve-only")
    expect(got["base_url"] == "https://gateway.example/v1", f"a user's gateway became {got['base_url']}")


def test_register_twice_wraps_once():
    home = make_home("twice")
    r = standin_code(home, "standin.load_plugins(standin.Context()); standin.load_plugins(standin.Context())\n"
                     "from hermes_cli import runtime_provider as rp\n"
                     "assert not hasattr(rp.resolve_runtime_provider.__wrapped__, 'headroom_routes'), 'wrapped twice'\n"
                     "print(rp.resolve_runtime_provider(requested='anthropic')['base_url'])")
    expect(r.returncode == 0 and r.stdout.strip() == proxy_url, f"{r.stdout} {r.stderr[-300:]}")


def test_each_patch_in_place():
    home = make_home("inplace")
    r = standin_code(home, "standin.load_plugins(standin.Context())\n"
                     "from hermes_cli.providers import HERMES_OVERLAYS\n"
                     "from agent.credential_pool import load_pool\n"
                     "print(json.dumps({'overlay': {p: HERMES_OVERLAYS[p].base_url_override for p in HERMES_OVERLAYS},\n"
                     "  'pool': {p: [e.base_url for e in load_pool(p)] for p in %r + ['openrouter']}}))" % ROUTED)
    expect(r.returncode == 0, r.stderr[-300:])
    got = json.loads(r.stdout)
    want = {p: EXPECT[p][0] for p in ROUTED}
    expect(got["overlay"] == dict(want, openrouter=None), f"overlays {got['overlay']}")
    # seeding: the Codex singleton's entry is re-created with the official URL on
    # every load; the wrapper must give it the proxy's.
    expect(got["pool"]["openai-codex"] == [proxy_url], f"seeded Codex entry: {got['pool']['openai-codex']}")
    expect(got["pool"]["openrouter"] == ["https://openrouter.ai/api/v1"], f"openrouter pool {got['pool']}")


def test_settings_forms():
    import importlib.util

    spec = importlib.util.spec_from_file_location("headroom_route_under_test", os.path.join(PLUGIN, "__init__.py"))
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    home = os.path.join(tmp, "forms")
    os.makedirs(home)
    with open(os.path.join(home, "config.yaml"), "w", encoding="utf-8") as f:
        f.write("plugins:\n  enabled:\n    - headroom-route\n  headroom-route:\n"
                "    proxy_url: 'http://127.0.0.1:9999/'   # a comment\n    providers:\n      - anthropic\n"
                "      - openai-api\n    require_health: false\n  other-plugin:\n    proxy_url: http://x\n"
                "model:\n  provider: anthropic\n")
    old = os.environ.get("HERMES_HOME")
    os.environ["HERMES_HOME"] = home
    try:
        got = plugin._settings(object())
        want = {"proxy_url": "http://127.0.0.1:9999", "providers": ["anthropic", "openai-api"],
                "require_health": False}
        expect(got == want, f"block-style file: {got}")

        class Ctx:
            def get_config(self):
                return {"plugins": {"headroom-route": {"proxy_url": "http://127.0.0.1:7777",
                                                       "providers": ["openai-codex"]}}}
        got = plugin._settings(Ctx())
        expect(got == {"proxy_url": "http://127.0.0.1:7777", "providers": ["openai-codex"], "require_health": True},
               f"from ctx.get_config(): {got}")
    finally:
        if old is None:
            del os.environ["HERMES_HOME"]
        else:
            os.environ["HERMES_HOME"] = old


try:
    check("settings: block lists, quotes and comments in config.yaml; ctx.get_config() first", test_settings_forms)
    check("without the plugin, an OAuth provider goes direct although config.yaml names the proxy",
          test_without_plugin)
    for p in ROUTED:
        check(f"{p}: resolved to the proxy, the request reaches the upstream through it with its credential; "
              "state file; a neighbour plugin still loads", routed_through_proxy(p))
    check("a provider that is not routed keeps its URL", test_other_providers_left_alone)
    check("proxy unhealthy: nothing patched, said on stderr, state says why", test_unhealthy_patches_nothing)
    check("no _seed_from_singletons (another Hermes): reported per provider, the rest patched",
          test_missing_seeding_symbol)
    check("no overlay for one provider: that one reported, the others routed", test_missing_overlay_entry)
    check("no resolve_runtime_provider: reported, no crash", test_missing_runtime_symbol)
    check("a user's own gateway URL is left alone", test_custom_gateway_left_alone)
    check("register called twice wraps once", test_register_twice_wraps_once)
    check("overlay and seeded pool entries carry the proxy URL; others untouched", test_each_patch_in_place)
finally:
    world.close()
sys.exit(1 if checks.failures else 0)
