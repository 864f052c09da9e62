"""hr-compress on a Hermes-shaped session (scripts/hermes_session.py: Hermes's
tool-result envelopes around real output of this machine), step by step as
an agent resends it, in the three API shapes: cache mode must never change a
message that an earlier request sent, must enter the envelopes and save,
must keep file reads (the tool's and the shell's) byte for byte, every
planted fact, every searched file and every changed diff line; the billed
input under Anthropic's and OpenAI's caching rules must go down.
    python3 scripts/cache-test.py BUILD_DIR
Prints "ok cache: NAME" / "not ok cache: NAME: why" per test."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hermes_session as hs  # noqa: E402
from hermes_session import anthropic_bill, items, openai_bill, without_markers  # noqa: E402
from hermes_testlib import ROOT, Checks, World, expect  # noqa: E402

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
STEPS = len(hs.steps())
checks = Checks("cache")


def compress_raw(body, *args):
    """hr-compress's output bytes and its --json-stats."""
    env = dict(os.environ, HEADROOM_HOME="/nonexistent/hr-cache-test")
    r = subprocess.run([os.path.join(BUILD, "hr-compress"), "--json-stats", *args], input=body,
                       capture_output=True, env=env, timeout=120)
    expect(r.returncode == 0, f"hr-compress exited {r.returncode}: {r.stderr[-300:]}")
    return r.stdout, json.loads(r.stderr.decode().strip().splitlines()[-1])


def compress(req, *args):
    out, stats = compress_raw(json.dumps(req).encode(), *args)
    return json.loads(out), stats


def results(req):
    """[(tool name, arguments, result text)] in order."""
    calls, out = {}, []
    for m in items(req):
        for b in m.get("content") if isinstance(m.get("content"), list) else []:
            if b.get("type") == "tool_use":
                calls[b["id"]] = (b["name"], b["input"])
            elif b.get("type") == "tool_result":
                out.append((*calls[b["tool_use_id"]], b["content"]))
        for c in m.get("tool_calls") or []:
            calls[c["id"]] = (c["function"]["name"], json.loads(c["function"]["arguments"]))
        if m.get("role") == "tool":
            out.append((*calls[m["tool_call_id"]], m["content"]))
        if m.get("type") == "function_call":
            calls[m["call_id"]] = (m["name"], json.loads(m["arguments"]))
        elif m.get("type") == "function_call_output":
            out.append((*calls[m["call_id"]], m["output"]))
    return out


SESSIONS = {}


def session(shape):
    """[(request, compressed, stats)] for each step, made once."""
    if shape not in SESSIONS:
        SESSIONS[shape] = [(hs.request(shape, k), *compress(hs.request(shape, k))) for k in range(1, STEPS + 1)]
    return SESSIONS[shape]


def sent_never_changes(shape):
    def run():
        steps = session(shape)
        changed = []
        for k in range(1, len(steps)):
            before, after = items(without_markers(steps[k - 1][1])), items(without_markers(steps[k][1]))
            if after[:len(before)] != before:
                changed.append(k + 1)
        expect(not changed, f"steps whose request rewrote what the one before sent: {changed}")
        last = steps[-1][2]
        expect(last["units"] and last["tokens_after"] < last["tokens_before"], f"nothing saved: {last}")
    return run


def envelopes_kept(shape):
    def run():
        req, out, _ = session(shape)[-1]
        for (tool, args, orig), (_, _, got) in zip(results(req), results(out)):
            e, g = json.loads(orig), json.loads(got)
            expect(list(e) == list(g), f"{tool}: members {list(g)}, were {list(e)}")
            bulk = max((k for k in e if isinstance(e[k], str)), key=lambda k: len(e[k]))
            expect(all(e[k] == g[k] for k in e if k != bulk), f"{tool}: a member besides {bulk} changed")
            exact = tool == "read_file" or args.get("command", "").startswith("cat ")
            if exact:
                expect(got == orig, f"{tool} {args}: a file read was changed")
    return run


def facts_kept(shape):
    def run():
        for _, out, _ in session(shape):
            text = "".join(r[2] for r in results(out))
            for fact in hs.FACTS:
                expect(json.dumps(fact)[1:-1] in text, f"lost: {fact}")
    return run


