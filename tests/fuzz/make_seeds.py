#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora into tests/fuzz/corpus/<harness>/ (committed; rerun to
regenerate). Small valid inputs of every shape the readers accept, plus a few near misses, so
the fuzzer starts from files that reach deep into each parser.
Usage: tests/fuzz/make_seeds.py BUILD_DIR   (BUILD_DIR/gradscope trains the checkpoint seeds;
the GPT-2 seeds need scripts/setup's vocabulary files)"""
import json, os, shutil, struct, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")
exe = os.path.join(sys.argv[1], "gradscope")


def put(harness, name, data):
    d = os.path.join(corpus, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(descr, shape, payload, version=1, fortran=False):
    dims = "".join(f"{n}, " for n in shape) if len(shape) == 1 else ", ".join(map(str, shape))
    hdr = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': ({dims}), }}"
    pre = 10 if version == 1 else 12
    hdr += " " * ((64 - (pre + len(hdr) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H", len(hdr)) if version == 1 else struct.pack("<I", len(hdr))
    return b"\x93NUMPY" + bytes([version, 0]) + size + hdr.encode("latin1") + payload


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


shutil.rmtree(corpus, ignore_errors=True)

# ---- .npy ----
f4 = struct.pack("<6f", *[0.5, -1, 2, 3.25, 0, 1e-3])
put("fuzz_npy", "f4_2x3", npy("<f4", (2, 3), f4))
put("fuzz_npy", "f8_3", npy("<f8", (3,), struct.pack("<3d", 1, 2, 3)))
put("fuzz_npy", "i8_4", npy("<i8", (4,), struct.pack("<4q", 0, 5, -100, 2)))
put("fuzz_npy", "i4_2x2", npy("<i4", (2, 2), struct.pack("<4i", 1, 2, 3, 4)))
put("fuzz_npy", "scalar_f8", npy("<f8", (), struct.pack("<d", 7)))
put("fuzz_npy", "empty_0x3", npy("<f4", (0, 3), b""))
put("fuzz_npy", "v2_f4", npy("<f4", (2, 3), f4, version=2))
put("fuzz_npy", "fortran", npy("<f4", (2, 3), f4, fortran=True))
put("fuzz_npy", "truncated", npy("<f4", (2, 3), f4)[:-5])

# ---- safetensors ----
put("fuzz_safetensors", "one_f32", safetensors({"a": ("F32", [2, 3], f4)}))
put("fuzz_safetensors", "mixed_meta", safetensors({"w": ("F64", [2], struct.pack("<2d", 1, 2)),
                                                   "i": ("I64", [1], struct.pack("<q", 3))}, {"k": "v", "step": "3"}))
put("fuzz_safetensors", "empty", safetensors({}))
put("fuzz_safetensors", "zero_dim", safetensors({"z": ("F32", [0, 4], b"")}))

# ---- checkpoints (real ones, tiny models of each backbone and head) ----
with tempfile.TemporaryDirectory() as tmp:
    text = os.path.join(tmp, "t.txt")
    with open(text, "w") as f:
        f.write("the quick brown fox jumps over the lazy dog. " * 20)
    runs = {"transformer": ["--backbone", "transformer", "--heads", "1"],
            "gru_factorized": ["--backbone", "gru", "--head", "factorized", "--rank", "2"],
            "ssm_tied": ["--backbone", "ssm", "--tied"]}
    for name, extra in runs.items():
        ck = os.path.join(tmp, name + ".safetensors")
        subprocess.run([exe, "train", "--text", text, "--d-model", "4", "--layers", "1", "--seq-len", "4",
                        "--batch", "1", "--steps", "1", "--checkpoint", ck] + extra,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(ck, "rb") as f:
            data = f.read()
        put("fuzz_checkpoint", name, data)
        if name == "transformer":
            put("fuzz_safetensors", "checkpoint", data)

# ---- GPT-2 vocabulary files: the first entries of the real ones, as "encoder.json NUL vocab.bpe"
gpt2 = os.environ.get("GRADSCOPE_GPT2_DIR", os.path.expanduser("~/.cache/gradscope/gpt2"))
with open(os.path.join(gpt2, "encoder.json"), encoding="utf-8") as f:
    enc = json.load(f)
with open(os.path.join(gpt2, "vocab.bpe"), encoding="utf-8") as f:
    bpe = f.read().split("\n")
for n in (8, 300):
    small = json.dumps(dict(list(enc.items())[:n]), ensure_ascii=False)
    put("fuzz_gpt2_vocab", f"first_{n}", small.encode() + b"\0" + "\n".join(bpe[: n + 1]).encode() + b"\n")
put("fuzz_gpt2_vocab", "escapes", '{"\\u0120the": 1, "\\"": 2, "a\\\\b": 3}'.encode() + b"\0#version: 0.2\n\xc4\xa0 t\n")

# ---- GPT-2 encode: the pre-tokeniser's cases ----
for i, s in enumerate(["Hello, world! It's 2026.", "  multiple   spaces\tand\ttabs\r\n\r\nCRLF",
                       "I'll we've they're don't", "café naïve résumé 北京 مرحبا नमस्ते",
                       "emoji 👩‍👩‍👧 and 🇫🇷 flags", "digits 1234567 and 3.14159", "\x00\x01 control"]):
    put("fuzz_gpt2_encode", f"text_{i}", s.encode())
put("fuzz_gpt2_encode", "invalid_utf8", b"abc\xff\xfe\xc3(\xe2\x82 end")

# ---- CLI option lists (NUL-separated arguments) ----
for i, args in enumerate([["--steps", "5", "--lr", "1e-3"], ["--steps=-3", "--tied"], ["--lr", "nan"],
                          ["--tied=no", "file.txt"], ["--steps", "99999999999999999999"], ["--lr", "0x1p-3"],
                          ["--help"], ["--unknown", "1"], ["--steps"]]):
    put("fuzz_cli_numbers", f"args_{i}", "\0".join(args).encode())
print("seeds written to", corpus)
