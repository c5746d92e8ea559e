#!/usr/bin/python3
"""Writes tests/golden/python.safetensors: a small file in the safetensors layout, written the
way Python's `safetensors` package writes it, for tests/test_nn_checkpoint.cpp ([golden] case).

The `safetensors` pip package is not in Debian, so the layout is written by hand with struct,
json and numpy (Debian's python3-numpy), following the spec
(https://github.com/huggingface/safetensors#format) and the package's own choices:
    u64 little-endian N | N bytes of JSON header | data section
  - the header is compact JSON (separators "," and ":"), "__metadata__" first, then one entry
    per tensor {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data
    section), padded with spaces so that 8 + N is a multiple of 8;
  - tensors are laid out sorted by dtype alignment (largest first), then by name, back to back
    with no holes; data is row-major little-endian.
Run by hand: /usr/bin/python3 scripts/golden/make_safetensors.py [--out FILE]
The values are closed-form (the C++ test recomputes them), so a rerun gives the same bytes.
"""
import argparse
import json
import os
import struct

import numpy as np

DTYPES = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<i8"): "I64"}


def tensors():
    return {
        # F32 [2, 3]: i * 0.5 - 1.25 (exact in float32)
        "f32.matrix": (np.arange(6, dtype="<f4") * np.float32(0.5) - np.float32(1.25)).reshape(2, 3),
        # F32 [4]: values that need every bit of the mantissa; the test compares bit patterns
        "f32.vector": np.array([1.0 / 3.0, -2.5e-8, 3.4e38, -0.0], dtype="<f4"),
        # F64 scalar (shape [])
        "f64.scalar": np.array(np.pi, dtype="<f8"),
        # F64 [2, 3, 4]: i / 7
        "f64.cube": (np.arange(24, dtype="<f8") / 7.0).reshape(2, 3, 4),
        # I64 [5]: negative and beyond 32 bits
        "i64.ids": np.array([-(2**62), -1, 0, 7, 2**40 + 3], dtype="<i8"),
        # F32 [0, 3]: an empty tensor (begin == end)
        "f32.empty": np.zeros((0, 3), dtype="<f4"),
    }


METADATA = {"format": "pt", "source": "scripts/golden/make_safetensors.py", "note": "héllo, wörld"}


def serialize(named, metadata):
    order = sorted(named.items(), key=lambda kv: (-kv[1].dtype.itemsize, kv[0]))
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name, arr in order:
        data = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden", "python.safetensors"))
    args = ap.parse_args()
    blob = serialize(tensors(), METADATA)
    with open(args.out, "wb") as f:
        f.write(blob)
    print(f"wrote {os.path.normpath(args.out)} ({len(blob)} bytes)")


if __name__ == "__main__":
    main()