def search_and_diff_kept(shape):
    def run():
        req, out, _ = session(shape)[-1]
        for (tool, args, orig), (_, _, got) in zip(results(req), results(out)):
            g = json.loads(got)
            if tool == "search_files":
                paths = [x for x in json.loads(orig)["matches_text"].splitlines() if x and not x.startswith(" ")]
                lost = [p for p in paths if p not in g["matches_text"].splitlines()]
                expect(not lost, f"searched files lost: {lost[:5]}")
            if "git diff" in args.get("command", ""):
                want = [x for x in json.loads(orig)["output"].splitlines()
                        if x.startswith(("+", "-", "diff --git", "@@"))]
                have = set(g["output"].splitlines())
                lost = [x for x in want if x not in have]
                expect(not lost, f"{len(lost)} changed or header lines of the diff lost: {lost[:3]}")
    return run


def idempotent(shape):
    def run():
        _, out, _ = session(shape)[-1]
        again, stats = compress(out)
        expect(again == out and not stats["units"], f"compressing the output again changed it: {stats}")
    return run


def bill_down(shape):
    def run():
        steps = session(shape)
        plain = [s[0] for s in steps]
        packed = [s[1] for s in steps]
        rules = [("openai", openai_bill)] + ([("anthropic", anthropic_bill)] if shape == "anthropic" else [])
        for name, bill in rules:
            ratio = bill(packed) / bill(plain)
            print(f"  {shape}: billed input under {name}'s rules {ratio:.2f}x of the uncompressed session")
            expect(ratio <= 0.6, f"{name}'s rules: {ratio:.2f}x")
    return run


def proxy_sends_the_same():
    """hr-proxy, by default, sends each step upstream exactly as hr-compress
    gives it: cache mode in the proxy too."""
    import urllib.request
    world = World(BUILD, "hr-cache-test.")
    try:
        for k in range(1, STEPS + 1):
            body = json.dumps(hs.request("anthropic", k)).encode()
            req = urllib.request.Request(world.proxy_url + "/v1/messages", data=body, method="POST", headers={
                "content-type": "application/json", "x-api-key": "sk-ant-api03-test", "anthropic-version": "2023-06-01"})
            with urllib.request.urlopen(req, timeout=60) as r:
                expect(r.status == 200, f"step {k}: {r.status}")
            want, _ = compress_raw(body)
            expect(world.seen[-1]["body"] == want, f"step {k}: upstream got other bytes than hr-compress gives")
    finally:
        world.close()


def post_steps(world, shape, steps):
    """Sends the session's steps through the proxy; the bodies the upstream got."""
    import urllib.request
    paths = {"anthropic": "/v1/messages", "chat": "/v1/chat/completions", "responses": "/v1/responses"}
    got = []
    for k in steps:
        body = json.dumps(hs.request(shape, k)).encode()
        req = urllib.request.Request(world.proxy_url + paths[shape], data=body, method="POST", headers={
            "content-type": "application/json", "x-api-key": "sk-ant-api03-test", "authorization": "Bearer sk-test",
            "anthropic-version": "2023-06-01"})
        with urllib.request.urlopen(req, timeout=60) as r:
            expect(r.status == 200, f"step {k}: {r.status}")
        got.append(json.loads(world.seen[-1]["body"]))
    return got


def expect_prefixes(sent, what):
    for k in range(1, len(sent)):
        before, after = items(without_markers(sent[k - 1])), items(without_markers(sent[k]))
        expect(after[:len(before)] == before, f"{what}: request {k + 1} rewrote what request {k} sent")


def reload(world, config, text):
    """route.yaml rewritten and the proxy told (SIGHUP); waits until it has read it."""
    import signal
    import time
    with open(config, "w", encoding="utf-8") as f:
        f.write(text)
    world.proxy.send_signal(signal.SIGHUP)
    time.sleep(0.5)


