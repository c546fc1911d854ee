"""Training steps/s: bf16 autocast vs fp32 for our nets at the mini input, and ours vs torchvision's
at equal precision, each ratio measured in one run.

1. **bf16 / fp32** (the engine's ``precision``): our R3D-18 and R(2+1)D-18 at the ``mini`` setting
   (width 0.25, 8x32x32 clips, batch 16, channels_last_3d as the engine uses). On a CPU with
   native bf16 (AVX512-BF16 / AMX) the ratio should be >= 1.5.
2. **ours / torchvision** at equal precision and layout: torchvision's video models exist at full
   width only, so both sides are full width. Pairs: ``r3d_18`` (same architecture), ``r2plus1d_18``
   with ``torchvision_compat=True`` (same architecture: torchvision's midplanes) and our
   paper-faithful ``r2plus1d_18`` (the paper's M_i per conv: 33.3M parameters instead of 31.5M,
   so slightly more work). Target >= 1.0.

Timings are interleaved (a, b, b, a, a, b, ...) so that machine drift and going first hit both
sides alike; ratios are of median step times.

    python bench/bench_train.py                          # CPU
    python bench/bench_train.py --size 112 --batch 8     # on a GPU
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision.models.video as tvv

from replicate.errors import cli
from replicate.evaluate import autocast, cpu_has_bf16, move_input, move_model
from replicate.models import create


def step_time(model: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, precision: str) -> float:
    if x.is_cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with autocast(x.device, precision):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def compare(sides: list[tuple[torch.nn.Module, str]], x: torch.Tensor, y: torch.Tensor, steps: int, warmup: int,
            wrap=lambda model: model) -> list[float]:
    """Median step time of each (model, precision), timed interleaved; ``wrap`` (e.g. into DDP)
    is applied to each model once it is on the device."""
    runs = []
    for model, precision in sides:
        model = wrap(move_model(model, x.device).train())
        runs.append((model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), precision))
        for _ in range(warmup):
            step_time(model, runs[-1][1], x, y, precision)
    times: list[list[float]] = [[] for _ in runs]
    for step in range(steps):
        order = range(len(runs)) if step % 2 == 0 else reversed(range(len(runs)))  # a, b then b, a: no side always goes first
        for i in order:
            model, opt, precision = runs[i]
            times[i].append(step_time(model, opt, x, y, precision))
    return [statistics.median(t) for t in times]


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=32, help="crop size (mini: 32)")
    ap.add_argument("--width", type=float, default=0.25, help="our width for the bf16/fp32 part (mini: 0.25)")
    ap.add_argument("--tv-batch", type=int, default=4, help="batch of the full-width ours-vs-torchvision part")
    ap.add_argument("--precision", default="bf16", choices=("bf16", "fp32"), help="precision of the ours-vs-torchvision part")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--classes", type=int, default=400)
    args = ap.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, 3, args.frames, args.size, args.size)
        return move_input(x, device), torch.randint(0, args.classes, (n,), device=device)

    native = "native bf16" if device.type == "cuda" or cpu_has_bf16() else "NO native bf16: bf16 runs as fp32"
    print(f"device {device} ({native}), {torch.get_num_threads()} threads, {args.steps} timed steps each (median)")
    x, y = batch(args.batch)
    print(f"\n1. bf16 vs fp32, ours at width {args.width}, input {args.batch}x3x{args.frames}x{args.size}x{args.size}")
    print(f"{'model':34s} {'fp32 steps/s':>12s} {'bf16 steps/s':>12s} {'bf16/fp32':>9s}")
    for name in ("r3d_18", "r2plus1d_18"):
        t_fp32, t_bf16 = compare([(create(name, num_classes=args.classes, width=args.width), "fp32"),
                                  (create(name, num_classes=args.classes, width=args.width), "bf16")], x, y, args.steps, args.warmup)
        print(f"{name:34s} {1 / t_fp32:12.2f} {1 / t_bf16:12.2f} {t_fp32 / t_bf16:9.2f}", flush=True)

    x, y = batch(args.tv_batch)
    print(f"\n2. ours vs torchvision, full width, {args.precision}, input {args.tv_batch}x3x{args.frames}x{args.size}x{args.size}")
    print(f"{'model':34s} {'ours steps/s':>12s} {'torchvision':>12s} {'ratio':>7s}")
    pairs = [
        ("r3d_18", create("r3d_18", num_classes=args.classes), tvv.r3d_18(num_classes=args.classes)),
        ("r2plus1d_18 (torchvision_compat)", create("r2plus1d_18", num_classes=args.classes, torchvision_compat=True),
         tvv.r2plus1d_18(num_classes=args.classes)),
        ("r2plus1d_18 (paper M_i, 33.3M)", create("r2plus1d_18", num_classes=args.classes), tvv.r2plus1d_18(num_classes=args.classes)),
    ]
    for name, ours, theirs in pairs:
        t_ours, t_theirs = compare([(ours, args.precision), (theirs, args.precision)], x, y, args.steps, args.warmup)
        print(f"{name:34s} {1 / t_ours:12.2f} {1 / t_theirs:12.2f} {t_theirs / t_ours:7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
