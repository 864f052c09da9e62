"""The kompress scorer in hr-compress and hr-proxy, on the random model of
testdata/kompress-ref/tiny-f32 whose word decisions the PyTorch reference
wrote to expected.json:
    python3 scripts/kompress-test.py BUILD_DIR
Prints "ok NAME" / "not ok NAME: why" lines."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hermes_testlib import ROOT, Checks, World, expect  # noqa: E402

BUILD = sys.argv[1]
MODEL = os.path.join(ROOT, "testdata", "kompress-ref", "tiny-f32")
with open(os.path.join(MODEL, "expected.json"), encoding="utf-8") as f:
    REF = {t["name"]: t for t in json.load(f)["texts"]}
# the long prose text: three windows, words kept and dropped in each
TEXT = REF["long"]["text"] + " " + REF["prose"]["text"]
# hr keeps words that say something failed, whatever a scorer says (lib/compress/mustkeep.c)
SEVERITY = {"abort", "aborted", "crash", "critical", "denied", "error", "errors", "exception", "fail", "failed",
            "failure", "fatal", "forbidden", "killed", "panic", "refused", "timeout", "warning", "warnings"}
MUST = ["ENOENT", "/var/log/app.log", "30s", "0x7ffd1234", "HttpServerConfig,", "config.yaml", "--max-age"]
checks = Checks("kompress")


def cpu_flags():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


# where the CPU has AVX-512 BF16, the cpu backend multiplies in bf16 and says so
BF16 = {"avx512f", "avx512bw", "avx512vl", "avx512_bf16"} <= cpu_flags()
CPU_BACKEND = "cpu-bf16" if BF16 else "cpu"


def request(text):
    msgs = [{"role": "user", "content": "Summarise what the tool said"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "web_fetch", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": text}]
    msgs += [{"role": "user", "content": w} for w in ("one", "two", "three", "four", "five")]
    return json.dumps({"model": "gpt-4o", "messages": msgs}).encode()


def compress(body, *args, env=None):
    r = subprocess.run([os.path.join(BUILD, "hr-compress"), "--json-stats", *args], input=body,
                       capture_output=True, env=dict(os.environ, **(env or {})), timeout=120)
    return r.returncode, r.stdout, r.stderr.decode()


def stats_of(stderr):
    return json.loads([line for line in stderr.splitlines() if line.startswith("{")][-1])


def tool_text(out):
    return json.loads(out)["messages"][2]["content"]


def alignable(words, got, must_keep, must_drop):
    """Whether got can be words with some dropped, keeping every must_keep
    position and none of must_drop (words repeat, so positions are searched)."""
    reach = {0}  # how many output words are matched after each input word
    for i, w in enumerate(words):
        nxt = set()
        for j in reach:
            if j < len(got) and got[j] == w and i not in must_drop:
                nxt.add(j + 1)
            if i not in must_keep:
                nxt.add(j)
        reach = nxt
    return len(got) in reach


def check_word_decisions(backend_args, backend, margin):
    """The words out against the reference's decisions, except for words
    within margin of a threshold: 1e-3 for fp32, 1e-2 for bf16, whose scores
    test_kompress measures within 5e-3 of fp32's."""
    ref = REF["long"]  # corpus words only: no must-keep rule but the severity words applies
    code, out, err = compress(request(ref["text"]), "--scorer", "kompress", "--kompress-model", MODEL, *backend_args)
    expect(code == 0, f"exit {code}: {err}")
    st = stats_of(err)
    expect(st["scorer"] == "kompress" and st["scorer_backend"] == backend, f"stats say {st}")
    text = tool_text(out)
    expect(text.rstrip().endswith("words omitted; kompress scorer]"), f"no marker at the end: {text[-80:]!r}")
    got = text[:text.rindex("[hr: ")].split()
    words = ref["text"].split()
    clear = [i for i in range(len(words)) if ref["word_margin"][i] >= margin]
    keep = {i for i in clear if ref["word_keep"][i]}
    drop = {i for i in clear if not ref["word_keep"][i] and words[i].lower().strip(".,") not in SEVERITY}
    expect(len(keep) + len(drop) > 0.8 * len(words), "too many words near a threshold to tell")
    expect(len(keep) <= len(got) <= len(words) - len(drop),
           f"{len(got)} words out; the model keeps {len(keep)} and drops {len(drop)} of {len(words)}")
    expect(alignable(words, got, keep, drop), "the words out are not the ones the model keeps")
    dropped = len(words) - len(got)
    expect(f"[hr: {dropped} words omitted" in text, f"marker does not count {dropped} words: {text[-60:]!r}")
    expect(dropped > 100, f"only {dropped} words dropped")


