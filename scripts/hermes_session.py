"""A multi-step agent session shaped exactly as Hermes 0.18 sends it: tool
results in Hermes's JSON envelopes (terminal {"output", "exit_code",
"error"}, read_file {"content": "N|line", ...}, search_files {"total_count",
"matches_format", "matches_text"}), real output of this machine inside them
(testdata/hermes-session/, captured from dpkg, git and this repository), and
for Anthropic Hermes's "system_and_3" cache_control breakpoints (the system
prompt and the last 3 messages). Step k's request holds the whole
conversation up to the k-th tool result, as an agent resends it.

    python3 scripts/hermes_session.py anthropic|chat|responses STEP > request.json

FACTS lists lines planted in the output that an answer depends on; each must
survive compression."""
import copy
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "testdata", "hermes-session")

FACTS = [
    "E: Sub-process /usr/bin/dpkg returned an error code (1)",
    "dpkg: error processing package hr-canary (--configure): installed hr-canary package post-installation "
    "script subprocess returned error exit status 17",
]


def read(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def terminal(command, output, exit_code=0):
    return "terminal", {"command": command}, {"output": output, "exit_code": exit_code, "error": None}


def read_file(path, text):
    lines = text.splitlines()
    content = "\n".join(f"{i + 1}|{line}" for i, line in enumerate(lines))
    return "read_file", {"path": path}, {"content": content, "total_lines": len(lines),
                                         "file_size": len(text.encode()), "truncated": False}


def search_files(pattern, grep_output):
    """Hermes's own lossless grouping of matches: the path once, then its lines."""
    groups, order = {}, []
    for line in grep_output.splitlines():
        path, _, rest = line.partition(":")
        num, _, text = rest.partition(":")
        if path not in groups:
            groups[path] = []
            order.append(path)
        groups[path].append(f"  {num}: {text}")
    text = "\n".join(p + "\n" + "\n".join(groups[p]) for p in order)
    return "search_files", {"pattern": pattern, "path": "lib"}, {
        "total_count": sum(len(v) for v in groups.values()), "matches_format": "grouped", "matches_text": text}


def planted_log():
    lines = read("dpkg-log-installed.txt").splitlines()
    lines.insert(500, "2025-07-01 10:11:12 " + FACTS[1])
    lines.append(FACTS[0])
    return "\n".join(lines) + "\n"


def steps():
    """(user words or None, tool name, arguments, envelope) for each step."""
    return [
        ("Find out why the last package upgrade failed on this machine, and which packages are involved.",
         *terminal("grep -h ' status installed ' /var/log/dpkg.log", planted_log(), 1)),
        (None, *terminal("dpkg -l", read("dpkg-l.txt"))),
        (None, *terminal("git log --stat -n 25", read("git-log-stat.txt"))),
        ("Now look at how hr_status errors flow through lib/ and show me the compressor's main loop.",
         *search_files("hr_status", read("git-grep.txt"))),
        (None, *read_file("lib/compress.c", read("compress.c.txt"))),
        (None, *terminal("cat lib/compress.c", read("compress.c.txt"))),
        (None, *terminal("git diff e89bbf3 a9e83c8 -- lib/hermes_config.c cmd/hr-patch-auth/apply.c",
                         read("git-diff.txt"))),
        (None, *terminal("dpkg -l | grep -i ssl", "\n".join(x for x in read("dpkg-l.txt").splitlines()
                                                             if "ssl" in x.lower()) + "\n")),
    ]


SYSTEM = "You are Hermes, a coding agent working in the user's repository. Use the tools to look before you answer."


def anthropic(k):
    msgs = []
    for i, (user, tool, args, env) in enumerate(steps()[:k]):
        if user:
            msgs.append({"role": "user", "content": user})
        tid = f"toolu_{i:02d}"
        msgs.append({"role": "assistant", "content": [{"type": "text", "text": f"Running {tool}."},
                                                      {"type": "tool_use", "id": tid, "name": tool, "input": args}]})
        msgs.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": tid,
                                                  "content": json.dumps(env, ensure_ascii=False)}]})
    for m in msgs[-3:]:  # system_and_3: a string content becomes one text block to carry the marker
        if isinstance(m["content"], str):
            m["content"] = [{"type": "text", "text": m["content"]}]
        m["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return {"model": "claude-opus-4-6", "max_tokens": 8192,
            "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
            "messages": msgs}


