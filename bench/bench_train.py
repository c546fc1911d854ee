"""Training steps/s of our video ResNets vs torchvision's, same input, same width, one run.

torchvision's video models exist at full width only, so both sides are full width. Pairs:
``r3d_18`` (same architecture), ``r2plus1d_18`` with ``torchvision_compat=True`` (same
architecture: torchvision's midplanes) and our paper-faithful ``r2plus1d_18`` (the paper's
M_i per conv: 33.3M parameters instead of 31.5M, so a slightly different amount of work).
Timings are interleaved (ours, theirs, ours, ...) so that machine drift hits both sides alike;
the printed ratio is ours/torchvision in steps per second (target >= 1.0).

    python bench/bench_train.py                  # CPU: batch 2, 8x56x56
    python bench/bench_train.py --size 112 --batch 8   # on a GPU
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision.models.video as tvv

from replicate.models import create


def step_time(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    if x.is_cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def compare(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, warmup: int) -> tuple[float, float]:
    pairs = [(m, torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)) for m in (ours, theirs)]
    for m, opt in pairs:
        m.train()
        for _ in range(warmup):
            step_time(m, opt, x, y)
    times: list[list[float]] = [[], []]
    for _ in range(steps):
        for i, (m, opt) in enumerate(pairs):
            times[i].append(step_time(m, opt, x, y))
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=56)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--classes", type=int, default=400)
    args = ap.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.frames, args.size, args.size, device=device)
    y = torch.randint(0, args.classes, (args.batch,), device=device)
    pairs = [
        ("r3d_18", create("r3d_18", num_classes=args.classes), tvv.r3d_18(num_classes=args.classes)),
        ("r2plus1d_18 (torchvision_compat)", create("r2plus1d_18", num_classes=args.classes, torchvision_compat=True),
         tvv.r2plus1d_18(num_classes=args.classes)),
        ("r2plus1d_18 (paper M_i, 33.3M)", create("r2plus1d_18", num_classes=args.classes), tvv.r2plus1d_18(num_classes=args.classes)),
    ]
    print(f"device {device}, input {args.batch}x3x{args.frames}x{args.size}x{args.size}, {args.steps} timed steps each (median)")
    print(f"{'model':34s} {'ours steps/s':>12s} {'torchvision':>12s} {'ratio':>7s}")
    for name, ours, theirs in pairs:
        ours, theirs = ours.to(device), theirs.to(device)
        t_ours, t_theirs = compare(ours, theirs, x, y, args.steps, args.warmup)
        print(f"{name:34s} {1 / t_ours:12.2f} {1 / t_theirs:12.2f} {t_theirs / t_ours:7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