def check_must_keep():
    code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", MODEL)
    text = tool_text(out)
    missing = [w for w in MUST if w not in text.split()]
    expect(not missing, f"must-keep words dropped: {missing}")


def check_idempotent():
    code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", MODEL)
    code2, out2, err2 = compress(out, "--scorer", "kompress", "--kompress-model", MODEL)
    expect(code2 == 0 and out2 == out, "compressing the output again changed it")


def check_auto_picks_model():
    code, out, err = compress(request(TEXT), env={"HEADROOM_KOMPRESS_MODEL": MODEL})
    expect(code == 0 and stats_of(err)["scorer"] == "kompress", f"auto with a model: {err}")
    tmp = tempfile.mkdtemp(prefix="hr-kompress-")
    try:
        code, out, err = compress(request(TEXT), env={"HEADROOM_HOME": tmp, "HEADROOM_KOMPRESS_MODEL": ""})
        expect(code == 0 and stats_of(err)["scorer"] == "lexical" and "Kompress" not in err,
               f"auto without a model: {err}")
        # the default folder: $HEADROOM_HOME/models/kompress-v2-base
        os.makedirs(os.path.join(tmp, "models"))
        shutil.copytree(MODEL, os.path.join(tmp, "models", "kompress-v2-base"))
        code, out, err = compress(request(TEXT), env={"HEADROOM_HOME": tmp, "HEADROOM_KOMPRESS_MODEL": ""})
        expect(code == 0 and stats_of(err)["scorer"] == "kompress", f"auto with the default folder: {err}")
    finally:
        shutil.rmtree(tmp)


def broken_model(edit):
    tmp = tempfile.mkdtemp(prefix="hr-kompress-")
    d = os.path.join(tmp, "m")
    shutil.copytree(MODEL, d)
    edit(d)
    return tmp, d


def set_config(key, value):
    def edit(d):
        p = os.path.join(d, "config.json")
        with open(p) as f:
            c = json.load(f)
        c[key] = value
        with open(p, "w") as f:
            json.dump(c, f)
    return edit


def set_bpe_option(key, value):
    def edit(d):
        p = os.path.join(d, "tokenizer.json")
        with open(p, encoding="utf-8") as f:
            t = json.load(f)
        t["model"][key] = value
        with open(p, "w", encoding="utf-8") as f:
            json.dump(t, f)
    return edit


def check_broken_model():
    tmp, d = broken_model(set_config("hidden_size", 96))
    try:
        code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", d)
        expect(code == 78, f"exit {code}, expected 78")
        expect("encoder.embeddings.tok_embeddings.weight" in err and "config.json" in err,
               f"the error does not name the tensor: {err.strip()}")
        expect(len(err.strip().splitlines()) == 1, f"not one line: {err!r}")
        # auto: the lexical scorer, and one line saying why
        code, out, err = compress(request(TEXT), "--kompress-model", d)
        expect(code == 0 and stats_of(err)["scorer"] == "lexical", f"auto with a broken model: {err}")
        expect("the Kompress model is unusable" in err, f"no note: {err}")
        # --fail-open sends the request as it was
        body = request(TEXT)
        code, out, err = compress(body, "--scorer", "kompress", "--kompress-model", d, "--fail-open")
        expect(code == 0 and out == body, "--fail-open did not copy the request")
    finally:
        shutil.rmtree(tmp)


def check_bad_files():
    cases = [
        (set_config("num_hidden_layers", 5), "encoder.layers.3.attn_norm.weight"),
        (lambda d: open(os.path.join(d, "tokenizer.json"), "w").write('{"model": {"type": "WordPiece"}}'),
         "model.type must be \"BPE\""),
        (lambda d: open(os.path.join(d, "config.json"), "w").write('{"hidden_size": 64,\n  "x": }'),
         "config.json:2:"),
        (lambda d: os.remove(os.path.join(d, "tokenizer.json")), "tokenizer.json: No such file"),
        # BPE options that would change the tokens are refused, not ignored
        (set_bpe_option("dropout", 0.1), "model.dropout is not supported"),
        (set_bpe_option("continuing_subword_prefix", "##"), "model.continuing_subword_prefix is not supported"),
    ]
    for edit, words in cases:
        tmp, d = broken_model(edit)
        try:
            code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", d)
            expect(code == 78 and words in err, f"expected exit 78 naming {words!r}: exit {code}, {err.strip()}")
        finally:
            shutil.rmtree(tmp)


