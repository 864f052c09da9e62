"""Tests of hr-verify against a real hr-proxy in front of a fake provider, a
copy of the fixture Hermes home patched by hr-patch-auth, and the stand-in
`hermes` command (testdata/hermes-standin/bin/hermes), which sends its chat
where the plugin routes it. All four checks pass; then each failure mode is
made for real and hr-verify must name the check and the hint.
    python3 scripts/verify-test.py BUILD_DIR
Prints "ok verify: NAME" / "not ok verify: NAME: why" per test."""
import json
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import (FIXTURE_HOME, OK_REPLY, PLUGIN, ROOT, Checks, World, expect, free_port,  # noqa: E402
                            read, wait_port, write)

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
VERIFY = os.path.join(BUILD, "hr-verify")
STANDIN_BIN = os.path.join(ROOT, "testdata", "hermes-standin", "bin")
world = World(BUILD, "hr-verify-test.")
tmp, proxy_url = world.tmp, world.proxy_url
log_path = os.path.join(tmp, "logs", "requests.jsonl")
checks = Checks("verify")
home = os.path.join(tmp, "hermes")
started = []  # long-running stand-in processes, stopped at the end


# A $HOME holding Claude Code's login, as the stand-in Hermes looks for it
# (without one it drops the home's claude_code credentials, as Hermes does),
# and the variables of a user's shell that would reach it.
USER_HOME = os.path.join(ROOT, "testdata", "hermes-homes", "user-home")
SHELL_VARIABLES = ("HEADROOM_LOG_DIR", "HEADROOM_LISTEN", "ANTHROPIC_TOKEN", "ANTHROPIC_API_KEY",
                   "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "ANTHROPIC_BASE_URL",
                   "OPENAI_BASE_URL", "HERMES_SAFE_MODE")


def env(**extra):
    e = {k: v for k, v in os.environ.items() if k not in SHELL_VARIABLES}
    e.update(HERMES_HOME=home, HEADROOM_HOME=tmp, PYTHONDONTWRITEBYTECODE="1", NO_COLOR="",
             PATH=STANDIN_BIN + os.pathsep + os.environ.get("PATH", ""))
    if os.path.isdir(USER_HOME):
        e["HOME"] = USER_HOME
    e.update(extra)
    return e


def verify(*args, **extra):
    """hr-verify --json ARGS: (exit status, {check: (status, detail, hint)}, raw JSON)."""
    r = subprocess.run([VERIFY, "--json", *args], capture_output=True, text=True, env=env(**extra), timeout=120)
    expect(r.returncode in (0, 1), f"exit {r.returncode}: {r.stderr.strip()}")
    doc = json.loads(r.stdout)
    return r.returncode, {c["name"]: (c["status"], c["detail"], c["hint"] or "") for c in doc["checks"]}, doc


def expect_check(res, name, status, *words):
    got = res.get(name)
    expect(got is not None, f"no {name} check in {res}")
    expect(got[0] == status, f"{name}: {got[0]}, expected {status}: {got[1]} / {got[2]}")
    text = got[1] + " " + got[2]
    for w in words:
        expect(w.lower() in text.lower(), f"{name}: no '{w}' in: {text}")


def send_long_request():
    """A request with old tool output, which the proxy compresses."""
    post_long(proxy_url)


def log_records():
    return world.proxy_log()


def setup():
    shutil.copytree(FIXTURE_HOME, home)
    os.chmod(os.path.join(home, "auth.json"), 0o600)
    r = subprocess.run([os.path.join(BUILD, "hr-patch-auth"), "--apply", "--hermes-home", home, "--proxy-url",
                        proxy_url, "--plugin-source", PLUGIN], capture_output=True, text=True, timeout=60)
    expect(r.returncode == 0, f"hr-patch-auth --apply: {r.stderr}")
    send_long_request()
    saved = [x for x in log_records() if x["tokens_saved"] > 0]
    expect(saved, f"the seed request saved nothing: {log_records()}")


class Edited:
    """A file changed for one test and put back afterwards."""

    def __init__(self, path, change):
        self.path, self.change = path, change

    def __enter__(self):
        self.old = read(self.path)
        write(self.path, self.change(self.old))

    def __exit__(self, *exc):
        write(self.path, self.old)


def each_record(edit):
    """A change of the request log that replaces every record r by edit(r)."""
    return lambda text: "".join(json.dumps(edit(json.loads(line))) + "\n" for line in text.splitlines())


def all_pass():
    before = len(world.seen)
    rc, res, doc = verify()
    for name in ("health", "logs", "chat", "base_url"):
        expect_check(res, name, "pass")
    expect(rc == 0 and doc["ok"] is True, f"exit {rc}, ok {doc['ok']}")
    expect_check(res, "health", "pass", "200", "healthy")
    expect_check(res, "logs", "pass", "claude", "saved")
    expect_check(res, "chat", "pass", "exited 0", "/v1/messages")
    expect_check(res, "base_url", "pass", "anthropic", "openai-codex", "openai-api", proxy_url, "chat's Hermes")
    detail = res["base_url"][1]
    expect(re.search(r"the last \d+ calls? of this home went to " + re.escape(proxy_host_port), detail),
           f"the chat's call was not judged: {detail}")
    # the chat's own request; Hermes may follow it with a title request that quotes it
    chat = [s for s in world.seen[before:] if b"routing check run by hr-verify" in s["body"] and
            b"Write a short title" not in s["body"]]
    expect(len(chat) == 1, f"the provider got {len(chat)} chat requests")
    expect(chat[0]["headers"].get("authorization", "").startswith("Bearer sk-ant-oat"), "the OAuth token was lost")


