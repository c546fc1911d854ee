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
changing the other runs. ``profiles.<profile>.<paper>.models.<model>`` does the same for every run
of one model (a recipe one architecture needs at a small scale, e.g. its residual branches starting
at zero), under the group's: a fine-tune's learning rate still wins. ``modality: flow`` trains the flow stream on the stored optical flow
(2 input channels); ``init_from: <run>`` starts from another run's weights (fine-tuning: every
weight but a classifier of another size), ``init_from: torchvision`` from torchvision's public
Kinetics-400 weights (``replicate.models.pretrained``).

Seeds: a profile trains every run ``seeds`` times (``params.yaml: profiles.<profile>.seeds``; the
``mini`` study 3, so that a verdict can include the spread between training runs), seed index
``k`` with seed ``params.yaml: seed`` + k, each in its own folder. A run that starts from another
run's weights starts seed ``k`` from the source's seed ``k``.

Outputs (``runs/<profile>/<paper>/<run>/seed<k>/``): ``final.pt``, ``best.pt`` (when validated),
``history.json`` (per-epoch train/val loss and accuracy), ``metrics.json`` (clip@1, video@1,
video@5, the final train accuracy, per test video -- keyed by video id -- its correctness and
clip accuracy for the verdicts, parameters, FLOPs, settings, the software it ran on) and
``video_scores.npz`` (per-video mean softmax scores, for two-stream fusion). :func:`load_run`
gives a run's seeds together: means, seed standard deviations, and every seed's metrics.

