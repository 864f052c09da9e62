"""The reference for libhr's Kompress scorer, in PyTorch.

Builds two small random models in the layout of chopratejas/kompress-v2-base
(a ModernBERT encoder, token_head and span_conv), each a folder holding
config.json, model.safetensors and tokenizer.json, and writes what the model
says about a set of texts to expected.json beside them:

    /usr/bin/python3 scripts/kompress-reference.py [OUT_DIR]

OUT_DIR defaults to testdata/kompress-ref. Everything here is written from
the published architecture, independently of libhr:
  - the tokenizer is a byte-level BPE trained here on a small corpus; it is
    applied with Hugging Face's merge semantics (only a listed pair merges)
    and a pre-splitter built on unicodedata, not libhr's rank lookups;
  - the encoder runs in float64 from the stored weights (bf16 and fp16 are
    widened exactly), so the reference is the model's true output and fp32
    code is compared with it, not with another fp32 computation.
The weights come from Python's own seeded generator, so the model files are
the same bytes on every machine; the scores depend on torch's float64
arithmetic only within far less than the tests' tolerance."""
import collections
import json
import math
import os
import random
import struct
import sys
import unicodedata

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "kompress-ref")

CHUNK_WORDS = 350
MAX_TOKENS = 512  # with [CLS] and [SEP]

# ---------------------------------------------------------------- tokenizer