def text_output():
    r = subprocess.run([VERIFY, "--no-chat"], capture_output=True, text=True, env=env(), timeout=60)
    lines = r.stdout.splitlines()
    expect(r.returncode == 0, f"exit {r.returncode}: {r.stdout}")
    expect(re.match(r"PASS health +http://127\.0\.0\.1:\d+/health answered 200", lines[0]), lines[0])
    expect(lines[1].startswith("PASS logs "), lines[1])
    expect(lines[2].startswith("SKIP chat ") and "--no-chat" in lines[2], lines[2])
    expect(lines[3].startswith("PASS base_url "), lines[3])
    expect(lines[-1] == "hr-verify: 3 passed, 0 failed, 1 skipped", lines[-1])
    expect("\033[" not in r.stdout, "color codes without a terminal")


def color_on_terminal():
    master, slave = pty.openpty()
    p = subprocess.Popen([VERIFY, "--no-chat", "--check", "health"], stdout=slave, stderr=slave, env=env())
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=30)
    os.close(master)
    expect(b"\033[32mPASS\033[0m health" in out, f"no green PASS on a terminal: {out!r}")
    r = subprocess.run(["script", "-qec", f"{VERIFY} --check health", "/dev/null"], capture_output=True,
                       env=env(NO_COLOR="1"), timeout=30) if shutil.which("script") else None
    if r is not None:
        expect(b"\033[" not in r.stdout, "NO_COLOR ignored")


def empty_log():
    with Edited(log_path, lambda old: ""):
        rc, res, _ = verify("--no-chat", "--check", "logs")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "logs", "fail", "empty", "bypasses")


def no_log():
    rc, res, _ = verify("--check", "logs", "--log-dir", os.path.join(tmp, "nowhere"))
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "logs", "fail", "no request log", "--log-dir")


def old_log():
    three_days_ago = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 3 * 86400))
    with Edited(log_path, each_record(lambda r: dict(r, ts=three_days_ago))):
        rc, res, _ = verify("--check", "logs")
        expect(rc == 1, f"exit {rc}")
        expect_check(res, "logs", "fail", "3.0 d old", "none in the last 24.0 h", "plugin is not loaded")
        rc, res, _ = verify("--check", "logs", "--max-age", "4d")
        expect(rc == 0, f"--max-age 4d: exit {rc}")
        expect_check(res, "logs", "pass", "saved")


def nothing_saved():
    with Edited(log_path, each_record(lambda r: dict(r, tokens_saved=0, tokens_after=r["tokens_before"], status=401))):
        rc, res, _ = verify("--check", "logs")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "logs", "fail", "none with tokens_saved > 0", "401", "x-api-key", "anthropic-beta")


def official(text):
    """auth.json with its first anthropic entry back on the official host."""
    doc = json.loads(text)
    doc["credential_pool"]["anthropic"][0]["base_url"] = "https://api.anthropic.com"
    return json.dumps(doc, indent=2)


def official_base_url():
    auth = os.path.join(home, "auth.json")
    with Edited(auth, official):
        rc, res, _ = verify("--check", "base_url")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "credential_pool.anthropic[0] base_url is https://api.anthropic.com",
                 "hr-patch-auth --apply")


def plugin_not_enabled():
    cfg = os.path.join(home, "config.yaml")

    def disabled(text):
        expect("    - headroom-route\n" in text, "the patched config.yaml has no '- headroom-route' line")
        return text.replace("    - headroom-route\n", "")

    with Edited(cfg, disabled):
        rc, res, _ = verify("--check", "base_url")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "headroom-route is not in plugins.enabled", "re-seeds", "official URL")


def plugin_disabled():
    """plugins.disabled wins over enabled in Hermes; HERMES_SAFE_MODE loads
    no plugin: neither may pass as "installed, enabled"."""
    cfg = os.path.join(home, "config.yaml")
    with Edited(cfg, lambda text: text.replace("plugins:\n", "plugins:\n  disabled: [headroom-route]\n", 1)):
        rc, res, _ = verify("--check", "base_url")
    expect(rc == 1, f"disabled: exit {rc}")
    expect_check(res, "base_url", "fail", "listed in plugins.disabled", "Hermes will not load it")
    rc, res, _ = verify("--check", "base_url", HERMES_SAFE_MODE="1")
    expect(rc == 1, f"safe mode: exit {rc}")
    expect_check(res, "base_url", "fail", "HERMES_SAFE_MODE in this environment")


def no_state_file():
    state = os.path.join(home, "headroom-route.state.json")
    old = read(state)
    os.unlink(state)
    try:
        rc, res, _ = verify("--check", "base_url")
    finally:
        write(state, old)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "never reported", "restart Hermes")


