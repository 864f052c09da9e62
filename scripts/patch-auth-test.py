"""Tests of hr-patch-auth on copies of the fixture Hermes home
(testdata/hermes-home), and end to end: the home it patched, loaded by the
Hermes stand-in, sends each provider's request through a real hr-proxy.
    python3 scripts/patch-auth-test.py BUILD_DIR
Prints "ok patch-auth: NAME" / "not ok patch-auth: NAME: why" per test."""
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import (FIXTURE_HOME, PLUGIN, ROOT, ROUTED, Checks, World, expect, hermes,  # noqa: E402
                            standin_code)

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
TOOL = os.path.join(BUILD, "hr-patch-auth")
world = World(BUILD, "hr-patch-auth-test.")
tmp, proxy_url = world.tmp, world.proxy_url
checks = Checks("patch-auth")
SECRETS = ["sk-ant-oat01-fixture-access-token-AAAA", "sk-proj-fixture-key-DDDD"]


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w", encoding=None if isinstance(data, bytes) else "utf-8") as f:
        f.write(data)


def make_home(name):
    home = os.path.join(tmp, name)
    shutil.copytree(FIXTURE_HOME, home)
    os.chmod(os.path.join(home, "auth.json"), 0o600)
    return home


def run(home, *args, env=None, timeout=60):
    e = dict(os.environ, HR_PLUGIN_SOURCE=PLUGIN, **(env or {}))
    e.pop("HERMES_HOME", None)
    return subprocess.run([TOOL, "--hermes-home", home, *args], capture_output=True, text=True, env=e,
                          timeout=timeout)


def apply(home, *args):
    r = run(home, "--apply", "--proxy-url", proxy_url, *args)
    expect(r.returncode == 0, f"apply exited {r.returncode}: {r.stderr}")
    return r


def snapshot(home):
    """Everything under home: path -> bytes for a file, ("link", target) for
    a symbolic link, ("mode", kind) for anything else (a FIFO is not opened:
    that would wait for a writer)."""
    out = {}
    for d, dirs, files in os.walk(home):
        for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, f)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[os.path.relpath(p, home)] = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                out[os.path.relpath(p, home)] = read(p)
            else:
                out[os.path.relpath(p, home)] = ("mode", stat.S_IFMT(st.st_mode))
    return out


def temp_files(*dirs):
    """The temporary files (NAME.hr-XXXXXX) hr-patch-auth left in dirs."""
    return [os.path.join(d, f) for d in dirs for f in os.listdir(d) if ".hr-" in f]


def unchanged(home, before):
    """home as it was (auth.lock aside): no edit, no backup, no temporary file."""
    after = snapshot(home)
    after.pop("auth.lock", None)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    expect(not changed, f"changed: {changed}")
    expect(not os.path.exists(os.path.join(home, "backups")), f"a backup was left: {os.listdir(home)}")
    expect(not temp_files(home), f"temporary files: {temp_files(home)}")


def backups(home):
    d = os.path.join(home, "backups", "hr-patch-auth")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def pool_urls(home):
    auth = json.loads(read(os.path.join(home, "auth.json")))
    return {p: [e.get("base_url") for e in v] for p, v in auth["credential_pool"].items()}


WANT_URLS = {"anthropic": [proxy_url] * 2, "openai-codex": [proxy_url], "openai-api": [proxy_url + "/v1"],
             "openrouter": ["https://openrouter.ai/api/v1"]}


def redact(text):
    return re.sub(r'"(access_token|refresh_token)": "[^"]*"', r'"\1": "<redacted>"', text)


def test_dry_run():
    home = make_home("dry")
    before = snapshot(home)
    r = run(home, "--dry-run", "--proxy-url", proxy_url)
    expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
    expect(snapshot(home) == before, "--dry-run changed the home")
    expect(not any(s in r.stdout + r.stderr for s in SECRETS), "a credential in the dry-run output")
    expect("would install" in r.stderr, f"stderr: {r.stderr}")
    # the same diff diff -u prints between the originals and what --apply writes
    copy = make_home("dry-applied")
    apply(copy)
    want = ""
    for name in ("auth.json", "config.yaml"):
        d = subprocess.run(["diff", "-u", "--label", f"a/{name}", "--label", f"b/{name}",
                            os.path.join(FIXTURE_HOME, name), os.path.join(copy, name)], capture_output=True, text=True)
        want += d.stdout
    expect(r.stdout == redact(want), f"dry-run diff differs from diff -u:\n{r.stdout}\n----\n{redact(want)}")


