"""Writes the safetensors fixtures of testdata/kompress/ with Python's own
struct and json modules, a writer independent of libhr's reader, and
expected.json with each tensor's values as Python decodes them (struct's
'e' is IEEE half; bfloat16 is the top half of a float32).
    python3 scripts/make-safetensors-fixtures.py [OUT_DIR]
Deterministic: running it again gives the same bytes."""
import json
import math
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "testdata", "kompress")


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def f16(values):
    return b"".join(struct.pack("<e", v) for v in values)


def bf16(values):
    """Round to nearest even, as torch does."""
    out = b""
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        out += struct.pack("<H", bits)
    return out


def decoded(dtype, raw):
    if dtype == "F32":
        return [struct.unpack("<f", raw[i:i + 4])[0] for i in range(0, len(raw), 4)]
    if dtype == "F16":
        return [struct.unpack("<e", raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]


def write(name, tensors, metadata=None, mangle=None):
    """tensors: list of (name, dtype, shape, raw bytes). mangle(header dict)
    may break the header for the bad-input fixtures."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for tname, dtype, shape, raw in tensors:
        header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if mangle:
        mangle(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # padded to 8 bytes, as the Hugging Face writer does
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    return header


def main():
    os.makedirs(OUT, exist_ok=True)
    a = [0.5 * i - 1.25 for i in range(6)]
    b = [0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, 1e-5, math.inf, -math.inf, 0.333251953125]
    c = [3.14159, -1e30, 1e-38, 7.0e-45, 0.1, -0.1]
    tensors = [
        ("encoder.layers.0.attn.Wqkv.weight", "F32", [2, 3], f32(a)),
        ("token_head.weight", "F16", [2, 5], f16(b)),
        ("span_conv.0.bias", "BF16", [3, 2], bf16(c)),
        ("position_ids", "I64", [2], struct.pack("<qq", 0, 1)),
    ]
    write("tiny.safetensors", tensors, metadata={"format": "pt"})
    expected = {t[0]: {"dtype": t[1], "shape": t[2],
                       "values": None if t[1] == "I64" else [repr(v) for v in decoded(t[1], t[3])]}
                for t in tensors}
    with open(os.path.join(OUT, "tiny.expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    one = [("w", "F32", [2, 2], f32([1, 2, 3, 4])), ("v", "F16", [3], f16([1, 2, 3]))]

    def past_end(h):
        h["v"]["data_offsets"] = [16, 40]

    def overlap(h):
        h["v"]["data_offsets"] = [14, 20]

    def wrong_size(h):
        h["w"]["shape"] = [2, 3]

    def bad_dtype(h):
        h["v"]["dtype"] = "F8"

    write("bad-past-end.safetensors", one, mangle=past_end)
    write("bad-overlap.safetensors", one, mangle=overlap)
    write("bad-size.safetensors", one, mangle=wrong_size)
    write("bad-dtype.safetensors", one, mangle=bad_dtype)
    with open(os.path.join(OUT, "bad-header-length.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 1 << 40) + b"{}")
    with open(os.path.join(OUT, "bad-json.safetensors"), "wb") as f:
        text = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'
        f.write(struct.pack("<Q", len(text)) + text + b"\0\0\0\0")


main()