def start_gateway(**extra):
    p = subprocess.Popen([os.path.join(STANDIN_BIN, "hermes"), "gateway"], env=env(**extra),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(p)
    time.sleep(1.5)  # it loads the plugins, and /proc shows a later start time than the state file
    expect(p.poll() is None, "the stand-in gateway exited")
    return p


def stop(p):
    p.terminate()
    p.wait(timeout=10)


def running_hermes_without_plugin():
    p = start_gateway(HERMES_STANDIN_NO_PLUGINS="1")
    try:
        rc, res, _ = verify("--check", "base_url")
    finally:
        stop(p)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", f"running Hermes (pid {p.pid}", "did not load the plugin", "restart Hermes")


def running_hermes_with_plugin():
    p = start_gateway()
    try:
        rc, res, _ = verify("--check", "base_url")
    finally:
        stop(p)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", f"the running Hermes (pid {p.pid})")


def hermes_of_another_home():
    other = os.path.join(tmp, "hermes-other")
    shutil.copytree(FIXTURE_HOME, other)
    p = start_gateway(HERMES_HOME=other, HERMES_STANDIN_NO_PLUGINS="1")
    try:
        rc, res, _ = verify("--check", "base_url")
    finally:
        stop(p)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", "none is running now")


def chat_answered(status, body):
    """The chat check while the provider answers every request so."""
    world.reply = (status, body)
    try:
        return verify("--check", "chat")
    finally:
        world.reply = OK_REPLY


def chat_401():
    rc, res, _ = chat_answered(
        401, b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}')
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "chat", "fail", "authentication error", "Authorization", "x-api-key", "through untouched")
    expect(log_records()[-1]["status"] == 401, "the proxy did not log the 401")


def chat_quota():
    rc, res, _ = chat_answered(
        429, b'{"type":"error","error":{"type":"rate_limit_error","message":"quota exceeded"}}')
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "chat", "fail", "quota or rate-limit", "not a routing fault")


def chat_bypass():
    """A Hermes home nobody patched, its provider the fake one: the chat
    succeeds, straight to the provider, and the proxy sees nothing."""
    direct = os.path.join(tmp, "hermes-direct")
    shutil.copytree(FIXTURE_HOME, direct)
    auth = os.path.join(direct, "auth.json")
    doc = json.loads(read(auth))
    for e in doc["credential_pool"]["anthropic"]:
        e["base_url"] = world.upstream_url
    write(auth, json.dumps(doc, indent=2))
    before_seen, before_log = len(world.seen), len(log_records())
    rc, res, _ = verify("--check", "chat", "--chat-cmd", f"env HERMES_HOME={direct} hermes chat -q")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "chat", "fail", "exited 0", "logged no request", "went direct", "plugin is not loaded")
    expect(len(world.seen) > before_seen, "the direct request did not reach the provider")
    expect(len(log_records()) == before_log, "the proxy logged a request")


def chat_502():
    """A second hr-proxy whose upstream URL leads nowhere, and a home
    patched to use it: the chat gets a 502 from the proxy."""
    dead = free_port()
    port = free_port()
    logs = os.path.join(tmp, "logs-502")
    proxy = subprocess.Popen([os.path.join(BUILD, "hr-proxy"), "--listen", f"127.0.0.1:{port}", "--log-dir", logs,
                              "--anthropic-api-url", f"http://127.0.0.1:{dead}", "--connect-timeout", "2"],
                             stderr=subprocess.DEVNULL, env=env())
    try:
        wait_port(port)
        other = os.path.join(tmp, "hermes-502")
        shutil.copytree(FIXTURE_HOME, other)
        r = subprocess.run([os.path.join(BUILD, "hr-patch-auth"), "--apply", "--hermes-home", other, "--proxy-url",
                            f"http://127.0.0.1:{port}", "--plugin-source", PLUGIN], capture_output=True, timeout=60)
        expect(r.returncode == 0, "hr-patch-auth --apply")
        rc, res, _ = verify("--check", "chat", "--log-dir", logs, "--chat-cmd", f"env HERMES_HOME={other} hermes chat -q")
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "chat", "fail", "502", "upstream URL", "route.yaml")


def slow_compression_note():
    with Edited(log_path, each_record(lambda r: dict(r, compress_ms=2500.0))):
        rc, res, _ = verify("--check", "logs")
    expect(rc == 0, f"exit {rc}")
    expect_check(res, "logs", "pass", "compression took 2500 ms", "slow scorer", "max_concurrent")


def chat_skipped_without_hermes():
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != STANDIN_BIN)
    rc, res, _ = verify("--check", "chat", PATH=path)
    expect(rc == 0, f"exit {rc}")
    expect_check(res, "chat", "skip", "not installed")
    rc, res, _ = verify("--check", "chat", "--chat", PATH=path)
    expect(rc == 1, f"--chat: exit {rc}")
    expect_check(res, "chat", "fail", "command not found", "install Hermes")


def chat_timeout():
    t = time.monotonic()
    rc, res, _ = verify("--check", "chat", "--chat-cmd", "sleep 30; true", "--chat-timeout", "1")
    took = time.monotonic() - t
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "chat", "fail", "did not finish in 1 s")
    expect(took < 10, f"the timeout took {took:.1f} s")


