#!/usr/bin/python3
"""Reference trajectories for tests/test_nn_optim.cpp from torch.optim (oracle: PyTorch).

Run by hand with Debian's python3-torch (1.13):  /usr/bin/python3 scripts/golden/make_optim_golden.py
It prints C++ initialisers that are pasted into the test (kTorch* arrays); nothing is written.

Setup (float64, CPU, single-tensor code path: foreach=False):
  p0 = [0.5, -1.5, 2.0]; loss(p) = sum(0.5 * a * p^2 + b * p) with a = [1.0, 2.0, 0.5],
  b = [0.3, -0.2, 0.1], so grad = a * p + b. Three steps of each optimiser; the parameter after
  every step is printed with 17 significant digits.
"""
import torch

A = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
B = torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)
P0 = [0.5, -1.5, 2.0]

CASES = [
    ("kTorchSGD", lambda p: torch.optim.SGD([p], lr=0.1)),
    ("kTorchSGDMomentumWd", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.05, foreach=False)),
    ("kTorchSGDNesterov", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, foreach=False)),
    ("kTorchAdam", lambda p: torch.optim.Adam([p], lr=0.01, foreach=False)),
    ("kTorchAdamL2", lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                                                foreach=False)),
    ("kTorchAdamW", lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                                                foreach=False)),
]


def main():
    print(f"// torch {torch.__version__}: parameter after steps 1, 2, 3")
    for name, make in CASES:
        p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
        opt = make(p)
        rows = []
        for _ in range(3):
            opt.zero_grad()
            loss = (0.5 * A * p * p + B * p).sum()
            loss.backward()
            opt.step()
            rows.append("{" + ", ".join(f"{v:.17g}" for v in p.detach().tolist()) + "}")
        print(f"const double {name}[3][3] = {{" + ", ".join(rows) + "};")


if __name__ == "__main__":
    main()
