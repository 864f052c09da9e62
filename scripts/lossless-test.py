#!/usr/bin/python3
"""hr-compress on real tool output (testdata/tool-output/, captured by
scripts/make-tool-output), each fixture a Hermes-shaped OpenAI Chat request:
a task, a terminal tool call, and its result in Hermes's envelope
({"output", "exit_code", "error"}); a JSON fixture also bare, as the tool
result itself. Each goes through hr-compress --lossless (re-encode only) and
through the default (lossy) mode, both with --min-tokens 0, and:
  lossless round trip  this script's own decoder of the lossless formats gives
                       the original back exactly (JSON: same values, keys in
                       order, numbers as written; logs: the blank-normalized
                       text; search output and diffs: byte for byte);
  lossy                every fact of facts.json is kept, lines (or JSON items)
                       are never reordered, merged or made up, JSON stays JSON,
                       no number appears that the original lacks;
  savings              printed per fixture and per kind; --lossless must save
                       25% or more on the pretty-printed JSON arrays of objects;
  idempotence          compressing a compressed request again changes nothing.
    /usr/bin/python3 scripts/lossless-test.py BUILD_DIR
Prints "ok lossless: NAME" / "not ok lossless: NAME: why" per check; exit 1 if any
failed. Standard library only.

The lossless formats (hr-compress(1)):
  JSON   valid JSON; an array whose first element is a string starting with
         "[hr: table" is a table: then the list of keys, then one list of values
         per object, in key order (values may be tables again).
  log    the blank-normalized text (trailing blanks and tabs cut from each line,
         a run of blank lines made one), in which a line
         "[hr: the line above repeats N more times]" stands for N copies of the
         line before it, and a line "[hr: K lines of the form below, {} being A
         to B in turn]" or "[hr: K lines of the form below, {} being in turn:
         v1, v2, ..., vK]" followed by a template line holding "{}" stands for
         K lines, {} replaced by each value (A to B counts up or down by one).
  search a line "  N: rest" or "  N- rest" is a line path:N:rest or path-N-rest
         of the path above; a line "--" or starting with "[hr:" is itself; any
         other line names the path of the lines below it.
  diff   unchanged, byte for byte.
  text   unchanged, or blank-normalized.
"""
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import ROOT, Checks, expect  # noqa: E402

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
HR = os.path.join(BUILD, "hr-compress")
FIXTURES = os.path.join(ROOT, "testdata", "tool-output")
ENV = dict(os.environ, HEADROOM_HOME="/nonexistent/hr-lossless-test")
for k in ("HEADROOM_MODE", "HEADROOM_EXACT_TOOLS", "HEADROOM_LOSSLESS", "HEADROOM_PROTECT_RECENT", "HEADROOM_MIN_TOKENS_TO_CRUSH"):
    ENV.pop(k, None)
TOOL_MESSAGE = 3  # messages[3]: the tool result
MIN_JSON_SAVING = 0.25
checks = Checks("lossless")

SYSTEM = ("You are a coding agent working in the user's repository and machine. You have a terminal "
          "tool: run commands to find out what you need, then answer briefly and precisely.")


# ---- JSON with numbers as written and keys in order ------------------------------------

class Num(str):
    """A JSON number: its text as written."""


class Obj(list):
    """A JSON object: its (key, value) pairs, in order, duplicates kept."""


def parse(text):
    return json.loads(text, object_pairs_hook=Obj, parse_int=Num, parse_float=Num, parse_constant=Num)


def tag(v):
    """A comparable form in which a number, a string, an object and an array never
    compare equal to one another."""
    if isinstance(v, Num):
        return ("num", str(v))
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, Obj):
        return ("obj", tuple((k, tag(x)) for k, x in v))
    if isinstance(v, list):
        return ("arr", tuple(tag(x) for x in v))
    return ("lit", repr(v))  # true, false, null