def usage_errors():
    for args, word in ((["--check", "bogus"], "unknown check"), (["--max-age", "soon"], "--max-age"),
                       (["--proxy-url", "ftp://x"], "--proxy-url"), (["--chat-timeout", "-1"], "--chat-timeout"),
                       (["extra"], "unexpected argument")):
        r = subprocess.run([VERIFY, *args], capture_output=True, text=True, env=env(), timeout=30)
        expect(r.returncode == 64, f"{args}: exit {r.returncode}")
        expect(word in r.stderr and r.stderr.count("\n") == 1, f"{args}: stderr {r.stderr!r}")
        expect(r.stdout == "", f"{args}: stdout {r.stdout!r}")


def json_shape():
    rc, _, doc = verify("--no-chat")
    expect(set(doc) == {"ok", "proxy_url", "hermes_home", "log_dir", "settings", "checks"}, f"keys {sorted(doc)}")
    expect(doc["proxy_url"] == proxy_url and doc["hermes_home"] == home, f"{doc['proxy_url']} {doc['hermes_home']}")
    expect(doc["settings"] is None, f"settings {doc['settings']} without a route.yaml")
    expect([c["name"] for c in doc["checks"]] == ["health", "logs", "chat", "base_url"], str(doc["checks"]))
    for c in doc["checks"]:
        extra = {"calls"} if c["name"] == "base_url" else set()
        expect(set(c) == {"name", "status", "detail", "hint"} | extra, f"check keys {sorted(c)}")
    rc, _, doc = verify("--check", "health,base_url")
    expect([c["name"] for c in doc["checks"]] == ["health", "base_url"], "--check health,base_url")


# ---- the plugin's record of each call: $HERMES_HOME/headroom-route.calls.jsonl ----

calls_path = os.path.join(home, "headroom-route.calls.jsonl")
proxy_host_port = proxy_url.split("//", 1)[1]


def call_line(provider, base_url, ago=0, pid=4242):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - ago))
    return json.dumps({"time": when, "pid": pid, "provider": provider, "base_url": base_url,
                       "via_proxy": base_url.startswith(proxy_url)}) + "\n"


def good_calls(n, ago=60):
    routed = (("anthropic", proxy_url), ("openai-codex", proxy_url), ("openai-api", proxy_url + "/v1"))
    return "".join(call_line(*routed[i % 3], ago=ago + n - i) for i in range(n))


state_path = os.path.join(home, "headroom-route.state.json")


class CallRecord:
    """The record holds text for one test, and the plugin's state file says
    it started `started` seconds ago; afterwards the record is gone again and
    the state file as it was."""

    def __init__(self, text, started=7200):
        self.text, self.started = text, started

    def __enter__(self):
        self.state = read(state_path)
        doc = json.loads(self.state)
        doc["time"] = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - self.started))
        write(state_path, json.dumps(doc, indent=2) + "\n")
        if self.text is not None:
            write(calls_path, self.text)

    def __exit__(self, *exc):
        write(state_path, self.state)
        if os.path.exists(calls_path):
            os.unlink(calls_path)


def base_url_with(text, *args, started=7200, **extra):
    with CallRecord(text, started):
        return verify("--check", "base_url", *args, **extra)


def calls_json(doc):
    return [c for c in doc["checks"] if c["name"] == "base_url"][0]["calls"]


def calls_all_via_proxy():
    rc, res, doc = base_url_with(good_calls(3))
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", f"the last 3 calls of this home went to {proxy_host_port}",
                 "anthropic", "openai-codex", "openai-api", proxy_url)
    c = calls_json(doc)
    expect(c["found"] and c["read"] == 3 and c["via_proxy"] == 3 and c["not_via_proxy"] == [], str(c))
    expect(c["file"] == calls_path, c["file"])


def calls_some_direct():
    text = good_calls(2) + call_line("anthropic", "https://api.anthropic.com", ago=30) + \
        call_line("openai-codex", "https://chatgpt.com/backend-api/codex", ago=20) + good_calls(1, ago=0)
    rc, res, doc = base_url_with(text)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", f"2 of the last 5 calls of this home did not go to {proxy_host_port}",
                 "anthropic -> https://api.anthropic.com", "openai-codex -> https://chatgpt.com/backend-api/codex",
                 "hr-patch-auth --apply")
    detail = res["base_url"][1]
    expect(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ anthropic", detail), f"no time before the call: {detail}")
    off = calls_json(doc)["not_via_proxy"]
    expect([o["provider"] for o in off] == ["openai-codex", "anthropic"], str(off))
    expect(off[1]["base_url"] == "https://api.anthropic.com" and off[1]["pid"] == 4242, str(off))


def calls_another_port():
    other = "http://127.0.0.1:%d" % free_port()
    rc, res, _ = base_url_with(good_calls(2) + call_line("anthropic", other + "/v1/messages"))
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "1 of the last 3 calls", other)