def byte_to_unicode():
    """GPT-2's printable stand-ins for the 256 bytes."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


B2U = byte_to_unicode()
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def kind(ch):
    c = unicodedata.category(ch)
    if ch.isspace():
        return "s"
    if c[0] == "L":
        return "L"
    if c[0] == "N":
        return "N"
    return "P"


def presplit(text):
    """GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+|
    ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+, walked by hand."""
    out, i, n = [], 0, len(text)
    while i < n:
        for c in CONTRACTIONS:
            if text.startswith(c, i):
                out.append(c)
                i += len(c)
                break
        else:
            j = i + 1 if text[i] == " " and i + 1 < n and kind(text[i + 1]) != "s" else i
            k = kind(text[j])
            if k != "s":
                e = j + 1
                while e < n and kind(text[e]) == k:
                    e += 1
                out.append(text[i:e])
                i = e
                continue
            e = i
            while e < n and kind(text[e]) == "s":
                e += 1
            if e < n and e - i > 1:
                e -= 1  # \s+(?!\S) leaves the last space to the next piece
            out.append(text[i:e])
            i = e
    return out


def to_units(piece):
    return [B2U[b] for b in piece.encode("utf-8")]


def train_bpe(corpus, n_merges):
    words = collections.Counter()
    for line in corpus:
        for w in line.split():
            for p in presplit(" " + w) + presplit(w):
                words[tuple(to_units(p))] += 1
    merges = []
    words = dict(words)
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        nw = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nw[tuple(out)] = nw.get(tuple(out), 0) + c
        words = nw
    return merges


class Tokenizer:
    def __init__(self, vocab, merges, add_prefix_space, nfc, ignore_merges, added):
        self.vocab = vocab
        self.added = added  # content -> (id, normalized)
        self.rank = {m: i for i, m in enumerate(merges)}
        self.add_prefix_space = add_prefix_space
        self.nfc = nfc
        self.ignore_merges = ignore_merges

    def bpe(self, units):
        parts = list(units)
        while len(parts) > 1:
            best, at = None, -1
            for i in range(len(parts) - 1):
                r = self.rank.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best):
                    best, at = r, i
            if best is None:
                break
            parts[at:at + 2] = [parts[at] + parts[at + 1]]
        return [self.vocab[p] for p in parts]

    def split_added(self, text, normalized):
        """text cut at the leftmost-longest added tokens of one kind: a list
        of strings and ids."""
        out, start, i = [], 0, 0
        while i < len(text):
            best = max((c for c, (_, norm) in self.added.items() if norm == normalized and text.startswith(c, i)),
                       key=len, default=None)
            if best is None:
                i += 1
                continue
            out += [text[start:i], self.added[best][0]]
            i = start = i + len(best)
        return out + [text[start:]]

    def word(self, w):
        """Added tokens marked not normalized are split out of the raw word,
        the rest is normalized, then split at the normalized added tokens,
        and what remains goes through the pre-tokenizer and the BPE."""
        ids = []
        for raw in self.split_added(w, False):
            if isinstance(raw, int):
                ids.append(raw)
                continue
            if self.nfc:
                raw = unicodedata.normalize("NFC", raw)
            for piece in self.split_added(raw, True):
                if isinstance(piece, int):
                    ids.append(piece)
                elif piece:
                    ids += self.encode_piece(piece)
        return ids

    def encode_piece(self, w):
        if self.add_prefix_space:
            w = " " + w
        ids = []
        for p in presplit(w):
            units = to_units(p)
            if self.ignore_merges and "".join(units) in self.vocab:
                ids.append(self.vocab["".join(units)])  # the piece's own entry, merges or not
            else:
                ids += self.bpe(units)
        return ids


# ---------------------------------------------------------------- model


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def layer_norm(x, w, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w


def rope(x, theta):
    """x: [heads, S, hd]; the half-rotation form ModernBERT uses."""
    hd, s = x.shape[-1], x.shape[-2]
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(s, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    half = torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    return x * cos + half * sin


def forward(cfg, w, ids):
    H, nh = cfg["hidden"], cfg["heads"]
    hd = H // nh
    eps = cfg["norm_eps"]
    x = layer_norm(w["encoder.embeddings.tok_embeddings.weight"][ids], w["encoder.embeddings.norm.weight"], eps)
    s = len(ids)
    dist = (torch.arange(s)[:, None] - torch.arange(s)[None, :]).abs()
    for i in range(cfg["layers"]):
        p = "encoder.layers.%d." % i
        glob = cfg["layer_types"][i] == "full_attention"
        h = x if i == 0 else layer_norm(x, w[p + "attn_norm.weight"], eps)
        qkv = (h @ w[p + "attn.Wqkv.weight"].T).view(s, 3, nh, hd).permute(1, 2, 0, 3)
        theta = cfg["global_theta"] if glob else cfg["local_theta"]
        q, k, v = rope(qkv[0], theta), rope(qkv[1], theta), qkv[2]
        sc = q @ k.transpose(1, 2) / math.sqrt(hd)
        if not glob:
            sc = sc.masked_fill(dist > cfg["local_attention"] // 2, float("-inf"))
        att = torch.softmax(sc, -1) @ v
        x = x + att.permute(1, 0, 2).reshape(s, H) @ w[p + "attn.Wo.weight"].T
        h = layer_norm(x, w[p + "mlp_norm.weight"], eps)
        a, g = (h @ w[p + "mlp.Wi.weight"].T).chunk(2, -1)
        x = x + (gelu(a) * g) @ w[p + "mlp.Wo.weight"].T
    x = layer_norm(x, w["encoder.final_norm.weight"], eps)
    logits = x @ w["token_head.weight"].T + w["token_head.bias"]
    c = torch.nn.functional.conv1d(x.T[None], w["span_conv.0.weight"], w["span_conv.0.bias"], padding=2)
    c = torch.nn.functional.conv1d(gelu(c), w["span_conv.2.weight"], w["span_conv.2.bias"], padding=1)
    span = torch.sigmoid(c)[0, 0]
    return logits, span


# ---------------------------------------------------------------- files


def pack(dtype, values):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    out = bytearray()
    for v in values:  # bfloat16, round to nearest even
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        out += struct.pack("<H", (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)
    return bytes(out)


def unpack(dtype, raw):
    if dtype == "F32":
        return list(struct.unpack("<%df" % (len(raw) // 4), raw))
    if dtype == "F16":
        return list(struct.unpack("<%de" % (len(raw) // 2), raw))
    return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]


def shapes(cfg):
    H, I, V = cfg["hidden"], cfg["intermediate"], cfg["vocab_size"]
    t = [("encoder.embeddings.tok_embeddings.weight", [V, H]), ("encoder.embeddings.norm.weight", [H])]
    for i in range(cfg["layers"]):
        p = "encoder.layers.%d." % i
        if i:
            t.append((p + "attn_norm.weight", [H]))
        t += [(p + "attn.Wqkv.weight", [3 * H, H]), (p + "attn.Wo.weight", [H, H]),
              (p + "mlp_norm.weight", [H]), (p + "mlp.Wi.weight", [2 * I, H]), (p + "mlp.Wo.weight", [H, I])]
    t += [("encoder.final_norm.weight", [H]), ("token_head.weight", [2, H]), ("token_head.bias", [2]),
          ("span_conv.0.weight", [256, H, 5]), ("span_conv.0.bias", [256]),
          ("span_conv.2.weight", [1, 256, 3]), ("span_conv.2.bias", [1])]
    return t


def random_weights(cfg, rng):
    vals = {}
    for name, shape in shapes(cfg):
        n = math.prod(shape)
        if name.endswith("norm.weight"):
            vals[name] = [1.0 + rng.gauss(0, 0.1) for _ in range(n)]
        elif name.endswith("bias"):
            vals[name] = [rng.gauss(0, 0.3) for _ in range(n)]
        else:
            fan_in = n // shape[0]
            vals[name] = [rng.gauss(0, 1.0 / math.sqrt(fan_in)) for _ in range(n)]
    # a token head that leans on a few directions, so keep and drop both occur
    return vals


def write_safetensors(path, cfg, vals, dtype):
    header, data = {"__metadata__": {"format": "pt"}}, bytearray()
    stored = {}
    for name, shape in shapes(cfg):
        dt = "F32" if name.startswith(("token_head", "span_conv")) else dtype
        raw = pack(dt, vals[name])
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
        stored[name] = torch.tensor(unpack(dt, raw), dtype=torch.float64).view(*shape)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    return stored


def write_config(path, cfg):
    c = {"architectures": ["ModernBertModel"], "model_type": "modernbert",
         "hidden_size": cfg["hidden"], "num_hidden_layers": cfg["layers"],
         "num_attention_heads": cfg["heads"], "intermediate_size": cfg["intermediate"],
         "vocab_size": cfg["vocab_size"], "max_position_embeddings": 8192,
         "local_attention": cfg["local_attention"], "norm_eps": cfg["norm_eps"], "norm_bias": False,
         "attention_bias": False, "mlp_bias": False, "hidden_activation": "gelu",
         "pad_token_id": cfg["pad"], "cls_token_id": cfg["cls"], "sep_token_id": cfg["sep"],
         "torch_dtype": cfg["torch_dtype"]}
    if cfg["new_style"]:
        # transformers >= 4.57 spells the layer pattern and the thetas out
        c["layer_types"] = cfg["layer_types"]
        c["rope_parameters"] = {"full_attention": {"rope_type": "default", "rope_theta": cfg["global_theta"]},
                                "sliding_attention": {"rope_type": "default", "rope_theta": cfg["local_theta"]}}
    else:
        c["global_attn_every_n_layers"] = cfg["every"]
        c["global_rope_theta"] = cfg["global_theta"]
        c["local_rope_theta"] = cfg["local_theta"]
    with open(path, "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")


def write_tokenizer(path, vocab, merges, specials, plain, add_prefix_space, nfc, ignore_merges):
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s, i in specials.items()]
    added += [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
               "normalized": True, "special": False} for s, i in plain.items()]
    tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
          "normalizer": {"type": "NFC"} if nfc else None,
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": add_prefix_space,
                            "trim_offsets": True, "use_regex": True},
          "post_processor": {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                             "special_tokens": {
                                 "[CLS]": {"id": "[CLS]", "ids": [specials["[CLS]"]], "tokens": ["[CLS]"]},
                                 "[SEP]": {"id": "[SEP]", "ids": [specials["[SEP]"]], "tokens": ["[SEP]"]}}},
          "decoder": {"type": "ByteLevel"},
          "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                    "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                    "ignore_merges": ignore_merges,
                    "vocab": vocab, "merges": ["%s %s" % m for m in merges]}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- texts

CORPUS = """The build failed because the linker could not find the symbol in the shared library.
Run the tests again after you install the missing package and clear the cache folder.
The function returns an error when the file is missing or the permissions are wrong.
We measured the latency of each request and the proxy added less than a millisecond.
Please review the change to the parser and the new tests for the configuration loader.
The server listens on the loopback address and forwards every request to the provider.
Les résultats sont identiques après la mise à jour du compilateur et des bibliothèques.
The quick brown fox jumps over the lazy dog while the model counts every token it sees.""".split("\n")

PROSE = ("The compressor keeps what the task needs and drops the filler words that carry "
         "little meaning. When the request arrives, the proxy reads the tool results, scores "
         "every word with the model and sends the shorter text upstream. Errors such as "
         "ENOENT in /var/log/app.log or a timeout after 30s at 0x7ffd1234 must survive, and "
         "so must names like HttpServerConfig, config.yaml and --max-age flags. ")


def texts(rng):
    words = " ".join(CORPUS).split()
    long_text = " ".join(rng.choice(words) for _ in range(820))
    odd = []  # words that take many tokens each, so 510 tokens come before 350 words
    for _ in range(300):
        odd.append("".join(rng.choice("qxzjkvw0123456789éß日本語ΩЖ_#@") for _ in range(rng.randint(3, 7))))
    return [
        ("prose", PROSE * 3),
        ("short", "Only a few words here."),
        ("long", long_text),
        ("dense", " ".join(odd)),
        ("layout", "first line\n\n  indented\tline with\u00a0nbsp and\u3000ideographic space\r\nlast"),
        # words that NFC changes: decomposed accents, marks out of canonical
        # order, singletons (Angstrom and Ohm signs), excluded composites,
        # Hangul jamo, and the precomposed forms beside them
        ("decomposed", "Les re\u0301sultats sont identiques apre\u0300s la mise a\u0300 jour. "
                       "Les r\u00e9sultats: cafe\u0301 caf\u00e9 A\u030angstro\u0308m \u212b \u2126hm "
                       "e\u0323\u0302 e\u0302\u0323 q\u0307\u0323 \u0958 x\u0301\u0301 "
                       "\u1112\u1161\u11ab\u1100\u116e\u11af \ud55c\uad6d \u0301alone"),
        # added tokens inside words: split out whole, longest first, the rest
        # encoded as usual
        ("added", "The tokenizer maps [MASK] and x[MASK]y and [CLS][SEP] to their ids; "
                  "host=|||IP_ADDRESS|||:8080 stays one token, [MASKED] and [mask] do not, "
                  "nor does |||IP_ADDRESS|| or [[SEP]]."),
    ]


def chunks(tok, words):
    """Chunks of at most CHUNK_WORDS words whose tokens fit MAX_TOKENS - 2; a
    word that alone is too long is cut to fit."""
    out, i = [], 0
    room = MAX_TOKENS - 2
    while i < len(words):
        ids, wid, j = [], [], i
        while j < len(words) and j - i < CHUNK_WORDS:
            t = tok.word(words[j])
            if len(ids) + len(t) > room:
                if j == i:
                    t = t[:room]
                else:
                    break
            ids += t
            wid += [j] * len(t)
            j += 1
        out.append((i, j, ids, wid))
        i = j
    return out


def short(values):
    """Nine significant digits: far below the tests' tolerance, half the bytes."""
    return [float("%.9g" % v) for v in values.tolist()]


