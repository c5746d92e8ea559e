#!/usr/bin/python3
"""The head metrics of analysis/head_bottleneck.h recomputed with PyTorch on the data that
bench_head_metrics wrote (H.npy, W.npy, y.npy in DIR), compared with its gs_*.json.

  reference  float64, explicit: per chunk of rows G_c = (softmax(H_c W^T) - onehot) / n, the
             destroyed part G_c - (G_c Q) Q^T formed and measured directly, and in a second pass
             U_c = G_c W W^T + H_c (H^T G) formed as a [chunk, V] matrix (no identities used).
  fast       float32 products with the same algorithm as gradscope (three N x D x V products per
             chunk, float64 accumulators): timed against one float32 H W^T in the same run.
  spectrum   with --spectrum: torch.linalg.svdvals of the materialised float64 G (small sizes), or
             torch.svd_lowrank (HMT, same k, oversampling and q) when G has over 1e8 entries.

Prints every metric side by side with the largest relative difference; exits 1 when gradscope and
the float64 reference differ by more than 1e-5 (relative) on any metric.

usage: bench/head_metrics_torch.py [DIR] [--threads T] [--chunk C] [--spectrum]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

IGNORE = -100


def load(d):
    H = torch.from_numpy(np.load(os.path.join(d, "H.npy")))
    W = torch.from_numpy(np.load(os.path.join(d, "W.npy")))
    y = torch.from_numpy(np.load(os.path.join(d, "y.npy"))).long()
    return H, W, y


def grad_chunk(Hc, W, yc, n):
    """(softmax(Hc W^T) - onehot) / n with ignored rows 0, and the chunk's summed loss."""
    Z = Hc @ W.T
    lse = torch.logsumexp(Z, dim=1)
    valid = yc != IGNORE
    ys = torch.where(valid, yc, torch.zeros_like(yc))
    loss = (lse - Z.gather(1, ys[:, None])[:, 0])[valid].sum().item()
    G = torch.exp(Z - lse[:, None])
    G[torch.arange(len(yc)), ys] -= 1.0
    G[~valid] = 0.0
    return G / n, loss


def summary(ratios):
    r = np.asarray(ratios)
    return {"mean": float(r.mean()), "p5": float(np.percentile(r, 5)), "p50": float(np.percentile(r, 50)),
            "p95": float(np.percentile(r, 95))}


def reference(H, W, y, chunk):
    H, W = H.double(), W.double()
    N, D = H.shape
    V = W.shape[0]
    n = int((y != IGNORE).sum())
    Q, R = torch.linalg.qr(W)
    assert R.diagonal().abs().min() > 1e-10 * R.diagonal().abs().max(), "W is rank-deficient"
    Hm = H.clone()
    Hm[y == IGNORE] = 0.0
    loss = g2 = v2 = d2 = 0.0
    ratios = []
    Bt = torch.zeros(V, D, dtype=torch.float64)
    for i0 in range(0, N, chunk):
        Hc, yc = H[i0:i0 + chunk], y[i0:i0 + chunk]
        G, l = grad_chunk(Hc, W, yc, n)
        loss += l
        GQ = G @ Q
        Dp = G - GQ @ Q.T
        t, v, d = (G * G).sum(1), (GQ * GQ).sum(1), (Dp * Dp).sum(1)
        g2, v2, d2 = g2 + t.sum().item(), v2 + v.sum().item(), d2 + d.sum().item()
        keep = (yc != IGNORE) & (t > 0)
        ratios += torch.sqrt(d[keep] / t[keep]).tolist()
        Bt += G.T @ Hc
    B = Bt.T.contiguous()
    inner = u2 = t1 = t2 = 0.0
    for i0 in range(0, N, chunk):
        Hc, yc = H[i0:i0 + chunk], y[i0:i0 + chunk]
        G, _ = grad_chunk(Hc, W, yc, n)
        T1 = (G @ W) @ W.T
        T2 = Hm[i0:i0 + chunk] @ B
        U = T1 + T2
        inner += (U * G).sum().item()
        u2 += (U * U).sum().item()
        t1 += (T1 * T1).sum().item()
        t2 += (T2 * T2).sum().item()
    gn = math.sqrt(g2)
    return {"tokens": n, "vocab": V, "dim": D, "loss": loss / n, "logit_grad_norm": gn,
            "visible_norm": math.sqrt(v2), "destroyed_fraction": math.sqrt(d2) / gn,
            "visible_cosine": math.sqrt(v2) / gn, "per_token_destroyed": summary(ratios),
            "update": {"cosine": inner / (math.sqrt(u2) * gn), "backbone_term_norm": math.sqrt(t1),
                       "head_term_norm": math.sqrt(t2), "rank_bound": 2 * D}}