def calls_last_n():
    """Only the last --calls N count (20 unless given)."""
    text = call_line("anthropic", "https://api.anthropic.com", ago=600) + good_calls(25)
    rc, res, _ = base_url_with(text)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", "the last 20 calls of this home")
    rc, res, _ = base_url_with(text, "--calls", "26")
    expect(rc == 1, f"--calls 26: exit {rc}")
    expect_check(res, "base_url", "fail", "1 of the last 26 calls", "https://api.anthropic.com")
    rc, res, _ = base_url_with(text, "--calls", "2")
    expect_check(res, "base_url", "pass", "the last 2 calls of this home")


def calls_half_written_line():
    """Hermes killed while the plugin wrote: the torn last line is counted, not judged."""
    text = good_calls(2) + call_line("anthropic", "https://api.anthropic.com")[:40]
    rc, res, doc = base_url_with(text)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", "the last 2 calls of this home", "1 line that is not a call ignored")
    c = calls_json(doc)
    expect(c["unparsed"] == 1 and c["read"] == 2, str(c))


def calls_none_recorded():
    for text in (None, ""):
        rc, res, doc = base_url_with(text)
        expect(rc == 0, f"exit {rc}: {res}")
        expect_check(res, "base_url", "pass", proxy_url, "no call recorded yet", "run one Hermes chat", "--chat",
                     "conversation loop", "not its auxiliary calls")
        c = calls_json(doc)
        expect(c["found"] == (text is not None) and c["read"] == 0, str(c))
    # the files still fail on their own when no call is recorded
    auth = os.path.join(home, "auth.json")
    with Edited(auth, official):
        rc, res, _ = base_url_with(None)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "base_url is https://api.anthropic.com", "no call recorded yet")


def calls_good_files_bad():
    """Calls that went through, and a plugin since removed from plugins.enabled: still a failure."""
    cfg = os.path.join(home, "config.yaml")
    with Edited(cfg, lambda text: text.replace("    - headroom-route\n", "")):
        rc, res, _ = base_url_with(good_calls(2))
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", f"the last 2 calls of this home went to {proxy_host_port}; yet",
                 "not in plugins.enabled")


def calls_unrouted_provider():
    text = good_calls(2) + call_line("openrouter", "https://openrouter.ai/api/v1")
    rc, res, _ = base_url_with(text)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", "the last 2 calls of this home",
                 "1 call of providers this home does not route left aside (openrouter)")


def calls_provider_this_home_does_not_route():
    """A home whose plugin block routes only anthropic: direct calls of
    openai-codex are not the proxy's to carry, and are left aside."""
    cfg = os.path.join(home, "config.yaml")

    def anthropic_only(text):
        routed = "    providers: [anthropic, openai-codex, openai-api]\n"
        expect(routed in text, "the patched config.yaml has no providers list in its headroom-route block")
        return text.replace(routed, "    providers: [anthropic]\n", 1)

    text = call_line("openai-codex", "https://chatgpt.com/backend-api/codex", ago=30) + \
        call_line("anthropic", proxy_url, ago=20) + call_line("openai-api", "https://api.openai.com/v1", ago=10)
    with Edited(cfg, anthropic_only):
        rc, res, doc = base_url_with(text)
        expect(rc == 0, f"exit {rc}: {res}")
        expect_check(res, "base_url", "pass", "anthropic -> ",
                     f"the last 1 call of this home went to {proxy_host_port}",
                     "2 calls of providers this home does not route left aside (openai-api, openai-codex)")
        c = calls_json(doc)
        expect(c["routed"] == 1 and c["not_via_proxy"] == [], str(c))
        # its own provider going direct still fails
        rc, res, _ = base_url_with(text + call_line("anthropic", "https://api.anthropic.com", ago=5))
        expect(rc == 1, f"exit {rc}")
        expect_check(res, "base_url", "fail", "1 of the last 2 calls", "anthropic -> https://api.anthropic.com")


def calls_before_last_start():
    """Calls from before the plugin's last start are history (the proxy was
    down then, or hr-patch-auth --apply came later): left aside, counted."""
    old = call_line("anthropic", "https://api.anthropic.com", ago=300) + \
        call_line("openai-codex", "https://chatgpt.com/backend-api/codex", ago=200)
    rc, res, doc = base_url_with(old + good_calls(3, ago=50), started=100)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", f"the last 3 calls of this home went to {proxy_host_port}",
                 "2 older calls, made before the plugin's last start (")
    c = calls_json(doc)
    expect(c["read"] == 5 and c["older"] == 2 and c["routed"] == 3 and c["not_via_proxy"] == [], str(c))
    # a direct call after the start still fails, and names only itself
    rc, res, doc = base_url_with(old + good_calls(2, ago=50) + call_line("anthropic", "https://api.anthropic.com",
                                                                          ago=10), started=100)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "1 of the last 3 calls of this home did not go to", "2 older calls")
    expect(len(calls_json(doc)["not_via_proxy"]) == 1, str(calls_json(doc)))
    # nothing since the start: the files decide, and the detail says so
    rc, res, _ = base_url_with(old, started=100)
    expect(rc == 0, f"exit {rc}: {res}")
    expect_check(res, "base_url", "pass", "no call recorded in headroom-route.calls.jsonl since the plugin's last "
                 "start", "2 older calls left aside")


