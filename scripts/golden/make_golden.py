#!/usr/bin/python3
"""Writes the golden files under tests/golden/ (oracle 2 of the design: PyTorch as the reference).

Run by hand, not in CI, with Debian's python3-torch (1.13):
    /usr/bin/python3 scripts/golden/make_golden.py            # writes tests/golden/*.bin
    /usr/bin/python3 scripts/golden/make_golden.py --out DIR  # somewhere else
    /usr/bin/python3 scripts/golden/make_golden.py --case ops # only tests/golden/ops_*.bin
Seeds are fixed, so a rerun with the same torch gives the same values (up to the last bits
where torch's CPU kernels change between versions or BLAS builds, which matters for the cases
with matmuls; the C++ tolerances are far above that). Each case draws its inputs from its own
seeds, so adding a case moves no value of the others: rewrite only the case you changed.

Cases (each written twice: <case>_f64.bin computed in float64, <case>_f32.bin computed in
float32 from the float64 inputs rounded to float32; int64 tensors (targets, idx, cond) are
the same in both):
  mlp_ce          x[6,5] -> linear(W1[8,5], b1[8]) -> gelu(tanh) -> linear(W2[7,8], b2[7])
                  -> cross_entropy(targets[6] int64, one row -100 = ignored, mean)
                  tensors: x W1 b1 W2 b2 targets logits loss grad.x grad.W1 grad.b1 grad.W2 grad.b2
  attention_like  x[2,4,6] -> layer_norm(gamma[6], beta[6], eps 1e-5) -> q,k,v = ln @ W^T
                  -> q k^T / sqrt(6) -> masked_fill(-inf where j > i) -> softmax(-1) -> @ v = out
                  -> loss = sum(out * R)
                  tensors: x gamma beta Wq Wk Wv R out loss grad.x grad.gamma grad.beta grad.Wq
                           grad.Wk grad.Wv
  ops             single ops, each op `name` with inputs name.<in>, output name.y, upstream
                  gradient name.R (loss = sum(y * R)) and input gradients name.grad.<in>:
                  log_softmax (dim -1), rms_norm (x * rsqrt(mean(x^2, -1) + 1e-6) * g, a composite
                  in torch since 1.13 has no rms_norm), embedding (repeated indices), sum over
                  {0, 2} keepdim, mean over {1}, max over dim 2 keepdim, pow (tensor ^ tensor and
                  tensor ^ 2.5), sigmoid, silu, tanh, gelu (tanh form), softmax (dim -1),
                  exp, log and sqrt (inputs in [0.3, 3]), relu and abs (|x| >= 0.2),
                  maximum (a[3,4], b[4]) and minimum (a[4], b[3,4]) with every pair >= 0.2
                  apart, where (cond[3,4] int64, nonzero takes a[3,4], else b[4]), concat
                  of [2,2,3], [2,1,3], [2,3,3] on dim 1, narrow(dim 1, start 1, length 3) of
                  [4,6], slice(dim 1, 1:6:2) of [3,7].

File format (little-endian, one file per case and dtype):
    magic   8 bytes  b"GSGOLD1\\0"
    count   uint32   number of tensors
    then per tensor:
      name_len uint32, name (name_len bytes of ASCII, no terminator)
      dtype    uint32   0 = float32, 1 = float64, 2 = int64 (the order of gs::DType)
      ndim     uint32
      dims     ndim x int64
      data     prod(dims) elements, row-major, of the dtype's size (4 or 8 bytes)
tests/golden_loader.h reads it; tests/golden/README.md repeats this.
"""
import argparse
import math
import os
import struct

import torch
import torch.nn.functional as F

MAGIC = b"GSGOLD1\0"
DTYPE_CODE = {torch.float32: 0, torch.float64: 1, torch.int64: 2}


def write_golden(path, tensors):
    """tensors: list of (name, torch.Tensor)."""
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            t = t.detach().contiguous().cpu()
            nb = name.encode("ascii")
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<II", DTYPE_CODE[t.dtype], t.dim()))
            for d in t.shape:
                f.write(struct.pack("<q", d))
            f.write(t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes(order="C"))


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(shape, seed, scale=1.0):
    return torch.randn(*shape, generator=gen(seed), dtype=torch.float64) * scale


