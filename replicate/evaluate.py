"""Evaluation: clip@1, video@1, video@5 and the loss, as the papers report them.

Clip accuracy scores every test clip on its own; video accuracy averages the softmax scores of
a video's clips (tran2018: 10 uniform clips; diba2017/2018: all non-overlapping clips) and
takes the top class. Per-video correctness is returned too, so verdicts can bootstrap over
test videos. The loss is the mean cross-entropy over labelled clips (the validation loss
that ``replicate.train``'s plateau schedule watches).

Runs on whatever device it is given (default: CUDA when present, else CPU), at the
``precision`` it is given (bf16 autocast or fp32, see :func:`autocast`) and with 3D models in
channels_last_3d, like training. The device helpers below are shared with
``replicate.train``. Under DDP, :func:`replicate.train.fit` evaluates on rank 0 only, with the
unwrapped model, and broadcasts the numbers; a ``DistributedDataParallel`` passed here is
unwrapped too, so calling this on one rank never waits on the others.
"""
from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm  # plain tqdm: tqdm.auto warns on stderr in kernels without ipywidgets (breaks nbval)

from .data.clips import ClipDataset, average_clip_scores, collate_skip_none

log = logging.getLogger(__name__)

PRECISIONS = ("bf16", "fp32")


# --------------------------------------------------------------------------- device helpers


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a ``DistributedDataParallel`` wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def _is_3d(model: nn.Module) -> bool:
    # channels_last_3d only exists for 5-D tensors: converting a model with 4-D (2D conv)
    # weights would fail, so image models (inflation sources) keep the default layout.
    dims = {p.ndim for p in model.parameters()}
    return 5 in dims and 4 not in dims


def move_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Put ``model`` on ``device``, a 3D model in channels_last_3d: cuDNN's fast 3D conv layout, and
    on CPUs oneDNN's (measured here: R3D-18 at 8x32x32, 1.13x in fp32, 1.2x in bf16)."""
    model.to(device)
    if _is_3d(model):
        model.to(memory_format=torch.channels_last_3d)
    return model


