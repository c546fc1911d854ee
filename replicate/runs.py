"""Training runs: a paper's setting, scaled by a profile, trained once, evaluated, stored.

A *run* is the expensive unit of the study: one model trained under one configuration.
Its configuration is the paper spec's ``settings`` (in the paper's units), updated by the
run's own overrides (``runs:`` in the spec), then scaled by the profile (``params.yaml:
profiles.<profile>``): ``scale`` maps space, time and width (crop 112 -> 56 at space 0.5),
and ``<paper>:`` replaces what cannot be scaled by a factor (epochs, batch size, test clips).
Everything the run used is written next to its results, so a table can say what it shows.

A run may belong to a ``group`` (``figure5``, ``finetune`` ...): the profile can scale or
override a group on its own (``params.yaml: profiles.<profile>.<paper>.groups.<group>``, with
its own ``scale``), so that an ablation over clip lengths fits the profile's budget without
changing the other runs. ``modality: flow`` trains the flow stream on the stored optical flow
(2 input channels); ``init_from: <run>`` starts from another run's weights (fine-tuning: every
weight but a classifier of another size), ``init_from: torchvision`` from torchvision's public
Kinetics-400 weights (``replicate.models.pretrained``).

Outputs (``runs/<profile>/<paper>/<run>/``): ``checkpoint.pt`` (resumable), ``final.pt``,
``history.json`` (per-epoch train/val loss and accuracy), ``metrics.json`` (clip@1,
video@1, video@5, per-video correctness for the bootstrap, parameters, FLOPs, settings) and
``video_scores.npz`` (per-video mean softmax scores, for two-stream fusion).

    python -m replicate.runs tran2018 r3d_18 --profile mini   # what the DVC train stages call
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from . import config
from .data.clips import ClipDataset
from .data.flow import FLOW_PIXELS
from .data.transforms import test_transform, train_transform
from .evaluate import evaluate
from .flops import count_flops, count_params
from .models import create
from .models.pretrained import load_torchvision_kinetics
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


def spec_runs(spec: dict) -> dict[str, dict]:
    """Every run of a spec: ``runs`` (trained from scratch) and ``finetunes`` (``init_from`` another)."""
    return {**spec.get("runs", {}), **spec.get("finetunes", {})}


def run_settings(paper: str, run: str, profile: str | None = None, params: dict | None = None,
                 overrides: dict | None = None) -> dict:
    """The full configuration of ``run`` under ``profile``: paper settings -> run overrides -> profile.

    ``overrides`` (paper units) update the run's own keys and are scaled like them; what the
    profile replaces outright (epochs, batch size, test clips ...) stays the profile's.
    """
    spec = load_spec(paper)
    params = params or config.load_params()
    profile = profile or params["profile"]
    runs = spec_runs(spec)
    if run not in runs:
        raise KeyError(f"{paper} has no run {run!r}; runs: {', '.join(runs)}")
    s: dict[str, Any] = {**spec["settings"], **(runs[run] or {}), **(overrides or {})}
    prof = config.profile_params(params, profile)
    paper_over = dict(prof.get(paper, {}))
    group_over = dict(paper_over.pop("groups", {}).get(s.get("group"), {}))
    scale = {"width": 1.0, "space": 1.0, "time": 1.0, **prof.get("scale", {}), **paper_over.pop("scale", {}),
             **group_over.pop("scale", {})}
    s["width"] = scale["width"]
    s["crop"] = round(s["crop"] * scale["space"])
    s["resize"] = [round(x * scale["space"]) for x in s["resize"]]
    s["clip_len"] = max(1, round(s["clip_len"] * scale["time"]))
    s.update(paper_over)  # what a factor cannot scale: epochs, batch size, test clips ...
    s.update(group_over)
    s.update({"paper": paper, "run": run, "profile": profile, "seed": params.get("seed", 0)})
    return s


def run_dir(paper: str, run: str, profile: str) -> Path:
    return RUNS_DIR / profile / paper / run


def _datasets(s: dict, params: dict) -> tuple[ClipDataset, ClipDataset, int]:
    role, split, n = s["dataset"], s.get("split", 1), s.get("classes")
    train_list = config.video_list(role, split, "train", s["profile"], params, num_classes=n)
    test_list = config.video_list(role, split, "val" if role == "kinetics" else "test", s["profile"], params, num_classes=n)
    flow = s.get("modality", "rgb") == "flow"
    norm = dict(zip(("mean", "std"), FLOW_PIXELS)) if flow else {}
    common = dict(decode_size=tuple(s["resize"]), cache_frames=s.get("cache_frames", False), progress=False,
                  flow=config.flow_roots(role, s["profile"], params) if flow else None)
    train_set = ClipDataset(train_list, s["clip_len"], s["stride"], "train", seed=s["seed"],
                            transform=train_transform(s["crop"], flip=s.get("flip", False), flow=flow, **norm), **common)
    test_set = ClipDataset(test_list, s["clip_len"], s["stride"], "test", num_clips=s["test_clips"],
                           transform=test_transform(s["crop"], **norm), **common)
    return train_set, test_set, train_list.num_classes


def _one_clip_per_video(test_set: ClipDataset, cache_frames: bool) -> ClipDataset:
    return ClipDataset([sample for sample, _ in test_set.videos], test_set.clip_len, test_set.stride, "test", num_clips=1,
                       decode_size=test_set.decode_size, transform=test_set.transform, progress=False,
                       cache_frames=cache_frames, flow=test_set.flow_roots)


def build_model(paper: str, run: str, profile: str, num_classes: int | None = None, params: dict | None = None):
    """The run's model, freshly initialised (seeded by the run's seed), as its training starts from scratch."""
    s = run_settings(paper, run, profile, params)
    torch.manual_seed(s["seed"])
    n = num_classes if num_classes is not None else _num_classes(s, params or config.load_params())
    in_channels = 2 if s.get("modality", "rgb") == "flow" else 3
    return create(s["model"], num_classes=n, width=s["width"], in_channels=in_channels, clip_len=s["clip_len"])


def _num_classes(s: dict, params: dict) -> int:
    return config.video_list(s["dataset"], s.get("split", 1), "train", s["profile"], params, num_classes=s.get("classes")).num_classes


def load_model(paper: str, run: str, profile: str, params: dict | None = None):
    """The run's trained model (``final.pt``, loaded with ``weights_only=True``), in eval mode."""
    path = run_dir(paper, run, profile) / "final.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: train the run first (`dvc repro` or "
                                f"`python -m replicate.runs {paper} {run} --profile {profile}`)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(paper, run, profile, num_classes=state["fc.weight"].shape[0], params=params)
    model.load_state_dict(state)
    return model.eval()


