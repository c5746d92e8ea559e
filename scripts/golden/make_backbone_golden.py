#!/usr/bin/python3
"""Writes the golden GRU, SSM and factorized-head language models under tests/golden/ (oracle 2 of
the design: PyTorch as reference). The companion of make_gpt_golden.py (same file layout, same
writers), for the other two backbones and the other head.

Run by hand, not in CI, with Debian's python3-torch (1.13) and python3-numpy:
    /usr/bin/python3 scripts/golden/make_backbone_golden.py                # all models
    /usr/bin/python3 scripts/golden/make_backbone_golden.py --model ssm    # one (repeatable)
    /usr/bin/python3 scripts/golden/make_backbone_golden.py --out DIR      # somewhere else
Seeds are fixed, so a rerun with the same torch reproduces the files (up to the last bits of
matmuls where the BLAS build differs).

Each model is gradscope's LanguageModel (make_language_model(LMConfig)), rebuilt here op for op
from nn/gru.cpp, nn/ssm.cpp, nn/layers.cpp, nn/head.cpp and nn/lm.cpp:

  gru         backbone "gru", head "full" (untied, no bias): V 11, D 8, 2 layers, final_norm
                x = wte[tokens]                                            [B, T, D]
                per layer "layers.<i>", h = 0 [B, D]:
                  gi = x @ ih.weight^T + ih.bias                           [B, T, 3D], all steps
                  per step t:  gh = h @ hh.weight^T + hh.bias              [B, 3D]
                    (i_r, i_z, i_n) = gi[:, t] split in three; (h_r, h_z, h_n) = gh likewise
                    r = sigmoid(i_r + h_r);  z = sigmoid(i_z + h_z);  n = tanh(i_n + r * h_n)
                    h = n + z * (h - n)
                  x = stack of the T states                                [B, T, D]
                hidden = layer_norm(x, ln_f, eps 1e-5)
              (the script also checks these equations against torch's own GRU kernel)
  ssm         backbone "ssm", head "full": V 11, D 8, 2 layers
                x = wte[tokens]
                per layer "layers.<i>":
                  u = x * rsqrt(mean(x^2, -1) + 1e-6) * norm.weight        (RMSNorm)
                  decay = sigmoid(u @ a.weight^T + a.bias);  c = u @ in.weight^T
                  drive = (1 - decay) * c
                  h_0 = drive[:, 0];  h_t = decay[:, t] * h_{t-1} + drive[:, t]
                  x = x + (stack(h) * silu(u @ g.weight^T)) @ out.weight^T
                hidden = layer_norm(x, ln_f, eps 1e-5)
  gru_factorized  backbone "gru" (1 layer, final_norm false: no ln_f), head "factorized", rank 3:
                logits = (hidden @ head.down.weight^T) @ head.up.weight^T  (both without bias)

  all:        hidden [B, T, D] -> [B*T, D];  logits [B*T, V] (full head: hidden @ head.weight^T)
              loss = cross_entropy(logits, targets.flatten(), ignore_index -100, mean over valid)
              B 2, T 5, target [1, 2] = -100.

Weights are random and O(1)-scaled, not the default init: norm gains 1 + 0.2 N(0,1), norm
biases 0.2 N(0,1), embeddings 0.5 N(0,1), other biases 0.1 N(0,1) (the SSM's a.bias
1 + 0.5 N(0,1), around its init of 1), Linear/head weights N(0,1) / sqrt(in).

Files per model M and dtype (the float32 weights are the float64 ones rounded to float32; the
float32 values are computed by torch in float32; tokens and targets are the same int64 in both):
  <M>_lm_weights_{f64,f32}.safetensors  exactly the model state under gradscope's parameter
                                        names; __metadata__ holds the LMConfig fields that
                                        differ from its defaults (LMConfig::to_map keys) plus
                                        "format" and "source"
  <M>_lm_{f64,f32}.bin                  GSGOLD1 (tests/golden/README.md): tokens [2, 5],
                                        targets [2, 5], logits [10, 11], loss [],
                                        grad.<parameter name> for every parameter
Checked by tests/test_golden_backbones.cpp ([golden][nn]).
"""
import argparse
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import write_golden  # noqa: E402  (the GSGOLD1 writer)
from make_gpt_golden import write_safetensors  # noqa: E402  (the safetensors writer)

V, D, B, T = 11, 8, 2, 5
LN_EPS, RMS_EPS = 1e-5, 1e-6