def chat(k):
    msgs = [{"role": "system", "content": SYSTEM}]
    for i, (user, tool, args, env) in enumerate(steps()[:k]):
        if user:
            msgs.append({"role": "user", "content": user})
        cid = f"call_{i:02d}"
        msgs.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}]})
        msgs.append({"role": "tool", "tool_call_id": cid, "content": json.dumps(env, ensure_ascii=False)})
    return {"model": "gpt-5.1", "messages": msgs}


def responses(k):
    items = []
    for i, (user, tool, args, env) in enumerate(steps()[:k]):
        if user:
            items.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": user}]})
        cid = f"call_{i:02d}"
        items.append({"type": "function_call", "call_id": cid, "name": tool, "arguments": json.dumps(args)})
        items.append({"type": "function_call_output", "call_id": cid, "output": json.dumps(env, ensure_ascii=False)})
    return {"model": "gpt-5.1-codex", "instructions": SYSTEM, "input": items}


SHAPES = {"anthropic": anthropic, "chat": chat, "responses": responses}


def without_markers(req):
    """The request less the cache_control markers the client moves each step
    (Hermes wraps a string content in one text block to carry one)."""
    r = copy.deepcopy(req)
    for m in items(r):
        content = m.get("content")
        for b in content if isinstance(content, list) else []:
            b.pop("cache_control", None)
        if isinstance(content, list) and len(content) == 1 and content[0].keys() == {"type", "text"} and \
                content[0]["type"] == "text":
            m["content"] = content[0]["text"]
    return r


def items(req):
    return req["input"] if "input" in req else req["messages"]


# ---- the bill ---------------------------------------------------------------------------------


def tokens(x):
    """A deterministic stand-in for the provider's count: 4 bytes a token."""
    return (len(json.dumps(x, ensure_ascii=False).encode()) + 3) // 4


def anthropic_bill(requests):
    """Input-token equivalents under Anthropic's rules: the prefix up to a
    cache_control breakpoint an earlier request wrote is read at 0.1x, the
    new prefix up to the last breakpoint is written at 1.25x, the rest 1x."""
    cached, total = set(), 0.0
    for req in requests:
        blocks = [(req["system"], any(b.get("cache_control") for b in req["system"]))]
        for m in req["messages"]:
            marked = isinstance(m["content"], list) and any(b.get("cache_control") for b in m["content"])
            blocks.append((without_markers({"messages": [m]})["messages"][0], marked))
        prefix, read, last_bp = [], 0, 0
        sizes = []
        for i, (b, marked) in enumerate(blocks):
            prefix.append(json.dumps(b, sort_keys=True, ensure_ascii=False))
            sizes.append(tokens(b))
            if marked:
                key = "\n".join(prefix)
                if key in cached:
                    read = sum(sizes)
                last_bp = sum(sizes)
                cached.add(key)
        total += 0.1 * read + 1.25 * (last_bp - read) + (sum(sizes) - last_bp)
    return total


def openai_bill(requests):
    """Under OpenAI's rules: the longest prefix shared with an earlier request,
    1,024 tokens or more in 128-token steps, is billed at 0.1x."""
    seen, total = [], 0.0
    for req in requests:
        text = json.dumps(without_markers(req), ensure_ascii=False)
        best = 0
        for old in seen:
            n = 0
            limit = min(len(old), len(text))
            while n < limit and old[n] == text[n]:
                n += 1
            best = max(best, n)
        cached_tokens = best // 4
        cached_tokens = 0 if cached_tokens < 1024 else cached_tokens // 128 * 128
        total += 0.1 * cached_tokens + (len(text) // 4 - cached_tokens)
        seen.append(text)
    return total



def request(shape, k):
    return SHAPES[shape](k)


if __name__ == "__main__":
    json.dump(request(sys.argv[1], int(sys.argv[2])), sys.stdout, ensure_ascii=False)