def test_apply():
    home = make_home("apply")
    r = apply(home)
    expect(pool_urls(home) == WANT_URLS, f"pool URLs {pool_urls(home)}")
    expect(os.stat(os.path.join(home, "auth.json")).st_mode & 0o777 == 0o600, "auth.json mode changed")
    orig, new = read(os.path.join(FIXTURE_HOME, "auth.json"), "r"), read(os.path.join(home, "auth.json"), "r")
    o_lines, n_lines = orig.splitlines(True), new.splitlines(True)
    changed = [(a, b) for a, b in zip(o_lines, n_lines) if a != b]
    expect(len(o_lines) == len(n_lines) and len(changed) == 4 and all('"base_url"' in a for a, _ in changed),
           f"auth.json lines changed beyond base_url: {changed}")
    cfg_o, cfg_n = read(os.path.join(FIXTURE_HOME, "config.yaml"), "r"), read(os.path.join(home, "config.yaml"), "r")
    d = subprocess.run(["diff", cfg_o and os.path.join(FIXTURE_HOME, "config.yaml"), os.path.join(home, "config.yaml")],
                       capture_output=True, text=True).stdout
    expect(not [x for x in d.splitlines() if x.startswith("<")], f"config.yaml lost lines: {d}")
    expect("base_url: " + proxy_url not in cfg_n, "model.base_url written for anthropic, which Hermes ignores")
    for line in ("    - headroom-route\n", "  headroom-route:\n",
                 "    proxy_url: " + proxy_url + "\n", "    providers: [anthropic, openai-codex, openai-api]\n",
                 "    require_health: true\n"):
        expect(line in cfg_n, f"config.yaml lacks {line!r}")
    for name in ("plugin.yaml", "__init__.py"):
        expect(read(os.path.join(home, "plugins", "headroom-route", name)) == read(os.path.join(PLUGIN, name)),
               f"installed {name} differs")
    (bid,) = backups(home)
    b = os.path.join(home, "backups", "hr-patch-auth", bid)
    man = json.loads(read(os.path.join(b, "manifest.json")))
    for name in ("auth.json", "config.yaml"):
        expect(read(os.path.join(b, name)) == read(os.path.join(FIXTURE_HOME, name)), f"backup {name} differs")
        expect(man["files"][name]["sha256"] == hashlib.sha256(read(os.path.join(FIXTURE_HOME, name))).hexdigest(),
               f"manifest sha256 of {name}")
        expect(man["files"][name]["sha256_after"] == hashlib.sha256(read(os.path.join(home, name))).hexdigest(),
               f"manifest sha256_after of {name}")
    expect(os.stat(os.path.join(b, "auth.json")).st_mode & 0o777 == 0o600, "backup of auth.json readable by others")
    edits = {(e["provider"], e["id"]): (e["old"], e["new"]) for e in man["auth_edits"]}
    expect(edits[("openai-codex", "c0dex1")] == ("https://chatgpt.com/backend-api/codex", proxy_url) and
           edits[("openai-api", "0a1p1k")] == ("https://api.openai.com/v1", proxy_url + "/v1") and len(edits) == 4,
           f"manifest edits {edits}")
    expect(not any(s in read(os.path.join(b, "manifest.json"), "r") + r.stdout for s in SECRETS),
           "a credential in the manifest or the summary")
    expect("openrouter (hr does not forward it)" in r.stdout, f"summary: {r.stdout}")


def test_end_to_end():
    home = make_home("e2e")
    apply(home)
    for p, path in (("anthropic", "/v1/messages"), ("openai-codex", "/backend-api/codex/responses"),
                    ("openai-api", "/v1/responses")):
        before, records = len(world.seen), len(world.proxy_log())
        got, err = hermes(home, p)
        expect(got["status"] == 200 and got["base_url"] == WANT_URLS[p][0], f"{p}: {got} {err[-200:]}")
        expect(len(world.seen) == before + 1 and world.seen[-1]["path"] == path, f"{p}: upstream saw {world.seen[before:]}")
        expect(len(world.proxy_log()) == records + 1, f"{p}: no proxy log record")
    r = standin_code(home, "standin.load_plugins(standin.Context())\n"
                     "from agent.credential_pool import load_pool\n"
                     "print(json.dumps({p: [e.base_url for e in load_pool(p).entries()] for p in %r}))" % ROUTED)
    expect(r.returncode == 0 and json.loads(r.stdout) == {p: WANT_URLS[p] for p in ROUTED}, f"{r.stdout} {r.stderr[-200:]}")


def test_status():
    home = make_home("status")
    r = run(home, "--status", "--json", "--proxy-url", proxy_url)
    got = json.loads(r.stdout)
    expect(r.returncode == 3 and not got["ok"] and all(p["via"] == "direct" for p in got["providers"]),
           f"before apply: exit {r.returncode} {got}")
    apply(home)
    r = run(home, "--status", "--json")
    got = json.loads(r.stdout)
    expect(r.returncode == 0 and got["ok"] and [p["id"] for p in got["providers"]] == ROUTED and
           all(p["via"] == "proxy" for p in got["providers"]) and got["proxy_url"] == proxy_url,
           f"after apply: exit {r.returncode} {got}")
    expect(got["plugin"] == {"installed": True, "enabled": True, "last_report": None, "loading": "enabled"} and
           len(got["backups"]) == 1,
           f"plugin/backups: {got}")
    expect(got["not_routed"] == ["openrouter"], f"not routed: {got['not_routed']}")
    r = run(home, "--status", "--providers", "anthropic")
    expect(r.returncode == 0 and "not routed: openai-codex (not chosen), openai-api (not chosen), openrouter (hr does "
           "not forward it)" in r.stdout, f"--providers anthropic: {r.stdout}")
    hermes(home, "anthropic", "--resolve-only")  # the plugin reports its start
    got = json.loads(run(home, "--status", "--json").stdout)
    report = got["plugin"]["last_report"] or ""
    expect(sorted(report.split("patched: ")[-1].split(", ")) == sorted(ROUTED), f"{got['plugin']}")
    cfg = os.path.join(home, "config.yaml")
    write(cfg, read(cfg, "r").replace("    - headroom-route\n", ""))
    r = run(home, "--status")
    expect(r.returncode == 3 and "not in plugins.enabled" in r.stdout and "re-seeds" in r.stdout,
           f"plugin disabled: exit {r.returncode} {r.stdout}")
    write(cfg, read(cfg, "r").replace("    - session-notes\n", "    - session-notes\n    - headroom-route\n"))
    auth = os.path.join(home, "auth.json")
    write(auth, read(auth, "r").replace(f'"base_url": "{proxy_url}/v1"', '"base_url": "https://api.openai.com/v1"'))
    r = run(home, "--status")
    expect(r.returncode == 3 and "credential_pool.openai-api[0] base_url is https://api.openai.com/v1" in r.stdout,
           f"official URL back: exit {r.returncode} {r.stdout}")
    expect(not any(s in r.stdout for s in SECRETS), "a credential in --status")


def with_config(home, text):
    write(os.path.join(home, "config.yaml"), text)
    return home


def model_url(home):
    import yaml
    return (yaml.safe_load(read(os.path.join(home, "config.yaml"), "r")).get("model") or {}).get("base_url")


NO_PROVIDER = ("model:\n  default: claude-opus-4-6\n\nplugins:\n  enabled:\n    - quota-guard\n")


def test_model_url_only_where_read():
    """model.base_url is written only for a model.provider that takes it
    (openai-api); never for anthropic, openai-codex or with no model.provider."""
    for name, model in (("anthropic", "  provider: anthropic\n"), ("codex", "  provider: openai-codex\n"),
                        ("none", "")):
        home = with_config(make_home("model-" + name), "model:\n" + model + "  default: m\n")
        r = apply(home, "--json")
        got = json.loads(r.stdout)
        expect(model_url(home) is None and got["model_base_url"] is None, f"{name}: model.base_url {model_url(home)}")
    home = with_config(make_home("model-openai"), "model:\n  provider: openai-api\n  default: gpt-5.1\n")
    apply(home)
    expect(model_url(home) == proxy_url + "/v1", f"openai-api: model.base_url {model_url(home)}")