def check_backend_choice():
    for name, backend in (("cpu", CPU_BACKEND), ("onnx", CPU_BACKEND), ("cpu-fp32", "cpu")):
        code, out, err = compress(request(TEXT), "--kompress-model", MODEL, env={"HEADROOM_KOMPRESS_BACKEND": name})
        expect(code == 0 and stats_of(err)["scorer_backend"] == backend, f"{name}: {err}")
    code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", MODEL, "--kompress-backend", "cpu-bf16")
    if BF16:
        expect(code == 0 and stats_of(err)["scorer_backend"] == "cpu-bf16", f"cpu-bf16: {err}")
    else:
        expect(code == 78 and "no AVX-512 BF16" in err, f"cpu-bf16 on a CPU without: exit {code}, {err}")
    code, out, err = compress(request(TEXT), "--scorer", "kompress", "--kompress-model", MODEL, "--kompress-backend", "gpu")
    expect(code == 64 and "unknown Kompress backend 'gpu'" in err, f"exit {code}: {err}")
    code, out, err = compress(request(TEXT), "--scorer", "neural")
    expect(code == 64 and "unknown scorer 'neural'" in err, f"exit {code}: {err}")


PLUGIN = os.path.join(BUILD, "kompress-cuda.so")
STUB_DRIVER = "/usr/local/cuda/lib64/stubs/libcuda.so"


def nvidia_driver():
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def notes_of(err):
    return [line for line in err.splitlines() if not line.startswith("{")]


def check_cuda_fallback():
    """Where CUDA cannot run: auto scores on the CPU, byte for byte as the cpu
    backend does, saying why in one line (a build with the CUDA plugin) or
    saying nothing (a build without); an explicit cuda exits 78 saying why.
    Without a driver the plugin, and with it cuBLAS, is never loaded."""
    body = request(TEXT)
    code, cpu_out, err = compress(body, "--scorer", "kompress", "--kompress-model", MODEL, "--kompress-backend", "cpu")
    expect(code == 0, f"cpu: exit {code}: {err}")
    if nvidia_driver():
        code, out, err = compress(body, "--scorer", "kompress", "--kompress-model", MODEL)
        expect(code == 0 and stats_of(err)["scorer_backend"] == "cuda", f"a machine with a driver: {err}")
        return
    auto = ("--scorer", "kompress", "--kompress-model", MODEL)
    cuda = auto + ("--kompress-backend", "cuda")
    if not os.path.exists(PLUGIN):
        code, out, err = compress(body, *auto)
        expect(code == 0 and out == cpu_out and not notes_of(err), f"auto without CUDA: exit {code}, {err}")
        code, out, err = compress(body, *cuda)
        expect(code == 78 and "built without CUDA" in err, f"cuda in a build without: exit {code}, {err}")
        return
    code, out, err = compress(body, *auto, env={"LD_DEBUG": "files"})
    expect(code == 0 and out == cpu_out and stats_of(err)["scorer_backend"] == CPU_BACKEND, f"auto: exit {code}")
    expect("libcublas" not in err and "kompress-cuda.so" not in err, "the plugin was loaded without a driver")
    code, out, err = compress(body, *auto)
    expect(notes_of(err) == ["hr-compress: the Kompress scorer runs on the CPU: no NVIDIA driver "
                             "(libcuda.so.1 not found)"], f"auto's note: {err}")
    code, out, err = compress(body, *cuda)
    expect(code == 78 and len(err.splitlines()) == 1 and "no NVIDIA driver" in err, f"cuda: exit {code}, {err}")
    if not os.path.exists(STUB_DRIVER):
        return
    # CUDA's stub driver answers that it is a stub: the plugin loads and finds no device
    tmp = tempfile.mkdtemp(prefix="hr-stub-")
    try:
        shutil.copy(STUB_DRIVER, os.path.join(tmp, "libcuda.so.1"))
        env = {"LD_LIBRARY_PATH": tmp}
        code, out, err = compress(body, *auto, env=env)
        expect(code == 0 and out == cpu_out, f"auto with the stub driver: exit {code}, {err}")
        expect(len(notes_of(err)) == 1 and "runs on the CPU: no CUDA device" in err, f"auto's note: {err}")
        code, out, err = compress(body, *cuda, env=env)
        expect(code == 78 and "no CUDA device" in err, f"cuda with the stub driver: exit {code}, {err}")
        for plugin, words in ((os.path.join(BUILD, "libhr.so"), "not a kompress CUDA plugin"),
                              (os.path.join(tmp, "missing.so"), "cannot open shared object file")):
            code, out, err = compress(body, *cuda, env=dict(env, HR_KOMPRESS_CUDA_PLUGIN=plugin))
            expect(code == 78 and words in err, f"plugin {plugin}: exit {code}, {err}")
    finally:
        shutil.rmtree(tmp)


