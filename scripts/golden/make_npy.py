#!/usr/bin/python3
"""Writes the small .npy files under tests/golden/npy/ that tests/test_nn_npy.cpp reads
(nn/npy.h must read what NumPy writes, and reject what it cannot represent, with clear messages).

Run by hand with Debian's python3-numpy:
    /usr/bin/python3 scripts/golden/make_npy.py            # writes tests/golden/npy/*.npy
    /usr/bin/python3 scripts/golden/make_npy.py --out DIR  # somewhere else
The values are fixed formulas (no randomness), so a rerun gives byte-identical files.

Files (A = arange(6).reshape(2, 3) * 0.5 - 1, i.e. [[-1, -0.5, 0], [0.5, 1, 1.5]]):
  c_f32.npy        float32 A, C order                     -> loads
  c_f64.npy        float64 A / 3, C order                 -> loads (values not exact in binary)
  fortran_f32.npy  float32 A, Fortran order               -> rejected (fortran_order True)
  i32.npy          int32 [3, -100, 7, 0, 255]             -> loads as int64
  i64.npy          int64 [[1, 2], [-3, 2**40]]            -> loads
  scalar_f64.npy   0-d float64 2.5                        -> loads with shape []
  empty_f32.npy    float32 of shape (0, 3)                -> loads, zero elements
  be_f32.npy       big-endian float32 A ('>f4')           -> rejected naming the dtype
  u8.npy           uint8 [1, 2, 3] ('|u1')                -> rejected naming the dtype
  v2_f64.npy       float64 A, format version 2.0          -> loads
  v3_f32.npy       float32 A, format version 3.0          -> loads
"""
import argparse
import os

import numpy as np
from numpy.lib import format as npformat


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden", "npy"))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)

    a = np.arange(6, dtype=np.float64).reshape(2, 3) * 0.5 - 1

    def save(name, arr, version=None):
        path = os.path.join(out, name)
        if version is None:
            np.save(path, arr, allow_pickle=False)
        else:
            with open(path, "wb") as f:
                npformat.write_array(f, arr, version=version, allow_pickle=False)

    save("c_f32.npy", a.astype(np.float32))
    save("c_f64.npy", a / 3)
    f = np.asfortranarray(a.astype(np.float32))
    assert f.flags.f_contiguous and not f.flags.c_contiguous
    save("fortran_f32.npy", f)
    save("i32.npy", np.array([3, -100, 7, 0, 255], dtype=np.int32))
    save("i64.npy", np.array([[1, 2], [-3, 2**40]], dtype=np.int64))
    save("scalar_f64.npy", np.array(2.5, dtype=np.float64))
    save("empty_f32.npy", np.zeros((0, 3), dtype=np.float32))
    save("be_f32.npy", a.astype(">f4"))
    save("u8.npy", np.array([1, 2, 3], dtype=np.uint8))
    save("v2_f64.npy", a, version=(2, 0))
    save("v3_f32.npy", a.astype(np.float32), version=(3, 0))
    for name in sorted(os.listdir(out)):
        if name.endswith(".npy"):
            arr = np.load(os.path.join(out, name))
            print(f"{name:18s} {arr.dtype.str:4s} {arr.shape}")


if __name__ == "__main__":
    main()