def proxy_with_config(text):
    """A World whose hr-proxy reads route.yaml at config (text), for SIGHUPs."""
    import tempfile
    config = os.path.join(tempfile.mkdtemp(prefix="hr-cache-route."), "route.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(text)
    return World(BUILD, "hr-cache-test.", proxy_args=("--config", config)), config


def proxy_remembers_fail_open():
    """A result that went as it came because compression timed out goes the
    same way in every later request, after the timeout is raised (SIGHUP)."""
    world, config = proxy_with_config("compress_timeout_ms: 0\n")
    try:
        for shape in hs.SHAPES:
            sent = post_steps(world, shape, [1, 2])
            raw = results(sent[0])[0][2]
            expect(raw == results(hs.request(shape, 1))[0][2], f"{shape}: step 1 was compressed despite the timeout")
            reload(world, config, "compress_timeout_ms: 10000\n")
            sent += post_steps(world, shape, range(3, STEPS + 1))
            expect_prefixes(sent, shape)
            expect(results(sent[-1])[0][2] == raw, f"{shape}: the result sent as it came was compressed later")
            expect(json.dumps(sent[-1]) != json.dumps(hs.request(shape, STEPS)), f"{shape}: nothing compressed once fast")
            reload(world, config, "compress_timeout_ms: 0\n")
    finally:
        world.close()


def proxy_history_before_hr():
    """A conversation hr first sees at step 5: the results sent before it
    stay as they came, the new one is compressed, and so in later steps; a
    setting changed mid-conversation (min_tokens, SIGHUP) changes nothing
    already sent."""
    world, config = proxy_with_config("compress_timeout_ms: 10000\n")
    try:
        sent = post_steps(world, "chat", [4])
        plain = results(hs.request("chat", 4))
        got = results(sent[0])
        expect([g[2] for g in got[:-1]] == [p[2] for p in plain[:-1]], "results sent before hr were compressed")
        expect(got[-1][2] != plain[-1][2], "the new result was not compressed")
        sent += post_steps(world, "chat", [5, 6])
        reload(world, config, "compress_timeout_ms: 10000\nmin_tokens_to_crush: 1000000\n")
        sent += post_steps(world, "chat", [7, 8])
        expect_prefixes(sent, "chat")
        expect(results(sent[-1])[3][2] == got[-1][2], "a result compressed before changed after SIGHUP")
    finally:
        world.close()


def proxy_restart_keeps_what_went():
    """hr-proxy restarted mid-conversation (a new version, a reboot): the
    results it sent before go again as they went, from its index of hashes
    (compressed again to the same bytes, or as they came); a result that went
    as it came because compression timed out stays so after the restart."""
    world, config = proxy_with_config("compress_timeout_ms: 0\n")
    try:
        sent = post_steps(world, "responses", [1])
        with open(config, "w", encoding="utf-8") as f:
            f.write("compress_timeout_ms: 10000\n")
        world.restart_proxy()
        sent += post_steps(world, "responses", [2, 3, 4])
        world.restart_proxy()
        sent += post_steps(world, "responses", range(5, STEPS + 1))
        expect_prefixes(sent, "responses")
        expect(results(sent[-1])[0][2] == results(hs.request("responses", 1))[0][2],
               "the result that went as it came was compressed after the restart")
        expect(results(sent[-1])[1][2] != results(hs.request("responses", 2))[1][2], "nothing was compressed")
        index = os.path.join(world.tmp, "logs", "sent-index")
        with open(index, "rb") as f:
            data = f.read()
        expect(len(data) % 65 == 0 and len(data) >= 65 * STEPS, f"index of {len(data)} bytes")
        text = json.dumps(hs.request("responses", STEPS))
        expect(not any(x in data for x in (b"dpkg", b"status installed", text[:40].encode())),
               "the index holds text of the results")
    finally:
        world.close()


def token_mode_rolls():
    req = hs.request("anthropic", STEPS)
    _, stats = compress(req, "--mode", "token", "--protect-recent", "2")
    expect(stats["units"], f"token mode compressed nothing: {stats}")


for shape in hs.SHAPES:
    checks.check(f"{shape}: no step rewrites a message an earlier step sent; the session saves", sent_never_changes(shape))
    checks.check(f"{shape}: envelopes keep their members, file reads (read_file, cat) stay exact", envelopes_kept(shape))
    checks.check(f"{shape}: every planted fact kept in every step", facts_kept(shape))
    checks.check(f"{shape}: every searched file and every changed diff line kept", search_and_diff_kept(shape))
    checks.check(f"{shape}: compressing the output again changes nothing", idempotent(shape))
    checks.check(f"{shape}: the billed input goes down under the providers' caching rules", bill_down(shape))
checks.check("token mode still compresses the old messages", token_mode_rolls)
checks.check("hr-proxy sends each step upstream as hr-compress gives it (cache mode by default)", proxy_sends_the_same)
checks.check("hr-proxy: a result sent as it came (compression timed out) goes so in every later request",
             proxy_remembers_fail_open)
checks.check("hr-proxy: results sent before hr saw the conversation stay as they came; a SIGHUP changes nothing sent",
             proxy_history_before_hr)
checks.check("hr-proxy restarted mid-conversation: results go again as they went; the index holds only hashes",
             proxy_restart_keeps_what_went)
sys.exit(1 if checks.failures else 0)