def score_text(cfg, w, tok, text):
    words = text.split()
    res = {"words": len(words), "chunks": [], "word_score": [], "word_keep": []}
    for (i, j, ids, wid) in chunks(tok, words):
        seq = [cfg["cls"]] + ids + [cfg["sep"]]
        logits, span = forward(cfg, w, torch.tensor(seq))
        p = torch.softmax(logits, -1)[:, 1]
        score = p * (0.5 + 0.5 * span)
        keep = (logits[:, 1] > logits[:, 0]) | ((p > 0.3) & (p <= 0.5) & (span > 0.5))
        res["chunks"].append({"first_word": i, "end_word": j, "ids": seq,
                              "logit0": short(logits[:, 0]), "logit1": short(logits[:, 1]),
                              "span": short(span), "score": short(score), "keep": keep.tolist()})
        best = {}
        kept = set()
        # how close to a threshold each word's decision is, so the tests can
        # tell a real disagreement from rounding at a boundary
        margin = {}
        for k, wd in enumerate(wid):
            t = k + 1
            best[wd] = max(best.get(wd, -1.0), float(score[t]))
            if keep[t]:
                kept.add(wd)
            m = min(abs(float(logits[t, 1] - logits[t, 0])), abs(float(p[t]) - 0.3), abs(float(p[t]) - 0.5),
                    abs(float(span[t]) - 0.5))
            margin[wd] = min(margin.get(wd, 1.0), m)
        for wd in range(i, j):
            res["word_score"].append(float("%.9g" % best.get(wd, 0.0)))
            res["word_keep"].append(wd in kept)
            res.setdefault("word_margin", []).append(float("%.3g" % margin.get(wd, 1.0)))
    return res