Resume: a seed trains in ``checkpoints/<profile>/<paper>/<run>/<settings digest>/seed<k>/``
(``params.yaml: checkpoint_dir``), outside the DVC output that DVC deletes before it reruns a
stage, and is copied to ``runs/`` when finished. A crashed ``dvc repro`` run again resumes each
seed from its last epoch (finished seeds are copied, not retrained). Digests of the settings that
decide the weights and of the inputs (data manifest, a fine-tune's source weights) name the
folder, so changed settings or inputs start afresh instead of resuming a checkpoint of another
run; changed code resumes (a fix after a crash). The run's folder is deleted once every seed is
in ``runs/``.

Scale-out: ``params.yaml: profiles.<profile>.gpus: N`` (N > 1) makes the command relaunch itself
under ``torchrun --nproc_per_node N`` (DDP: ``replicate.train``); rank 0 evaluates and writes.

The spec holds a paper's whole design; :func:`run_plan` says what a run does at a profile. A run
the profile leaves out (a split, a group) or one that is identical to an earlier run once the
stand-ins replace the paper's datasets (Sports-1M and Kinetics are one stand-in) is not trained:
its folder holds only a ``metrics.json`` that says ``skipped`` (why) or ``same_as`` (which run),
and :func:`load_run` / :func:`load_model` follow ``same_as``.

    python -m replicate.runs tran2018 r3d_18 --profile mini   # what the DVC train stages call (every seed)
"""
from __future__ import annotations

import argparse
import copy
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from . import config
from .errors import BadValueError, MissingInputError, UnknownNameError, cli
from .pretrain import IMAGE_SOURCE

# torch and the training stack are imported by the functions that build, train or load a model,
# not here: a DVC stage whose run is not trained at its profile (same_as / skipped: 27 of the 66
# stages at mini) then writes its marker in 0.15 s instead of ~4 s of imports.
if TYPE_CHECKING:
    from .data.clips import ClipDataset

SPEC_DIR = Path(__file__).resolve().parent / "papers"
RUNS_DIR = config.REPO_ROOT / "runs"
#: settings keys that TrainConfig takes directly
_TRAIN_KEYS = ("epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "schedule", "warmup_epochs",
               "step_epochs", "gamma", "num_workers", "precision", "freeze_iters", "micro_batch")


def load_spec(paper: str) -> dict:
    path = SPEC_DIR / f"{paper}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SPEC_DIR.glob("*.yaml")))
        raise UnknownNameError(f"unknown paper {paper!r} (no spec {path}); known papers: {known}")
    return copy.deepcopy(_parse_spec(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _parse_spec(path: Path, mtime_ns: int) -> dict:  # parsed once per version of the file
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


#: the spec sections that hold runs, in the order that decides which of two identical runs trains
RUN_SECTIONS = ("runs", "flow_runs", "supervision_transfer", "finetunes", "transfers", "public_weights")
#: settings that do not change what a run learns (only what it records, or how it is grouped)
_RECORDING_KEYS = ("run", "group", "curves")


def spec_runs(spec: dict) -> dict[str, dict]:
    """Every run of a spec, section by section (``RUN_SECTIONS``): from scratch (``runs``,
    ``flow_runs``) and from another run's weights (``finetunes``, ``transfers``, ``public_weights``)."""
    out: dict[str, dict] = {}
    for section in RUN_SECTIONS:
        for name, run in (spec.get(section) or {}).items():
            if name in out:
                raise ValueError(f"run {name!r} is defined twice in the spec (in {section} and before)")
            out[name] = run or {}
    return out


def source_runs(s: dict) -> list[str]:
    """The runs whose weights a run starts from: its ``init_from`` (a run name, or a list of them:
    feichtenhofer2016's ST-ResNet starts from its appearance and motion streams), less the image nets
    (``image:<name>``) and ``torchvision``."""
    source = s.get("init_from")
    names = source if isinstance(source, list) else [source] if source else []
    return [n for n in names if not (n.startswith(IMAGE_SOURCE) or n == "torchvision")]


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
        raise UnknownNameError(f"{paper} has no run {run!r}; runs: {', '.join(runs)}")
    s: dict[str, Any] = {**spec["settings"], **(runs[run] or {}), **(overrides or {})}
    prof = config.profile_params(params, profile)
    paper_over = dict(prof.get(paper, {}))
    group_over = dict(paper_over.pop("groups", {}).get(s.get("group"), {}))
    model_over = dict(paper_over.pop("models", {}).get(s.get("model"), {}))
    scale = {"width": 1.0, "space": 1.0, "time": 1.0, **prof.get("scale", {}), **paper_over.pop("scale", {}),
             **model_over.pop("scale", {}), **group_over.pop("scale", {})}
    s["width"] = scale["width"]
    s["crop"] = round(s["crop"] * scale["space"])
    s["resize"] = [round(x * scale["space"]) for x in s["resize"]]
    s["clip_len"] = max(1, round(s["clip_len"] * scale["time"]))
    # profile-wide: the precision of every forward pass, and how many seeds each run trains
    s.update({"precision": prof.get("precision", "fp32"), "seeds": prof.get("seeds", 1)})
    s.update(paper_over)  # what a factor cannot scale: epochs, batch size, test clips ...
    s.update(model_over)
    s.update(group_over)
    s.update({"paper": paper, "run": run, "profile": profile, "seed": params.get("seed", 0)})
    return s


def seed_indices(s: dict) -> list[int]:
    """The seed indices a run trains at its profile (its settings' ``seeds``): 0, 1, ..."""
    n = s.get("seeds", 1)
    if not isinstance(n, int) or n < 1:
        raise BadValueError(f"seeds must be a whole number >= 1 (params.yaml: profiles.<profile>.seeds), got {n!r}")
    return list(range(n))


def seed_settings(s: dict, k: int) -> dict:
    """A run's settings for its seed index ``k``: seed ``params.yaml: seed`` + k."""
    return {**s, "seed": s["seed"] + k, "seed_index": k}


def run_dir(paper: str, run: str, profile: str) -> Path:
    return RUNS_DIR / profile / paper / run


def seed_dir(paper: str, run: str, profile: str, k: int) -> Path:
    """Where seed index ``k`` of a run keeps its checkpoints and metrics."""
    return run_dir(paper, run, profile) / f"seed{k}"


#: settings that change how fast a run goes or which other runs and seeds a profile trains, not what
#: one seed learns: not part of its work folder's name (5 seeds instead of 3 keeps seeds 0-2's checkpoints)
_NOT_WEIGHTS = ("num_workers", "cache_frames", "gpus", "seeds", "splits", "skip_groups")


def weights_digest(s: dict) -> str:
    """12 hex digits of the settings that decide a seed's weights (``s``: its :func:`seed_settings`)."""
    key = {k: v for k, v in s.items() if k not in _RECORDING_KEYS + _NOT_WEIGHTS}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _inputs_digest(s: dict, params: dict | None) -> str:
    """What a seed trains on besides its settings: the data manifest, and the source run's weights
    for a fine-tune, hashed (a crashed run must not resume onto other data or another source)."""
    parts = []
    manifest = config.data_dir(s["profile"], params or config.load_params()) / "manifest.json"
    if manifest.is_file():
        parts.append(hashlib.sha256(manifest.read_bytes()).hexdigest())
    for source in (s.get("init_from"), s.get("teacher")):  # an image net started from, or a transfer's teacher
        if isinstance(source, str) and source.startswith(IMAGE_SOURCE):
            weights = config.REPO_ROOT / "runs" / s["profile"] / "image_pretraining" / source[len(IMAGE_SOURCE):] / "final.pt"
            if weights.is_file():
                parts.append(hashlib.sha256(weights.read_bytes()).hexdigest())
    for name in source_runs(s):
        trained = run_plan(s["paper"], name, s["profile"], params).get("run", name)
        weights = seed_dir(s["paper"], trained, s["profile"], s["seed_index"]) / "final.pt"
        if weights.is_file():
            parts.append(hashlib.sha256(weights.read_bytes()).hexdigest())
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def run_work_dir(paper: str, run: str, profile: str, params: dict | None = None) -> Path:
    """The folder under ``checkpoint_dir`` that holds every unfinished seed of a run."""
    return config.checkpoint_dir(params) / profile / paper / run


def work_dir(s: dict, params: dict | None = None) -> Path:
    """Where seed ``s["seed_index"]`` of a run trains: checkpoints outside the DVC output, in a folder
    named by the digests of its weight-deciding settings and of its inputs."""
    return (run_work_dir(s["paper"], s["run"], s["profile"], params) / f"{weights_digest(s)}-{_inputs_digest(s, params)}"
            / f"seed{s['seed_index']}")


def run_plan(paper: str, run: str, profile: str | None = None, params: dict | None = None) -> dict:
    """What ``run`` does at ``profile``: ``{"action": "train"}``, ``{"action": "same_as", "run": X}``
    (identical to the earlier run X once the profile's stand-ins replace the paper's datasets: X's
    results are its results) or ``{"action": "skip", "reason": ...}``.

    A run is skipped when the profile leaves out its split (``<paper>.splits``) or its group
    (``<paper>.skip_groups``), when its source run is skipped, or when it would fine-tune on the very
    videos its source was trained on (Sports-1M -> Kinetics where one stand-in plays both).
    """
    params = params or config.load_params()
    profile = profile or params["profile"]
    runs = list(spec_runs(load_spec(paper)))
    memo: dict[str, dict] = {}
    resolved: dict[str, dict] = {}
    keys: dict[str, tuple] = {}

    def settings(name: str) -> dict:
        if name not in resolved:
            resolved[name] = run_settings(paper, name, profile, params)
        return resolved[name]

    def canonical(name: str) -> tuple:
        if name in keys:
            return keys[name]
        s = settings(name)
        key = {k: v for k, v in s.items() if k not in _RECORDING_KEYS}
        key["dataset"] = config.data_role(s["dataset"], profile)
        if any(src in runs for src in source_runs(s)):
            key["init_from"] = [plan(src).get("run", src) if src in runs else src for src in source_runs(s)]
        keys[name] = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in key.items()))
        return keys[name]

    def plan(name: str) -> dict:
        if name in memo:
            return memo[name]
        s = settings(name)
        reason = None
        splits = s.get("splits")
        if splits is not None and s.get("split", 1) not in splits:
            reason = f"split {s['split']} is not run at profile {profile} (params.yaml: {paper}.splits = {splits})"
        elif s.get("group") in (s.get("skip_groups") or []):
            reason = f"group {s['group']} is not run at profile {profile} (params.yaml: {paper}.skip_groups)"
        for src in [n for n in source_runs(s) if n in runs]:
            if reason:
                break
            source = settings(src)
            if plan(src)["action"] == "skip":
                reason = f"its source run {src} is not run at profile {profile}"
            elif (source["dataset"] != s["dataset"]
                  and config.data_role(source["dataset"], profile) == config.data_role(s["dataset"], profile)):
                reason = (f"at profile {profile} one stand-in plays both {source['dataset']} and {s['dataset']}: fine-tuning "
                          f"{src} on it would train twice on the same videos")
        if reason:
            memo[name] = {"action": "skip", "reason": reason}
            return memo[name]
        key = canonical(name)
        for earlier in runs[:runs.index(name)]:
            if plan(earlier)["action"] == "train" and canonical(earlier) == key:
                memo[name] = {"action": "same_as", "run": earlier}
                return memo[name]
        memo[name] = {"action": "train"}
        return memo[name]

    if run not in runs:
        raise UnknownNameError(f"{paper} has no run {run!r}; runs: {', '.join(runs)}")
    return plan(run)