# name -> LMConfig fields (as LMConfig::to_map spells them) and the weight / batch seeds
MODELS = {
    "gru": {"config": {"backbone": "gru", "head": "full", "rank": 0, "n_layer": 2, "final_norm": True},
            "seed": 2001},
    "ssm": {"config": {"backbone": "ssm", "head": "full", "rank": 0, "n_layer": 2, "final_norm": True},
            "seed": 2002},
    "gru_factorized": {"config": {"backbone": "gru", "head": "factorized", "rank": 3, "n_layer": 1,
                                  "final_norm": False},
                   "seed": 2003},
}


def param_shapes(cfg):
    """gradscope's named_parameters() order and shapes (registration order, depth first)."""
    out = [("backbone.wte.weight", (V, D))]
    for i in range(cfg["n_layer"]):
        p = f"backbone.layers.{i}."
        if cfg["backbone"] == "gru":
            out += [(p + "ih.weight", (3 * D, D)), (p + "ih.bias", (3 * D,)),
                    (p + "hh.weight", (3 * D, D)), (p + "hh.bias", (3 * D,))]
        elif cfg["backbone"] == "ssm":
            out += [(p + "norm.weight", (D,)), (p + "a.weight", (D, D)), (p + "a.bias", (D,)),
                    (p + "in.weight", (D, D)), (p + "g.weight", (D, D)), (p + "out.weight", (D, D))]
        else:
            raise ValueError(cfg["backbone"])
    if cfg["backbone"] == "ssm" or cfg["final_norm"]:
        out += [("backbone.ln_f.weight", (D,)), ("backbone.ln_f.bias", (D,))]
    if cfg["head"] == "full":
        out += [("head.weight", (V, D))]
    else:
        r = cfg["rank"]
        out += [("head.down.weight", (r, D)), ("head.up.weight", (V, r))]
    return out


def make_weights(cfg, seed):
    """float64 weights, one seeded generator, drawn in parameter order."""
    g = torch.Generator()
    g.manual_seed(seed)
    w = {}
    for name, shape in param_shapes(cfg):
        r = torch.randn(*shape, generator=g, dtype=torch.float64)
        if ".ln_f." in name or ".norm." in name:
            w[name] = 1.0 + 0.2 * r if name.endswith("weight") else 0.2 * r
        elif ".wte." in name:
            w[name] = 0.5 * r
        elif name.endswith(".a.bias"):
            w[name] = 1.0 + 0.5 * r
        elif name.endswith("bias"):
            w[name] = 0.1 * r
        else:  # Linear / head weight [out, in]
            w[name] = r / math.sqrt(shape[1])
    return w


