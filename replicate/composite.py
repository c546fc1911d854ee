"""mansimov2015's Composite LSTM stream (its Tables 2-3 fuse it with the NWI 3D net), as the public
code of [14] (Srivastava et al. 2015, mansimov/unsupervised-videos) trains it.

Three steps per seed, one DVC stage (``composite_mansimov2015``) for every seed:

1. **Features** (shared by the seeds, cached in the work folder): every frame (at ``stride``) of a
   video through the image-pretrained 2D net (``image_net``: the ImageNet net of Table 1, not
   fine-tuned), fc6 after its ReLU (4096-d at full width; ``ucf101_features.pbtxt``:
   ``hidden6``). Frames are the centre crop of the Table 1 runs' test transform. A video is cut
   into consecutive, non-overlapping windows of ``reconstruct + future`` frames (the unlabelled
   role, for the composite model) or ``window`` frames (UCF101 split 1, for the classifier).
   Features are divided by one constant, the RMS of the unlabelled features, so that the squared
   errors and the classifier see unit-scale inputs (the code feeds raw fc6; a linear layer absorbs
   a constant, the learning rate does not).
2. **Composite pretraining** (no labels) on the unlabelled windows: the encoder reads
   ``reconstruct`` frames, a conditional decoder reconstructs them in reverse, a conditional
   predictor the ``future`` frames after them (:class:`~replicate.models.composite_lstm.CompositeLSTM`).
3. **Classifier**: an LSTM started from the encoder, a softmax at every step, cross-entropy at
   every step, trained on UCF101 split 1's windows; a window's score is the mean of its per-step
   softmax, a video's the mean over its windows (:func:`replicate.evaluate.accuracies`).

The optimiser is the code's (``util.py: Param.Update``, :class:`CodeSGD`): momentum SGD on the loss
*summed* over sequences and steps (the code never divides its gradients), the update clipped
element-wise, L2 decay on weights only (the pbtxts give biases none), constant rate (the code
computes a decayed rate but updates with the undecayed one), and the classifier's peepholes kept
as the encoder left them (its ``w_diag`` has ``epsilon: 0``).
Settings: the spec's ``composite_lstm`` (paper units: the code's pbtxt files, each open choice
stated there), scaled and overridden by ``params.yaml: profiles.<profile>.composite_lstm``; the
dataset, frame size, precision and seeds are Table 1's runs' (``spatial_2d``).

Outputs, in a run's layout so that :func:`replicate.runs.load_run` and the fusion read them like
any run (``runs/<profile>/mansimov2015/composite_lstm/seed<k>/``): ``final.pt`` (the classifier),
``history.json``, ``metrics.json`` and ``video_scores.npz``. Each phase checkpoints every epoch in
``checkpoints/`` (a folder named by a digest of the settings and the inputs) and resumes; the
features are kept there too, under a digest of what decides them (and :data:`FEATURES_VERSION`).
They are held in memory in fp16: about 20 GB for UCF101 at ``paper`` (13K videos, 4096-d), plus
the unlabelled role's.

    python -m replicate.composite --profile mini   # what the DVC stage calls (every seed)
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor, nn

from . import config, runs
from .errors import BadValueError, cli

log = logging.getLogger(__name__)

PAPER = "mansimov2015"
RUN = "composite_lstm"
#: the Table 1 run whose dataset, frame size, precision and seeds the LSTM stream shares
BASE_RUN = "spatial_2d"
_FROM_BASE = ("dataset", "split", "classes", "resize", "crop", "precision", "seeds", "cache_frames", "num_workers",
              "profile", "seed")
_PHASES = ("pretrain", "classifier")
#: bump when the feature code changes what it extracts: cached features of an older version are not reused
FEATURES_VERSION = 1
#: what decides the features (the rest of the settings decides the LSTMs)
_FEATURE_KEYS = ("image_net", "stride", "window", "reconstruct", "future", "dataset", "split", "classes", "resize", "crop",
                 "precision", "profile")


def lstm_settings(profile: str | None = None, params: dict | None = None) -> dict:
    """The Composite LSTM's full configuration at ``profile``: Table 1's data settings and width (hidden
    units), the spec's ``composite_lstm`` (paper units) and the profile's ``composite_lstm`` overrides."""
    from .models.video_resnet import scale_width
    from .pretrain import pretrain_settings

    params = params or config.load_params()
    base = runs.run_settings(PAPER, BASE_RUN, profile, params)
    prof = config.profile_params(params, base["profile"])
    over = copy.deepcopy(prof.get("composite_lstm") or {})
    s = {k: base[k] for k in _FROM_BASE if k in base}
    s.update(copy.deepcopy(runs.load_spec(PAPER)["composite_lstm"]))
    s["hidden"] = scale_width(s["hidden"], base["width"])  # the width of Table 1's nets at this profile
    for phase in _PHASES:
        s[phase] = {**s[phase], **over.pop(phase, {})}
    s.update(over)
    s.update({"paper": PAPER, "run": RUN})
    image = pretrain_settings(s["image_net"], s["profile"], params)
    if image["crop"] != s["crop"]:  # fc6 is built for one input size
        raise BadValueError(f"the Composite LSTM's frames are {s['crop']} px (Table 1's crop) but {s['image_net']} was "
                            f"pretrained on {image['crop']} px: give profiles.{s['profile']}.image_pretraining and "
                            f".mansimov2015 the same space scale")
    return s


# ----------------------------------------------------------------------------- features
def _windows(s: dict, role: str, subset: str, length: int, params: dict):
    """Consecutive non-overlapping windows of ``length`` frames (every ``stride``-th) of every video of
    ``role``'s ``subset``, centre-cropped as Table 1's test clips."""
    from .data.clips import ClipDataset
    from .data.transforms import test_transform

    videos = config.video_list(role, s.get("split", 1), subset, s["profile"], params,
                               num_classes=s.get("classes") if role == s["dataset"] else None)
    cache = s.get("cache_frames", False)
    probes = config.probe_cache_dir(params)
    name = config.data_role(role, s["profile"])
    return ClipDataset(videos, length, s["stride"], "test", num_clips="all", transform=test_transform(s["crop"]),
                       decode_size=tuple(s["resize"]), cache_frames=cache, progress=False,
                       frame_cache_dir=config.frame_cache_dir(params) if cache else None,
                       probe_cache=probes / f"{s['profile']}_{name}.json" if probes else None), videos


def frame_features(net: nn.Module, dataset, precision: str, batch_size: int = 8, num_workers: int = 0,
                   progress: bool = True, desc: str = "features") -> dict:
    """fc6 features of every frame of every window of ``dataset`` (test-mode windows):
    ``{"features" (N, T, D) float16, "video_index" (N,), "labels", "video_ids"}``."""
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from .data.clips import collate_skip_none
    from .evaluate import autocast, default_device, move_model

    device = default_device()
    net = move_model(net, device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skip_none)
    feats, index = [], []
    with torch.no_grad(), autocast(device, precision):
        for batch in tqdm(loader, desc=desc, disable=not progress, leave=False):
            if batch is None:
                continue
            clip = batch["clip"].to(device)
            b, c, t, h, w = clip.shape
            f = net.fc6(clip.transpose(1, 2).reshape(b * t, c, h, w))
            feats.append(f.float().reshape(b, t, -1).cpu().half())
            index.append(batch["video_index"])
    if not feats:
        raise BadValueError(f"no window of {desc} could be decoded")
    return {"features": torch.cat(feats), "video_index": torch.cat(index), "labels": list(dataset.labels),
            "video_ids": list(dataset.video_ids), "broken": [sample.video_id for sample, _ in dataset.broken]}


def _image_net(s: dict):
    from .models import create
    from .pretrain import load_pretrained, pretrain_settings

    image = pretrain_settings(s["image_net"], s["profile"])
    extra = {"batch_norm": True} if image.get("batch_norm") else {}
    state = load_pretrained(s["image_net"], s["profile"])
    net = create(image["model"], num_classes=state["fc.weight"].shape[0], width=image["width"],
                 input_size=image["crop"], **extra)
    net.load_state_dict(state)
    return net


def extract_features(s: dict, params: dict, work: Path, progress: bool = True) -> dict[str, dict]:
    """The three feature sets (``unlabelled``, ``train``, ``test``), extracted once into ``work``."""
    path = work / "features.pt"
    if path.is_file():
        return torch.load(path, weights_only=False)
    net = _image_net(s)
    sets = {"unlabelled": ("unlabelled", "train", s["reconstruct"] + s["future"]),
            "train": (s["dataset"], "train", s["window"]),
            "test": (s["dataset"], config.test_subset(s["dataset"]), s["window"])}
    out = {}
    for name, (role, subset, length) in sets.items():
        dataset, videos = _windows(s, role, subset, length, params)
        out[name] = frame_features(net, dataset, s["precision"], num_workers=s.get("num_workers", 0),
                                   progress=progress, desc=f"fc6 {name}")
        out[name].update(missing=list(videos.missing), num_classes=videos.num_classes)
    rms = out["unlabelled"]["features"].float().pow(2).mean().sqrt().item()
    out["scale"] = rms if rms > 0 else 1.0
    work.mkdir(parents=True, exist_ok=True)
    from .train import save_torch

    save_torch(out, path)
    return out


# ----------------------------------------------------------------------------- training
class CodeSGD(torch.optim.Optimizer):
    """The optimiser of [14]'s code (``util.py: Param.Update``): ``v = momentum v - lr (grad +
    weight_decay w)``, ``v`` clipped element-wise to ``[-clip, clip]`` (``clip > 0``), ``w += v``.
    The code also computes ``eps * eps_decay_factor ** (t / eps_decay_after)`` but updates with the
    undecayed ``eps``: its rate is constant, and so is ours. Per-group ``weight_decay`` (param groups)."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0, clip: float = 0.0):
        if lr <= 0:
            raise BadValueError(f"lr must be > 0, got {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, clip=clip))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["v"] = torch.zeros_like(p)
                v = state["v"].mul_(group["momentum"]).add_(p.grad + group["weight_decay"] * p, alpha=-group["lr"])
                if group["clip"] > 0:
                    v.clamp_(-group["clip"], group["clip"])
                p.add_(v)


def param_groups(model: nn.Module, weight_decay: float, train_peepholes: bool = True) -> list[dict]:
    """The pbtxts' per-tensor settings: L2 decay on weights and peepholes (``w_*``), none on biases
    (``b``, ``b_output``); peepholes left out (not trained) when ``train_peepholes`` is False (the
    classifier's ``w_diag``: ``epsilon: 0``)."""
    decayed, plain = [], []
    for name, p in model.named_parameters():
        if name.endswith("peephole") and not train_peepholes:
            p.requires_grad_(False)
        elif name.endswith("bias"):
            plain.append(p)
        else:
            decayed.append(p)
    return [{"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def _fit(name: str, model: nn.Module, data: Tensor, labels: Tensor | None, loss_fn: Callable, cfg: dict, seed: int,
         precision: str, work: Path, progress: bool) -> list[dict]:
    """Train ``model`` on the sequences ``data`` (N, T, D) for ``cfg["epochs"]`` epochs, batches in a
    seeded order per epoch (so a resumed epoch replays exactly), checkpointed every epoch in
    ``work/<name>.pt``; returns the per-epoch history."""
    from tqdm import tqdm

    from .evaluate import autocast, default_device, move_model
    from .train import save_torch

    device = default_device()
    model = move_model(model, device)
    opt = CodeSGD(param_groups(model, cfg["weight_decay"], cfg.get("train_peepholes", True)), lr=cfg["lr"],
                  momentum=cfg["momentum"], clip=cfg["clip"])
    work.mkdir(parents=True, exist_ok=True)
    ckpt, start, history = work / f"{name}.pt", 0, []
    if ckpt.is_file():  # written atomically (train.save_torch): complete or absent
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, history = state["epoch"], state["history"]
        log.info("%s: resumed from %s after epoch %d of %d", name, ckpt, start, cfg["epochs"])
    n, bs = len(data), cfg["batch_size"]
    bar = tqdm(range(start, cfg["epochs"]), desc=name, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        total, correct, seen = 0.0, 0, 0
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            x = data[idx].to(device).float()
            y = labels[idx].to(device) if labels is not None else None
            with autocast(device, precision):
                loss, hits = loss_fn(model, x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            correct += hits
            seen += len(idx)
        record = {"epoch": epoch + 1, "loss": total / seen}  # per sequence
        if labels is not None:
            record["train_acc"] = correct / seen
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}")
        save_torch({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                    "history": history}, ckpt)
    return history


# The code's gradients are sums over the sequences of a batch and their steps (lstm_combo.py: dec - v;
# lstm_classifier.py: the softmax derivative; never divided): so are these losses.
def _composite_loss(model, x, _):
    parts = model.loss(x)  # per decoder: 0.5 ||output - target||^2 averaged over sequences and steps
    steps = {"reconstruction": model.reconstruct, "future": model.future}
    return sum(parts[k] * len(x) * steps[k] for k in steps if k in parts), 0


def _classifier_loss(model, x, y):
    logits = model(x)
    loss = nn.functional.cross_entropy(logits.float().flatten(0, 1), y.repeat_interleave(logits.shape[1]),
                                       reduction="sum")
    return loss, int((logits.float().softmax(-1).mean(1).argmax(1) == y).sum())


def window_scores(model: nn.Module, features: Tensor, precision: str, batch_size: int = 256) -> Tensor:
    """Each window's score: the mean of its per-step softmax (N, classes)."""
    from .evaluate import autocast, default_device

    device = default_device()
    model.eval()
    out = []
    with torch.no_grad(), autocast(device, precision):
        for i in range(0, len(features), batch_size):
            out.append(model(features[i:i + batch_size].to(device).float()).float().softmax(-1).mean(1).cpu())
    return torch.cat(out)


# ----------------------------------------------------------------------------- one seed, every seed
def _digest(s: dict, params: dict, keys: tuple[str, ...] | None = None, version: int = 0) -> str:
    """12 hex digits of the settings ``keys`` (default: all that decide the weights), the data manifest and
    the image net's weights (and ``version``)."""
    key = {k: v for k, v in s.items() if (k in keys if keys else k not in ("seeds", "num_workers", "cache_frames"))}
    parts = [json.dumps(key, sort_keys=True, default=str), str(version)]
    for path in (config.data_dir(s["profile"], params) / "manifest.json",
                 config.REPO_ROOT / "runs" / s["profile"] / "image_pretraining" / s["image_net"] / "final.pt"):
        if path.is_file():
            parts.append(hashlib.sha256(path.read_bytes()).hexdigest())
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


def work_dir(s: dict, params: dict) -> Path:
    return runs.run_work_dir(PAPER, RUN, s["profile"], params) / _digest(s, params)


def features_dir(s: dict, params: dict) -> Path:
    return (runs.run_work_dir(PAPER, RUN, s["profile"], params)
            / f"features-{_digest(s, params, _FEATURE_KEYS, FEATURES_VERSION)}")


def _train_seed(s: dict, k: int, feats: dict, params: dict, work: Path, progress: bool) -> dict:
    from .evaluate import accuracies
    from .models.composite_lstm import CompositeLSTM, LSTMClassifier
    from .train import save_json

    seed = s["seed"] + k
    work.mkdir(parents=True, exist_ok=True)
    scale = feats["scale"]
    unlabelled = feats["unlabelled"]["features"] / scale
    train, test = feats["train"], feats["test"]
    dim = unlabelled.shape[-1]
    t0 = time.time()
    torch.manual_seed(seed)
    composite = CompositeLSTM(dim, s["hidden"], s["reconstruct"], s["future"])
    pre_history = _fit("pretrain", composite, unlabelled, None, _composite_loss, s["pretrain"], seed, s["precision"],
                       work, progress)
    clf = LSTMClassifier.from_encoder(composite, train["num_classes"])
    train_labels = torch.as_tensor(train["labels"])[train["video_index"]]
    history = _fit("classifier", clf, train["features"] / scale, train_labels, _classifier_loss, s["classifier"], seed,
                   s["precision"], work, progress)
    scores = window_scores(clf, test["features"] / scale, s["precision"])
    m = accuracies(scores, test["video_index"], test["labels"])
    video_ids = [test["video_ids"][i] for i in m["video_order"]]
    unscored = sorted(set(test["missing"]) | set(test["broken"]) | (set(test["video_ids"]) - set(video_ids)))
    out = work / "published"
    out.mkdir(parents=True, exist_ok=True)
    torch.save(clf.state_dict(), out / "final.pt")
    save_json(history, out / "history.json")
    np.savez(out / "video_scores.npz", scores=m["video_scores"].numpy(), labels=np.asarray(m["video_labels"]),
             video_ids=np.asarray(video_ids))
    result = {
        "paper": PAPER, "run": RUN, "profile": s["profile"], "seed_index": k, "settings": {**s, "seed": seed},
        "clip@1": m["clip@1"], "video@1": m["video@1"], "video@5": m["video@5"],
        "train_acc": history[-1]["train_acc"] if history else None,
        "num_test_videos": m["num_videos"], "num_test_clips": m["num_clips"], "test_video_ids": video_ids,
        "video_correct": [int(c) for c in m["video_correct"]], "video_clip_acc": m["video_clip_acc"],
        "params": sum(p.numel() for p in clf.parameters()),
        "pretrain_params": sum(p.numel() for p in composite.parameters()),
        "train_seconds": time.time() - t0, "history": history, "pretrain_history": pre_history,
        "windows": {name: int(len(feats[name]["features"])) for name in ("unlabelled", "train", "test")},
        "feature_scale": scale,
        "skipped_videos": {"train": len(train["broken"]) + len(train["missing"]), "test": len(unscored)},
        "unscored_test_videos": unscored,
        "environment": runs._environment(s["precision"]),
    }
    save_json(result, out / "metrics.json")
    return result


def train(profile: str | None = None, params: dict | None = None, progress: bool = True) -> dict:
    """Every seed of the Composite LSTM at ``profile`` (resuming, keeping finished seeds), published
    to ``runs/``; returns :func:`replicate.runs.load_run`'s view of them."""
    params = params or config.load_params()
    s = lstm_settings(profile, params)
    config.ensure_data(s["profile"], params)
    work = work_dir(s, params)
    feats = None
    for k in runs.seed_indices(s):
        dest = runs.seed_dir(PAPER, RUN, s["profile"], k)
        if (dest / "metrics.json").is_file():
            continue
        seed_work = work / f"seed{k}"
        if not (seed_work / "published" / "metrics.json").is_file():
            feats = feats or extract_features(s, params, features_dir(s, params), progress)
            _train_seed(s, k, feats, params, seed_work, progress)
        runs._publish(seed_work / "published", dest)
    shutil.rmtree(runs.run_work_dir(PAPER, RUN, s["profile"], params), ignore_errors=True)
    return runs.load_run(PAPER, RUN, s["profile"])


def ensure_trained(profile: str, params: dict | None = None, progress: bool = False) -> dict:
    """The Composite LSTM's metrics: read if every seed is in ``runs/``, else trained now (notebooks at smoke)."""
    params = params or config.load_params()
    s = lstm_settings(profile, params)
    done = runs.load_run(PAPER, RUN, profile)
    if done is not None and len(done.get("seeds", [])) >= len(runs.seed_indices(s)):
        return done
    from .pretrain import ensure_pretrained

    ensure_pretrained(s["image_net"], profile, params)
    return train(profile, params, progress)


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    m = train(args.profile)
    print(f"{PAPER}/{RUN} ({m['profile']}): video@1 {100 * m['video@1']:.1f} (seed sd {100 * m['video@1_std']:.1f}), "
          f"window@1 {100 * m['clip@1']:.1f}, train acc {100 * m['train_acc']:.1f} ({m['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