def train_list(s: dict, params: dict | None = None):
    """The training videos of a run (its ``settings``): its dataset role, split, class subset and ``train_fraction``
    (diba2017's FT-Transfer: half of the Kinetics training videos, the same share of every class)."""
    videos = config.video_list(s["dataset"], s.get("split", 1), "train", s["profile"], params, num_classes=s.get("classes"))
    return videos.fraction(s["train_fraction"]) if s.get("train_fraction") else videos


def _datasets(s: dict, params: dict) -> tuple[ClipDataset, ClipDataset, int]:
    from .data.clips import ClipDataset
    from .data.flow import FLOW_PIXELS
    from .data.transforms import test_transform, train_transform

    train_videos = train_list(s, params)
    test_videos = config.video_list(s["dataset"], s.get("split", 1), config.test_subset(s["dataset"]), s["profile"], params,
                                    num_classes=s.get("classes"))
    modality = s.get("modality", "rgb")
    if modality not in MODALITIES:
        raise BadValueError(f"run {s['run']}: unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
    flow = modality == "flow"
    if modality != "rgb":
        config.ensure_flow(s["dataset"], s["profile"], params)
    norm = dict(zip(("mean", "std"), FLOW_PIXELS)) if flow else {}
    if s.get("chunks"):
        return (*_chunk_datasets(s, params, train_videos, test_videos), train_videos.num_classes)
    common = {**_store_kwargs(s, params, tuple(s["resize"])),
              "flow": config.flow_roots(s["dataset"], s["profile"], params) if flow else None}
    train_set = ClipDataset(train_videos, s["clip_len"], s["stride"], "train", seed=s["seed"], segments=s.get("segments", 1),
                            transform=train_transform(s["crop"], flip=s.get("flip", False), flow=flow, **norm), **common)
    test_set = ClipDataset(test_videos, s["clip_len"], s["stride"], "test", num_clips=s["test_clips"],
                           transform=test_transform(s["crop"], **norm), **common)
    return train_set, test_set, train_videos.num_classes


#: what a run's network reads: RGB clips, flow clips, or both (feichtenhofer2016's ST-ResNet, appearance first)
MODALITIES = ("rgb", "flow", "rgb+flow")


def _store_kwargs(s: dict, params: dict, decode_size) -> dict:
    """What every ClipDataset of a run shares: decode size, the frame cache (``cache_frames``) and the probe cache."""
    cache = s.get("cache_frames", False)
    probes = config.probe_cache_dir(params)
    role = config.data_role(s["dataset"], s["profile"])
    return dict(decode_size=decode_size, cache_frames=cache, progress=False,
                frame_cache_dir=config.frame_cache_dir(params) if cache else None,
                probe_cache=probes / f"{s['profile']}_{role}.json" if probes else None)


def frame_stores(s: dict, params: dict, videos, mode: str, rgb: bool = True, flow: bool = True,
                 decode_size="resize") -> tuple:
    """ClipDatasets used as frame stores (``frames_at``) of ``videos``: their RGB frames and / or their stored
    flow, decoded at the run's ``resize`` (or ``decode_size``: None for the native size), cached as the run says."""
    from .data.clips import ClipDataset

    common = _store_kwargs(s, params, tuple(s["resize"]) if decode_size == "resize" else decode_size)
    roots = config.flow_roots(s["dataset"], s["profile"], params) if flow else None
    return (ClipDataset(videos, 1, 1, mode, num_clips=1, **common, flow=None) if rgb else None,
            ClipDataset(videos, 1, 1, mode, num_clips=1, **common, flow=roots) if flow else None)


def flow_fields(s: dict) -> int:
    """Flow fields stacked per chunk (feichtenhofer2016's motion stream: 10, the model's default)."""
    from .models.st_resnet import FLOW_FIELDS

    return (s.get("model_kwargs") or {}).get("flow_fields", FLOW_FIELDS)


def _chunk_datasets(s: dict, params: dict, train_videos, test_videos) -> tuple:
    """feichtenhofer2016's chunked inputs (``replicate.data.chunks.ChunkDataset``): ``chunks`` chunks ``tau``
    apart in training, ``test_frames`` frames (and their mirror images, ``test_flips``) in testing, each chunk
    one RGB frame and/or ``flow_fields`` stacked flow fields; the test crop is the centre ``crop`` or, with
    ``test_whole_frame``, the whole frame (the paper)."""
    from .data.chunks import ChunkDataset

    modality = s.get("modality", "rgb")

    def stores(videos, mode: str) -> tuple:
        # frame stores only: ChunkDataset reads their frames by index and transforms them itself
        return frame_stores(s, params, videos, mode, rgb=modality != "flow", flow=modality != "rgb")

    fields = flow_fields(s)
    train_set = ChunkDataset(*stores(train_videos, "train"), "train", chunks=s["chunks"], tau_range=tuple(s.get("tau", (1, 1))),
                             crop=s["crop"], flip=s.get("flip", True), fields=fields, seed=s["seed"])
    test_set = ChunkDataset(*stores(test_videos, "test"), "test", fields=fields, test_count=s["test_frames"],
                            test_flips=s.get("test_flips", True), test_crop=None if s.get("test_whole_frame") else s["crop"],
                            seed=s["seed"])
    return train_set, test_set


def input_shape(s: dict) -> tuple[int, ...]:
    """The shape of one training input of a run (``s``: its settings), as FLOP counts take it: ``(C, T, H, W)``."""
    fields = flow_fields(s)
    if s.get("chunks"):
        channels = {"rgb": 3, "flow": 2 * fields, "rgb+flow": 3 + 2 * fields}[s.get("modality", "rgb")]
        return channels, s["chunks"], s["crop"], s["crop"]
    return 2 if s.get("modality", "rgb") == "flow" else 3, s["clip_len"], s["crop"], s["crop"]


def _one_clip_per_video(test_set: ClipDataset, cache_frames: bool) -> ClipDataset:
    from .data.clips import ClipDataset

    return ClipDataset([sample for sample, _ in test_set.videos], test_set.clip_len, test_set.stride, "test", num_clips=1,
                       decode_size=test_set.decode_size, transform=test_set.transform, progress=False,
                       cache_frames=cache_frames, flow=test_set.flow_roots, frame_cache_dir=test_set.frame_cache_dir)


def build_model(paper: str, run: str, profile: str, num_classes: int | None = None, params: dict | None = None,
                settings: dict | None = None):
    """The run's model, freshly initialised (seeded by the run's seed), as its training starts from scratch."""
    import torch

    from .models import accepts, create

    params = params or config.load_params()
    s = settings or run_settings(paper, run, profile, params)
    torch.manual_seed(s["seed"])
    n = num_classes if num_classes is not None else train_list(s, params).num_classes
    in_channels = 2 if s.get("modality", "rgb") == "flow" else 3  # rgb+flow (ST-ResNet): the appearance stream's
    extra = {k: True for k in ("torchvision_compat", "zero_init_residual", "batch_norm") if s.get(k)}
    if accepts(s["model"], "input_size"):  # nets with fc layers (mansimov2015) are built for their crop
        extra["input_size"] = s["crop"]
    extra.update(s.get("model_kwargs") or {})  # a model family's own options (feichtenhofer2016: sub_batch ...)
    return create(s["model"], num_classes=n, width=s["width"], in_channels=in_channels, clip_len=s["clip_len"], **extra)


def load_model(paper: str, run: str, profile: str, params: dict | None = None, seed: int = 0):
    """The run's trained model of seed index ``seed`` (``final.pt``, loaded with ``weights_only=True``),
    in eval mode. A run that is the ``same_as`` another at this profile loads the other's weights."""
    import torch

    plan = run_plan(paper, run, profile, params)
    if plan["action"] == "skip":
        raise MissingInputError(f"run {run} is not trained at profile {profile}: {plan['reason']}")
    trained = plan.get("run", run)
    path = seed_dir(paper, trained, profile, seed) / "final.pt"
    if not path.is_file():
        raise MissingInputError(f"{path} does not exist: train the run first (`dvc repro` or "
                                f"`python -m replicate.runs {paper} {trained} --profile {profile}`)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(paper, trained, profile, num_classes=_num_classes(state), params=params)
    model.load_state_dict(state)
    return model.eval()


def _is_classifier(key: str) -> bool:
    """Whether a state-dict key is a classifier's (``fc.*``, or a stream's ``<stream>.fc.*``): what a new task
    starts afresh."""
    return key.startswith("fc.") or ".fc." in key


def _num_classes(state: dict) -> int:
    """The class count of a trained model's state: its (first) classifier's rows (``fc.weight``, or a
    two-stream net's ``appearance.fc.weight``)."""
    key = next(k for k in state if _is_classifier(k) and k.endswith("fc.weight"))
    return state[key].shape[0]


def _load_source_state(s: dict, source: str, params: dict) -> dict:
    """The trained weights of seed ``s["seed_index"]`` of run ``source`` (of the run's paper, or a path)."""
    import torch

    known = source in spec_runs(load_spec(s["paper"]))
    trained = run_plan(s["paper"], source, s["profile"], params).get("run", source) if known else source
    path = seed_dir(s["paper"], trained, s["profile"], s.get("seed_index", 0)) / "final.pt"
    if not path.is_file():
        raise MissingInputError(f"run {s['run']} (seed index {s.get('seed_index', 0)}) starts from run {trained}, "
                                f"but {path} does not exist: train {trained} first")
    return torch.load(path, map_location="cpu", weights_only=True)


def _initialise(model, s: dict, params: dict) -> str | None:
    """Load ``init_from`` weights into ``model`` (not its classifier when the class count differs)."""
    import torch

    from .models.pretrained import load_torchvision_kinetics

    source = s.get("init_from")
    if not source:
        return None
    if isinstance(source, list):  # a model built from several trained ones (ST-ResNet from its two streams)
        if not hasattr(model, "load_streams") or len(source) != 2:
            raise BadValueError(f"run {s['run']}: init_from lists {len(source)} runs; a list must name exactly two, an "
                                f"appearance and a motion run, for a two-stream model ({s['model']} is not one)"
                                if len(source) != 2 else f"run {s['run']}: {s['model']} is not a two-stream model: "
                                "give init_from one run")
        model.load_streams(*(_load_source_state(s, name, params) for name in source))
        return "+".join(source)
    if source.startswith(IMAGE_SOURCE):
        return _initialise_from_image_net(model, s, source[len(IMAGE_SOURCE):])
    if source == "torchvision":
        if s["width"] != 1.0:
            raise BadValueError(f"torchvision's weights are full width; run {s['run']} has width {s['width']}")
        state = load_torchvision_kinetics(s["model"]).state_dict()
    else:
        state = _load_source_state(s, source, params)
    own = model.state_dict()
    heads = [k for k in own if _is_classifier(k) and k.endswith("fc.weight")]
    if any(k in state and state[k].shape != own[k].shape for k in heads):  # another class count: fresh classifiers
        state = {k: v for k, v in state.items() if not _is_classifier(k)}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not _is_classifier(k)]:
        raise RuntimeError(f"{source} does not fit {s['model']}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return source


def _initialise_from_image_net(model, s: dict, name: str) -> str:
    """Load the image-pretrained 2D net ``name`` (``replicate.pretrain``) into ``model``: a 3D model's
    convs inflated from it by the run's ``inflate`` (mansimov2015: ia / is / zwi / nwi), every other
    tensor copied. The layers the run's ``fresh_layers`` names (a new head) keep their fresh
    initialisation; every other tensor must come from the image net, and every conv and norm layer of
    the image net must land in the model, or it stops naming them (another width, input size or norm)."""
    from .inflate import inflate_state_dict
    from .pretrain import load_pretrained

    fresh = tuple(s.get("fresh_layers") or ())

    def is_fresh(key: str) -> bool:
        return any(key == p or key.startswith(p + ".") for p in fresh)

    source = load_pretrained(name, s["profile"])
    target = model.state_dict()
    fit = getattr(model, "fit_image_state", None)  # a model family's own mapping (feichtenhofer2016's streams)
    if fit is not None:
        state = fit(source)
        left_out = [k for k in target if k not in state and not k.endswith("num_batches_tracked") and not _is_classifier(k)]
    else:
        state, left_out = inflate_state_dict(source, {k: v for k, v in target.items() if not is_fresh(k)},
                                             s.get("inflate", "ia"))
    problems = [k for k in left_out if not is_fresh(k)]
    problems += [k for k in source if k not in target and (source[k].ndim >= 4 or k.endswith("running_mean"))]
    if problems:
        raise BadValueError(f"run {s['run']}: the image-pretrained {name} does not fit {s['model']} at {problems[:3]} "
                            f"(another width, input size or norm? params.yaml: profiles.{s['profile']}.image_pretraining "
                            f"must build it as profiles.{s['profile']}.{s['paper']} builds this run)")
    model.load_state_dict(state, strict=False)
    return f"{IMAGE_SOURCE}{name}"


def _environment(precision: str) -> dict:
    """The software and arithmetic a run was made with: a digit from another build may differ."""
    import torch
    import torchvision

    from .data.video import decoder_version
    from .evaluate import default_device, effective_precision

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "decord": decoder_version(),
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "device": str(default_device()), "precision": effective_precision(precision, default_device())}


def _rank() -> int:
    """This process's rank under torchrun (0 alone): only rank 0 evaluates and writes."""
    return int(os.environ.get("RANK", "0"))


#: what a finished seed's work folder gives its folder in runs/ (the checkpoints stay behind)
PUBLISHED = ("final.pt", "best.pt", "history.json", "video_scores.npz", "metrics.json")


def _publish(work: Path, out: Path) -> None:
    """Copy a finished seed from its work folder to runs/ (metrics.json last: it marks the seed done)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in PUBLISHED:
        if (work / name).is_file():
            shutil.copy2(work / name, out / name)


def train_run(paper: str, run: str, profile: str | None = None, params: dict | None = None,
              progress: bool = True, seeds: list[int] | None = None) -> dict:
    """Train and evaluate every seed of one run (each resuming an interrupted one from its work
    folder; a finished seed is kept) and publish each to runs/; returns :func:`load_run`'s view of
    them (an empty dict on ranks other than 0). ``seeds``: only these seed indices."""
    params = params or config.load_params()
    s = run_settings(paper, run, profile, params)
    out = run_dir(paper, run, s["profile"])
    plan = run_plan(paper, run, s["profile"], params)
    if plan["action"] != "train":  # the folder records why nothing was trained (DVC still gets its output)
        marker = {"paper": paper, "run": run, "profile": s["profile"],
                  **({"same_as": plan["run"]} if plan["action"] == "same_as" else {"skipped": plan["reason"]})}
        if _rank() == 0:
            out.mkdir(parents=True, exist_ok=True)
            (out / "metrics.json").write_text(json.dumps(marker, indent=1) + "\n")
        return marker
    if _rank() == 0:
        (out / "metrics.json").unlink(missing_ok=True)  # a marker from when this run was not trained here
    for k in seeds if seeds is not None else seed_indices(s):
        sk = seed_settings(s, k)
        work = work_dir(sk, params)
        if (seed_dir(paper, run, s["profile"], k) / "metrics.json").is_file():
            continue
        if not (work / "metrics.json").is_file():  # else it finished before a crash: publish it only
            _train_seed(sk, params, progress, work)
        if _rank() == 0:
            _publish(work, seed_dir(paper, run, s["profile"], k))
    if _rank() != 0:
        return {}
    if all((seed_dir(paper, run, s["profile"], k) / "metrics.json").is_file() for k in seed_indices(s)):
        # every seed is in runs/: the checkpoints have served (every seed's folder, and any left
        # by other settings of this run, which no later run would resume)
        folder = run_work_dir(paper, run, s["profile"], params)
        shutil.rmtree(folder, ignore_errors=True)
        for parent in list(folder.parents)[:2]:  # <paper>, <profile>, when left empty
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
    return load_run(paper, run, s["profile"])


def _train_seed(s: dict, params: dict, progress: bool, work: Path) -> dict | None:
    """Train, evaluate and store one seed of a run (``s``: its :func:`seed_settings`) in ``work``."""
    from .evaluate import evaluate
    from .flops import count_flops, count_params
    from .train import TrainConfig, fit, save_json

    paper, run, k = s["paper"], s["run"], s["seed_index"]
    if s.get("task") == "supervision_transfer":  # diba2017's 2D -> 3D transfer: no labels, its own network
        from .transfer import train_seed

        return train_seed(s, params, progress, work)
    config.ensure_data(s["profile"], params)
    model = build_model(paper, run, s["profile"], params=params, settings=s)
    _initialise(model, s, params)  # before decoding any video: a missing source fails at once
    train_set, test_set, _ = _datasets(s, params)
    frozen = {"freeze_prefixes": tuple(s["freeze_prefixes"])} if s.get("freeze_prefixes") else {}
    cfg = TrainConfig(**{k: s[k] for k in _TRAIN_KEYS if k in s}, **frozen, seed=s["seed"], val_every=1)
    # Runs that draw learning curves (tran2018 Figure 4) are validated after every epoch on one
    # centre clip per test video (clip error); the final numbers always use the full protocol.
    curve_set = _one_clip_per_video(test_set, s.get("cache_frames", False)) if s.get("curves") else None
    t0 = time.time()
    fingerprint = {"run": f"{paper}/{run}", "seed_index": k, "settings": weights_digest(s)}
    history = fit(model, train_set, cfg, progress=progress, val_set=curve_set, out_dir=work, resume=True,
                  fingerprint=fingerprint)
    if _rank() != 0:
        return None
    metrics = _evaluate(model, test_set, s, num_workers=s.get("num_workers", 0))
    # every per-video record is keyed by video id: the verdicts match rows by id, never by position
    video_ids = [test_set.video_ids[i] for i in metrics["video_order"]]
    if not len(video_ids) == len(metrics["video_correct"]) == len(metrics["video_clip_acc"]):
        raise RuntimeError(f"{paper}/{run} seed {k}: {len(video_ids)} scored video ids, {len(metrics['video_correct'])} "
                           f"correctness values, {len(metrics['video_clip_acc'])} clip accuracies")
    scored = set(video_ids)
    # a listed test video is unscored when it is absent from disk, cannot be opened (probe) or none of its clips decodes
    listed_missing = config.video_list(s["dataset"], s.get("split", 1), config.test_subset(s["dataset"]), s["profile"],
                                       params, num_classes=s.get("classes")).missing
    unscored = sorted(set(listed_missing) | {sample.video_id for sample, _ in test_set.broken}
                      | {sample.video_id for sample, _ in test_set.videos if sample.video_id not in scored})
    np.savez(work / "video_scores.npz", scores=metrics["video_scores"].numpy(), labels=np.asarray(metrics["video_labels"]),
             video_ids=np.asarray(video_ids))
    shape = input_shape(s)
    result = {
        "paper": paper, "run": run, "profile": s["profile"], "seed_index": k, "settings": s,
        "clip@1": metrics["clip@1"], "video@1": metrics["video@1"], "video@5": metrics["video@5"], "loss": metrics.get("loss"),
        "train_acc": history[-1]["train_acc"] if history else None,
        "num_test_videos": metrics["num_videos"], "num_test_clips": metrics["num_clips"],
        "test_video_ids": video_ids,
        "video_correct": [int(c) for c in metrics["video_correct"]],
        "video_clip_acc": metrics["video_clip_acc"],
        "params": count_params(model), "flops": count_flops(model, shape),
        "train_seconds": time.time() - t0, "history": history,
        # exact, and by id: test videos listed but not scored, training videos left out at probe time,
        # training items whose clip failed to decode and was replaced (counted since this process started)
        "skipped_videos": {"train": len(train_set.broken), "test": len(unscored)},
        "unscored_test_videos": unscored,
        "train_clips_replaced": train_set.num_failed_items,
        "environment": _environment(s["precision"]),
    }
    save_json(result, work / "metrics.json")
    return result


def _evaluate(model, test_set, s: dict, num_workers: int = 0) -> dict:
    """The run's test protocol on ``test_set``: its precision, what a video's clips average (``test_scores``:
    softmax, or feichtenhofer2016's logits) and its test batch size."""
    from .evaluate import evaluate

    return evaluate(model, test_set, precision=s["precision"], num_workers=num_workers,
                    scores=s.get("test_scores", "softmax"), batch_size=s.get("test_batch_size", 16))


def paper_gpu_hours(paper: str, run: str) -> float:
    """Estimated hours of one reference GPU (``flops.REFERENCE_GPU``) to train and test ``run`` at the
    paper's own settings and dataset sizes (the spec's ``settings``, the run's overrides and
    ``dataset_sizes``): epochs x training videos (one clip each) x 3 passes, plus test videos x test
    clips, times the full-size model's FLOPs per clip (counted on the meta device: instant)."""
    import torch

    from .flops import TRAIN_PASSES, count_flops, gpu_hours
    from .models import create

    spec = load_spec(paper)
    s = {**spec["settings"], **spec_runs(spec)[run]}
    sizes = spec["dataset_sizes"][s["dataset"]]
    channels = 2 if s.get("modality", "rgb") == "flow" else 3
    with torch.device("meta"):
        model = create(s["model"], num_classes=sizes["classes"], in_channels=channels, clip_len=s["clip_len"])
    per_clip = count_flops(model, (channels, s["clip_len"], s["crop"], s["crop"]))
    clips = s["epochs"] * sizes["train"] * TRAIN_PASSES + sizes["test"] * s["test_clips"]
    return gpu_hours(per_clip * clips)


#: per-video records of a seed's metrics, by the metric a claim is about
PER_VIDEO = {"video@1": "video_correct", "clip@1": "video_clip_acc"}


def per_video(m: dict, metric: str = "video@1") -> dict[int, dict[str, float]]:
    """A run's per-video values for ``metric`` (``video@1``: top-1 correctness of the video's averaged
    clips; ``clip@1``: the share of its clips classified correctly), seed -> {video id: value}:
    what ``report.evaluate_claim`` takes."""
    if metric not in PER_VIDEO:
        raise KeyError(f"no per-video record for metric {metric!r}; metrics: {', '.join(PER_VIDEO)}")
    out = {}
    for k, sm in m["per_seed"].items():
        ids, values = sm["test_video_ids"], sm[PER_VIDEO[metric]]
        if len(ids) != len(values):
            raise ValueError(f"run {sm['run']} seed {k}: {len(ids)} test video ids but {len(values)} {metric} values")
        out[k] = {str(v): float(x) for v, x in zip(ids, values)}
    return out


def evaluate_run(paper: str, run: str, profile: str, params: dict | None = None, **test_overrides) -> dict:
    """Evaluate every seed of a trained run on its test set under changed test settings (paper units,
    scaled like the run's own), e.g. ``clip_len=32``: tran2018's 8-frame model tested on 32-frame clips.
    Returns the metrics of :func:`load_run`'s shape (means, ``per_seed`` with per-video records)."""
    from .evaluate import evaluate

    params = params or config.load_params()
    s = run_settings(paper, run, profile, params, overrides=test_overrides)
    _, test_set, _ = _datasets({**s, "cache_frames": False}, params)
    per_seed = {}
    for k in seed_indices(s):
        m = _evaluate(load_model(paper, run, profile, params, seed=k), test_set, s)
        per_seed[k] = {"run": run, "settings": seed_settings(s, k), "clip@1": m["clip@1"], "video@1": m["video@1"],
                       "video@5": m["video@5"], "num_test_videos": m["num_videos"],
                       "test_video_ids": [test_set.video_ids[i] for i in m["video_order"]],
                       "video_correct": [int(c) for c in m["video_correct"]], "video_clip_acc": m["video_clip_acc"]}
    return summarize_seeds(per_seed)


def load_video_scores(paper: str, run: str, profile: str, seed: int = 0) -> dict:
    """A run's per-video scores of seed index ``seed`` (``video_ids``, ``scores`` (V, C), ``labels``),
    for ``evaluate.fuse_streams``."""
    marker = run_dir(paper, run, profile) / "metrics.json"
    if marker.is_file():  # a run that is the same as another at this profile has the other's scores
        run = json.loads(marker.read_text()).get("same_as", run)
    with np.load(seed_dir(paper, run, profile, seed) / "video_scores.npz") as z:
        return {"video_ids": z["video_ids"].tolist(), "scores": z["scores"], "labels": z["labels"]}


_SEED_MEANS = ("clip@1", "video@1", "video@5", "train_acc")


def summarize_seeds(per_seed: dict[int, dict]) -> dict:
    """One run's seeds together: the first seed's description (settings, parameters, FLOPs ...), the
    mean and seed standard deviation (``<metric>_std``, 0 for one seed) of each accuracy, the summed
    training time, the mean learning curve (``history``) and every seed's metrics (``per_seed``)."""
    first = per_seed[min(per_seed)]
    out = {k: v for k, v in first.items() if k not in ("video_correct", "video_clip_acc", "test_video_ids", "seed_index")}
    for key in _SEED_MEANS:
        values = [m[key] for m in per_seed.values() if m.get(key) is not None]
        if values:
            out[key], out[f"{key}_std"] = float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    if all("train_seconds" in m for m in per_seed.values()):
        out["train_seconds"] = float(sum(m["train_seconds"] for m in per_seed.values()))
    histories = [m["history"] for m in per_seed.values() if m.get("history")]
    if histories and len({len(h) for h in histories}) == 1:
        out["history"] = [{key: float(np.mean([h[i][key] for h in histories])) for key in histories[0][i]}
                          for i in range(len(histories[0]))]
    out["seeds"] = sorted(per_seed)
    out["per_seed"] = per_seed
    return out


def load_run(paper: str, run: str, profile: str) -> dict | None:
    """A run's seeds (:func:`summarize_seeds`), or None before any seed ran. A run that is the
    ``same_as`` another at this profile gives the other's with ``"same_as"`` added; a skipped one
    gives ``{"skipped": reason, ...}`` (no accuracies)."""
    folder = run_dir(paper, run, profile)
    marker = folder / "metrics.json"
    if marker.is_file():
        metrics = json.loads(marker.read_text())
        if "same_as" in metrics:
            source = load_run(paper, metrics["same_as"], profile)
            return None if source is None else {**source, "same_as": metrics["same_as"]}
        return metrics
    done = sorted(folder.glob("seed*/metrics.json"))
    if not done:
        return None
    per_seed = {}
    for path in done:
        m = json.loads(path.read_text())
        per_seed[m["seed_index"]] = m
    return summarize_seeds(per_seed)


def ensure_run(paper: str, run: str, profile: str, params: dict | None = None, progress: bool = False) -> dict:
    """The run's metrics: read if the pipeline (or an earlier call) produced every seed, else train
    what is missing now.

    Notebooks call this, so one run standalone at the smoke profile trains its tiny runs itself.
    """
    s = run_settings(paper, run, profile, params)
    done = load_run(paper, run, profile)
    if done is not None and ("skipped" in done or len(done.get("seeds", [])) >= len(seed_indices(s))):
        return done
    plan = run_plan(paper, run, profile, params)
    if plan["action"] == "same_as":
        ensure_run(paper, plan["run"], profile, params, progress)
    source = s.get("init_from")
    # image nets a run reads: the one it starts from, or the teacher of a supervision transfer (diba2017)
    images = [n for n in (source, s.get("teacher")) if isinstance(n, str) and n.startswith(IMAGE_SOURCE)]
    if plan["action"] == "train" and images:
        from .pretrain import ensure_pretrained

        for name in images:
            ensure_pretrained(name[len(IMAGE_SOURCE):], profile, params)
    if plan["action"] == "train":
        for name in source_runs(s):
            ensure_run(paper, name, profile, params, progress)
    train_run(paper, run, profile, params, progress=progress)
    return load_run(paper, run, profile)


def _relaunch_under_torchrun(gpus: int, argv: list[str]) -> int:
    """Run this command again as ``gpus`` DDP processes (``torchrun --standalone``); its exit code."""
    import subprocess

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={gpus}",
           "-m", "replicate.runs", *argv]
    print("launching " + " ".join(cmd[1:]), file=sys.stderr)
    return subprocess.call(cmd)


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paper")
    ap.add_argument("run")
    ap.add_argument("--profile", default=None)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = ap.parse_args(argv)
    params = config.load_params()
    profile = args.profile or params["profile"]
    gpus = config.profile_params(params, profile).get("gpus", 1)
    if not isinstance(gpus, int) or gpus < 1:
        raise BadValueError(f"profiles.{profile}.gpus must be a whole number >= 1, got {gpus!r}")
    run_plan(args.paper, args.run, profile, params)  # an unknown paper or run fails here, before any launch
    if gpus > 1 and "WORLD_SIZE" not in os.environ:
        return _relaunch_under_torchrun(gpus, argv)
    res = train_run(args.paper, args.run, profile, params)
    if _rank() != 0:
        return 0
    if "same_as" in res or "skipped" in res:
        print(f"{args.paper}/{args.run} ({res['profile']}): not trained: "
              + (f"same as {res['same_as']} at this profile" if "same_as" in res else res["skipped"]))
        return 0
    n = len(res["seeds"])
    print(f"{args.paper}/{args.run} ({res['profile']}, {n} seed{'s' if n > 1 else ''}, mean +- sd): "
          + "  ".join(f"{k} {100 * res[k]:.1f} +- {100 * res[k + '_std']:.1f}" for k in ("train_acc", "clip@1", "video@1"))
          + f"  ({res['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
