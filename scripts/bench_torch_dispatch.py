#!/usr/bin/python3
"""Same-machine baseline for bench/bench_dispatch.cpp: PyTorch eager, 16-element float32 add.

Measures ns per op through torch's Python eager path (the only torch on this machine is Debian's
python3-torch, hence /usr/bin/python3), with the same variants as the C++ bench:

  empty Python loop             the interpreter's own per-iteration cost (included in every row)
  torch.add, no_grad            no autograd at all
  torch.add, no input req. grad grad mode on, nothing requires grad
  torch.add, requires-grad input a node is recorded each call (result dropped)
  chain forward only            y = y + b, L deep from a requires-grad leaf; graph freed at the end
  chain forward + backward      the same, then y.backward(ones); time / L

Median and min ns/op over RUNS runs of ITERS ops, wall clock and this thread's CPU time (the CPU
columns are the ones to trust when other processes load the machine). Usage:
  scripts/bench_torch_dispatch.py [--iters 2000000] [--runs 7] [--chain 1000] [--threads 1]
"""
import argparse
import os
import statistics
import time

import torch


def measure(name, ops, runs, fn):
    fn(ops // 10 + 1)  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
        fn(ops)
        w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
        wall.append((w1 - w0) / ops)
        cpu.append((c1 - c0) / ops)
    print(f"{name:<44} {statistics.median(wall):10.1f} {min(wall):10.1f} {statistics.median(cpu):10.1f} {min(cpu):10.1f}",
          flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=2_000_000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--chain", type=int, default=1000)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    L = a.chain

    print(f"# bench_torch_dispatch: ns per op, 16-element float32 add (torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, python eager)")
    print(f"#   iters/run {a.iters}, runs {a.runs}, chain length {L}\n")
    print(f"{'variant':<44} {'wall med':>10} {'wall min':>10} {'cpu med':>10} {'cpu min':>10}")

    g = torch.Generator().manual_seed(7)
    x = torch.randn(16, generator=g)
    b = torch.randn(16, generator=g)
    xr = torch.randn(16, generator=g).requires_grad_(True)
    ones = torch.ones(16)

    def empty_loop(n):
        for _ in range(n):
            pass

    def add_nograd(n):
        with torch.no_grad():
            for _ in range(n):
                torch.add(x, b)

    def add_plain(n):
        for _ in range(n):
            torch.add(x, b)

    def add_record(n):
        for _ in range(n):
            torch.add(xr, b)

    def chain_fwd(n):
        for _ in range(0, n, L):
            y = xr
            for _ in range(L):
                y = torch.add(y, b)
            del y

    def chain_fwd_bwd(n):
        for _ in range(0, n, L):
            xr.grad = None
            y = xr
            for _ in range(L):
                y = torch.add(y, b)
            y.backward(ones)

    measure("empty Python loop (per iteration)", a.iters, a.runs, empty_loop)
    measure("torch.add, torch.no_grad()", a.iters, a.runs, add_nograd)
    measure("torch.add, no input requires grad", a.iters, a.runs, add_plain)
    measure("torch.add, requires-grad input (node recorded)", a.iters, a.runs, add_record)
    measure("chain forward only (graph kept, then freed)", a.iters, a.runs, chain_fwd)
    measure("chain forward + backward (per op)", a.iters, a.runs, chain_fwd_bwd)
    ok = bool(torch.equal(xr.grad, torch.ones(16)))
    print(f"\n(check: chain gradient == ones: {'yes' if ok else 'NO'}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')})")


if __name__ == "__main__":
    main()