def calls_ipv6_proxy():
    """An IPv6 proxy URL: its host is named once bracketed, and a call to it counts."""
    v6 = "http://[::1]:9999"
    text = call_line("anthropic", "https://api.anthropic.com", ago=20) + call_line("anthropic", v6 + "/v1/messages")
    rc, res, _ = base_url_with(text, "--proxy-url", v6)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "1 of the last 2 calls of this home did not go to [::1]:9999: ")
    expect("[[" not in res["base_url"][1], res["base_url"][1])


def calls_bad_option():
    for bad in ("0", "x", "100000"):
        r = subprocess.run([VERIFY, "--calls", bad], capture_output=True, text=True, env=env(), timeout=30)
        expect(r.returncode == 64 and "--calls" in r.stderr, f"--calls {bad}: exit {r.returncode} {r.stderr!r}")


def chat_then_calls():
    """With the chat, the chat's own call is in the record by the time
    base_url reads it. The chat command here writes the line as the plugin
    does, then runs the stand-in."""
    line = call_line("anthropic", proxy_url, ago=0).strip()
    cmd = f"f() {{ printf '%s\\n' '{line}' >> \"$HERMES_HOME/headroom-route.calls.jsonl\"; hermes chat -q \"$@\"; }}; f"
    # a direct call from before the chat, after the plugin's last start, is left aside too
    with CallRecord(good_calls(2, ago=3600) + call_line("anthropic", "https://api.anthropic.com", ago=1800)):
        rc, res, _ = verify("--check", "chat,base_url", "--chat-cmd", cmd)
        expect(rc == 0, f"exit {rc}: {res}")
        expect_check(res, "base_url", "pass", "the last", f"calls of this home went to {proxy_host_port}",
                     "3 older calls, made before the chat started, left aside")
        # a chat whose call the record lacks (a plugin older than the record)
        old = good_calls(2, ago=3600).replace("'", "")
        cmd = f"f() {{ hermes chat -q \"$@\"; r=$?; printf '%s' '{old}' > \"$HERMES_HOME/headroom-route.calls.jsonl\"; " \
              "return $r; }; f"
        rc, res, _ = verify("--check", "chat,base_url", "--chat-cmd", cmd)
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "base_url", "fail", "the chat's Hermes recorded no call", "hr-patch-auth --apply")


def chat_without_call_record():
    """A chat whose call the record lacks fails even when nothing routed is
    recorded at all: no record, or only older calls of other providers."""
    gone = 'f() { hermes chat -q "$@"; r=$?; rm -f "$HERMES_HOME/headroom-route.calls.jsonl"; return $r; }; f'
    with CallRecord(None):
        rc, res, _ = verify("--check", "chat,base_url", "--chat-cmd", gone)
    expect(rc == 1, f"no record: exit {rc}: {res}")
    expect_check(res, "chat", "pass")
    expect_check(res, "base_url", "fail", "the chat's Hermes recorded no call", "does not exist",
                 "hr-patch-auth --apply")
    stale = call_line("openrouter", "https://openrouter.ai/api/v1", ago=3600).replace("'", "")
    cmd = f"f() {{ hermes chat -q \"$@\"; r=$?; printf '%s' '{stale}' > \"$HERMES_HOME/headroom-route.calls.jsonl\"; " \
          "return $r; }; f"
    with CallRecord(None):
        rc, res, _ = verify("--check", "chat,base_url", "--chat-cmd", cmd)
    expect(rc == 1, f"stale record: exit {rc}: {res}")
    expect_check(res, "base_url", "fail", "the chat's Hermes recorded no call", "the last of 1 is from")


# ---- settings: hr-verify finds the proxy as hr-proxy resolves its settings ----

def start_proxy(headroom_home, *args, **extra):
    """An hr-proxy in front of the fake provider, its stderr kept."""
    p = subprocess.Popen([os.path.join(BUILD, "hr-proxy"), "--anthropic-api-url", world.upstream_url, *args],
                         stderr=subprocess.PIPE, text=True, env=env(HEADROOM_HOME=headroom_home, **extra))
    started.append(p)
    return p


def post_long(url):
    """A Hermes request whose newest tool result (the 700 lines of dpkg -l,
    which the proxy compresses) has just come back, to the proxy at url."""
    import hermes_session
    body = json.dumps(hermes_session.request("anthropic", 2)).encode()
    req = urllib.request.Request(url + "/v1/messages", data=body, method="POST",
                                 headers={"content-type": "application/json", "x-api-key": "sk-ant-api03-test",
                                          "anthropic-version": "2023-06-01"})
    with urllib.request.urlopen(req, timeout=30) as r:
        expect(r.status == 200, f"request: {r.status}")


