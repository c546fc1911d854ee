"""Training runs: a paper's setting, scaled by a profile, trained once, evaluated, stored.

A *run* is the expensive unit of the study: one model trained under one configuration.
Its configuration is the paper spec's ``settings`` (in the paper's units), updated by the
run's own overrides (``runs:`` in the spec), then scaled by the profile (``params.yaml:
profiles.<profile>``): ``scale`` maps space, time and width (crop 112 -> 56 at space 0.5),
and ``<paper>:`` replaces what cannot be scaled by a factor (epochs, batch size, test clips).
Everything the run used is written next to its results, so a table can say what it shows.

Outputs (``runs/<profile>/<paper>/<run>/``): ``checkpoint.pt`` (resumable), ``final.pt``,
``history.json`` (per-epoch train/val loss and accuracy) and ``metrics.json`` (clip@1,
video@1, video@5, per-video correctness for the bootstrap, parameters, FLOPs, settings).

    python -m replicate.runs tran2018 r3d_18 --profile mini   # what the DVC train stages call
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import yaml

from . import config
from .data.clips import ClipDataset
from .data.transforms import test_transform, train_transform
from .evaluate import evaluate
from .flops import count_flops, count_params
from .models import create
from .train import TrainConfig, fit

SPEC_DIR = Path(__file__).resolve().parent / "papers"
RUNS_DIR = config.REPO_ROOT / "runs"
#: settings keys that TrainConfig takes directly
_TRAIN_KEYS = ("epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "schedule", "warmup_epochs",
               "step_epochs", "gamma", "num_workers")


def load_spec(paper: str) -> dict:
    path = SPEC_DIR / f"{paper}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SPEC_DIR.glob("*.yaml")))
        raise KeyError(f"no paper spec {path}; known papers: {known}")
    return yaml.safe_load(path.read_text())


def run_settings(paper: str, run: str, profile: str | None = None, params: dict | None = None) -> dict:
    """The full configuration of ``run`` under ``profile``: paper settings -> run overrides -> profile."""
    spec = load_spec(paper)
    params = params or config.load_params()
    profile = profile or params["profile"]
    runs = spec.get("runs", {})
    if run not in runs:
        raise KeyError(f"{paper} has no run {run!r}; runs: {', '.join(runs)}")
    s: dict[str, Any] = {**spec["settings"], **(runs[run] or {})}
    prof = config.profile_params(params, profile)
    scale = {"width": 1.0, "space": 1.0, "time": 1.0, **prof.get("scale", {})}
    s["width"] = scale["width"]
    s["crop"] = round(s["crop"] * scale["space"])
    s["resize"] = [round(x * scale["space"]) for x in s["resize"]]
    s["clip_len"] = max(1, round(s["clip_len"] * scale["time"]))
    s.update(prof.get(paper, {}))  # what a factor cannot scale: epochs, batch size, test clips ...
    s.update({"paper": paper, "run": run, "profile": profile, "seed": params.get("seed", 0)})
    return s


def run_dir(paper: str, run: str, profile: str) -> Path:
    return RUNS_DIR / profile / paper / run


def _datasets(s: dict, params: dict) -> tuple[ClipDataset, ClipDataset, int]:
    role = s["dataset"]
    split, n = s.get("split", 1), s.get("classes")
    train_list = config.video_list(role, split, "train", s["profile"], params, num_classes=n)
    test_list = config.video_list(role, split, "val" if role == "kinetics" else "test", s["profile"], params, num_classes=n)
    common = dict(decode_size=tuple(s["resize"]), cache_frames=s.get("cache_frames", False), progress=False)
    train_set = ClipDataset(train_list, s["clip_len"], s["stride"], "train", seed=s["seed"],
                            transform=train_transform(s["crop"], flip=s.get("flip", False)), **common)
    test_set = ClipDataset(test_list, s["clip_len"], s["stride"], "test", num_clips=s["test_clips"],
                           transform=test_transform(s["crop"]), **common)
    return train_set, test_set, train_list.num_classes


def _one_clip_per_video(test_set: ClipDataset, cache_frames: bool) -> ClipDataset:
    return ClipDataset([sample for sample, _ in test_set.videos], test_set.clip_len, test_set.stride, "test", num_clips=1,
                       decode_size=test_set.decode_size, transform=test_set.transform, progress=False,
                       cache_frames=cache_frames)


def train_run(paper: str, run: str, profile: str | None = None, params: dict | None = None,
              progress: bool = True) -> dict:
    """Train and evaluate one run (resuming an interrupted one); returns and writes its metrics."""
    params = params or config.load_params()
    s = run_settings(paper, run, profile, params)
    out = run_dir(paper, run, s["profile"])
    config.ensure_data(s["profile"], params)
    train_set, test_set, num_classes = _datasets(s, params)
    model = create(s["model"], num_classes=num_classes, width=s["width"], in_channels=s.get("in_channels", 3), clip_len=s["clip_len"])
    cfg = TrainConfig(**{k: s[k] for k in _TRAIN_KEYS if k in s}, seed=s["seed"], val_every=1)
    # Runs that draw learning curves (tran2018 Figure 4) are validated after every epoch on one
    # centre clip per test video (clip error); the final numbers always use the full protocol.
    curve_set = _one_clip_per_video(test_set, s.get("cache_frames", False)) if s.get("curves") else None
    t0 = time.time()
    history = fit(model, train_set, cfg, progress=progress, val_set=curve_set, out_dir=out, resume=True)
    metrics = evaluate(model, test_set)
    shape = (s.get("in_channels", 3), s["clip_len"], s["crop"], s["crop"])
    result = {
        "paper": paper, "run": run, "profile": s["profile"], "settings": s,
        "clip@1": metrics["clip@1"], "video@1": metrics["video@1"], "video@5": metrics["video@5"], "loss": metrics.get("loss"),
        "num_test_videos": metrics["num_videos"], "num_test_clips": metrics["num_clips"],
        "video_correct": metrics["video_correct"],
        "test_video_ids": list(test_set.video_ids),
        "params": count_params(model), "flops": count_flops(model, shape),
        "train_seconds": time.time() - t0, "history": history,
        "skipped_videos": {"train": len(train_set.broken), "test": len(test_set.broken)},
    }
    (out / "metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def load_run(paper: str, run: str, profile: str) -> dict | None:
    path = run_dir(paper, run, profile) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def ensure_run(paper: str, run: str, profile: str, params: dict | None = None, progress: bool = False) -> dict:
    """The run's metrics: read if the pipeline (or an earlier call) produced them, else train now.

    Notebooks call this, so one run standalone at the smoke profile trains its tiny runs itself.
    """
    return load_run(paper, run, profile) or train_run(paper, run, profile, params, progress=progress)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paper")
    ap.add_argument("run")
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)
    res = train_run(args.paper, args.run, args.profile)
    print(f"{args.paper}/{args.run} ({res['profile']}): clip@1 {100 * res['clip@1']:.1f}  video@1 {100 * res['video@1']:.1f}  "
          f"video@5 {100 * res['video@5']:.1f}  ({res['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