WHOLE_WORDS = ["ENOENT", "HttpServerConfig", " compressor"]

MODELS = [
    # name, layers, hidden, heads, intermediate, local window, global every, dtype, config dialect,
    # prefix space, NFC normalizer (ModernBERT's tokenizer has one), ignore_merges
    ("tiny-f32", 3, 64, 4, 96, 16, 2, "F32", False, False, False, True),
    ("small-bf16", 4, 128, 4, 160, 32, 3, "BF16", True, True, True, False),
]


def main():
    rng = random.Random(20261124)
    merges = train_bpe(CORPUS, 300)
    units = sorted(set(B2U.values()) | {a + b for a, b in merges})
    order = list(range(len(units)))
    rng.shuffle(order)  # ids unrelated to merge order, as in real vocabularies
    vocab = {u: order[k] for k, u in enumerate(units)}
    # whole words no merge makes: ignore_merges gives them as one token, BPE
    # never reaches them
    for word in WHOLE_WORDS:
        vocab["".join(to_units(word))] = len(vocab)
    n = len(vocab)
    specials = {"[UNK]": n, "[CLS]": n + 1, "[SEP]": n + 2, "[PAD]": n + 3, "[MASK]": n + 4}
    plain = {"|||IP_ADDRESS|||": n + 5}  # ModernBERT has such added tokens that are not special
    added = {**{s: (i, False) for s, i in specials.items()}, **{s: (i, True) for s, i in plain.items()}}
    for m in MODELS:
        name, layers, hidden, heads, inter, window, every, dtype, new_style, prefix, nfc, ignore = m
        cfg = {"layers": layers, "hidden": hidden, "heads": heads, "intermediate": inter,
               "local_attention": window, "every": every, "norm_eps": 1e-5,
               "global_theta": 160000.0, "local_theta": 10000.0, "vocab_size": n + 8,
               "cls": specials["[CLS]"], "sep": specials["[SEP]"], "pad": specials["[PAD]"],
               "new_style": new_style, "torch_dtype": {"F32": "float32", "BF16": "bfloat16"}[dtype],
               "layer_types": ["full_attention" if i % every == 0 else "sliding_attention" for i in range(layers)]}
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        vals = random_weights(cfg, rng)
        w = write_safetensors(os.path.join(d, "model.safetensors"), cfg, vals, dtype)
        write_config(os.path.join(d, "config.json"), cfg)
        write_tokenizer(os.path.join(d, "tokenizer.json"), vocab, merges, specials, plain, prefix, nfc, ignore)
        tok = Tokenizer(vocab, merges, prefix, nfc, ignore, added)
        expected = {"model": name, "chunk_words": CHUNK_WORDS, "max_tokens": MAX_TOKENS, "texts": []}
        with torch.no_grad():
            for tname, text in texts(random.Random(7)):
                r = score_text(cfg, w, tok, text)
                r["name"], r["text"] = tname, text
                expected["texts"].append(r)
        with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