def post_chat(world, body):
    """body to hr-proxy's chat completions route, with a bearer key as an agent sends it."""
    req = urllib.request.Request(world.proxy_url + "/v1/chat/completions", data=body, method="POST",
                                 headers={"content-type": "application/json", "authorization": "Bearer sk-test"})
    urllib.request.urlopen(req, timeout=120).read()


def check_proxy():
    world = World(BUILD, "hr-kompress-", ["--scorer", "kompress", "--kompress-model", MODEL,
                                          "--compress-timeout-ms", "30000"], proxy_env={})
    try:
        body = request(TEXT)
        post_chat(world, body)
        code, out, err = compress(body, "--scorer", "kompress", "--kompress-model", MODEL)
        expect(world.seen and world.seen[-1]["body"] == out, "upstream did not get what hr-compress gives")
        rec = world.proxy_log()[-1]
        expect(rec["scorer"] == "kompress" and rec["scorer_backend"] == CPU_BACKEND, f"log record: {rec}")
        expect(rec["tokens_saved"] > 0, f"log record: {rec}")
    finally:
        world.close()
        err = world.proxy.stderr.read().decode()
    if os.path.exists(PLUGIN) and not nvidia_driver():
        notes = [line for line in err.splitlines() if "runs on the CPU" in line]
        expect(len(notes) == 1, f"expected one line about the CPU, got {len(notes)}: {err[-400:]}")


def check_proxy_concurrent():
    """Four requests at once through four workers sharing one model (one
    tokeniser, the backend's runs one at a time): each goes upstream exactly
    as hr-compress alone compresses it."""
    import threading
    world = World(BUILD, "hr-kompress-", ["--scorer", "kompress", "--kompress-model", MODEL, "--max-concurrent", "4",
                                          "--compress-timeout-ms", "60000"], proxy_env={})
    bodies = [request(" ".join(TEXT.split()[k * 40:]) + f" request {k}") for k in range(4)]
    errors = []

    def send(body):
        try:
            post_chat(world, body)
        except Exception as e:  # reported below, with the others
            errors.append(str(e))
    try:
        threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expect(not errors, f"requests failed: {errors}")
        got = sorted(s["body"] for s in world.seen)
        want = sorted(compress(b, "--scorer", "kompress", "--kompress-model", MODEL)[1] for b in bodies)
        expect(len(got) == 4 and got == want, "what went upstream differs from hr-compress's output")
        expect(all(r["scorer"] == "kompress" and r["tokens_saved"] > 0 for r in world.proxy_log()[-4:]),
               "a request was not compressed with the model")
    finally:
        world.close()


def check_proxy_fallback_note():
    tmp, d = broken_model(set_config("hidden_size", 96))
    world = World(BUILD, "hr-kompress-", ["--kompress-model", d], proxy_env={})
    try:
        body = request(TEXT)
        post_chat(world, body)
        rec = world.proxy_log()[-1]
        expect(rec["scorer"] == "lexical" and rec["scorer_backend"] is None, f"log record: {rec}")
    finally:
        world.close()
        err = world.proxy.stderr.read().decode()
        shutil.rmtree(tmp)
    notes = [line for line in err.splitlines() if "Kompress model is unusable" in line]
    expect(len(notes) == 1, f"expected one note line, got {len(notes)}: {err[-400:]}")