def uniform(shape, seed, lo, hi):
    return torch.rand(*shape, generator=gen(seed), dtype=torch.float64) * (hi - lo) + lo


def away_from_zero(shape, seed, lo=0.2, hi=2.0):
    """Magnitudes uniform in [lo, hi] with random signs: no entry near a kink at 0."""
    g = gen(seed)
    mag = torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo
    sign = torch.where(torch.rand(*shape, generator=g, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return mag * sign.to(torch.float64)


def leaves(inputs, dtype):
    """float64 master inputs -> leaves of `dtype` requiring grad (int64 left alone)."""
    out = {}
    for k, v in inputs.items():
        if v.dtype == torch.int64:
            out[k] = v.clone()
        else:
            out[k] = v.to(dtype).clone().requires_grad_(True)
    return out


# ---------------------------------------------------------------------------------------------
# (a) MLP with softmax cross-entropy
def mlp_ce_inputs():
    N, D, H, V = 6, 5, 8, 7
    return {
        "x": randn((N, D), 101),
        "W1": randn((H, D), 102, 1 / math.sqrt(D)),
        "b1": randn((H,), 103, 0.1),
        "W2": randn((V, H), 104, 1 / math.sqrt(H)),
        "b2": randn((V,), 105, 0.1),
        "targets": torch.tensor([3, 0, -100, 6, 2, 3], dtype=torch.int64),
    }


def mlp_ce(dtype):
    t = leaves(mlp_ce_inputs(), dtype)
    h = F.gelu(F.linear(t["x"], t["W1"], t["b1"]), approximate="tanh")
    logits = F.linear(h, t["W2"], t["b2"])
    loss = F.cross_entropy(logits, t["targets"], ignore_index=-100, reduction="mean")
    loss.backward()
    names = ["x", "W1", "b1", "W2", "b2"]
    return ([(k, t[k]) for k in names + ["targets"]] + [("logits", logits), ("loss", loss)] +
            [("grad." + k, t[k].grad) for k in names])


# ---------------------------------------------------------------------------------------------
# (b) masked single-head attention with layer_norm
def attention_inputs():
    B, T, D = 2, 4, 6
    return {
        "x": randn((B, T, D), 201),
        "gamma": 1 + randn((D,), 202, 0.2),
        "beta": randn((D,), 203, 0.2),
        "Wq": randn((D, D), 204, 1 / math.sqrt(D)),
        "Wk": randn((D, D), 205, 1 / math.sqrt(D)),
        "Wv": randn((D, D), 206, 1 / math.sqrt(D)),
        "R": randn((B, T, D), 207),
    }


def attention_like(dtype):
    t = leaves(attention_inputs(), dtype)
    t["R"].requires_grad_(False)
    D = t["x"].shape[-1]
    T = t["x"].shape[-2]
    ln = F.layer_norm(t["x"], (D,), t["gamma"], t["beta"], eps=1e-5)
    q = ln @ t["Wq"].transpose(0, 1)
    k = ln @ t["Wk"].transpose(0, 1)
    v = ln @ t["Wv"].transpose(0, 1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(D)
    i = torch.arange(T).unsqueeze(1)
    j = torch.arange(T).unsqueeze(0)
    scores = scores.masked_fill(j > i, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = probs @ v
    loss = (out * t["R"]).sum()
    loss.backward()
    names = ["x", "gamma", "beta", "Wq", "Wk", "Wv"]
    return ([(k, t[k]) for k in names + ["R"]] + [("out", out), ("loss", loss)] +
            [("grad." + k, t[k].grad) for k in names])


# ---------------------------------------------------------------------------------------------
# (c) single ops: y = f(inputs), loss = sum(y * R)
def single_ops(dtype):
    records = []

    def case(name, f, inputs, seed):
        t = leaves(inputs, dtype)
        y = f(t)
        R = randn(tuple(y.shape), seed).to(dtype)
        (y * R).sum().backward()
        for k, v in t.items():
            records.append((f"{name}.{k}", v))
        records.append((f"{name}.y", y))
        records.append((f"{name}.R", R))
        for k, v in t.items():
            if v.dtype != torch.int64:
                records.append((f"{name}.grad.{k}", v.grad))

    case("log_softmax", lambda t: F.log_softmax(t["x"], dim=-1), {"x": randn((3, 5), 301, 2.0)}, 302)
    case("softmax", lambda t: F.softmax(t["x"], dim=-1), {"x": randn((3, 5), 303, 2.0)}, 304)

    def rms(t):
        x = t["x"]
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + 1e-6) * t["g"]
    case("rms_norm", rms, {"x": randn((4, 6), 311), "g": 1 + randn((6,), 312, 0.2)}, 313)

    case("embedding", lambda t: F.embedding(t["idx"], t["weight"]),
         {"weight": randn((5, 3), 321), "idx": torch.tensor([[1, 4, 1], [0, 1, 4]], dtype=torch.int64)}, 322)

    case("sum", lambda t: t["x"].sum(dim=(0, 2), keepdim=True), {"x": randn((2, 3, 4), 331)}, 332)
    case("mean", lambda t: t["x"].mean(dim=1), {"x": randn((2, 3, 4), 333)}, 334)
    case("max", lambda t: t["x"].max(dim=2, keepdim=True).values, {"x": randn((2, 3, 4), 335)}, 336)

    case("pow", lambda t: torch.pow(t["a"], t["b"]),
         {"a": uniform((3, 4), 341, 0.5, 2.0), "b": randn((4,), 342)}, 343)
    case("pow_scalar", lambda t: torch.pow(t["x"], 2.5), {"x": uniform((3, 4), 344, 0.5, 2.0)}, 345)

    case("sigmoid", lambda t: torch.sigmoid(t["x"]), {"x": randn((3, 4), 351, 2.0)}, 352)
    case("silu", lambda t: F.silu(t["x"]), {"x": randn((3, 4), 353, 2.0)}, 354)
    case("tanh", lambda t: torch.tanh(t["x"]), {"x": randn((3, 4), 355, 2.0)}, 356)
    case("gelu", lambda t: F.gelu(t["x"], approximate="tanh"), {"x": randn((3, 4), 357, 2.0)}, 358)

    case("exp", lambda t: torch.exp(t["x"]), {"x": randn((3, 4), 361)}, 362)
    case("log", lambda t: torch.log(t["x"]), {"x": uniform((3, 4), 363, 0.3, 3.0)}, 364)
    case("sqrt", lambda t: torch.sqrt(t["x"]), {"x": uniform((3, 4), 365, 0.3, 3.0)}, 366)
    case("relu", lambda t: F.relu(t["x"]), {"x": away_from_zero((3, 4), 367)}, 368)
    case("abs", lambda t: torch.abs(t["x"]), {"x": away_from_zero((3, 4), 369)}, 370)

    # b [4] broadcasts over the rows of a [3, 4] (minimum: the other way round); every pair
    # differs by >= 0.2, so no tie decides a gradient
    mb = randn((4,), 371)
    case("maximum", lambda t: torch.maximum(t["a"], t["b"]),
         {"a": mb + away_from_zero((3, 4), 372, 0.2, 1.5), "b": mb}, 373)
    ma = randn((4,), 374)
    case("minimum", lambda t: torch.minimum(t["a"], t["b"]),
         {"a": ma, "b": ma + away_from_zero((3, 4), 375, 0.2, 1.5)}, 376)
    # cond int64, nonzero = take a (2 as well as 1); b [4] broadcasts over the rows
    cond = torch.tensor([[1, 0, 0, 2], [0, 1, 1, 0], [1, 1, 0, 0]], dtype=torch.int64)
    case("where", lambda t: torch.where(t["cond"] != 0, t["a"], t["b"]),
         {"cond": cond, "a": randn((3, 4), 377), "b": randn((4,), 378)}, 379)

    case("concat", lambda t: torch.cat([t["a"], t["b"], t["c"]], dim=1),
         {"a": randn((2, 2, 3), 381), "b": randn((2, 1, 3), 382), "c": randn((2, 3, 3), 383)}, 384)
    case("narrow", lambda t: t["x"].narrow(1, 1, 3), {"x": randn((4, 6), 385)}, 386)  # columns 1..3
    case("slice", lambda t: t["x"][:, 1:6:2], {"x": randn((3, 7), 387)}, 388)  # columns 1, 3, 5
    return records


# ---------------------------------------------------------------------------------------------
# (d) the non-linear heads of nn/heads_nonlinear.h, each on the same hidden states and targets
def heads_inputs():
    N, D, V, K = 6, 5, 9, 2
    inputs = {"h": randn((N, D), 401), "targets": torch.tensor([3, 0, -100, 8, 2, 3], dtype=torch.int64)}
    s = 1 / math.sqrt(D)
    inputs["mos.weight"] = randn((V, D), 402, s)
    inputs["mos.gate.weight"] = randn((K, D), 403, s)
    for k in range(K):
        inputs[f"mos.proj{k}.weight"] = randn((D, D), 404 + 2 * k, s)
        inputs[f"mos.proj{k}.bias"] = randn((D,), 405 + 2 * k, 0.1)
    inputs["mlp.proj.weight"] = randn((D, D), 410, s)
    inputs["mlp.proj.bias"] = randn((D,), 411, 0.1)
    inputs["mlp.weight"] = randn((V, D), 412, s)
    inputs["sigsoftmax.weight"] = randn((V, D), 413, s)
    return inputs


def heads(dtype):
    out = []
    for head in ("mos", "mlp", "sigsoftmax"):
        t = leaves(heads_inputs(), dtype)
        h = t["h"]
        if head == "mos":
            pi = torch.softmax(F.linear(h, t["mos.gate.weight"]), -1)
            p = sum(pi[:, k:k + 1] * torch.softmax(torch.tanh(F.linear(h, t[f"mos.proj{k}.weight"], t[f"mos.proj{k}.bias"]))
                                                    @ t["mos.weight"].T, -1) for k in range(pi.shape[1]))
            logits = torch.log(p)
        elif head == "mlp":
            a = F.gelu(F.linear(h, t["mlp.proj.weight"], t["mlp.proj.bias"]), approximate="tanh")
            logits = a @ t["mlp.weight"].T
        else:
            u = h @ t["sigsoftmax.weight"].T
            logits = u + F.logsigmoid(u)
        loss = F.cross_entropy(logits, t["targets"], ignore_index=-100, reduction="mean")
        loss.backward()
        params = [k for k in t if k.startswith(head + ".")]
        if head == "mos":
            out += [("h", h), ("targets", t["targets"])]
        out += [(k, t[k]) for k in params] + [(head + ".logits", logits), (head + ".loss", loss),
                                             (head + ".grad.h", h.grad)]
        out += [(head + ".grad." + k[len(head) + 1:], t[k].grad) for k in params]
    return out


CASES = {"mlp_ce": mlp_ce, "attention_like": attention_like, "ops": single_ops, "heads": heads}
# Integer inputs (int64 in both files), by the last part of their name: cross-entropy targets,
# embedding indices and where's condition. Every other tensor has the file's float dtype.
INT64_INPUTS = {"targets", "idx", "cond"}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden"))
    ap.add_argument("--case", action="append", choices=list(CASES),
                    help="write only this case (repeatable; default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for name, fn in CASES.items():
        if args.case and name not in args.case:
            continue
        for suffix, dtype in (("f64", torch.float64), ("f32", torch.float32)):
            path = os.path.join(args.out, f"{name}_{suffix}.bin")
            records = fn(dtype)
            for k, v in records:
                expected = torch.int64 if k.split(".")[-1] in INT64_INPUTS else dtype
                assert v is not None and v.dtype == expected, f"{path}: {k} has dtype {None if v is None else v.dtype}"
            write_golden(path, records)
            size = os.path.getsize(path)
            total += size
            print(f"{os.path.relpath(path)}: {len(records)} tensors, {size} bytes")
    print(f"total {total} bytes (torch {torch.__version__})")


if __name__ == "__main__":
    main()