def test_model_url_repaired():
    """A home an earlier hr patched (model.base_url = the proxy, no
    model.provider: every call a custom endpoint) is repaired by --apply;
    --rollback of that apply puts the line back as it was."""
    home = with_config(make_home("repair"), NO_PROVIDER.replace("model:\n", f"model:\n  base_url: {proxy_url}\n"))
    before = read(os.path.join(home, "config.yaml"), "r")
    r = apply(home, "--json")
    got = json.loads(r.stdout)
    expect(model_url(home) is None and got["model_base_url_removed"] == proxy_url, f"not repaired: {got}")
    cfg = os.path.join(home, "config.yaml")
    write(cfg, read(cfg, "r") + "# edited after apply\n")  # no byte-for-byte restore: the edit is undone alone
    r = run(home, "--rollback")
    expect(r.returncode == 0 and read(cfg, "r") == before + "# edited after apply\n",
           f"rollback: {r.stderr}\n{read(cfg, 'r')}")
    # the /v1 form, with anthropic alone routed, is an earlier hr's too
    home = with_config(make_home("repair-v1"), NO_PROVIDER.replace("model:\n", f"model:\n  base_url: {proxy_url}/v1\n"))
    apply(home, "--providers", "anthropic")
    expect(model_url(home) is None, f"{proxy_url}/v1 left in model.base_url")
    home = with_config(make_home("custom-kept"), NO_PROVIDER.replace("model:\n", "model:\n  base_url: http://gpu-box:8000/v1\n"))
    apply(home)
    expect(model_url(home) == "http://gpu-box:8000/v1", "a user's own endpoint was removed")


DISABLED = ("model:\n  provider: anthropic\n\nplugins:\n  enabled:\n    - headroom-route\n  disabled:\n"
            "    - image-gen\n    - headroom-route\n")


def test_disabled_wins():
    """plugins.disabled wins over enabled in Hermes: --status says the plugin
    will not load; --apply takes it out of disabled and says so; rollback puts
    it back."""
    home = with_config(make_home("disabled"), DISABLED)
    shutil.copytree(PLUGIN, os.path.join(home, "plugins", "headroom-route"))
    r = run(home, "--status", "--proxy-url", proxy_url)
    expect(r.returncode == 3 and "plugins.disabled" in r.stdout and "will not load" in r.stdout,
           f"--status before: exit {r.returncode} {r.stdout}")
    r = apply(home)
    expect("taken out of plugins.disabled" in r.stdout, f"apply said: {r.stdout}")
    cfg = read(os.path.join(home, "config.yaml"), "r")
    expect("  disabled:\n    - image-gen\n" in cfg and cfg.count("headroom-route") == 2, f"config.yaml:\n{cfg}")
    got = json.loads(run(home, "--status", "--json").stdout)
    expect(got["ok"] and got["plugin"]["loading"] == "enabled", f"--status after: {got}")
    out = standin_code(home, "from hermes_cli import plugins\nm = plugins.get_plugin_manager()\n"
                             "m.discover_and_load()\nprint(json.dumps([p['key'] for p in m.list_plugins() if p['enabled']]))")
    expect(out.returncode == 0 and "headroom-route" in out.stdout, f"Hermes did not load it: {out.stdout} {out.stderr[-300:]}")
    write(os.path.join(home, "config.yaml"), read(os.path.join(home, "config.yaml"), "r") + "# later\n")
    r = run(home, "--rollback")
    back = DISABLED.replace("    - image-gen\n    - headroom-route\n", "    - headroom-route\n    - image-gen\n")
    expect(r.returncode == 0 and read(os.path.join(home, "config.yaml"), "r") == back + "# later\n",
           f"rollback: {r.stderr}\n{read(os.path.join(home, 'config.yaml'), 'r')}")
    for i, flow in enumerate(("  disabled: [headroom-route]\n", "  disabled: [a, headroom-route, b]\n")):
        home = with_config(make_home(f"disabled-flow{i}"), DISABLED.split("  disabled:")[0] + flow)
        apply(home)
        cfg = read(os.path.join(home, "config.yaml"), "r")
        expect(cfg.count("headroom-route") == 2 and "disabled: [" in cfg, f"flow list: {cfg}")


def test_block_list_providers():
    """Hermes's save_config rewrites hr's flow list as indentless "- x"
    lines; a later --apply that changes the providers must still edit it."""
    text = ("model:\n  provider: anthropic\nplugins:\n  enabled:\n  - headroom-route\n  headroom-route:\n"
            f"    proxy_url: {proxy_url}\n    providers:\n    - anthropic\n    - openai-codex\n    - openai-api\n"
            "    require_health: true\nterminal:\n  backend: local\n")
    home = with_config(make_home("block-list"), text)
    r = run(home, "--apply", "--proxy-url", proxy_url, "--providers", "anthropic")
    cfg = read(os.path.join(home, "config.yaml"), "r")
    expect(r.returncode == 0 and cfg == text.replace("providers:\n    - anthropic\n    - openai-codex\n    - openai-api\n",
                                                     "providers: [anthropic]\n"), f"exit {r.returncode} {r.stderr}\n{cfg}")


def test_safe_mode():
    """HERMES_SAFE_MODE (environment, or the home's .env) loads no plugin:
    --status says so and does not report the route as working."""
    home = make_home("safe")
    apply(home)
    r = run(home, "--status", env={"HERMES_SAFE_MODE": "1"})
    expect(r.returncode == 3 and "HERMES_SAFE_MODE in this environment" in r.stdout, f"env: {r.returncode} {r.stdout}")
    write(os.path.join(home, ".env"), "ANTHROPIC_TOKEN=sk-ant-oat01-x\nexport HERMES_SAFE_MODE='yes'  # debugging\n")
    r = run(home, "--status")
    expect(r.returncode == 3 and "HERMES_SAFE_MODE in .env" in r.stdout, f".env: {r.returncode} {r.stdout}")
    write(os.path.join(home, ".env"), "HERMES_SAFE_MODE=1\nHERMES_SAFE_MODE=0\n")
    r = run(home, "--status", env={"HERMES_SAFE_MODE": "true"})
    expect(r.returncode == 0, f".env's 0 overrides the environment, as in Hermes: {r.returncode} {r.stdout}")