def fake_hub(corrupt=False):
    """A stand-in for the model hub on loopback: model.safetensors in the
    model's repository (with x-linked-etag, as for LFS files), config.json and
    tokenizer.json only in ModernBERT's (with a git blob etag)."""
    import hashlib
    import http.server
    import threading

    class Hub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            parts = self.path.split("/")  # /owner/name/resolve/rev/file
            repo, name = "/".join(parts[1:3]), parts[-1]
            where = {"model.safetensors": "chopratejas/kompress-v2-base"}.get(name, "answerdotai/ModernBERT-base")
            if repo != where or not os.path.exists(os.path.join(MODEL, name)):
                self.send_response(404)
                self.end_headers()
                return
            data = open(os.path.join(MODEL, name), "rb").read()
            self.send_response(200)
            if name.endswith(".safetensors"):
                self.send_header("x-linked-etag", '"%s"' % hashlib.sha256(data).hexdigest())
            else:
                self.send_header("etag", '"%s"' % hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest())
            if corrupt and name.endswith(".safetensors"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    return hub


def fetch(hub, dest):
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:%d" % hub.server_address[1],
               HR_COMPRESS=os.path.join(BUILD, "hr-compress"), http_proxy="", https_proxy="")
    return subprocess.run([os.path.join(ROOT, "scripts", "fetch-kompress-model"), "--dest", dest], env=env,
                          capture_output=True, text=True, timeout=120)


def check_fetch():
    tmp = tempfile.mkdtemp(prefix="hr-kompress-")
    hub = fake_hub()
    try:
        dest = os.path.join(tmp, "models", "kompress-v2-base")
        r = fetch(hub, dest)
        expect(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}")
        for f in ("config.json", "model.safetensors", "tokenizer.json"):
            expect(open(os.path.join(dest, f), "rb").read() == open(os.path.join(MODEL, f), "rb").read(), f)
        code, out, err = compress(request(TEXT), env={"HEADROOM_HOME": tmp, "HEADROOM_KOMPRESS_MODEL": ""})
        expect(stats_of(err)["scorer"] == "kompress", "the installed model is not picked up")
        r = fetch(hub, dest)  # again: the first install is kept as .old
        expect(r.returncode == 0 and os.path.isdir(dest + ".old"), r.stderr)
    finally:
        hub.shutdown()
        shutil.rmtree(tmp)


def check_fetch_damaged():
    tmp = tempfile.mkdtemp(prefix="hr-kompress-")
    hub = fake_hub(corrupt=True)
    try:
        dest = os.path.join(tmp, "kompress")
        os.makedirs(dest)
        open(os.path.join(dest, "keep-me"), "w").write("x")
        r = fetch(hub, dest)
        expect(r.returncode == 1 and "model.safetensors: hash" in r.stderr, f"exit {r.returncode}: {r.stderr}")
        expect(os.listdir(tmp) == ["kompress"] and os.listdir(dest) == ["keep-me"], f"left behind: {os.listdir(tmp)}")
    finally:
        hub.shutdown()
        shutil.rmtree(tmp)


checks.check("hr-compress keeps and drops the words the reference model does (cpu-fp32)",
             lambda: check_word_decisions(("--kompress-backend", "cpu-fp32"), "cpu", 1e-3))
checks.check(f"the same by default, on {CPU_BACKEND}",
             lambda: check_word_decisions((), CPU_BACKEND, 1e-2 if BF16 else 1e-3))
checks.check("numbers, paths, hex, flags, CamelCase, ALLCAPS and dotted names stay", check_must_keep)
checks.check("compressing the output again changes nothing", check_idempotent)
checks.check("auto takes the model from HEADROOM_KOMPRESS_MODEL or the default folder, else lexical",
             check_auto_picks_model)
checks.check("a model that does not match its config: exit 78 naming the tensor; auto falls back with a note",
             check_broken_model)
checks.check("broken config.json / tokenizer.json: exit 78 naming file and place", check_bad_files)
checks.check("backend choice: cpu, onnx, cpu-fp32 by environment, cpu-bf16 by flag, bad names are usage errors",
             check_backend_choice)
checks.check("without a usable GPU: auto on the CPU with one line saying why, cuda exits 78", check_cuda_fallback)
checks.check("hr-proxy compresses with the model, exactly as hr-compress, and logs the scorer", check_proxy)
checks.check("hr-proxy: four requests at once on four workers, each as hr-compress gives it", check_proxy_concurrent)
checks.check("hr-proxy with an unusable model: lexical, one note line", check_proxy_fallback_note)
checks.check("fetch-kompress-model downloads, verifies, load-checks and installs (fake hub on loopback)",
             check_fetch)
checks.check("fetch-kompress-model refuses a damaged download and changes nothing", check_fetch_damaged)
sys.exit(1 if checks.failures else 0)
