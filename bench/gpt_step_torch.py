#!/usr/bin/python3
"""PyTorch eager twin of bench/bench_gpt_step.cpp: one GPT training step (forward + backward +
AdamW step), float32, same shapes and same ops as gradscope's LanguageModel with the Transformer
backbone and an untied full head:

  4 layers, d_model 256, 4 heads (dh 64), MLP 1024 (GELU tanh form), context = T = 128,
  vocab 8192 (--config gpt2vocab: 50257), B 16; pre-norm blocks with LayerNorm eps 1e-5, learned positional embedding,
  final ln_f, head without bias, mean cross-entropy.
  Attention is the same plain composite as nn/attention.cpp: separate q, k, v Linears,
  (q @ k^T) * 1/sqrt(dh), masked_fill(mask, -inf) with a [T, T] mask, softmax, @ v, proj.
  NOT torch's fused F.scaled_dot_product_attention (torch 1.13 has none anyway) and no
  torch.compile / TorchScript: plain eager mode, one kernel per op, like gradscope.
  Optimiser: torch.optim.AdamW(lr 3e-4, betas (0.9, 0.999), eps 1e-8, weight_decay 0.01), its
  default (per-tensor, non-foreach) implementation on CPU.

Threads: torch.set_num_threads(--threads, else GRADSCOPE_NUM_THREADS, else nproc), the count
gradscope uses, and OPENBLAS_NUM_THREADS set to the same count before torch loads (unless set). tokens/s = B * T * timed steps / their total wall time, after warm-up steps;
"cpu ms/step" is the process CPU time (all threads) per timed step (time.process_time).
Run by hand (/usr/bin/python3: Debian's python3-torch) or by bench_gpt_step, which parses the
line "torch_tokens_per_s <x>". --profile adds torch's own per-op table of one more step.
"""
import argparse
import math
import os
import resource
import statistics
import sys
import time


def _pin_blas_threads():
    """torch.set_num_threads does not reach Debian torch's OpenBLAS (pthread build), which reads
    OPENBLAS_NUM_THREADS once when it loads and otherwise uses every core: a "1 thread" twin then
    ran its matrix products on 2 cores. Set it from --threads (same rule as below) before
    importing torch, unless the caller set it."""
    threads = 0
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            threads = int(sys.argv[i + 1])
        elif a.startswith("--threads="):
            threads = int(a.split("=", 1)[1])
    threads = threads or int(os.environ.get("GRADSCOPE_NUM_THREADS", "0") or 0) or os.cpu_count()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))


_pin_blas_threads()
import torch  # noqa: E402  (after the thread pin)
import torch.nn as nn
import torch.nn.functional as F

V, D, N_LAYER, N_HEAD, T, B = 8192, 256, 4, 4, 128, 16
CONFIG_VOCAB = {"small": 8192, "gpt2vocab": 50257}  # bench/gpt_config.h's configurations


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.proj = (nn.Linear(D, D) for _ in range(4))
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        dh = D // N_HEAD
        heads = lambda z: z.reshape(b, t, N_HEAD, dh).permute(0, 2, 1, 3)  # noqa: E731
        q, k, v = heads(self.q(x)), heads(self.k(x)), heads(self.v(x))
        s = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(dh))
        p = torch.softmax(s.masked_fill(self.mask[:t, :t], float("-inf")), dim=-1)
        return self.proj((p @ v).permute(0, 2, 1, 3).reshape(b, t, D))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D, eps=1e-5), nn.LayerNorm(D, eps=1e-5)
        self.attn = Attention()
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        nn.init.normal_(self.wte.weight, std=0.02)  # gradscope's Embedding init
        nn.init.normal_(self.wpe.weight, std=0.02)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYER))
        self.ln_f = nn.LayerNorm(D, eps=1e-5)
        self.head = nn.Linear(D, V, bias=False)

    def loss(self, tokens, targets):
        t = tokens.shape[1]
        x = self.wte(tokens) + self.wpe(torch.arange(t))
        for blk in self.blocks:
            x = blk(x)
        logits = self.head(self.ln_f(x).reshape(-1, D))
        return F.cross_entropy(logits, targets.reshape(-1))


def openblas_core():
    """The core OpenBLAS picked in this process (torch's BLAS is Debian's OpenBLAS), or '?'."""
    import ctypes
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--config", choices=sorted(CONFIG_VOCAB), default="small",
                    help="small: vocab 8192; gpt2vocab: GPT-2's 50257 (full logits: torch has no fused head)")
    ap.add_argument("--profile", action="store_true",
                    help="after the timed steps, print torch.autograd.profiler's per-op table of one step")
    args = ap.parse_args()
    global V
    V = CONFIG_VOCAB[args.config]
    threads = args.threads or int(os.environ.get("GRADSCOPE_NUM_THREADS", "0") or 0) or os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, V, (B, T), generator=g)
    targets = torch.randint(0, V, (B, T), generator=g)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()} (OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}), {n_params} parameters, "
          f"{args.warmup} warm-up steps, {args.steps} timed steps; openblas core {openblas_core()}")

    def step():
        opt.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        loss = model.loss(tokens, targets)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, loss.item()

    for i in range(args.warmup):
        f, b, o, l = step()
        print(f"#   warm-up step {i + 1}: loss {l:.4f}, {f + b + o:.3f} s")
    fwd, bwd, upd, losses = [], [], [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        f, b, o, l = step()
        fwd.append(f), bwd.append(b), upd.append(o), losses.append(l)
    elapsed = time.perf_counter() - start
    cpu_per_step = (time.process_time() - cpu_start) / args.steps
    tps = B * T * args.steps / elapsed
    med = lambda v: statistics.median(v) * 1e3  # noqa: E731
    tot = [f + b + o for f, b, o in zip(fwd, bwd, upd)]
    print(f"{'engine':<10} {'fwd ms':>10} {'bwd ms':>10} {'adamw ms':>10} {'step ms':>10} {'tokens/s':>12}"
          f" {'cpu ms/step':>12}")
    print(f"{'torch':<10} {med(fwd):>10.1f} {med(bwd):>10.1f} {med(upd):>10.1f} {med(tot):>10.1f} {tps:>12.0f}"
          f" {cpu_per_step * 1e3:>12.0f}   (medians; tokens/s and cpu over all {args.steps} timed steps;"
          f" loss {losses[0]:.4f} -> {losses[-1]:.4f})")
    print(f"torch_tokens_per_s {tps:.1f}")
    print(f"torch_cpu_s_per_step {cpu_per_step:.4f}")
    # peak resident set of this process (Linux reports KiB)
    print(f"torch_peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
    if args.profile:
        with torch.autograd.profiler.profile() as prof:
            step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
