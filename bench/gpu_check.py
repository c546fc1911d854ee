"""GPU check: a short paper-input training of R(2+1)D-18, ours vs torchvision's ``r2plus1d_18``
in the same loop, bf16 autocast, channels_last_3d, DDP over every visible GPU; prints clips/s.

What it tells a user with GPUs before a `paper` run: that bf16 and channels_last_3d work on their
cards, that DDP runs (torchrun, NCCL, SyncBatchNorm as the engine uses it), and how our
paper-faithful R(2+1)D-18 (the paper's M_i per conv) and the torchvision-compatible variant (the
same architecture as torchvision's) train against torchvision's at the paper's input (clips of
8x112x112; ``--frames 32`` for the 32-frame rows). The clips are random tensors: the check measures
the model, the precision and the interconnect, not the data loader (``bench/bench_loader.py``).

Timing is the one of ``bench/bench_train.py`` (interleaved steps, medians, so drift hits both
sides alike); clips/s is the global batch over the median step time, on every GPU together.

    python bench/gpu_check.py                       # relaunches itself under torchrun on all GPUs
    python bench/gpu_check.py --gpus 1              # one GPU
    python bench/gpu_check.py --cpu --size 32 --batch 2 --steps 2   # the code path on a CPU (CI)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import torch
import torch.distributed as dist
import torchvision.models.video as tvv

from bench_train import compare  # noqa: E402  (bench/ is sys.path[0] when run as a script)
from replicate.errors import BadValueError, cli
from replicate.evaluate import cpu_has_bf16, move_input
from replicate.models import create
from replicate.train import TrainConfig, setup_device, setup_distributed, wrap_distributed


def parse(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpus", type=int, default=None, help="processes to launch (default: every visible GPU)")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU (one process, gloo if under torchrun)")
    ap.add_argument("--batch", type=int, default=16, help="clips per GPU per step (the global batch is this x GPUs)")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=112)
    ap.add_argument("--precision", default="bf16", choices=("bf16", "fp32"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--classes", type=int, default=400)
    return ap.parse_args(argv)


def relaunch_under_torchrun(args: argparse.Namespace) -> int | None:
    """Run this script under torchrun on ``--gpus`` (default: all) GPUs; None if one process will do."""
    if args.cpu or "WORLD_SIZE" in os.environ or not torch.cuda.is_available():
        return None
    gpus = args.gpus or torch.cuda.device_count()
    if gpus <= 1:
        return None
    torchrun = shutil.which("torchrun") or f"{sys.executable} -m torch.distributed.run"
    cmd = [*torchrun.split(), "--standalone", f"--nproc_per_node={gpus}", sys.argv[0], *sys.argv[1:]]
    print("launching:", " ".join(cmd), flush=True)
    return subprocess.call(cmd)


@cli
def main(argv=None) -> int:
    args = parse(argv)
    if args.gpus is not None and args.gpus < 1:
        raise BadValueError(f"--gpus must be >= 1, got {args.gpus}")
    code = relaunch_under_torchrun(args)
    if code is not None:
        return code
    rank, world = setup_distributed()
    device = setup_device("cpu" if args.cpu else None)
    torch.manual_seed(rank)
    cfg = TrainConfig(precision=args.precision)  # sync_bn=True: what the engine trains with on CUDA
    wrap = (lambda model: wrap_distributed(model, device, cfg)) if world > 1 else (lambda model: model)
    x = move_input(torch.randn(args.batch, 3, args.frames, args.size, args.size), device)
    y = torch.randint(0, args.classes, (args.batch,), device=device)
    say = print if rank == 0 else (lambda *a, **k: None)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        bf16 = "native bf16" if torch.cuda.is_bf16_supported() else "NO native bf16"
    else:
        name, bf16 = "CPU", "native bf16" if cpu_has_bf16() else "NO native bf16: bf16 runs as fp32"
    say(f"torch {torch.__version__}, {world} x {name} ({bf16}), {args.precision}, channels_last_3d, "
        f"{'DDP' if world > 1 else 'one process'}; clips {args.frames}x{args.size}x{args.size}, "
        f"{args.batch} per process ({args.batch * world} global), {args.steps} timed steps (median)")
    say(f"{'model':34s} {'params':>7s} {'ours clips/s':>12s} {'tv clips/s':>11s} {'ours/tv':>8s}")
    pairs = [
        ("r2plus1d_18 (paper M_i)", create("r2plus1d_18", num_classes=args.classes)),
        ("r2plus1d_18 (torchvision_compat)", create("r2plus1d_18", num_classes=args.classes, torchvision_compat=True)),
    ]
    for label, ours in pairs:
        params = sum(p.numel() for p in ours.parameters()) / 1e6
        t_ours, t_tv = compare([(ours, args.precision), (tvv.r2plus1d_18(num_classes=args.classes), args.precision)],
                               x, y, args.steps, args.warmup, wrap=wrap)
        clips = args.batch * world
        say(f"{label:34s} {params:6.1f}M {clips / t_ours:12.1f} {clips / t_tv:11.1f} {t_tv / t_ours:8.2f}", flush=True)
    if device.type == "cuda":
        say(f"peak memory on rank 0: {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB")
    if world > 1:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
