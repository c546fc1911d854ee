"""Is the synthetic data in the UCF101 regime? Train a frame model and a 3D model, compare.

The embedded data is the instrument of every table in the suite: if temporal modelling did
not matter on it, no paper's claim about 3D convolutions could be tested. This script
measures it on the small target set (the UCF101 stand-in, split 1 by default), through the
real pipeline (mp4 files -> decord -> ClipDataset), with two probes that differ only in
temporal modelling (``replicate.models.probes``), trained identically.

Targets (issue: foundation, point 3): frame model >= 2x chance; 3D model >= 15 points above
the frame model (video@1). Writes ``results/data/<profile>/calibration.json``.

    python bench/calibrate_difficulty.py                # mini, ucf101 split 1
    python bench/calibrate_difficulty.py --role hmdb51  # the harder stand-in
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from replicate import config
from replicate.data.clips import ClipDataset
from replicate.data.transforms import test_transform, train_transform
from replicate.errors import cli
from replicate.evaluate import evaluate
from replicate.models.probes import ProbeNet
from replicate.train import TrainConfig, fit

TARGET_FRAME_X_CHANCE = 2.0
TARGET_GAP_POINTS = 15.0


def run(role: str, profile: str, split: int, epochs: int, clip_len: int, stride: int, crop: int, seed: int, progress: bool) -> dict:
    params = config.load_params()
    train_list = config.video_list(role, split, "train", profile, params)
    test_list = config.video_list(role, split, "test", profile, params)
    num_classes = train_list.num_classes
    train_set = ClipDataset(train_list, clip_len, stride, "train", transform=train_transform(crop), seed=seed, progress=False)
    test_set = ClipDataset(test_list, clip_len, stride, "test", num_clips=5, transform=test_transform(crop), progress=False)
    out = {"role": role, "profile": profile, "split": split, "num_classes": num_classes, "chance": 1.0 / num_classes,
           "train_videos": len(train_set.videos), "test_videos": len(test_set.videos),
           "clip_len": clip_len, "stride": stride, "crop": crop, "epochs": epochs, "seed": seed}
    cfg = TrainConfig(epochs=epochs, batch_size=16, lr=0.05, warmup_epochs=1, seed=seed)  # as calibrated (the default was 1)
    for name, temporal in (("frame", False), ("3d", True)):
        torch.manual_seed(seed)
        model = ProbeNet(num_classes, temporal=temporal)
        t0 = time.time()
        history = fit(model, train_set, cfg, progress=progress)
        metrics = evaluate(model, test_set)
        metrics.pop("video_correct")
        out[name] = {**metrics, "final_train_acc": history[-1]["train_acc"], "train_seconds": time.time() - t0,
                     "params": sum(p.numel() for p in model.parameters())}
        print(f"{name:>5} probe: clip@1 {metrics['clip@1']:.3f}  video@1 {metrics['video@1']:.3f}  "
              f"(train acc {history[-1]['train_acc']:.3f}, {time.time() - t0:.0f} s)", flush=True)
    frame, d3 = out["frame"]["video@1"], out["3d"]["video@1"]
    out["frame_x_chance"] = frame / out["chance"]
    out["gap_points"] = 100 * (d3 - frame)
    out["targets_met"] = bool(out["frame_x_chance"] >= TARGET_FRAME_X_CHANCE and out["gap_points"] >= TARGET_GAP_POINTS)
    return out


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--role", default="ucf101", choices=["ucf101", "hmdb51"])
    ap.add_argument("--profile", default="mini")
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--clip-len", type=int, default=8)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--crop", type=int, default=56)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--out", default=None, help="json path (default results/data/<profile>/calibration_<role>.json)")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    res = run(args.role, args.profile, args.split, args.epochs, args.clip_len, args.stride, args.crop, args.seed, not args.no_progress)
    print(f"\n{args.role} split {args.split} ({res['num_classes']} classes, chance {100 * res['chance']:.1f}%):")
    print(f"  frame probe video@1 {100 * res['frame']['video@1']:.1f}% = {res['frame_x_chance']:.1f}x chance (target >= {TARGET_FRAME_X_CHANCE}x)")
    print(f"  3D probe    video@1 {100 * res['3d']['video@1']:.1f}% = frame + {res['gap_points']:.1f} points (target >= {TARGET_GAP_POINTS})")
    print(f"  targets met: {res['targets_met']}")
    out = Path(args.out) if args.out else config.REPO_ROOT / "results" / "data" / args.profile / f"calibration_{args.role}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {out}")
    return 0 if res["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
