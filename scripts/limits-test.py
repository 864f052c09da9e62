"""hr-compress and hr-proxy at the edges: a request of tens of megabytes that
is one word (memory stays a small multiple of the body), and a listen host
whose name says loopback while it resolves elsewhere (refused, as it is
resolved, not as it is spelled).
    python3 scripts/limits-test.py BUILD_DIR
Prints "ok limits: NAME" / "not ok limits: NAME: why" / "skip limits: NAME: why"."""
import filecmp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import ROOT, Checks  # noqa: E402

BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/release")
SANITIZED = os.path.basename(os.path.normpath(BUILD)) == "asan"
checks = Checks("limits")
tmp = tempfile.mkdtemp(prefix="hr-limits-test.")
ENV = dict(os.environ, HEADROOM_HOME=os.path.join(tmp, "no-home"))


# Made by a separate Python process: this one stays small, since a child
# started from it reports this process's resident size as its own peak when
# that is larger (Linux records it at exec).
GENERATE = r"""
import json, random, sys
path, size, letters = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(size)
per_char = sum(len(c.encode()) for c in letters) / len(letters)
word = "".join(rnd.choices(letters, k=int(size / per_char)))
req = {"model": "gpt-4o", "messages": [
    {"role": "user", "content": "what is in the blob?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_blob", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": word}]}
with open(path, "w", encoding="utf-8") as f:
    json.dump(req, f, ensure_ascii=False)
"""


def one_word_request(path, size, letters):
    subprocess.run([sys.executable, "-c", GENERATE, path, str(size), letters], check=True)
    return os.path.getsize(path)


def peak_rss(argv, stdin_path, out_path):
    """Runs argv with stdin from a file and stdout to another; its exit
    status, standard error, and its own peak resident memory in bytes."""
    with open(stdin_path, "rb") as fin, open(out_path, "wb") as fout:
        child = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=subprocess.PIPE, env=ENV)
        err = child.stderr.read().decode(errors="replace")
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, err, usage.ru_maxrss * 1024


def compress_one_word(letters, label):
    def run():
        path = os.path.join(tmp, f"{label}.json")
        size = one_word_request(path, 16 << 20, letters)
        out = os.path.join(tmp, f"{label}.out")
        rc, err, peak = peak_rss([os.path.join(BUILD, "hr-compress"), "--stats"], path, out)
        assert rc == 0, f"exit {rc}: {err[-300:]}"
        assert "tokens" in err, f"no statistics: {err[-300:]}"
        # one word has nothing to cut or re-encode: it leaves as it came
        assert filecmp.cmp(path, out, shallow=False), "the request changed"
        os.unlink(out)
        if SANITIZED:
            return  # AddressSanitizer's shadow memory makes the size its own
        # the body, its decoded text, the lossless and cut forms, the output:
        # a handful of copies, and scratch memory that does not grow with it
        limit = 8 * size + (64 << 20)
        assert peak < limit, f"peak memory {peak >> 20} MiB for a body of {size >> 20} MiB (limit {limit >> 20} MiB)"
    return run


checks.check("hr-compress: a 16 MiB tool result of one word of random letters stays under 8x its size",
             compress_one_word("abcdefghijklmnopqrstuvwxyz", "letters"))
checks.check("hr-compress: a 16 MiB tool result of one letter repeated stays under 8x its size",
             compress_one_word("a", "one-letter"))
checks.check("hr-compress: a 16 MiB word of accented lowercase letters stays under 8x its size",
             compress_one_word("\u00e9\u00df\u0436\u00e7\u00f8", "multibyte"))

# ---- the listen host, checked as resolved ---------------------------------------------
SHIM = os.path.join(tmp, "resolve-as.so")
cc = shutil.which("cc") or shutil.which("gcc")
built = cc and subprocess.run([cc, "-shared", "-fPIC", "-o", SHIM, os.path.join(ROOT, "scripts", "resolve-as.c"), "-ldl"],
                              capture_output=True).returncode == 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proxy_with_name(name, address, *extra):
    """hr-proxy --listen NAME:PORT where NAME resolves to ADDRESS; its exit
    status and standard error, or None for the status when it was still
    serving after it said it listens (then it is stopped)."""
    env = dict(ENV, HR_TEST_RESOLVE=f"{name}={address}", LD_PRELOAD=SHIM)
    if SANITIZED:  # the double comes before the sanitizer's runtime
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    port = free_port()
    argv = [os.path.join(BUILD, "hr-proxy"), "--listen", f"{name}:{port}", "--log-dir", os.path.join(tmp, "logs"), *extra]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = b""
    deadline = time.time() + 20
    while time.time() < deadline:
        line = child.stderr.readline()
        err += line
        if not line or b"listening on" in line:
            break
    if child.poll() is None and b"listening on" in err:
        child.terminate()
        child.wait(10)
        return None, err.decode(errors="replace")
    err += child.stderr.read()
    child.wait(10)
    return child.returncode, err.decode(errors="replace")


def refused(name, address):
    def run():
        rc, err = proxy_with_name(name, address)
        assert rc == 78, f"exit {rc} (expected 78, refused): {err[-300:]}"
        assert f"resolves to {address}" in err and "not a loopback address" in err and "--allow-remote" in err, err[-300:]
        assert len(err.strip().splitlines()) == 1, f"more than one line: {err!r}"
    return run


def serves(name, address, *extra):
    def run():
        rc, err = proxy_with_name(name, address, *extra)
        assert rc is None, f"exit {rc}: {err[-300:]}"
    return run


if not built:
    print("skip limits: the listen host as resolved: no C compiler to build scripts/resolve-as.c")
else:
    checks.check("--listen 127.attacker.example resolving to 0.0.0.0 is refused, exit 78",
                 refused("127.attacker.example", "0.0.0.0"))
    checks.check("--listen localhost resolving to :: (every interface) is refused, exit 78",
                 refused("localhost", "::"))
    checks.check("--listen localhost resolving to a LAN address is refused, exit 78",
                 refused("localhost", "192.168.1.20"))
    checks.check("--listen 127.attacker.example resolving to 127.0.0.1 serves",
                 serves("127.attacker.example", "127.0.0.1"))
    checks.check("--listen localhost resolving to ::ffff:127.0.0.1 (IPv4 loopback as IPv6) serves",
                 serves("localhost", "::ffff:127.0.0.1"))
    checks.check("--allow-remote still lets a name resolving to 0.0.0.0 serve",
                 serves("127.attacker.example", "0.0.0.0", "--allow-remote"))

shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if checks.failures else 0)