def move_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch of clips on ``device``, in the layout :func:`move_model` gave the model."""
    if x.ndim == 5:
        return x.to(device, memory_format=torch.channels_last_3d, non_blocking=True)
    return x.to(device, non_blocking=True)


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bf16 natively (AVX512-BF16 / AMX): oneDNN's own test."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


_warned_fallback = False


def effective_precision(precision: str, device: torch.device) -> str:
    """The precision a run gets: ``bf16`` on CUDA and on CPUs with native bf16, else ``fp32``
    (one warning per process: emulated bf16 is slower than fp32 and changes the numbers)."""
    global _warned_fallback
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        if not _warned_fallback:
            log.warning("precision bf16 asked for, but this CPU has no native bf16 (AVX512-BF16 / AMX): using fp32")
            _warned_fallback = True
        return "fp32"
    return precision


def autocast(device: torch.device, precision: str) -> torch.autocast:
    """bf16 autocast (no loss scaling needed) where :func:`effective_precision` allows it; else plain fp32."""
    on = effective_precision(precision, device) == "bf16" and device.type in ("cuda", "cpu")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=on)


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def predict(model: nn.Module, dataset: ClipDataset, batch_size: int = 16, num_workers: int = 0,
            device: str | torch.device | None = None, progress: bool = False, precision: str = "fp32",
            scores: str = "softmax") -> dict:
    """Softmax scores of every test clip (``scores="logits"``: the network's outputs, which feichtenhofer2016
    averages over a video's frames and flips), the video each came from, and the mean loss.

    Returns ``{"scores": (N, C), "video_index": (N,), "loss": float}``; the loss is NaN when
    no clip is labelled.
    """
    device = torch.device(device) if device is not None else default_device()
    model = move_model(unwrap(model), device).eval()
    # A generator of its own: a DataLoader otherwise draws its workers' base seed from the global
    # torch RNG, and training would then depend on when (and whether) it validates.
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=collate_skip_none, pin_memory=device.type == "cuda", generator=torch.Generator())
    if scores not in ("softmax", "logits"):
        raise ValueError(f"scores must be softmax or logits, got {scores!r}")
    kind, scores, video_index = scores, [], []
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    labelled = 0
    # disable=None: the bar shows only on a terminal, never in logs
    for batch in tqdm(loader, desc="eval", leave=False, disable=None if progress else True):
        if batch is None:  # every clip of the batch failed to decode (counted by the dataset)
            continue
        labels = batch["label"].to(device)
        with autocast(device, precision):
            logits = model(move_input(batch["clip"], device)).float()
        # unlabelled clips (label -1) are scored but left out of the loss
        loss_sum += F.cross_entropy(logits, labels, ignore_index=-1, reduction="sum")
        labelled += int((batch["label"] >= 0).sum())
        scores.append((logits.softmax(1) if kind == "softmax" else logits).cpu())
        video_index.append(batch["video_index"])
    loss = loss_sum.item() / labelled if labelled else math.nan
    return {"scores": torch.cat(scores), "video_index": torch.cat(video_index), "loss": loss}


def _video_accuracies(video_scores: torch.Tensor, video_labels: torch.Tensor) -> dict:
    k = min(5, video_scores.shape[1])
    top5 = video_scores.topk(k, 1).indices
    video_correct = top5[:, 0] == video_labels
    return {
        "video@1": video_correct.float().mean().item(),
        "video@5": (top5 == video_labels[:, None]).any(1).float().mean().item(),
        "num_videos": int(len(video_labels)),
        "video_correct": video_correct.tolist(),
    }


def accuracies(scores: torch.Tensor, video_index: torch.Tensor, labels: list[int]) -> dict:
    """clip@1, video@1, video@5 (fractions), per video (in ``video_order``, the dataset's video
    indices) the top-1 correctness and the share of its clips classified correctly
    (``video_clip_acc``: what a clip-accuracy claim is tested on), and the video-level scores
    themselves (``video_scores`` (V, C), ``video_labels``) for fusion."""
    labels_t = torch.as_tensor(labels)
    clip_correct = scores.argmax(1) == labels_t[video_index]
    video_scores, order = average_clip_scores(scores, video_index)
    video_clip_acc, _ = average_clip_scores(clip_correct.double()[:, None], video_index)
    video_labels = labels_t[order]
    return {
        "clip@1": clip_correct.float().mean().item(),
        **_video_accuracies(video_scores, video_labels),
        "video_clip_acc": video_clip_acc[:, 0].tolist(),
        "num_clips": int(len(scores)),
        "video_scores": video_scores,
        "video_order": order.tolist(),
        "video_labels": video_labels.tolist(),
    }


def fuse_streams(streams: list[dict], weights: list[float] | None = None) -> dict:
    """Two-stream (late) fusion: the weighted mean of each stream's video-level scores (softmax scores; or
    feichtenhofer2016's averaged network outputs, and L2-normalised scores for its "+ IDT" row).

    Each stream is ``{"video_ids", "scores" (V, C), "labels"}`` (what ``replicate.runs`` stores
    in ``video_scores.npz``). Streams are aligned on video id; videos missing from a stream (a
    video without flow, say) are left out and counted in ``"dropped"``. tran2018 averages the
    RGB and flow scores with equal weights (the default). Returns video@1, video@5,
    ``video_correct``, ``video_ids`` and ``num_videos``, like :func:`accuracies`.
    """
    if len(streams) < 2:
        raise ValueError(f"fusion needs at least two streams, got {len(streams)}")
    weights = list(weights) if weights is not None else [1.0 / len(streams)] * len(streams)
    if len(weights) != len(streams) or any(w < 0 for w in weights) or not sum(weights) > 0:
        raise ValueError(f"need one non-negative weight per stream (not all 0), got {weights}")
    common = set(map(str, streams[0]["video_ids"]))
    for st in streams[1:]:
        common &= set(map(str, st["video_ids"]))
    ids = [str(v) for v in streams[0]["video_ids"] if str(v) in common]
    if not ids:
        raise ValueError("the streams share no test video")
    fused, labels = 0, None
    for w, st in zip(weights, streams):
        row = {str(v): i for i, v in enumerate(st["video_ids"])}
        idx = torch.as_tensor([row[v] for v in ids])
        scores = torch.as_tensor(st["scores"], dtype=torch.float32)[idx]
        lab = torch.as_tensor(st["labels"])[idx]
        if labels is not None and not torch.equal(lab, labels):
            raise ValueError("the streams disagree on the labels of the same videos: are they the same test set?")
        if scores.shape[1] != torch.as_tensor(streams[0]["scores"]).shape[1]:
            raise ValueError("the streams have different numbers of classes")
        fused, labels = fused + w * scores, lab
    dropped = max(len(st["video_ids"]) for st in streams) - len(ids)
    return {**_video_accuracies(fused / sum(weights), labels), "video_ids": ids, "dropped": dropped}


def evaluate(model: nn.Module, dataset: ClipDataset, **kwargs) -> dict:
    """:func:`accuracies` of the model on ``dataset`` plus its mean ``"loss"``; ``kwargs`` go to :func:`predict`."""
    out = predict(model, dataset, **kwargs)
    return {**accuracies(out["scores"], out["video_index"], dataset.labels), "loss": out["loss"]}
