"""Tiny colour-coded videos and tiny models trained by ``fit``: the script torchrun runs in test_train.py.

    torchrun --standalone --nproc_per_node=2 tests/_ddp_worker.py WORK_DIR OUT_DIR

Each rank writes its own copy of the videos under ``WORK_DIR/rank<R>`` (the encoder is
byte-deterministic, so the copies are identical and no rank waits for another's files) and
trains; rank 0 writes the runs and the final metrics to ``OUT_DIR/metrics.json``. Without
torchrun it is the one-process reference. test_train.py imports the data helpers from here
too, so the DDP run and every other test see the same dataset.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from replicate.data.clips import ClipDataset
from replicate.data.samples import VideoList, VideoSample
from replicate.data.transforms import Compose, Resize, ToTensorCTHW
from replicate.data.video import write_video
from replicate.models.probes import ProbeNet
from replicate.train import TrainConfig, fit

CLASSES = ["red", "green", "blue"]
TRAIN_PER_CLASS, VAL_PER_CLASS = 4, 2
# decord 0.6 cannot decode some narrow frames natively (16, 24 and 48 pixels wide fail, 32 works):
# the videos are 32x32 and the transform shrinks clips to 16x16
FRAMES, SIZE, CLIP_LEN = 8, 32, 4
TRANSFORM = Compose([Resize(16), ToTensorCTHW(0.5, 0.25)])
# the DDP comparison: 3 epochs of 3 global batches of 4 clips
DDP_CONFIG = TrainConfig(epochs=3, batch_size=4, lr=0.05, warmup_epochs=0.5, seed=0)


def make_videos(root: Path) -> tuple[VideoList, VideoList]:
    """Train (4 per class) and val (2 per class) lists; the class is the dominant colour.

    Brightness and noise vary per video and frame so the task is not solved in one step.
    Existing files are reused.
    """
    rng = np.random.default_rng(0)
    lists: dict[str, list[VideoSample]] = {"train": [], "val": []}
    for subset, per_class in (("train", TRAIN_PER_CLASS), ("val", VAL_PER_CLASS)):
        for label in range(len(CLASSES)):
            for i in range(per_class):
                frames = rng.uniform(40, 120, (FRAMES, SIZE, SIZE, 3))
                frames[..., label] += rng.uniform(40, 100)
                path = root / subset / f"{CLASSES[label]}_{i}.mp4"
                if not path.is_file():
                    write_video(path, frames.clip(0, 255).astype(np.uint8))
                lists[subset].append(VideoSample(path, label, f"{subset}_{CLASSES[label]}_{i}"))
    return VideoList(lists["train"], CLASSES, "train"), VideoList(lists["val"], CLASSES, "val")


def datasets(root: Path) -> tuple[ClipDataset, ClipDataset]:
    """Train set (one random 4x16x16 clip per video) and val set (2 uniform clips per video)."""
    train_list, val_list = make_videos(root)
    train = ClipDataset(train_list, CLIP_LEN, mode="train", transform=TRANSFORM, seed=0, progress=False)
    val = ClipDataset(val_list, CLIP_LEN, mode="test", num_clips=2, transform=TRANSFORM, progress=False)
    return train, val


def tiny_model(norm: str = "batch", dropout: bool = True) -> ProbeNet:
    """ProbeNet of width 4 with the fixed initialisation of seed 0.

    ``norm="group"`` swaps every BatchNorm for a one-group GroupNorm, which normalises each
    clip on its own, so a process's output no longer depends on which clips share its batch.
    """
    torch.manual_seed(0)
    model = ProbeNet(len(CLASSES), temporal=True, width=4)
    if norm == "group":
        for i, layer in enumerate(model.features):
            if isinstance(layer, nn.BatchNorm3d):
                model.features[i] = nn.GroupNorm(1, layer.num_features)
    if not dropout:
        model.dropout = nn.Identity()
    return model


def run(work_dir: Path, out_dir: Path) -> dict[str, dict]:
    """Train the DDP comparison's two models; returns each one's last-epoch metrics.

    Rank 0 writes each model's run (checkpoint, history, final.pt) to ``out_dir/<norm>``.

    Dropout is off: each process draws its own masks, which would make any comparison with
    one process meaningless. The GroupNorm model should then match one process up to float
    rounding; the BatchNorm model normalises over each process's share of the batch on CPU
    (gloo has no SyncBatchNorm), so it only roughly follows the one-process run.
    """
    train, val = datasets(work_dir)
    results = {}
    for norm in ("group", "batch"):
        model = tiny_model(norm, dropout=False)
        history = fit(model, train, DDP_CONFIG, progress=False, val_set=val, out_dir=out_dir / norm)
        results[norm] = {k: v for k, v in history[-1].items() if k not in ("seconds", "clips_per_s")}
    return results


def main(argv: list[str]) -> int:
    work_dir, out_dir = Path(argv[0]), Path(argv[1])
    torch.set_num_threads(1)  # two processes on a small shared CPU
    rank = int(os.environ.get("RANK", "0"))
    results = run(work_dir / f"rank{rank}", out_dir)
    if rank == 0:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        (out_dir / "metrics.json").write_text(json.dumps({"world_size": world, **results}, indent=1))
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