def test_idempotent():
    home = make_home("twice")
    apply(home)
    before = snapshot(home)
    r = apply(home, "--json")
    got = json.loads(r.stdout)
    expect(not got["changed"] and got["backup"] is None and not got["auth_edits"], f"second apply: {got}")
    expect(snapshot(home) == before, "the second apply changed files")


def test_rollback_identical():
    home = make_home("rollback")
    apply(home)
    r = run(home, "--rollback")
    expect(r.returncode == 0, f"rollback exited {r.returncode}: {r.stderr}")
    for name in ("auth.json", "config.yaml"):
        expect(read(os.path.join(home, name)) == read(os.path.join(FIXTURE_HOME, name)), f"{name} not byte-identical")
    expect(os.stat(os.path.join(home, "auth.json")).st_mode & 0o777 == 0o600, "auth.json mode changed")
    expect(not os.path.exists(os.path.join(home, "plugins", "headroom-route")), "plugin folder left")
    (bid,) = backups(home)
    expect(os.path.exists(os.path.join(home, "backups", "hr-patch-auth", bid, "rolled-back")), "no rolled-back mark")
    r = run(home, "--rollback")
    expect(r.returncode == 1 and "no backup to roll back" in r.stderr, f"second rollback: {r.returncode} {r.stderr}")


def hermes_rewrites(home, change):
    """auth.json rewritten whole as Hermes writes it (JSON, indent 2)."""
    path = os.path.join(home, "auth.json")
    data = json.loads(read(path))
    change(data)
    write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def refresh(data):
    data["credential_pool"]["anthropic"][0]["access_token"] = "sk-ant-oat01-REFRESHED-after-apply"
    data["updated_at"] = "2026-11-25T08:00:00Z"


def test_rollback_after_refresh():
    home = make_home("refresh")
    expect(json.dumps(json.loads(read(os.path.join(FIXTURE_HOME, "auth.json"))), indent=2, ensure_ascii=False) + "\n"
           == read(os.path.join(FIXTURE_HOME, "auth.json"), "r"), "the fixture is not in Hermes's own format")
    apply(home)
    hermes_rewrites(home, refresh)
    cfg = os.path.join(home, "config.yaml")
    write(cfg, read(cfg, "r") + "# a note added after apply\n")
    r = run(home, "--rollback")
    expect(r.returncode == 0, f"rollback exited {r.returncode}: {r.stderr}")
    want = json.loads(read(os.path.join(FIXTURE_HOME, "auth.json")))
    refresh(want)
    expect(read(os.path.join(home, "auth.json"), "r") == json.dumps(want, indent=2, ensure_ascii=False) + "\n",
           "auth.json is not the original with the refreshed token")
    expect(read(cfg, "r") == read(os.path.join(FIXTURE_HOME, "config.yaml"), "r") + "# a note added after apply\n",
           "config.yaml is not the original plus the later note")


def test_rollback_reseeded_entry():
    home = make_home("reseeded")
    apply(home)

    def reseed(data):  # Hermes saved the pool after the plugin's seeding gave a new entry the proxy URL
        data["credential_pool"]["anthropic"].append({"id": "new9", "auth_type": "oauth", "base_url": proxy_url})
        data["credential_pool"]["openai-api"][0]["base_url"] = "https://gateway.example/v1"
    hermes_rewrites(home, reseed)
    r = run(home, "--rollback", "--json")
    got = json.loads(r.stdout)
    urls = pool_urls(home)
    expect(urls["anthropic"] == ["https://api.anthropic.com"] * 3, f"anthropic {urls['anthropic']}")
    expect(urls["openai-api"] == ["https://gateway.example/v1"], f"a URL changed since apply was overwritten: {urls}")
    expect(got["urls_kept"] == 1 and got["urls_reset"] == 1 and got["urls_restored"] == 3, f"{got}")


def test_rollback_id_keep_plugin():
    home = make_home("ids")
    apply(home)
    (first,) = backups(home)
    other = f"http://127.0.0.1:{int(proxy_url.rsplit(':', 1)[1]) + 1}"
    r = run(home, "--apply", "--proxy-url", other)
    expect(r.returncode == 0 and len(backups(home)) == 2, f"second apply: {r.stderr} {backups(home)}")
    expect(pool_urls(home)["anthropic"] == [other] * 2, "the new proxy URL was not written")
    r = run(home, "--rollback", "--keep-plugin")
    expect(r.returncode == 0 and pool_urls(home)["anthropic"] == [proxy_url] * 2, f"undo second: {r.stderr}")
    expect(os.path.exists(os.path.join(home, "plugins", "headroom-route", "__init__.py")), "--keep-plugin removed it")
    r = run(home, "--rollback", first)
    expect(r.returncode == 0 and pool_urls(home)["anthropic"] == ["https://api.anthropic.com"] * 2,
           f"rollback {first}: {r.stderr} {pool_urls(home)}")
    r = run(home, "--rollback", "20000101T000000Z")
    expect(r.returncode == 1 and "no such backup" in r.stderr, f"unknown id: {r.returncode} {r.stderr}")


