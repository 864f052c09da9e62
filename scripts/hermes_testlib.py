"""What the Hermes integration tests share: a fake provider on loopback that
records each request, a real hr-proxy in front of it, the Hermes stand-in in
testdata/hermes-standin, and ok / not ok reporting."""
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STANDIN = os.path.join(ROOT, "testdata", "hermes-standin", "standin.py")
PLUGIN = os.path.join(ROOT, "scripts", "hermes-plugin", "headroom-route")
FIXTURE_HOME = os.path.join(ROOT, "testdata", "hermes-home")
# homes shaped as `hermes setup` leaves them, and a $HOME with Claude Code's login
HOMES = os.path.join(ROOT, "testdata", "hermes-homes")
USER_HOME = os.path.join(HOMES, "user-home")
ROUTED = ["anthropic", "openai-codex", "openai-api"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


OK_REPLY = (200, b'{"id":"x","type":"message","content":[]}')


def wait_port(port):
    """Until something listens on 127.0.0.1:port (5 s at most)."""
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)


class Upstream:
    """A fake provider on loopback: self.seen holds the requests it got,
    self.reply what it answers ((status, JSON body); tests change it)."""

    def __init__(self):
        seen = self.seen = []
        self.reply = OK_REPLY
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                             "body": body})
                status, answer = upstream.reply
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()


class World:
    """A fake upstream (self.seen: the requests it got; self.reply: what it
    answers) behind a real hr-proxy (self.proxy_url), and a scratch folder
    (self.tmp)."""

    def __init__(self, build, prefix, proxy_args=(), proxy_env=None):
        self.fake = Upstream()
        self.seen = self.fake.seen
        up = self.upstream_url = self.fake.url
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        port = free_port()
        self.proxy_url = f"http://127.0.0.1:{port}"
        self.port = port
        self.command = [os.path.join(build, "hr-proxy"), "--listen", f"127.0.0.1:{port}", "--log-dir",
                        os.path.join(self.tmp, "logs"), "--anthropic-api-url", up, "--openai-api-url", up,
                        "--chatgpt-api-url", up + "/backend-api/codex", *proxy_args]
        self.proxy_env = proxy_env
        self.start_proxy()

    def start_proxy(self):
        self.proxy = subprocess.Popen(
            self.command, stderr=subprocess.PIPE if self.proxy_env is not None else subprocess.DEVNULL,
            env=dict(os.environ, HEADROOM_HOME=self.tmp, **(self.proxy_env or {})))
        wait_port(self.port)

    def restart_proxy(self):
        """The same proxy, stopped and started again (as a new version would be)."""
        self.proxy.terminate()
        self.proxy.wait(timeout=30)
        self.start_proxy()

    @property
    def reply(self):
        return self.fake.reply

    @reply.setter
    def reply(self, value):
        self.fake.reply = value

    def proxy_log(self):
        try:
            with open(os.path.join(self.tmp, "logs", "requests.jsonl"), encoding="utf-8") as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def close(self):
        self.proxy.terminate()
        self.proxy.wait(timeout=10)
        self.fake.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def copy_home(tmp, name, to=None):
    """A copy of testdata/hermes-homes/NAME under tmp (Hermes rewrites auth.json)."""
    home = os.path.join(tmp, to or name)
    shutil.copytree(os.path.join(HOMES, name), home)
    os.chmod(os.path.join(home, "auth.json"), 0o600)
    return home


# what a user's shell may export and the stand-in must not see
SHELL_CREDENTIALS = ("ANTHROPIC_TOKEN", "ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "OPENAI_API_KEY",
                     "OPENROUTER_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "HERMES_SAFE_MODE")


def standin_run(home, args, omit="", env=None):
    """A Python process with the stand-in Hermes's modules and home, $HOME
    holding Claude Code's login."""
    e = {k: v for k, v in os.environ.items() if k not in SHELL_CREDENTIALS}
    e.update(HERMES_HOME=home, HOME=USER_HOME, HERMES_STANDIN_OMIT=omit, PYTHONDONTWRITEBYTECODE="1")
    e.update(env or {})
    return subprocess.run([sys.executable, *args], env=e, capture_output=True, text=True, timeout=30)


def standin_code(home, code, omit="", env=None):
    """Runs code with the stand-in's modules importable (standin imported,
    .env loaded); plugins load when the code calls standin.load_plugins()."""
    setup = "import sys, json; sys.path.insert(0, %r); import standin\n" % os.path.dirname(STANDIN)
    return standin_run(home, ["-c", setup + code], omit, env)


def hermes(home, provider, *flags, omit="", env=None):
    """The stand-in Hermes: (its JSON line, its stderr)."""
    r = standin_run(home, [STANDIN, "--provider", provider, *flags], omit, env)
    if r.returncode:
        raise AssertionError(f"stand-in exited {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout), r.stderr


def state(home):
    with open(os.path.join(home, "headroom-route.state.json"), encoding="utf-8") as f:
        return json.load(f)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def expect(cond, why):
    if not cond:
        raise AssertionError(why)


class Checks:
    """Runs named checks, printing "ok LABEL: NAME" or "not ok LABEL: NAME: why"."""

    def __init__(self, label):
        self.label = label
        self.failures = 0

    def check(self, name, fn):
        try:
            fn()
            print(f"ok {self.label}: {name}")
        except Exception as e:  # a failed assertion or a crash: both are a failure
            self.failures += 1
            detail = str(e) if isinstance(e, AssertionError) else traceback.format_exc(limit=2)
            print(f"not ok {self.label}: {name}: {detail}".replace("\n", " | "))
