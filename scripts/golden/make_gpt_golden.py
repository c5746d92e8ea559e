#!/usr/bin/python3
"""Writes the golden tiny-GPT files under tests/golden/ (oracle 2 of the design: PyTorch as reference).

Run by hand, not in CI, with Debian's python3-torch (1.13) and python3-numpy:
    /usr/bin/python3 scripts/golden/make_gpt_golden.py            # writes tests/golden/gpt_*
    /usr/bin/python3 scripts/golden/make_gpt_golden.py --out DIR  # somewhere else
Seeds are fixed, so a rerun with the same torch reproduces the files.

The model is gradscope's LanguageModel with the Transformer backbone and an untied FullHead
without bias (make_language_model with backbone "transformer", head "full"), rebuilt here op for
op from nn/transformer.cpp, nn/attention.cpp, nn/layers.cpp, nn/head.cpp and nn/lm.cpp:

    x = wte[tokens] + wpe[0..T-1]                                    [B, T, D]
    per block i (pre-norm):
      a = layer_norm(x, ln1, eps 1e-5)
      q, k, v = a @ W^T + b  (Linear q, k, v)  -> [B, T, H, dh] -> permute [B, H, T, dh]
      s = (q @ k^T) * (1 / sqrt(dh));  s[j > i] = -inf;  p = softmax(s, -1)
      y = (p @ v) -> permute [B, T, H, dh] -> [B, T, D];  x = x + y @ Wproj^T + bproj
      m = layer_norm(x, ln2, eps 1e-5)
      x = x + fc2(gelu_tanh(fc1(m)))        (fc1: D -> 4 D, fc2: 4 D -> D, both with bias)
    h = layer_norm(x, ln_f, eps 1e-5) -> [B*T, D]
    logits = h @ head.weight^T                                        [B*T, V]   (no bias)
    loss = cross_entropy(logits, targets.flatten(), ignore_index -100, mean over valid targets)

Sizes: V = 11, D = 8, 2 layers, 2 heads (dh = 4), MLP width 32, context 7 (> T, so wpe rows
5 and 6 are unused and their gradient must be exactly zero), T = 5, B = 2. One target is -100.
Weights are random and O(1)-scaled (not the default init: LayerNorm gains/biases are perturbed
away from 1/0 so their gradients and their use in the forward are tested).

Files (each dtype computed by torch in that dtype; the float32 weights are the float64 ones
rounded to float32; tokens and targets are the same int64 in both):
  gpt_weights_{f64,f32}.safetensors  exactly the model's state: gradscope's named_parameters()
                                     names ("backbone.wte.weight", ..., "head.weight"), written
                                     in the safetensors layout by hand (as make_safetensors.py),
                                     so Module::load_state(load_safetensors(...).tensors) takes it;
                                     __metadata__ holds the LMConfig fields (LMConfig::to_map keys)
                                     plus "format" and "source"
  gpt_{f64,f32}.bin                  GSGOLD1 file (tests/golden/README.md): tokens [2, 5] int64,
                                     targets [2, 5] int64, logits [10, 11], loss [],
                                     grad.<parameter name> for every parameter
Checked by tests/test_golden_gpt.cpp ([golden][nn]).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import write_golden  # noqa: E402  (the GSGOLD1 writer)

V, D, N_LAYER, N_HEAD, CONTEXT, B, T = 11, 8, 2, 2, 7, 2, 5
MLP = 4 * D
EPS = 1e-5


def param_shapes():
    """gradscope's named_parameters() order and shapes for this config (registration order,
    depth first: LanguageModel{backbone{wte, wpe, blocks{i{ln1, attn{q,k,v,proj}, ln2,
    mlp{fc1, fc2}}}, ln_f}, head})."""
    out = [("backbone.wte.weight", (V, D)), ("backbone.wpe.weight", (CONTEXT, D))]
    for i in range(N_LAYER):
        p = f"backbone.blocks.{i}."
        out += [(p + "ln1.weight", (D,)), (p + "ln1.bias", (D,))]
        for lin in ("q", "k", "v", "proj"):
            out += [(p + f"attn.{lin}.weight", (D, D)), (p + f"attn.{lin}.bias", (D,))]
        out += [(p + "ln2.weight", (D,)), (p + "ln2.bias", (D,))]
        out += [(p + "mlp.fc1.weight", (MLP, D)), (p + "mlp.fc1.bias", (MLP,)),
                (p + "mlp.fc2.weight", (D, MLP)), (p + "mlp.fc2.bias", (D,))]
    out += [("backbone.ln_f.weight", (D,)), ("backbone.ln_f.bias", (D,)), ("head.weight", (V, D))]
    return out


def make_weights():
    """float64 weights, one seeded generator, drawn in parameter order."""
    g = torch.Generator()
    g.manual_seed(1234)
    w = {}
    for name, shape in param_shapes():
        r = torch.randn(*shape, generator=g, dtype=torch.float64)
        if ".ln" in name:  # LayerNorm: gain ~ 1 + 0.2 N(0,1), bias ~ 0.2 N(0,1)
            w[name] = 1.0 + 0.2 * r if name.endswith("weight") else 0.2 * r
        elif "wte" in name or "wpe" in name:
            w[name] = 0.5 * r
        elif name.endswith("bias"):
            w[name] = 0.1 * r
        else:  # Linear / head weight [out, in]: unit-variance outputs for unit-variance inputs
            w[name] = r / math.sqrt(shape[1])
    return w


def make_batch():
    g = torch.Generator()
    g.manual_seed(99)
    tokens = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
    targets[1, 2] = -100  # ignored: the mean runs over the 9 valid targets
    return tokens, targets


def forward(w, tokens, targets):
    """The gradscope model, op for op. Returns (logits [B*T, V], loss [])."""
    Bn, Tn = tokens.shape
    dh = D // N_HEAD
    x = w["backbone.wte.weight"][tokens] + w["backbone.wpe.weight"][torch.arange(Tn)]
    mask = torch.triu(torch.ones(Tn, Tn, dtype=torch.bool), diagonal=1)  # j > i
    lin = lambda t, p: t @ w[p + ".weight"].t() + w[p + ".bias"]  # noqa: E731
    ln = lambda t, p: F.layer_norm(t, (D,), w[p + ".weight"], w[p + ".bias"], EPS)  # noqa: E731
    heads = lambda t: t.reshape(Bn, Tn, N_HEAD, dh).permute(0, 2, 1, 3)  # noqa: E731
    for i in range(N_LAYER):
        p = f"backbone.blocks.{i}."
        a = ln(x, p + "ln1")
        q, k, v = heads(lin(a, p + "attn.q")), heads(lin(a, p + "attn.k")), heads(lin(a, p + "attn.v"))
        s = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(dh))
        s = s.masked_fill(mask, float("-inf"))
        probs = torch.softmax(s, dim=-1)
        y = (probs @ v).permute(0, 2, 1, 3).reshape(Bn, Tn, D)
        x = x + lin(y, p + "attn.proj")
        m = ln(x, p + "ln2")
        x = x + lin(F.gelu(lin(m, p + "mlp.fc1"), approximate="tanh"), p + "mlp.fc2")
    h = ln(x, "backbone.ln_f").reshape(Bn * Tn, D)
    logits = h @ w["head.weight"].t()
    loss = F.cross_entropy(logits, targets.reshape(-1), ignore_index=-100, reduction="mean")
    return logits, loss


NP_DTYPES = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64", np.dtype("<i8"): "I64"}


def write_safetensors(path, named, metadata):
    """The safetensors layout, written as the Python package writes it (see make_safetensors.py):
    u64 N | compact JSON header (__metadata__ first, padded with spaces to 8 + N = 0 mod 8) | data
    sorted by dtype size (largest first) then name."""
    arrays = {k: np.ascontiguousarray(t.detach().numpy()) for k, t in named.items()}
    order = sorted(arrays.items(), key=lambda kv: (-kv[1].dtype.itemsize, kv[0]))
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name, arr in order:
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": NP_DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden"))
    args = ap.parse_args()
    torch.set_num_threads(1)

    w64 = make_weights()
    tokens, targets = make_batch()
    for sfx, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        w = {k: t.to(dtype).clone().requires_grad_(True) for k, t in w64.items()}
        logits, loss = forward(w, tokens, targets)
        loss.backward()
        names = [n for n, _ in param_shapes()]
        # the model config as gradscope's LMConfig::to_map() spells it (what its checkpoints store)
        meta = {"format": "pt", "source": "scripts/golden/make_gpt_golden.py",
                "backbone": "transformer", "head": "full", "vocab": str(V), "d_model": str(D),
                "n_layer": str(N_LAYER), "n_head": str(N_HEAD), "context": str(CONTEXT),
                "mlp_ratio": str(MLP // D), "tied": "false", "final_norm": "true",
                "dtype": "float64" if dtype == torch.float64 else "float32"}
        wpath = os.path.join(args.out, f"gpt_weights_{sfx}.safetensors")
        write_safetensors(wpath, {n: w[n] for n in names}, meta)
        gpath = os.path.join(args.out, f"gpt_{sfx}.bin")
        tensors = [("tokens", tokens), ("targets", targets), ("logits", logits), ("loss", loss)]
        tensors += [("grad." + n, w[n].grad) for n in names]
        write_golden(gpath, tensors)
        unused = w["backbone.wpe.weight"].grad[T:].abs().max().item()
        print(f"wrote {os.path.normpath(wpath)} ({os.path.getsize(wpath)} bytes), "
              f"{os.path.normpath(gpath)} ({os.path.getsize(gpath)} bytes): loss {loss.item():.6f}, "
              f"unused wpe rows grad max {unused}")


if __name__ == "__main__":
    main()