def fast(H, W, y, chunk):
    """float32 products, gradscope's algorithm; returns (metrics subset, basis seconds, pass seconds)."""
    N, D = H.shape
    V = W.shape[0]
    n = int((y != IGNORE).sum())
    t0 = time.perf_counter()
    Q64, R64 = torch.linalg.qr(W.double())
    Q, K = Q64.float(), R64  # W = Q K
    t_basis = time.perf_counter() - t0
    t0 = time.perf_counter()
    KKt = K @ K.T
    X = torch.zeros(D, D, dtype=torch.float64)
    SH = torch.zeros(D, D, dtype=torch.float64)
    Bt = torch.zeros(V, D)
    g2 = v2 = d2 = a2 = bb = 0.0
    for i0 in range(0, N, chunk):
        Hc, yc = H[i0:i0 + chunk], y[i0:i0 + chunk]
        G, _ = grad_chunk(Hc, W, yc, n)
        P = G @ Q
        t = G.double().square().sum(1)
        v = P.double().square().sum(1)
        g2 += t.sum().item()
        v2 += v.sum().item()
        d2 += (t - v).clamp(min=0).sum().item()
        P64, H64 = P.double(), Hc.double()
        A = P64 @ K
        a2 += A.square().sum().item()
        bb += (P64 @ KKt).square().sum().item()
        X += H64.T @ A
        H64[yc == IGNORE] = 0.0
        SH += H64.T @ H64
        Bt.addmm_(G.T, Hc)
    C = torch.zeros(D, D, dtype=torch.float64)
    for v0 in range(0, V, 4096):
        blk = Bt[v0:v0 + 4096].double()
        C += blk.T @ blk
    hh = (SH * C).sum().item()
    inner = a2 + C.trace().item()
    u2 = bb + hh + 2 * X.square().sum().item()
    gn = math.sqrt(g2)
    t_pass = time.perf_counter() - t0
    return ({"logit_grad_norm": gn, "visible_norm": math.sqrt(v2), "destroyed_fraction": math.sqrt(d2) / gn,
             "update": {"cosine": inner / (math.sqrt(u2) * gn), "backbone_term_norm": math.sqrt(bb),
                        "head_term_norm": math.sqrt(hh)}}, t_basis, t_pass)


def flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "."))
        elif isinstance(v, (int, float)) and v is not None:
            out[prefix + k] = float(v)
    return out


def compare(name_a, a, name_b, b, tol=None):
    fa, fb = flatten(a), flatten(b)
    worst = 0.0
    print(f"{'metric':34s} {name_a:>22s} {name_b:>22s} {'rel diff':>10s}")
    for k in fb:
        if k not in fa:
            continue
        x, z = fa[k], fb[k]
        r = abs(x - z) / max(abs(z), 1e-300)
        worst = max(worst, r)
        print(f"{k:34s} {x:22.12g} {z:22.12g} {r:10.2e}")
    print(f"largest relative difference {worst:.2e}" + (f" (bound {tol:g})" if tol else ""))
    return worst


def spectrum(H, W, y, spec, exact=None):
    k = spec["topk"]
    n = int((y != IGNORE).sum())
    N, V = H.shape[0], W.shape[0]
    ours = spec["singular_values"]
    if N * V <= 10**8:
        G, _ = grad_chunk(H.double(), W.double(), y, n)
        s = torch.linalg.svdvals(G)[:k].tolist()
        label = "torch svdvals float64 (exact)"
    else:
        G, _ = grad_chunk(H, W, y, n)
        torch.manual_seed(0)
        _, s, _ = torch.svd_lowrank(G, q=min(k + 10, N, V), niter=2)
        s = s[:k].tolist()
        label = "torch svd_lowrank float32 (q=k+10, niter=2)"
    rel = [abs(a / b - 1) for a, b in zip(ours, s)]
    print(f"\nrandomized spectrum k = {k} vs {label}: sigma_1 {ours[0]:.6e} vs {s[0]:.6e}; largest relative "
          f"difference {max(rel):.2e}, at sigma_k {rel[-1]:.2e}; top-k energy "
          f"{1 - sum(a * a for a in ours) / sum(b * b for b in s):.2e}")
    if exact is not None:
        e = exact["singular_values"][:k]
        print(f"gradscope exact spectrum vs {label}: largest relative difference over the top {k} "
              f"{max(abs(a / b - 1) for a, b in zip(e, s)):.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", nargs="?", default="/tmp/gs_head_bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--spectrum", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    H, W, y = load(a.dir)
    ours = json.load(open(os.path.join(a.dir, "gs_metrics.json")))
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, N = {H.shape[0]}, V = {W.shape[0]}, "
          f"D = {H.shape[1]}")

    t0 = time.perf_counter()
    ref = reference(H, W, y, a.chunk)
    print(f"reference (float64, explicit, two passes): {time.perf_counter() - t0:.1f} s\n")
    worst = compare("gradscope", ours, "torch float64", ref, 1e-5)

    tg = []
    for _ in range(3):
        t0 = time.perf_counter()
        Z = H @ W.T
        tg.append(time.perf_counter() - t0)
        del Z
    gemm = min(tg)
    fm, t_basis, t_pass = fast(H, W, y, a.chunk)
    print(f"\ntorch float32, gradscope's algorithm: basis {t_basis:.2f} s, metrics {t_pass:.2f} s = "
          f"{t_pass / gemm:.2f} x torch's gemm ({gemm:.2f} s, {2 * H.numel() * W.shape[0] / gemm * 1e-9:.0f} GFLOP/s)")
    timing_path = os.path.join(a.dir, "gs_timing.json")
    if os.path.exists(timing_path):
        t = json.load(open(timing_path))
        print(f"gradscope metrics {t['metrics_s']:.2f} s = {t['metrics_s'] / t['gemm_s']:.2f} x its gemm "
              f"({t['gemm_s']:.2f} s); gradscope / torch time: {t['metrics_s'] / t_pass:.2f}")
    compare("torch float32", fm, "torch float64", ref)

    spec_path = os.path.join(a.dir, "gs_spectrum.json")
    if a.spectrum and os.path.exists(spec_path):
        exact_path = os.path.join(a.dir, "gs_spectrum_exact.json")
        exact = json.load(open(exact_path))["spectrum"] if os.path.exists(exact_path) else None
        spectrum(H, W, y, json.load(open(spec_path))["spectrum"], exact)
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