SHIM = os.path.join(tmp, "crash-at-rename.so")
FAIL_SHIM = os.path.join(tmp, "fail-at-rename.so")
# rename(2) onto $HR_FAIL_AT_RENAME fails with EIO, as on a failing disk
FAIL_SHIM_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rename(const char *from, const char *to)
{
    const char *target = getenv("HR_FAIL_AT_RENAME");
    if (target && !strcmp(to, target)) {
        errno = EIO;
        return -1;
    }
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return real(from, to);
}
"""


def build_shims():
    if os.path.exists(FAIL_SHIM):
        return
    subprocess.run(["cc", "-shared", "-fPIC", "-o", SHIM, os.path.join(ROOT, "scripts", "crash-at-rename.c"), "-ldl"],
                   check=True)
    source = os.path.join(tmp, "fail-at-rename.c")
    write(source, FAIL_SHIM_SOURCE)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", FAIL_SHIM, source, "-ldl"], check=True)


def shim_env(shim, variable, path):
    return {"LD_PRELOAD": shim, variable: path,
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def crash_at(home, name):
    build_shims()
    env = shim_env(SHIM, "HR_CRASH_AT_RENAME", os.path.join(home, name))
    r = run(home, "--apply", "--proxy-url", proxy_url, env=env)
    expect(r.returncode == -9, f"the shim did not stop it at the rename of {name}: exit {r.returncode} {r.stderr}")


def test_crash_before_rename():
    home = make_home("crash-auth")
    crash_at(home, "auth.json")
    for name in ("auth.json", "config.yaml"):
        expect(read(os.path.join(home, name)) == read(os.path.join(FIXTURE_HOME, name)), f"{name} is not the old file")
    left = [f for f in os.listdir(home) if f.startswith("auth.json.hr-")]
    expect(len(left) == 1, f"temporary files: {left}")
    apply(home)
    expect(pool_urls(home) == WANT_URLS and not [f for f in os.listdir(home) if ".hr-" in f],
           f"after a new apply: {os.listdir(home)}")
    home = make_home("crash-config")
    crash_at(home, "config.yaml")
    expect(pool_urls(home) == WANT_URLS, "auth.json is not the new file")
    expect(read(os.path.join(home, "config.yaml")) == read(os.path.join(FIXTURE_HOME, "config.yaml")),
           "config.yaml is not the old file")
    r = run(home, "--rollback")
    expect(r.returncode == 0, f"rollback after the crash: {r.stderr}")
    for name in ("auth.json", "config.yaml"):
        expect(read(os.path.join(home, name)) == read(os.path.join(FIXTURE_HOME, name)), f"{name} after rollback")


def test_waits_for_hermes_lock():
    import fcntl
    import time
    home = make_home("locked")
    with open(os.path.join(home, "auth.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # Hermes is writing auth.json
        e = dict(os.environ, HR_PLUGIN_SOURCE=PLUGIN)
        p = subprocess.Popen([TOOL, "--hermes-home", home, "--apply", "--proxy-url", proxy_url], env=e,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(0.6)
        expect(p.poll() is None and read(os.path.join(home, "auth.json")) == read(os.path.join(FIXTURE_HOME, "auth.json")),
               "apply did not wait for auth.lock")
        fcntl.flock(lock, fcntl.LOCK_UN)
        expect(p.wait(timeout=20) == 0, f"apply after the lock: {p.stderr.read()}")
    expect(pool_urls(home) == WANT_URLS, "not applied once the lock was free")


def test_plugin_install_fails():
    """--apply that cannot install the plugin (plugins is a file) exits 1 and
    leaves the home as it was: no edit, no backup, no temporary file."""
    home = make_home("plugins-a-file")
    write(os.path.join(home, "plugins"), "not a folder\n")
    before = snapshot(home)
    r = run(home, "--apply", "--proxy-url", proxy_url)
    expect(r.returncode == 1 and re.match(r"^hr-patch-auth: \S+/plugins: not a folder\n$", r.stderr),
           f"exit {r.returncode}: {r.stderr!r}")
    unchanged(home, before)


def test_plugins_read_only():
    """A read-only plugins folder: exit 1, the home as it was."""
    home = make_home("plugins-read-only")
    plugins = os.path.join(home, "plugins")
    os.mkdir(plugins)
    os.chmod(plugins, 0o555)
    try:
        before = snapshot(home)
        r = run(home, "--apply", "--proxy-url", proxy_url)
        expect(r.returncode == 1 and re.match(r"^hr-patch-auth: \S+/plugins/headroom-route: Permission denied\n$",
                                              r.stderr), f"exit {r.returncode}: {r.stderr!r}")
        unchanged(home, before)
    finally:
        os.chmod(plugins, 0o755)


def test_failed_write_undone():
    """A write that fails after others succeeded (rename(2) failing with EIO
    on auth.json, then on config.yaml): exit 1, what was written is put back
    byte for byte with its mode, the plugin removed, no backup left."""
    build_shims()
    for name in ("auth.json", "config.yaml"):
        home = make_home("fail-" + name)
        before = snapshot(home)
        r = run(home, "--apply", "--proxy-url", proxy_url,
                env=shim_env(FAIL_SHIM, "HR_FAIL_AT_RENAME", os.path.join(home, name)))
        expect(r.returncode == 1 and re.match(rf"^hr-patch-auth: \S+/{re.escape(name)}: Input/output error\n$", r.stderr),
               f"{name}: exit {r.returncode}: {r.stderr!r}")
        unchanged(home, before)
        expect(os.stat(os.path.join(home, "auth.json")).st_mode & 0o777 == 0o600, f"{name}: auth.json mode changed")
        expect(not os.path.exists(os.path.join(home, "plugins")), f"{name}: the plugin's folder was left")


def test_interrupted_apply():
    """An --apply killed after writing auth.json, then --apply, then one
    --rollback: the home as it was before hr first touched it."""
    home = make_home("interrupted")
    crash_at(home, "config.yaml")
    expect(pool_urls(home) == WANT_URLS, "the first apply did not write auth.json before it was killed")
    r = apply(home)
    expect("interrupted" in r.stdout, f"the apply did not say it undid the interrupted one: {r.stdout}")
    expect(pool_urls(home) == WANT_URLS and "- headroom-route" in read(os.path.join(home, "config.yaml"), "r"),
           "the second apply did not route")
    r = run(home, "--rollback")
    expect(r.returncode == 0, f"rollback: {r.returncode} {r.stderr}")
    for name in ("auth.json", "config.yaml"):
        expect(read(os.path.join(home, name)) == read(os.path.join(FIXTURE_HOME, name)), f"{name} is not the original")
    expect(not os.path.exists(os.path.join(home, "plugins", "headroom-route")), "plugin left")
    r = run(home, "--rollback")
    expect(r.returncode == 1 and "no backup to roll back" in r.stderr, f"a second rollback: {r.returncode} {r.stderr}")


def duplicate_pool_url(text, url, key='"base_url"'):
    """text with a second base_url member after the first anthropic entry's
    base_url (url): the line of that member and of the new one."""
    at = text.index(f'"base_url": "{url}",\n')
    line = text.count("\n", 0, at) + 1
    return (text.replace(f'"base_url": "{url}",\n', f'"base_url": "{url}",\n        {key}: "https://api.anthropic.com",\n', 1),
            line, line + 1)


def test_duplicate_keys():
    """auth.json with a key twice in one object (Python's json, which Hermes
    reads it with, keeps the last one) is refused by every mode with one line
    naming both places; --status does not call it routed."""
    home = make_home("dup-status")
    apply(home)
    auth = os.path.join(home, "auth.json")
    text, first, second = duplicate_pool_url(read(auth, "r"), proxy_url)
    write(auth, text)
    expect(json.loads(text)["credential_pool"]["anthropic"][0]["base_url"] == "https://api.anthropic.com",
           "Python does not keep the last one")
    pattern = rf'^hr-patch-auth: \S+/auth\.json:{second}:9: duplicate key "base_url" \(first at line {first}, column 9\)'
    before = snapshot(home)
    for mode in ("--status", "--apply", "--dry-run", "--rollback"):
        r = run(home, mode)
        expect(r.returncode == 1 and re.match(pattern + r"[^\n]*\n$", r.stderr) and r.stdout == "",
               f"{mode}: exit {r.returncode}: {r.stderr!r} {r.stdout!r}")
    after = snapshot(home)
    expect(after == before, "something was written")
    # spelled with an escape, a second pool list, in a home not yet patched
    home = make_home("dup-apply")
    auth = os.path.join(home, "auth.json")
    text, first, second = duplicate_pool_url(read(auth, "r"), "https://api.anthropic.com", key='"base\\u005furl"')
    write(auth, text)
    before = snapshot(home)
    r = run(home, "--apply", "--proxy-url", proxy_url)
    pattern = rf'^hr-patch-auth: \S+/auth\.json:{second}:9: duplicate key "base_url" \(first at line {first}, column 9\)'
    expect(r.returncode == 1 and re.match(pattern + r"[^\n]*\n$", r.stderr), f"escaped key: exit {r.returncode}: {r.stderr!r}")
    unchanged(home, before)
    home = make_home("dup-pool")
    auth = os.path.join(home, "auth.json")
    text = read(auth, "r").replace('  "credential_pool_selections"', '  "credential_pool": {},\n  "credential_pool_selections"')
    write(auth, text)
    r = run(home, "--apply", "--proxy-url", proxy_url)
    line = text[:text.index('"credential_pool": {}')].count("\n") + 1
    expect(r.returncode == 1 and re.match(rf'^hr-patch-auth: \S+/auth\.json:{line}:3: duplicate key "credential_pool" '
                                          r'\(first at line \d+, column 3\)[^\n]*\n$', r.stderr),
           f"second pool: exit {r.returncode}: {r.stderr!r}")


BOM = b"\xef\xbb\xbf"
FIXTURE_CONFIG = read(os.path.join(FIXTURE_HOME, "config.yaml"))
ORDINARY_CONFIGS = [  # (what, config.yaml, the model.base_url Hermes must read after --apply)
    ("empty", b"", None),
    ("comments only", b"# set up later\n", None),
    ("no model key", b"agent:\n  max_turns: 90\n", None),
    ("a byte order mark", BOM + FIXTURE_CONFIG, None),
    ("model.provider openai-api last, no plugins key", b"model:\n  default: gpt-5.1\n  provider: openai-api\n", "/v1"),
    ("the same without a final newline", b"model:\n  default: gpt-5.1\n  provider: openai-api", "/v1"),
    ("model.base_url twice (YAML keeps the last)",
     b"model:\n  provider: openai-api\n  base_url: http://127.0.0.1:9/v1\n  base_url: https://api.openai.com/v1\n"
     b"agent:\n  max_turns: 90\n", "/v1"),
    ("plugins twice (YAML keeps the last)",
     b"plugins:\n  enabled:\n    - quota-guard\nmodel:\n  provider: anthropic\nplugins:\n  enabled:\n    - session-notes\n",
     None),
]


def hermes_config(home):
    """config.yaml as Hermes reads it (UTF-8, PyYAML)."""
    import yaml
    with open(os.path.join(home, "config.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def test_ordinary_configs():
    """Ordinary config.yaml files: --apply routes (as Hermes reads the
    result), --status agrees, --rollback gives the original bytes back."""
    for i, (what, text, url) in enumerate(ORDINARY_CONFIGS):
        home = make_home(f"ordinary-{i}")
        write(os.path.join(home, "config.yaml"), text)
        r = run(home, "--apply", "--proxy-url", proxy_url)
        expect(r.returncode == 0, f"{what}: apply exited {r.returncode}: {r.stderr!r}")
        cfg = hermes_config(home)
        plugins = cfg.get("plugins") or {}
        expect("headroom-route" in (plugins.get("enabled") or []) and
               (plugins.get("headroom-route") or {}).get("proxy_url") == proxy_url, f"{what}: plugins {plugins}")
        got = (cfg.get("model") or {}).get("base_url") if isinstance(cfg.get("model"), dict) else None
        expect(got == (proxy_url + url if url else None), f"{what}: Hermes reads model.base_url {got}")
        r = run(home, "--status")
        expect(r.returncode == 0, f"{what}: status exited {r.returncode}: {r.stdout} {r.stderr}")
        r = run(home, "--rollback")
        expect(r.returncode == 0 and read(os.path.join(home, "config.yaml")) == text,
               f"{what}: rollback exited {r.returncode}: {r.stderr!r}")
    # removing a proxy URL an earlier hr wrote, when the key is there twice, is refused: the other would take over
    home = make_home("ordinary-dup-drop")
    write(os.path.join(home, "config.yaml"), f"model:\n  default: m\n  base_url: {proxy_url}\n  base_url: {proxy_url}/v1\n")
    before = snapshot(home)
    r = run(home, "--apply", "--proxy-url", proxy_url)
    expect(r.returncode == 1 and re.match(r"^hr-patch-auth: \S+/config\.yaml:4:3: model\.base_url is there twice "
                                          r"\(also at line 3, column 3\)[^\n]*\n$", r.stderr),
           f"duplicate to remove: exit {r.returncode}: {r.stderr!r}")
    unchanged(home, before)


def test_symlinked_files():
    """auth.json and config.yaml as symbolic links into another folder (a
    dotfile manager's): the targets are edited, written next to themselves,
    the links stay; --rollback restores the targets and keeps the links."""
    home = make_home("links")
    dot = os.path.join(tmp, "dotfiles", "hermes")
    os.makedirs(dot)
    links = {"auth.json": os.path.join(dot, "auth.json"), "config.yaml": os.path.join("..", "dotfiles", "hermes",
                                                                                      "config.yaml")}
    for name, target in links.items():
        os.rename(os.path.join(home, name), os.path.join(dot, name))
        os.symlink(target, os.path.join(home, name))
    apply(home)
    for name, target in links.items():
        expect(os.path.islink(os.path.join(home, name)) and os.readlink(os.path.join(home, name)) == target,
               f"{name} is no longer the link")
    expect(pool_urls(home) == WANT_URLS, f"the target's pool URLs {pool_urls(home)}")
    expect("    - headroom-route\n" in read(os.path.join(dot, "config.yaml"), "r"), "the target config.yaml not edited")
    expect(os.stat(os.path.join(dot, "auth.json")).st_mode & 0o777 == 0o600, "the target's mode changed")
    expect(not temp_files(home, dot), f"temporary files: {temp_files(home, dot)}")
    r = run(home, "--status")
    expect(r.returncode == 0, f"status: {r.returncode} {r.stdout}")
    hermes_rewrites(home, refresh)  # Hermes keeps the link too (it writes the resolved path)
    r = run(home, "--rollback")
    expect(r.returncode == 0, f"rollback: {r.returncode} {r.stderr}")
    for name, target in links.items():
        expect(os.path.islink(os.path.join(home, name)) and os.readlink(os.path.join(home, name)) == target,
               f"{name} is no longer the link after rollback")
    want = json.loads(read(os.path.join(FIXTURE_HOME, "auth.json")))
    refresh(want)
    expect(json.loads(read(os.path.join(dot, "auth.json"))) == want, "the target auth.json is not the original")
    expect(read(os.path.join(dot, "config.yaml")) == FIXTURE_CONFIG, "the target config.yaml is not the original")
    expect(not temp_files(home, dot), f"temporary files: {temp_files(home, dot)}")


LARGE_POOL = 20000
LARGE_TIMEOUT = 60  # seconds each: a few at most are needed; an hr that looks at every pair of entries takes minutes


def test_large_pool():
    """A credential pool of 20,000 entries: apply, status and rollback each
    end well within a minute."""
    home = os.path.join(tmp, "large")
    os.mkdir(home)
    pool = [{"id": f"e{i:05d}", "label": f"key {i}", "auth_type": "api_key", "priority": i, "source": "manual",
             "access_token": f"sk-ant-api03-large-{i}", "base_url": "https://api.anthropic.com"}
            for i in range(LARGE_POOL)]
    write(os.path.join(home, "auth.json"), json.dumps({"version": 1, "credential_pool": {"anthropic": pool}}, indent=2))
    os.chmod(os.path.join(home, "auth.json"), 0o600)
    write(os.path.join(home, "config.yaml"), "model:\n  provider: anthropic\n")
    for args in (["--dry-run"], ["--apply"], ["--status"]):
        r = run(home, *args, "--proxy-url", proxy_url, timeout=LARGE_TIMEOUT)
        expect(r.returncode == 0, f"{args}: exit {r.returncode}: {r.stderr[-300:]}")
    expect(pool_urls(home)["anthropic"] == [proxy_url] * LARGE_POOL, "not every entry routed")
    hermes_rewrites(home, lambda d: d["credential_pool"]["anthropic"].reverse())  # by id, not by place
    r = run(home, "--rollback", timeout=LARGE_TIMEOUT)
    expect(r.returncode == 0 and pool_urls(home)["anthropic"] == ["https://api.anthropic.com"] * LARGE_POOL,
           f"rollback: exit {r.returncode}: {r.stderr[-300:]}")


def test_fifo_status():
    """--status on a home whose auth.json is a FIFO says so at once."""
    home = make_home("fifo-status")
    os.remove(os.path.join(home, "auth.json"))
    os.mkfifo(os.path.join(home, "auth.json"))
    r = run(home, "--status", timeout=20)
    expect(r.returncode == 1 and re.match(r"^hr-patch-auth: \S+/auth\.json: not a regular file \(a FIFO\)\n$", r.stderr),
           f"exit {r.returncode}: {r.stderr!r}")


BAD = [  # (what, how to break the home, extra args, the one line stderr must match)
    ("auth.json not JSON", lambda h: write(os.path.join(h, "auth.json"), '{\n  "version": 1,\n  "providers": {,\n}\n'),
     [], r"^hr-patch-auth: \S+/auth\.json:3:17: object key \(a string\) expected\n$"),
    ("config.yaml not YAML", lambda h: write(os.path.join(h, "config.yaml"), "model:\n  provider: [anthropic\nx: 1\n"),
     [], r"^hr-patch-auth: \S+/config\.yaml:\d+:\d+: .+\n$"),
    ("auth.json missing", lambda h: os.remove(os.path.join(h, "auth.json")), [],
     r"^hr-patch-auth: \S+/auth\.json: No such file or directory\n$"),
    ("auth.json a folder", lambda h: (os.remove(os.path.join(h, "auth.json")), os.mkdir(os.path.join(h, "auth.json"))),
     [], r"^hr-patch-auth: \S+/auth\.json: Is a directory\n$"),
    ("a pool that is not a list", lambda h: write(os.path.join(h, "auth.json"), read(os.path.join(h, "auth.json"), "r")
                                                  .replace('"openai-api": [', '"openai-api": {"x": [', 1)
                                                  .replace('"last_status": null\n      }\n    ],',
                                                           '"last_status": null\n      }\n    ]},', 1)),
     [], r"^hr-patch-auth: \S+/auth\.json:\d+:\d+: credential_pool\.openai-api is not a list\n$"),
    ("plugins as a flow mapping", lambda h: write(os.path.join(h, "config.yaml"), "plugins: {enabled: [a]}\n"), [],
     r"^hr-patch-auth: \S+/config\.yaml:1:1: plugins is not a block mapping.*\n$"),
    ("unknown provider", lambda h: None, ["--providers", "anthropic,xai"],
     r"^hr-patch-auth: --providers: unknown provider 'xai' .*\n$"),
    ("proxy URL not http", lambda h: None, ["--proxy-url", "ftp://127.0.0.1:8788"],
     r"^hr-patch-auth: --proxy-url: 'ftp://127\.0\.0\.1:8788' is not an http:// or https:// URL\n$"),
    ("plugin source missing", lambda h: None, ["--plugin-source", "/nonexistent/headroom-route"],
     r"^hr-patch-auth: /nonexistent/headroom-route/plugin\.yaml: No such file or directory .*\n$"),
    ("auth.json a FIFO", lambda h: (os.remove(os.path.join(h, "auth.json")), os.mkfifo(os.path.join(h, "auth.json"))),
     [], r"^hr-patch-auth: \S+/auth\.json: not a regular file \(a FIFO\)\n$"),
    ("auth.json with a byte order mark", lambda h: write(os.path.join(h, "auth.json"),
                                                         BOM + read(os.path.join(h, "auth.json"))),
     [], r"^hr-patch-auth: \S+/auth\.json:1:1: a UTF-8 byte order mark, which Hermes's JSON reader refuses .*\n$"),
    ("config.yaml in UTF-16", lambda h: write(os.path.join(h, "config.yaml"), FIXTURE_CONFIG.decode().encode("utf-16")),
     [], r"^hr-patch-auth: \S+/config\.yaml:1:1: UTF-16 text; Hermes reads config\.yaml as UTF-8\n$"),
]


def bad_input(break_home, args, pattern):
    def run_it():
        home = make_home("bad-%d" % len(os.listdir(tmp)))
        break_home(home)
        before = snapshot(home)
        for mode in ("--apply", "--dry-run"):
            r = run(home, mode, *args)
            expect(r.returncode == 1, f"{mode} exited {r.returncode}: {r.stderr}")
            expect(re.match(pattern, r.stderr), f"{mode} stderr {r.stderr!r}")
            expect(r.stdout == "", f"{mode} stdout {r.stdout!r}")
        after = snapshot(home)
        after.pop("auth.lock", None)
        expect(after == before, "something was written")
    return run_it


try:
    checks.check("--dry-run prints what diff -u shows after --apply (credentials redacted), changes nothing",
                 test_dry_run)
    checks.check("--apply: every routed pool entry gets the proxy in its client's form, only those lines change; "
                 "config.yaml keeps every line; plugin installed; backup and manifest", test_apply)
    checks.check("the patched home sends each provider's request through hr-proxy (Hermes stand-in)", test_end_to_end)
    checks.check("--status: direct before, proxy after, the plugin's report, and each way it breaks", test_status)
    checks.check("model.base_url only where Hermes reads it (openai-api), never for anthropic, codex or no provider",
                 test_model_url_only_where_read)
    checks.check("a proxy model.base_url an earlier hr wrote is removed by --apply, restored by --rollback",
                 test_model_url_repaired)
    checks.check("plugins.disabled wins: --status says so, --apply takes it out, --rollback puts it back",
                 test_disabled_wins)
    checks.check("HERMES_SAFE_MODE (environment or .env): --status says no plugin loads", test_safe_mode)
    checks.check("a providers block list (as Hermes saves it) is edited in place", test_block_list_providers)
    checks.check("a second --apply changes nothing and makes no backup", test_idempotent)
    checks.check("--rollback: byte-identical files, plugin removed; nothing left to roll back", test_rollback_identical)
    checks.check("--rollback after Hermes refreshed a token: the token stays, the URLs go back",
                 test_rollback_after_refresh)
    checks.check("--rollback: entries Hermes saved with the proxy URL go back; a URL changed since apply stays",
                 test_rollback_reseeded_entry)
    checks.check("--rollback ID and --keep-plugin", test_rollback_id_keep_plugin)
    checks.check("killed between write and rename: the old file or the new one, never a mix", test_crash_before_rename)
    checks.check("--apply waits while Hermes holds auth.lock", test_waits_for_hermes_lock)
    checks.check("the plugin cannot be installed (plugins is a file): exit 1, the home as it was",
                 test_plugin_install_fails)
    if os.geteuid() == 0:
        print("skip patch-auth: a read-only plugins folder: exit 1, the home as it was: running as root, where "
              "mode 0555 does not stop writes (the plugins-is-a-file and failed-rename tests cover it) # env")
    else:
        checks.check("a read-only plugins folder: exit 1, the home as it was", test_plugins_read_only)
    checks.check("a write that fails after others succeeded: exit 1, what was written put back, no backup left",
                 test_failed_write_undone)
    checks.check("an apply killed half-way, an apply, one rollback: the home before hr first touched it",
                 test_interrupted_apply)
    checks.check("a duplicate key in auth.json: every mode refuses it with one line naming both places",
                 test_duplicate_keys)
    checks.check("ordinary config.yaml files (empty, no model, a byte order mark, model last, keys twice) are "
                 "routed as Hermes reads them", test_ordinary_configs)
    checks.check("symbolic links: the targets are edited and restored, the links stay", test_symlinked_files)
    checks.check(f"a pool of {LARGE_POOL} entries: apply, status, rollback within {LARGE_TIMEOUT} s each",
                 test_large_pool)
    checks.check("--status with a FIFO as auth.json: not a regular file, at once", test_fifo_status)
    for what, how, args, pattern in BAD:
        checks.check(f"bad input ({what}): exit 1, one line naming it, nothing written", bad_input(how, args, pattern))
finally:
    world.close()
sys.exit(1 if checks.failures else 0)