def make_batch(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    tokens = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
    targets[1, 2] = -100  # ignored: the mean runs over the 9 valid targets
    return tokens, targets


def gru_layer(w, p, x):
    """nn/gru.cpp GRULayer::forward. x [B, T, D] -> [B, T, D]."""
    Bn, Tn, H = x.shape[0], x.shape[1], w[p + "hh.weight"].shape[1]
    gi = x @ w[p + "ih.weight"].t() + w[p + "ih.bias"]
    h = torch.zeros(Bn, H, dtype=x.dtype)
    outs = []
    for t in range(Tn):
        gh = h @ w[p + "hh.weight"].t() + w[p + "hh.bias"]
        i_r, i_z, i_n = gi[:, t].split(H, dim=1)
        h_r, h_z, h_n = gh.split(H, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h = n + z * (h - n)
        outs.append(h)
    return torch.stack(outs, dim=1)


def ssm_layer(w, p, x):
    """nn/ssm.cpp SSMLayer::forward, residual included. x [B, T, D] -> [B, T, D]."""
    u = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + RMS_EPS) * w[p + "norm.weight"]
    a_lin = u @ w[p + "a.weight"].t() + w[p + "a.bias"]
    c = u @ w[p + "in.weight"].t()
    g_lin = u @ w[p + "g.weight"].t()
    decay = torch.sigmoid(a_lin)
    drive = (1.0 - decay) * c
    hs = []
    h = None
    for t in range(x.shape[1]):
        h = drive[:, t] if t == 0 else decay[:, t] * h + drive[:, t]
        hs.append(h)
    mixed = torch.stack(hs, dim=1) * F.silu(g_lin)
    return x + mixed @ w[p + "out.weight"].t()


def forward(cfg, w, tokens, targets):
    """The gradscope model, op for op. Returns (logits [B*T, V], loss [])."""
    Bn, Tn = tokens.shape
    x = w["backbone.wte.weight"][tokens]
    for i in range(cfg["n_layer"]):
        p = f"backbone.layers.{i}."
        x = gru_layer(w, p, x) if cfg["backbone"] == "gru" else ssm_layer(w, p, x)
    if "backbone.ln_f.weight" in w:
        x = F.layer_norm(x, (D,), w["backbone.ln_f.weight"], w["backbone.ln_f.bias"], LN_EPS)
    h = x.reshape(Bn * Tn, D)
    if cfg["head"] == "full":
        logits = h @ w["head.weight"].t()
    else:
        logits = (h @ w["head.down.weight"].t()) @ w["head.up.weight"].t()
    loss = F.cross_entropy(logits, targets.reshape(-1), ignore_index=-100, reduction="mean")
    return logits, loss


def check_gru_against_torch(w, tokens, n_layer):
    """The hand-written GRU equals torch's GRU kernel (gate order r, z, n; b_hn inside r * (.))."""
    x = w["backbone.wte.weight"][tokens].detach()
    gru = torch.nn.GRU(D, D, num_layers=n_layer, batch_first=True).to(torch.float64)
    with torch.no_grad():
        for i in range(n_layer):
            p = f"backbone.layers.{i}."
            getattr(gru, f"weight_ih_l{i}").copy_(w[p + "ih.weight"])
            getattr(gru, f"bias_ih_l{i}").copy_(w[p + "ih.bias"])
            getattr(gru, f"weight_hh_l{i}").copy_(w[p + "hh.weight"])
            getattr(gru, f"bias_hh_l{i}").copy_(w[p + "hh.bias"])
        ref, _ = gru(x)
        ours = x
        for i in range(n_layer):
            ours = gru_layer(w, f"backbone.layers.{i}.", ours)
    err = (ours - ref).abs().max().item()
    assert err < 1e-12, f"hand-written GRU differs from torch.nn.GRU by {err}"
    return err


def metadata(cfg, dtype):
    """The LMConfig fields this model sets, as LMConfig::to_map spells them (the others keep
    LMConfig's defaults when read back with from_map)."""
    return {"format": "pt", "source": "scripts/golden/make_backbone_golden.py",
            "backbone": cfg["backbone"], "head": cfg["head"], "rank": str(cfg["rank"]),
            "vocab": str(V), "d_model": str(D), "n_layer": str(cfg["n_layer"]), "tied": "false",
            "final_norm": "true" if cfg["final_norm"] else "false",
            "dtype": "float64" if dtype == torch.float64 else "float32"}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "tests", "golden"))
    ap.add_argument("--model", action="append", choices=list(MODELS),
                    help="write only this model (repeatable; default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)

    for model, spec in MODELS.items():
        if args.model and model not in args.model:
            continue
        cfg, seed = spec["config"], spec["seed"]
        w64 = make_weights(cfg, seed)
        tokens, targets = make_batch(seed + 1)
        if cfg["backbone"] == "gru":
            print(f"{model}: hand-written GRU vs torch.nn.GRU max diff "
                  f"{check_gru_against_torch(w64, tokens, cfg['n_layer']):.2e}")
        names = [n for n, _ in param_shapes(cfg)]
        for sfx, dtype in (("f64", torch.float64), ("f32", torch.float32)):
            w = {k: t.to(dtype).clone().requires_grad_(True) for k, t in w64.items()}
            logits, loss = forward(cfg, w, tokens, targets)
            loss.backward()
            for n in names:
                assert w[n].grad is not None and w[n].grad.dtype == dtype, n
            wpath = os.path.join(args.out, f"{model}_lm_weights_{sfx}.safetensors")
            write_safetensors(wpath, {n: w[n] for n in names}, metadata(cfg, dtype))
            gpath = os.path.join(args.out, f"{model}_lm_{sfx}.bin")
            tensors = [("tokens", tokens), ("targets", targets), ("logits", logits), ("loss", loss)]
            tensors += [("grad." + n, w[n].grad) for n in names]
            write_golden(gpath, tensors)
            print(f"wrote {os.path.normpath(wpath)} ({os.path.getsize(wpath)} bytes), "
                  f"{os.path.normpath(gpath)} ({os.path.getsize(gpath)} bytes): {len(names)} parameters, "
                  f"loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