def _initialise(model, s: dict, params: dict) -> str | None:
    """Load ``init_from`` weights into ``model`` (not its classifier when the class count differs)."""
    source = s.get("init_from")
    if not source:
        return None
    if source == "torchvision":
        kwargs = {k: v for k, v in (("width", s["width"]),) if v != 1.0}
        if kwargs:
            raise ValueError(f"torchvision's weights are full width; run {s['run']} has width {s['width']}")
        state = load_torchvision_kinetics(s["model"]).state_dict()
    else:
        path = run_dir(s["paper"], source, s["profile"]) / "final.pt"
        if not path.is_file():
            raise FileNotFoundError(f"run {s['run']} starts from run {source}, but {path} does not exist: train {source} first")
        state = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    if state["fc.weight"].shape != own["fc.weight"].shape:
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.startswith("fc.")]:
        raise RuntimeError(f"{source} does not fit {s['model']}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return source


def train_run(paper: str, run: str, profile: str | None = None, params: dict | None = None,
              progress: bool = True) -> dict:
    """Train and evaluate one run (resuming an interrupted one); returns and writes its metrics."""
    params = params or config.load_params()
    s = run_settings(paper, run, profile, params)
    out = run_dir(paper, run, s["profile"])
    config.ensure_data(s["profile"], params)
    train_set, test_set, num_classes = _datasets(s, params)
    model = build_model(paper, run, s["profile"], num_classes=num_classes, params=params)
    _initialise(model, s, params)
    cfg = TrainConfig(**{k: s[k] for k in _TRAIN_KEYS if k in s}, seed=s["seed"], val_every=1)
    # Runs that draw learning curves (tran2018 Figure 4) are validated after every epoch on one
    # centre clip per test video (clip error); the final numbers always use the full protocol.
    curve_set = _one_clip_per_video(test_set, s.get("cache_frames", False)) if s.get("curves") else None
    t0 = time.time()
    history = fit(model, train_set, cfg, progress=progress, val_set=curve_set, out_dir=out, resume=True)
    metrics = evaluate(model, test_set)
    np.savez(out / "video_scores.npz", scores=metrics["video_scores"].numpy(), labels=np.asarray(metrics["video_labels"]),
             video_ids=np.asarray([test_set.video_ids[i] for i in metrics["video_order"]]))
    shape = (2 if s.get("modality", "rgb") == "flow" else 3, s["clip_len"], s["crop"], s["crop"])
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


def evaluate_run(paper: str, run: str, profile: str, params: dict | None = None, **test_overrides) -> dict:
    """Evaluate a trained run on its test set under changed test settings (paper units, scaled
    like the run's own), e.g. ``clip_len=32``: tran2018's 8-frame model tested on 32-frame clips."""
    params = params or config.load_params()
    s = run_settings(paper, run, profile, params, overrides=test_overrides)
    _, test_set, _ = _datasets({**s, "cache_frames": False}, params)
    metrics = evaluate(load_model(paper, run, profile, params), test_set)
    return {k: v for k, v in metrics.items() if k not in ("video_scores", "video_order", "video_labels")}


def load_video_scores(paper: str, run: str, profile: str) -> dict:
    """A run's per-video scores (``video_ids``, ``scores`` (V, C), ``labels``), for ``evaluate.fuse_streams``."""
    with np.load(run_dir(paper, run, profile) / "video_scores.npz") as z:
        return {"video_ids": z["video_ids"].tolist(), "scores": z["scores"], "labels": z["labels"]}


def load_run(paper: str, run: str, profile: str) -> dict | None:
    path = run_dir(paper, run, profile) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def ensure_run(paper: str, run: str, profile: str, params: dict | None = None, progress: bool = False) -> dict:
    """The run's metrics: read if the pipeline (or an earlier call) produced them, else train now.

    Notebooks call this, so one run standalone at the smoke profile trains its tiny runs itself.
    """
    done = load_run(paper, run, profile)
    if done is not None:
        return done
    source = run_settings(paper, run, profile, params).get("init_from")
    if source and source != "torchvision":
        ensure_run(paper, source, profile, params, progress)
    return train_run(paper, run, profile, params, progress=progress)


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