def route_yaml_log_dir():
    """route.yaml's log_dir and listen move the proxy: hr-verify follows both."""
    hh = os.path.join(tmp, "headroom-moved")
    moved = os.path.join(tmp, "moved-logs")
    os.makedirs(hh)
    port = free_port()
    write(os.path.join(hh, "route.yaml"), f"listen: 127.0.0.1:{port}\nlog_dir: {moved}\n")
    unpatched = os.path.join(tmp, "hermes-unpatched")
    shutil.copytree(FIXTURE_HOME, unpatched)
    p = start_proxy(hh)
    try:
        wait_port(port)
        post_long(f"http://127.0.0.1:{port}")
        expect(os.path.exists(os.path.join(moved, "requests.jsonl")), "the proxy did not log into route.yaml's log_dir")
        rc, res, doc = verify("--check", "health,logs", "--hermes-home", unpatched, HEADROOM_HOME=hh)
        expect(rc == 0, f"exit {rc}: {res}")
        expect(doc["log_dir"] == moved, f"log_dir {doc['log_dir']}")
        expect(doc["proxy_url"] == f"http://127.0.0.1:{port}", f"proxy_url {doc['proxy_url']}")
        expect(doc["settings"] == os.path.join(hh, "route.yaml"), f"settings {doc['settings']}")
        expect_check(res, "logs", "pass", "saved")
        # the same order as the proxy's: flag, then environment, then route.yaml
        _, _, doc = verify("--check", "logs", HEADROOM_HOME=hh, HEADROOM_LOG_DIR=os.path.join(tmp, "env-logs"))
        expect(doc["log_dir"] == os.path.join(tmp, "env-logs"), f"HEADROOM_LOG_DIR: {doc['log_dir']}")
        _, _, doc = verify("--check", "logs", "--log-dir", os.path.join(tmp, "flag-logs"), HEADROOM_HOME=hh,
                           HEADROOM_LOG_DIR=os.path.join(tmp, "env-logs"))
        expect(doc["log_dir"] == os.path.join(tmp, "flag-logs"), f"--log-dir: {doc['log_dir']}")
        _, _, doc = verify("--check", "logs", "--headroom-home", hh, HEADROOM_HOME=os.path.join(tmp, "nowhere"))
        expect(doc["log_dir"] == moved, f"--headroom-home: {doc['log_dir']}")
    finally:
        stop(p)


def bad_route_yaml():
    hh = os.path.join(tmp, "headroom-bad")
    os.makedirs(hh)
    write(os.path.join(hh, "route.yaml"), "listen: [unclosed\n")
    r = subprocess.run([VERIFY, "--check", "logs"], capture_output=True, text=True, env=env(HEADROOM_HOME=hh),
                       timeout=30)
    expect(r.returncode == 78 and "route.yaml:" in r.stderr, f"exit {r.returncode}: {r.stderr!r}")


def bad_listen_not_needed():
    """A listen setting that is not an address is a settings error only when the
    proxy URL must come from it: not with --proxy-url, nor with the plugin
    block's proxy_url."""
    hh = os.path.join(tmp, "headroom-bad-listen")
    os.makedirs(hh)
    write(os.path.join(hh, "route.yaml"), "listen: nowhere\n")
    nowhere = os.path.join(tmp, "no-hermes-home")
    r = subprocess.run([VERIFY, "--check", "health", "--hermes-home", nowhere], capture_output=True, text=True,
                       env=env(HEADROOM_HOME=hh), timeout=30)
    expect(r.returncode == 78 and "'nowhere' is not a listen address" in r.stderr, f"exit {r.returncode}: {r.stderr!r}")
    rc, res, doc = verify("--check", "health", "--hermes-home", nowhere, "--proxy-url", proxy_url, HEADROOM_HOME=hh)
    expect(rc == 0 and doc["proxy_url"] == proxy_url, f"--proxy-url: exit {rc}: {res}")
    rc, res, doc = verify("--check", "health", HEADROOM_HOME=hh)
    expect(rc == 0 and doc["proxy_url"] == proxy_url, f"the plugin block's proxy_url: exit {rc}: {res}")


def first_use_with_chat():
    """A fresh proxy (no log yet) and a freshly patched home: the chat runs
    before the logs are judged, so the whole checklist passes at once."""
    hh = os.path.join(tmp, "headroom-fresh")
    fresh = os.path.join(tmp, "hermes-fresh")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shutil.copytree(FIXTURE_HOME, fresh)
    os.chmod(os.path.join(fresh, "auth.json"), 0o600)
    p = start_proxy(hh, "--listen", f"127.0.0.1:{port}", "--openai-api-url", world.upstream_url,
                    "--chatgpt-api-url", world.upstream_url + "/backend-api/codex")
    try:
        wait_port(port)
        r = subprocess.run([os.path.join(BUILD, "hr-patch-auth"), "--apply", "--hermes-home", fresh, "--proxy-url", url,
                            "--plugin-source", PLUGIN], capture_output=True, text=True, timeout=60)
        expect(r.returncode == 0, f"hr-patch-auth --apply: {r.stderr}")
        log = os.path.join(hh, "logs", "requests.jsonl")
        expect(not os.path.exists(log) or os.path.getsize(log) == 0, "the log is not fresh")
        rc, res, _ = verify("--hermes-home", fresh, "--chat-cmd", f"env HERMES_HOME={fresh} hermes chat -q",
                            HEADROOM_HOME=hh)
    finally:
        stop(p)
    for name in ("health", "logs", "chat", "base_url"):
        expect_check(res, name, "pass")
    expect(rc == 0, f"exit {rc}")
    expect_check(res, "logs", "pass", "the chat's among them", "none saved tokens yet")


