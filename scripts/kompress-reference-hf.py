"""The Kompress reference again, from the real transformers ModernBertModel
and the Hugging Face tokenizers library, for the random models that
scripts/kompress-reference.py wrote under testdata/kompress-ref/. For each
model: every window of expected.json is tokenised again from its words with
tokenizers (the ids must be the same) and run through ModernBertModel (the
encoder.* weights, eager attention, float64 on the CPU) and the two heads in
torch. Writes expected-hf.json beside expected.json (per window: logit0,
logit1, span) and prints the largest differences against expected.json;
exits 1 when ids differ or a value differs by more than 1e-4.
Needs transformers, tokenizers and safetensors (the GPU machine has them):
    python3 scripts/kompress-reference-hf.py [REF_DIR]"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import ModernBertConfig, ModernBertModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "kompress-ref")
TOL = 1e-4


def load(folder):
    cfg = ModernBertConfig.from_pretrained(folder)
    cfg._attn_implementation = "eager"
    model = ModernBertModel(cfg)
    weights = load_file(os.path.join(folder, "model.safetensors"))
    encoder = {k[len("encoder."):]: v for k, v in weights.items() if k.startswith("encoder.")}
    model.load_state_dict(encoder, strict=True)
    model = model.double().eval()
    heads = {k: v.double() for k, v in weights.items() if not k.startswith("encoder.")}
    return model, heads


def run(model, heads, ids):
    x = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        h = model(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0]
        logits = h @ heads["token_head.weight"].T + heads["token_head.bias"]
        c = torch.nn.functional.conv1d(h.T[None], heads["span_conv.0.weight"], heads["span_conv.0.bias"], padding=2)
        c = torch.nn.functional.gelu(c)
        s = torch.nn.functional.conv1d(c, heads["span_conv.2.weight"], heads["span_conv.2.bias"], padding=1)
        span = torch.sigmoid(s[0, 0])
    return logits[:, 0].tolist(), logits[:, 1].tolist(), span.tolist()


def window_ids(tok, words, chunk, cls, sep, room):
    ids = []
    for w in words[chunk["first_word"]:chunk["end_word"]]:
        ids += tok.encode([w], is_pretokenized=True, add_special_tokens=False).ids
    return [cls] + ids[:room] + [sep]


def check_model(name):
    folder = os.path.join(REF, name)
    with open(os.path.join(folder, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    model, heads = load(folder)
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    room = expected["max_tokens"] - 2
    out, worst, bad_ids, tokens = [], 0.0, 0, 0
    for text in expected["texts"]:
        words = text["text"].split()
        chunks = []
        for c in text["chunks"]:
            ids = window_ids(tok, words, c, config["cls_token_id"], config["sep_token_id"], room)
            bad_ids += ids != c["ids"]
            l0, l1, span = run(model, heads, c["ids"])
            for got, want in ((l0, c["logit0"]), (l1, c["logit1"]), (span, c["span"])):
                worst = max(worst, max(abs(a - b) for a, b in zip(got, want)))
            tokens += len(c["ids"])
            chunks.append({"logit0": l0, "logit1": l1, "span": span})
        out.append({"name": text["name"], "chunks": chunks})
    with open(os.path.join(folder, "expected-hf.json"), "w", encoding="utf-8") as f:
        json.dump({"model": name, "transformers": __import__("transformers").__version__, "texts": out}, f)
    print(f"{name}: {tokens} tokens; windows whose ids differ: {bad_ids}; "
          f"largest difference from expected.json: {worst:.2g}")
    return bad_ids == 0 and worst <= TOL


names = sorted(d for d in os.listdir(REF) if os.path.exists(os.path.join(REF, d, "expected.json")))
sys.exit(0 if all([check_model(n) for n in names]) else 1)