def canon(v):
    """One line of JSON as facts.json writes its texts: ", " and ": ", numbers as
    written, strings as UTF-8."""
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, Obj):
        return "{" + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + canon(x) for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(canon(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def is_marker(v):
    return isinstance(v, str) and not isinstance(v, Num) and v.startswith("[hr:")


def untable(v, where="$"):
    """v with every table made the array of objects it stands for: a row is a
    list of values zipped with the keys, an object among the rows (one of
    other keys) is itself. A marker string in place of a row stays (a lossy
    cut)."""
    if isinstance(v, Obj):
        return Obj((k, untable(x, f"{where}.{k}")) for k, x in v)
    if not isinstance(v, list):
        return v
    if v and isinstance(v[0], str) and not isinstance(v[0], Num) and v[0].startswith("[hr: table"):
        expect(len(v) >= 2 and isinstance(v[1], list) and not isinstance(v[1], Obj) and
               all(isinstance(k, str) and not isinstance(k, Num) for k in v[1]),
               f"table at {where}: its second element is not a list of keys")
        keys, rows = v[1], []
        for i, row in enumerate(v[2:]):
            if is_marker(row):
                rows.append(row)
                continue
            if isinstance(row, Obj):
                rows.append(untable(row, f"{where}[{i}]"))
                continue
            expect(isinstance(row, list) and not isinstance(row, Obj) and len(row) == len(keys),
                   f"table at {where}: row {i} is not a list of {len(keys)} values: {canon(row)[:120]}")
            rows.append(Obj((k, untable(x, f"{where}[{i}].{k}")) for k, x in zip(keys, row)))
        return rows
    return [untable(x, f"{where}[{i}]") for i, x in enumerate(v)]


def first_difference(a, b, where="$"):
    """Where a and b (tag forms) first differ, and how."""
    if a[0] != b[0]:
        return f"{where}: {a[0]} {str(a[1])[:60]} where the original has {b[0]} {str(b[1])[:60]}"
    if a[0] in ("arr", "obj"):
        for i, (x, y) in enumerate(zip(a[1], b[1])):
            if x != y:
                if a[0] == "obj":
                    if x[0] != y[0]:
                        return f"{where}: key {x[0]!r} where the original has {y[0]!r}"
                    return first_difference(x[1], y[1], f"{where}.{x[0]}")
                return first_difference(x, y, f"{where}[{i}]")
        return f"{where}: {len(a[1])} members where the original has {len(b[1])}"
    return f"{where}: {a[1]!r} where the original has {b[1]!r}"


def without_markers(v):
    if isinstance(v, Obj):
        return Obj((k, without_markers(x)) for k, x in v)
    if isinstance(v, list):
        return [without_markers(x) for x in v if not is_marker(x)]
    return v


def subsumed(out, orig):
    """Whether out could be orig with parts cut: arrays keep a subsequence of
    their elements (markers aside), objects a subsequence of their members, in
    order; scalars are equal. Nothing reordered, merged or made up."""
    if isinstance(out, Obj) or isinstance(orig, Obj):
        if not (isinstance(out, Obj) and isinstance(orig, Obj)):
            return False
        j = 0
        for k, x in out:
            while j < len(orig) and not (orig[j][0] == k and subsumed(x, orig[j][1])):
                j += 1
            if j == len(orig):
                return False
            j += 1
        return True
    if isinstance(out, list) or isinstance(orig, list):
        if not (isinstance(out, list) and isinstance(orig, list)):
            return False
        j = 0
        for x in out:
            if is_marker(x):
                continue
            while j < len(orig) and not subsumed(x, orig[j]):
                j += 1
            if j == len(orig):
                return False
            j += 1
        return True
    return tag(out) == tag(orig)


# ---- lines --------------------------------------------------------------------------------

def split_lines(text):
    """(lines, whether the text ends with a newline)."""
    if text.endswith("\n"):
        return text[:-1].split("\n"), True
    return text.split("\n"), False


def join_lines(lines, newline):
    return "\n".join(lines) + ("\n" if newline else "")


def blank_normalize(text):
    lines, nl = split_lines(text)
    out = []
    for x in lines:  # a "\r" ending a line is its CRLF's: blanks before it go
        x = x[:-1].rstrip(" \t") + "\r" if x.endswith("\r") else x.rstrip(" \t")
        if x in ("", "\r") and out and out[-1] in ("", "\r"):
            continue
        out.append(x)
    return join_lines(out, nl)


REPEAT = re.compile(r"\[hr: the line above repeats (\d+) more times?\]")
FORM_RANGE = re.compile(r"\[hr: (\d+) lines of the form below, \{\} being (.+) to (.+) in turn\]")
FORM_LIST = re.compile(r"\[hr: (\d+) lines of the form below, \{\} being in turn: (.*)\]")
MARKER_LINE = re.compile(r"^\s*\[hr:.*\]\s*$")


def count_from_to(a, b, k):
    """The K values from a to b, counting by one; zero-padded as a is."""
    expect(re.fullmatch(r"-?\d+", a) and re.fullmatch(r"-?\d+", b), f"cannot count from {a!r} to {b!r}")
    x, y = int(a), int(b)
    step = 1 if y >= x else -1
    expect(abs(y - x) + 1 == k, f"{k} lines, but {a} to {b} is {abs(y - x) + 1} values")
    width = len(a) if a.lstrip("-").startswith("0") and len(a.lstrip("-")) > 1 else 0
    return [str(v).zfill(width) if width else str(v) for v in range(x, y + step, step)]


def expand_log(text):
    """The log encodings of text expanded; other lines (markers of cuts too) as they are."""
    lines, nl = split_lines(text)
    out, i = [], 0
    while i < len(lines):
        x = lines[i]
        key = x[:-1] if x.endswith("\r") else x  # a marker is matched without its CRLF's "\r"
        m = REPEAT.fullmatch(key)
        if m:
            expect(out, f"line {i + 1}: a repeat with no line above")
            out.extend([out[-1]] * int(m.group(1)))
            i += 1
            continue
        m_list = FORM_LIST.fullmatch(key)
        m = m_list or FORM_RANGE.fullmatch(key)
        if m:
            k = int(m.group(1))
            if m_list:
                values = m.group(2).split(", ")
                expect(len(values) == k, f"line {i + 1}: {k} lines but {len(values)} values")
            else:
                values = count_from_to(m.group(2), m.group(3), k)
            expect(i + 1 < len(lines), f"line {i + 1}: a form with no template line below")
            template = lines[i + 1]
            expect(template.count("{}") == 1, f"line {i + 2}: the template holds {template.count('{}')} {{}}, not one")
            out.extend(template.replace("{}", v) for v in values)
            i += 2
            continue
        out.append(x)
        i += 1
    return join_lines(out, nl)


SEARCH_LINE = re.compile(r"  (\d+)([:-]) (.*)", re.S)


def looks_grouped(text):
    return any(SEARCH_LINE.fullmatch(x) for x in text.split("\n"))


def expand_search(text):
    lines, nl = split_lines(text)
    out, path = [], None
    for i, x in enumerate(lines):
        m = SEARCH_LINE.fullmatch(x)
        if m:
            expect(path is not None, f"line {i + 1}: a match line before any path: {x[:80]!r}")
            out.append(f"{path}{m.group(2)}{m.group(1)}{m.group(2)}{m.group(3)}")
        elif x == "--" or x.startswith("[hr:"):
            out.append(x)
        else:
            path = x
    return join_lines(out, nl)


def first_line_difference(got, want):
    g, w = got.split("\n"), want.split("\n")
    for i, (x, y) in enumerate(zip(g, w)):
        if x != y:
            return f"line {i + 1}: {x[:100]!r} where the original has {y[:100]!r}"
    return f"{len(g)} lines where the original has {len(w)}"


# ---- requests ---------------------------------------------------------------------------

def load():
    with open(os.path.join(FIXTURES, "facts.json"), encoding="utf-8") as f:
        facts = json.load(f)
    out = []
    for name, fx in facts.items():
        with open(os.path.join(FIXTURES, fx["file"]), "rb") as f:
            fx["text"] = f.read().decode("utf-8")
        fx["name"] = name
        fx["is_json"] = fx["file"].endswith(".json")
        out.append(fx)
    return out


def request(fx, variant):
    """The request Hermes sends with fx's result, and the tool message's content."""
    if variant == "envelope":
        content = json.dumps({"output": fx["text"], "exit_code": fx["exit_code"], "error": None})
    else:
        content = fx["text"]
    return {"model": "gpt-4o", "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{fx['task']} (run `{fx['command']}`)"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "terminal", "arguments": json.dumps({"command": fx["command"]})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": content}]}, content


def run(body, lossless):
    """(rc, stdout bytes, --json-stats object or None, stderr text)."""
    args = [HR] + (["--lossless"] if lossless else []) + ["--min-tokens", "0", "--json-stats"]
    r = subprocess.run(args, input=body, capture_output=True, env=ENV, timeout=60)
    err = r.stderr.decode("utf-8", "replace")
    stats = None
    for line in reversed(err.strip().splitlines()):
        if line.startswith("{"):
            try:
                stats = json.loads(line)
            except ValueError:
                pass
            break
    return r.returncode, r.stdout, stats, err


class Result:
    """One hr-compress run on one request: the tool message's content (the
    envelope's output unwrapped), the units of that message and their kind."""

    def __init__(self, fx, variant, lossless):
        self.fx, self.variant, self.lossless = fx, variant, lossless
        self.req, self.content = request(fx, variant)
        self.body = json.dumps(self.req).encode()
        self.rc, self.out, self.stats, self.err = run(self.body, lossless)
        self.problem, self.units, self.kind = None, [], None
        if self.rc != 0:
            self.problem = f"hr-compress{' --lossless' if lossless else ''} exited {self.rc}: {self.err.strip()[-200:]}"
            return
        if self.stats is None:
            self.problem = f"no --json-stats line on standard error: {self.err.strip()[-200:]}"
            return
        try:
            self.doc = json.loads(self.out)
            self.got_content = self.doc["messages"][TOOL_MESSAGE]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            self.problem = f"the output is not the request it should be: {e}"
            return
        self.units = [u for u in self.stats.get("units") or []
                      if u.get("message") == TOOL_MESSAGE or str(u.get("where", "")).startswith(f"messages[{TOOL_MESSAGE}]")]
        kinds = sorted({u.get("kind") for u in self.units})
        self.kind = kinds[0] if len(kinds) == 1 else (None if not kinds else "+".join(kinds))

    def need(self):
        expect(self.problem is None, self.problem or "")

    def text(self):
        """The tool result's text as hr-compress left it: the envelope checked and unwrapped."""
        self.need()
        if self.variant != "envelope":
            return self.got_content
        try:
            env = parse(self.got_content)
        except ValueError as e:
            raise AssertionError(f"the envelope is no longer JSON: {e}")
        orig = parse(self.content)
        expect(isinstance(env, Obj) and [k for k, _ in env] == [k for k, _ in orig],
               f"the envelope's members are {[k for k, _ in env] if isinstance(env, Obj) else type(env)}, "
               f"were {[k for k, _ in orig]}")
        for (k, v), (_, w) in zip(env, orig):
            if k != "output":
                expect(tag(v) == tag(w), f"the envelope's {k} changed: {canon(v)} (was {canon(w)})")
        output = dict(env)["output"]
        expect(isinstance(output, str) and not isinstance(output, Num), "the envelope's output is not a string")
        return output

    def envelope_kind(self):
        """Whether the unit is the envelope and its kind (json) names the
        envelope's re-encoding, the output in it being no JSON."""
        return self.variant == "envelope" and self.kind == "json" and not self.fx["is_json"]

    def rest_unchanged(self):
        self.need()
        a, b = json.loads(self.out), json.loads(self.body)
        a["messages"][TOOL_MESSAGE]["content"] = b["messages"][TOOL_MESSAGE]["content"] = None
        expect(a == b, "something besides the tool result changed")

    def saving(self):
        """(tokens before, after) of the tool message's units; (0, 0) when none."""
        if self.problem or not self.units:
            return 0, 0
        return sum(u.get("before", 0) for u in self.units), sum(u.get("after", 0) for u in self.units)


# ---- the checks ------------------------------------------------------------------------------

def check_lossless(r):
    """The lossless output decodes to the original exactly."""
    def fn():
        r.rest_unchanged()
        got, orig = r.text(), r.fx["text"]
        if not r.units:
            expect(r.got_content == r.content, "no unit listed, yet the tool result changed")
            return
        expect(len({u.get("kind") for u in r.units}) == 1 and len(r.units) == 1,
               f"one unit expected in the tool result, got {[(u.get('where'), u.get('kind')) for u in r.units]}")
        kind = r.kind
        if kind == "json" and r.envelope_kind():
            # the unit's kind names the envelope's own re-encoding (checked member by
            # member above); decoded as JSON it must be the envelope that was sent
            expect(got == orig, "the unit's kind is json (the envelope), yet its output changed: " +
                   first_line_difference(got, orig))
        elif kind == "json":
            try:
                decoded = untable(parse(got))
            except ValueError as e:
                raise AssertionError(f"the output is not JSON: {e}: {got[:120]!r}")
            want = tag(parse(orig))
            have = tag(decoded)
            expect(have == want, "decodes to other JSON: " + first_difference(have, want))
        elif kind == "log":  # a log's blanks may be cut; other output keeps them
            back, want = expand_log(got), blank_normalize(orig)
            expect(back in (want, orig), "decodes to other text: " + first_line_difference(back, want))
        elif kind == "search":
            back = expand_search(got)
            expect(back == orig, "decodes to other text: " + first_line_difference(back, orig))
        elif kind == "diff":
            expect(got == orig, "a diff changed: " + first_line_difference(got, orig))
        elif kind == "text":
            expect(got == orig, "text changed: " + first_line_difference(got, orig))
        else:
            raise AssertionError(f"unknown unit kind {kind!r}")
        before, after = r.saving()
        expect(after <= before, f"the lossless form is longer: {before} -> {after} tokens")
    return fn


def expanded(r):
    """(kind, the lossy output with the lossless encodings expanded, its JSON value or None)."""
    got = r.text()
    if r.envelope_kind():  # the kind names the envelope: the output's form tells
        return ("search", expand_search(got), None) if looks_grouped(got) else ("none", expand_log(got), None)
    if r.fx["is_json"] or r.kind == "json":
        try:
            value = untable(parse(got))
        except ValueError as e:
            raise AssertionError(f"the output is not JSON: {e}: {got[:120]!r}")
        return "json", canon(without_markers(value)), value
    if r.kind == "search" or (r.kind is None and looks_grouped(got)):
        return "search", expand_search(got) if looks_grouped(got) else got, None
    if r.kind == "diff":
        return "diff", got, None
    return r.kind or "none", expand_log(got), None


def check_facts(r):
    def fn():
        kind, text, value = expanded(r)
        lost = [t for t in r.fx["texts"] if t not in text and t not in r.text()]
        have = {}
        for x in text.split("\n"):
            x = x.rstrip(" \t")
            have[x] = have.get(x, 0) + 1
        need = {}
        for x in r.fx["lines"]:
            need[x] = need.get(x, 0) + 1
        lost += [f"{x} (x{n - have.get(x, 0)})" if n > 1 else x for x, n in need.items() if have.get(x, 0) < n]
        expect(not lost, f"{len(lost)} facts lost: " + " | ".join(x[:100] for x in lost[:4]))
    return fn


def check_order(r):
    """Nothing reordered, merged or made up: JSON stays JSON with each kept part
    in place; every other line that is not a marker is a line of the original,
    in order."""
    def fn():
        kind, text, value = expanded(r)
        if kind == "json":
            expect(subsumed(value, parse(r.fx["text"])),
                   "the JSON is not the original with parts cut: something was reordered, merged or changed")
            return
        orig = [x.rstrip(" \t") for x in r.fx["text"].split("\n")]
        orig = [x for x in orig if x]
        j = 0
        for n, x in enumerate(text.split("\n")):
            x = x.rstrip(" \t")
            if not x or MARKER_LINE.match(x):
                continue
            while j < len(orig) and orig[j] != x:
                j += 1
            if j == len(orig):
                where = "not a line of the original" if x not in orig else "out of order"
                raise AssertionError(f"output line {n + 1} is {where}: {x[:120]!r}")
            j += 1
    return fn


DIGITS = re.compile(r"\d+")
INLINE_MARKER = re.compile(r"\[hr:[^\]]*\]")


def check_numbers(r):
    def fn():
        kind, text, value = expanded(r)
        if kind == "json":
            orig = canon(parse(r.fx["text"]))
        else:
            orig = r.fx["text"]
            text = INLINE_MARKER.sub("", text)
        new = set(DIGITS.findall(text)) - set(DIGITS.findall(orig))
        expect(not new, f"numbers not in the original: {sorted(new, key=len)[:8]}")
    return fn


def check_idempotent(r):
    def fn():
        r.need()
        rc, out, _, err = run(r.out, r.lossless)
        expect(rc == 0, f"exited {rc} on its own output: {err.strip()[-200:]}")
        if out != r.out:
            a, b = json.loads(out), json.loads(r.out)
            ca, cb = a["messages"][TOOL_MESSAGE]["content"], b["messages"][TOOL_MESSAGE]["content"]
            raise AssertionError("compressing again changed it: " + first_line_difference(ca, cb))
    return fn


def array_of_objects(fx):
    """A pretty-printed JSON array whose elements are all objects."""
    if not fx["is_json"]:
        return False
    v = parse(fx["text"])
    return isinstance(v, list) and not isinstance(v, Obj) and v and all(isinstance(x, Obj) for x in v) \
        and "\n " in fx["text"]


def check_saving(r):
    def fn():
        r.need()
        before, after = r.saving()
        share = (before - after) / before if before else 0.0
        expect(share >= MIN_JSON_SAVING, f"saves {share:.1%} ({before} -> {after} tokens), below {MIN_JSON_SAVING:.0%}")
    return fn


def pct(before, after):
    return f"{(before - after) / before:.1%}" if before else "-"


def decoder_self_check():
    """This script's decoders do what the formats say, on hand-written encodings."""
    expect(blank_normalize("a \t\n\n\n\nb\t\n\n") == "a\n\nb\n\n", "blank normalization")
    log = ("start\n[hr: the line above repeats 2 more times]\n"
           "[hr: 3 lines of the form below, {} being 008 to 010 in turn]\nchunk-{} 4096\n"
           "[hr: 2 lines of the form below, {} being 12 to 11 in turn]\nretry {}\n"
           "[hr: 3 lines of the form below, {} being in turn: 10:00:01, 10:00:07, 10:01:00]\n[{}] GET /health 200\n"
           "[hr: the line above repeats 1 more time]\n[hr: 4 similar lines omitted]\nend\n")
    want = ("start\nstart\nstart\nchunk-008 4096\nchunk-009 4096\nchunk-010 4096\nretry 12\nretry 11\n"
            "[10:00:01] GET /health 200\n[10:00:07] GET /health 200\n[10:01:00] GET /health 200\n"
            "[10:01:00] GET /health 200\n[hr: 4 similar lines omitted]\nend\n")
    expect(expand_log(log) == want, f"log: {expand_log(log)!r}")
    search = "lib/a.c\n  3: x = 1;\n  4- \n--\n[hr: 2 matches omitted]\nlib/b c.h\n  10: y\n"
    want = "lib/a.c:3:x = 1;\nlib/a.c-4-\n--\n[hr: 2 matches omitted]\nlib/b c.h:10:y\n"
    expect(expand_search(search) == want, f"search: {expand_search(search)!r}")
    table = '{"a":["[hr: table]",["id","v","kids"],[1,1.50,["[hr: table]",["k"],["x"],["y"]]],[2,1e-7,[]]]}'
    orig = '{"a": [{"id": 1, "v": 1.50, "kids": [{"k": "x"}, {"k": "y"}]}, {"id": 2, "v": 1e-7, "kids": []}]}'
    expect(tag(untable(parse(table))) == tag(parse(orig)), "json: a table")
    expect(tag(parse('[1.50]')) != tag(parse('[1.5]')) and tag(parse('["1"]')) != tag(parse('[1]')) and
           tag(parse('{"a":1,"a":2}')) != tag(parse('{"a":2}')) and tag(parse('{"a":1,"b":2}')) != tag(parse('{"b":2,"a":1}')),
           "json: numbers as written, strings apart from numbers, duplicate keys and key order")
    for bad in ("[hr: 3 lines of the form below, {} being 1 to 2 in turn]\nx {}\n",
                "[hr: 2 lines of the form below, {} being in turn: a]\nx {}\n",
                "[hr: 2 lines of the form below, {} being 1 to 2 in turn]\nx\n"):
        try:
            expand_log(bad)
        except AssertionError:
            continue
        raise AssertionError(f"log: {bad!r} decoded")


# ---- random JSON: escapes, numbers as written, tables in tables ---------------------------

def random_json_text(rng, depth=0):
    """JSON text written as an API or a pretty-printer might: every escape
    form, numbers in every form, arrays of same-keyed objects (tables) with
    odd ones among them, nested, with random whitespace."""
    def ws():
        return rng.choice(["", " ", "\n", "\n  ", "\n    ", "\t", "\r\n "])

    def string():
        parts = []
        for _ in range(rng.randrange(0, 6)):
            parts.append(rng.choice([
                "plain", "caf\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u0000", "\\u001f",
                "\\/", "\\\"", "\\\\", "\\n", "\\t", "\\u000a", "\\u0022", "\\u005c", "\\u2028",
                "\\u007f", "\u00e9t\u00e9", "\U0001f600", "{}", "[hr", " ", "\\b\\f\\r",
                "\\uD834\\uDD1E", "\\u00E9", "\\u005bhr: table: a", "[\\u0068r: "]))
        return '"' + "".join(parts) + '"'

    def number():
        return rng.choice(["0", "-0", "1.50", "1e-7", "12345678901234567890", "-3.25E+10", "0.1", "42",
                           str(rng.randrange(-1000, 100000)), "2.0", "1E400"])

    def scalar():
        r = rng.random()
        return string() if r < .45 else number() if r < .85 else rng.choice(["true", "false", "null"])

    def obj(keys):
        return "{" + ",".join(ws() + k + ws() + ":" + ws() + value(depth + 1) for k in keys) + ws() + "}"

    def value(d):
        if d > 4 or rng.random() < .45:
            return scalar()
        return random_json_text(rng, d)

    r = rng.random()
    if r < .5:  # a table, maybe with objects of other keys and nested ones
        keys = [rng.choice(['"id"', '"name"', '"caf\\u00e9"', '"x"', '"n\\/a"', '"value"', '"id"'])
                for _ in range(rng.randrange(1, 5))]
        items = [obj(keys) if rng.random() < .85 else obj(keys[::-1] or ['"k"'])
                 for _ in range(rng.randrange(0, 9))]
        return "[" + ",".join(ws() + i for i in items) + ws() + "]"
    if r < .75:
        return "[" + ",".join(ws() + value(depth + 1) for _ in range(rng.randrange(0, 5))) + ws() + "]"
    return obj([string() for _ in range(rng.randrange(0, 5))])


def tag_deep(v):
    """tag(), and a string's JSON value (json_in_strings) tagged as such."""
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "json":
        return ("json", tag_deep(v[1]))
    if isinstance(v, Obj):
        return ("obj", tuple((k, tag_deep(x)) for k, x in v))
    if isinstance(v, list):
        return ("arr", tuple(tag_deep(x) for x in v))
    return tag(v)


def json_in_strings(v):
    """v with each string that holds JSON text (an object or an array) made
    that JSON's value, tables undone: such a string is re-encoded as JSON
    (hr-compress(1): JSON inside strings), so it is compared as a value."""
    if isinstance(v, Obj):
        return Obj((k, json_in_strings(x)) for k, x in v)
    if isinstance(v, list):
        return [json_in_strings(x) for x in v]
    if isinstance(v, str) and not isinstance(v, Num) and v.strip()[:1] in ("{", "["):
        try:
            return ("json", json_in_strings(untable(parse(v))))
        except (ValueError, AssertionError):
            return v
    return v


def check_random_json(n):
    """hr-compress --lossless on n random JSON documents: each decodes to its
    value exactly (keys, duplicates, order, strings, numbers as written)."""
    def fn():
        rng = random.Random(2026)
        bad = []
        for i in range(n):
            text = random_json_text(rng)
            try:
                want = tag_deep(json_in_strings(parse(text)))
            except (ValueError, AssertionError):
                want = None  # not JSON, or holding what reads as hr's own marker: it must stay as it is
            fx = {"text": text, "task": "read the response", "command": "curl -s api", "exit_code": 0}
            req, content = request(fx, "bare")
            rc, out, stats, err = run(json.dumps(req).encode(), True)
            if rc != 0:
                bad.append(f"#{i}: exit {rc}: {err.strip()[-120:]}")
                continue
            got = json.loads(out)["messages"][TOOL_MESSAGE]["content"]
            if not (stats or {}).get("units"):  # left as it was: nothing to decode
                if got != content:
                    bad.append(f"#{i}: no unit listed, yet the result changed")
                continue
            try:
                have = tag_deep(json_in_strings(untable(parse(got))))
            except (ValueError, AssertionError) as e:
                bad.append(f"#{i}: {e}: {got[:100]!r}")
                continue
            if want is None or have != want:
                bad.append(f"#{i}: {first_difference(have, want)} in {text[:100]!r}")
        expect(not bad, f"{len(bad)} of {n} differ: " + "; ".join(bad[:3]))
    return fn


def main():
    started = time.monotonic()
    if not os.access(HR, os.X_OK):
        print(f"skip lossless: no {os.path.relpath(HR, ROOT)}")
        return 0
    fixtures = load()
    checks.check("decoder: the lossless formats decode as hr-compress(1) says, on hand-written examples",
                 decoder_self_check)

    def facts_hold():
        bad = []
        for fx in fixtures:
            lines = set(x.rstrip(" \t") for x in fx["text"].split("\n"))
            hay = canon(parse(fx["text"])) if fx["is_json"] else fx["text"]
            bad += [f"{fx['name']}: {x[:60]}" for x in fx["lines"] if x not in lines]
            bad += [f"{fx['name']}: {x[:60]}" for x in fx["texts"] if x not in hay]
            expect(fx["lines"] or fx["texts"], f"{fx['name']} has no facts")
        expect(not bad, f"facts.json names what its fixtures lack: {bad[:3]}")
    checks.check("fixtures: every fact of facts.json is in its fixture", facts_hold)
    checks.check("lossless round trip: 300 random JSON documents (every escape, numbers as written, tables in tables)",
                 check_random_json(300))

    rows, kinds = [], {}
    for fx in fixtures:
        for variant in (["envelope", "bare"] if fx["is_json"] else ["envelope"]):
            label = f"{fx['name']} ({variant})"
            ll, lo = Result(fx, variant, True), Result(fx, variant, False)
            checks.check(f"lossless round trip: {label}", check_lossless(ll))
            checks.check(f"lossless idempotent: {label}", check_idempotent(ll))
            if array_of_objects(fx):
                checks.check(f"lossless saves {MIN_JSON_SAVING:.0%} or more on a JSON array of objects: {label}",
                             check_saving(ll))
            checks.check(f"lossy keeps every fact: {label}", check_facts(lo))
            checks.check(f"lossy keeps lines and items in order, none merged or made up: {label}", check_order(lo))
            checks.check(f"lossy adds no number: {label}", check_numbers(lo))
            checks.check(f"lossy idempotent: {label}", check_idempotent(lo))
            (b1, a1), (b2, a2) = ll.saving(), lo.saving()
            stage = [u["lossless"] for u in lo.units if isinstance(u.get("lossless"), int)]
            s3 = sum(stage) if stage else None
            k1 = "envelope" if ll.envelope_kind() else (ll.kind or "-")
            k2 = "envelope" if lo.envelope_kind() else (lo.kind or "-")
            req = f"{lo.stats.get('tokens_before')} -> {lo.stats.get('tokens_after')}" if lo.stats else "?"
            rows.append((label, f"{k1}/{k2}", pct(b1, a1), f"{b1} -> {a1}", pct(b2, a2), f"{b2} -> {a2}",
                         pct(b2, s3) if s3 is not None else "-", req))
            kind = next((k for k in (k2, k1) if k not in ("-", "envelope")), "envelope only")
            if fx["is_json"]:
                kind = "json"
            s = kinds.setdefault(kind, [0, 0, 0, 0, 0])
            for i, v in enumerate((b1, a1, b2, a2, s3 if s3 is not None else b2)):
                s[i] += v

    print("savings on the tool result (its units' tokens; kinds: --lossless/default, envelope: the unit's kind named")
    print("the envelope's re-encoding; stage: what the default's lossless stage saved, from its \"lossless\" field):")
    head = ("fixture", "kinds", "lossless", "tokens", "default", "tokens", "stage", "request (default)")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  " + "  ".join(str(x).ljust(w) if i in (0, 1) else str(x).rjust(w)
                               for i, (x, w) in enumerate(zip(r, widths))))
    print("savings per kind (the default's kind; bare and enveloped JSON as json):")
    for k, (b1, a1, b2, a2, s3) in sorted(kinds.items()):
        print(f"  {k:<13} lossless {pct(b1, a1):>6} ({b1} -> {a1})   default {pct(b2, a2):>6} ({b2} -> {a2})"
              f"   default's lossless stage {pct(b2, s3):>6}")
    print(f"  ({time.monotonic() - started:.1f} s)")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