def proxy_first_lines():
    """hr-proxy's first lines say how to route Hermes through it and how to check."""
    port = free_port()
    p = start_proxy(os.path.join(tmp, "headroom-lines"), "--listen", f"127.0.0.1:{port}")
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr.readline().rstrip("\n") for _ in range(3)),
                              daemon=True)
    reader.start()
    reader.join(timeout=10)  # a proxy that says fewer lines must not hang the test
    stop(p)
    reader.join(timeout=10)
    expect(len(lines) == 3, f"the proxy's first lines: {lines}")
    expect(f"listening on 127.0.0.1:{port}" in lines[0], lines[0])
    expect(lines[1] == f"hr-proxy: route Hermes through it: hr-patch-auth --apply --proxy-url "
                      f"http://127.0.0.1:{port}, then restart Hermes", lines[1])
    expect(lines[2] == "hr-proxy: check the route: hr-verify", lines[2])


def proxy_stopped():
    world.proxy.terminate()
    world.proxy.wait(timeout=30)
    rc, res, _ = verify("--no-chat", "--check", "health")
    expect(rc == 1, f"exit {rc}")
    expect_check(res, "health", "fail", "connection refused", "start hr-proxy")
    # A Hermes started now finds the proxy down: every routed provider goes direct.
    p = start_gateway()
    try:
        rc, res, _ = verify("--check", "base_url")
    finally:
        stop(p)
    expect_check(res, "base_url", "fail", "the proxy was unhealthy", "went direct to its official URL",
                 "start hr-proxy first")


try:
    checks.check("setup: fixture home patched by hr-patch-auth, a compressed request in the log", setup)
    checks.check("all four checks pass; the chat reached the provider through the proxy", all_pass)
    checks.check("text output: one line per check, a summary, no color off a terminal", text_output)
    checks.check("color on a terminal", color_on_terminal)
    checks.check("JSON: one object; --check picks checks", json_shape)
    checks.check("logs: empty log", empty_log)
    checks.check("logs: no log where it looks", no_log)
    checks.check("logs: only old records; --max-age", old_log)
    checks.check("logs: recent requests saved nothing, with 401s", nothing_saved)
    checks.check("base_url: auth.json back to the official host", official_base_url)
    checks.check("base_url: plugin removed from plugins.enabled", plugin_not_enabled)
    checks.check("base_url: plugin in plugins.disabled, or HERMES_SAFE_MODE", plugin_disabled)
    checks.check("base_url: no state file", no_state_file)
    checks.check("base_url: the running Hermes did not load the plugin", running_hermes_without_plugin)
    checks.check("base_url: the running Hermes loaded the plugin", running_hermes_with_plugin)
    checks.check("base_url: a Hermes of another home does not count", hermes_of_another_home)
    checks.check("chat: 401 from the provider", chat_401)
    checks.check("chat: quota error", chat_quota)
    checks.check("chat: a chat that bypasses the proxy", chat_bypass)
    checks.check("chat: 502 from a proxy whose upstream leads nowhere", chat_502)
    checks.check("logs: a slow compression gets the scorer note", slow_compression_note)
    checks.check("chat: skipped without hermes, failed with --chat", chat_skipped_without_hermes)
    checks.check("chat: timeout stops the command", chat_timeout)
    checks.check("usage errors: exit 64, one line", usage_errors)
    checks.check("calls: the last calls all went to the proxy", calls_all_via_proxy)
    checks.check("calls: some went direct; each is named with its time", calls_some_direct)
    checks.check("calls: another port is not the proxy", calls_another_port)
    checks.check("calls: only the last --calls N count (20)", calls_last_n)
    checks.check("calls: a half-written last line is counted, not judged", calls_half_written_line)
    checks.check("calls: none recorded (no file, empty file): the files' verdict, and a note", calls_none_recorded)
    checks.check("calls: good calls do not hide a broken file", calls_good_files_bad)
    checks.check("calls: a provider hr does not route is left aside", calls_unrouted_provider)
    checks.check("calls: a provider this home does not route is left aside", calls_provider_this_home_does_not_route)
    checks.check("calls: calls before the plugin's last start are left aside", calls_before_last_start)
    checks.check("calls: an IPv6 proxy is named with one pair of brackets", calls_ipv6_proxy)
    checks.check("calls: --calls takes 1 to 1000", calls_bad_option)
    checks.check("calls: judged after the chat, whose call must be in the record", chat_then_calls)
    checks.check("calls: a chat that left no record fails, with no routed call recorded", chat_without_call_record)
    checks.check("settings: route.yaml's log_dir and listen, in hr-proxy's order", route_yaml_log_dir)
    checks.check("settings: a route.yaml that does not parse is a usage error", bad_route_yaml)
    checks.check("settings: a bad listen is no error when the proxy URL comes from elsewhere", bad_listen_not_needed)
    checks.check("first use: the chat runs before the logs are judged", first_use_with_chat)
    checks.check("proxy: its first lines say how to route Hermes and how to check", proxy_first_lines)
    checks.check("health: proxy stopped; a Hermes started then goes direct, and hr-verify says so", proxy_stopped)
finally:
    for proc in started:
        if proc.poll() is None:
            proc.kill()
    world.close()
sys.exit(1 if checks.failures else 0)
