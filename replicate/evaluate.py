"""Evaluation: clip@1, video@1, video@5 and the loss, as the papers report them.

Clip accuracy scores every test clip on its own; video accuracy averages the softmax scores of
a video's clips (tran2018: 10 uniform clips; diba2017/2018: all non-overlapping clips) and
takes the top class. Per-video correctness is returned too, so verdicts can bootstrap over
test videos. The loss is the mean cross-entropy over labelled clips (the validation loss
that ``replicate.train``'s plateau schedule watches).

Runs on whatever device it is given (default: CUDA when present, else CPU); on CUDA with
bf16 autocast and channels_last_3d, like training. The device helpers below are shared with
``replicate.train``. Under DDP, :func:`replicate.train.fit` evaluates on rank 0 only, with the
unwrapped model, and broadcasts the numbers; a ``DistributedDataParallel`` passed here is
unwrapped too, so calling this on one rank never waits on the others.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm  # plain tqdm: tqdm.auto warns on stderr in kernels without ipywidgets (breaks nbval)

from .data.clips import ClipDataset, average_clip_scores, collate_skip_none


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
    """Put ``model`` on ``device``; on CUDA in channels_last_3d (cuDNN's fast 3D conv layout)."""
    model.to(device)
    if device.type == "cuda" and _is_3d(model):
        model.to(memory_format=torch.channels_last_3d)
    return model


def move_input(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch of clips on ``device``, in the layout :func:`move_model` gave the model."""
    if device.type == "cuda" and x.ndim == 5:
        return x.to(device, memory_format=torch.channels_last_3d, non_blocking=True)
    return x.to(device, non_blocking=True)


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (no loss scaling needed); plain fp32 elsewhere."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def predict(model: nn.Module, dataset: ClipDataset, batch_size: int = 16, num_workers: int = 0,
            device: str | torch.device | None = None, progress: bool = False) -> dict:
    """Softmax scores of every test clip, the video each came from, and the mean loss.

    Returns ``{"scores": (N, C), "video_index": (N,), "loss": float}``; the loss is NaN when
    no clip is labelled.
    """
    device = torch.device(device) if device is not None else default_device()
    model = move_model(unwrap(model), device).eval()
    # A generator of its own: a DataLoader otherwise draws its workers' base seed from the global
    # torch RNG, and training would then depend on when (and whether) it validates.
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=collate_skip_none, pin_memory=device.type == "cuda", generator=torch.Generator())
    scores, video_index = [], []
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    labelled = 0
    # disable=None: the bar shows only on a terminal, never in logs
    for batch in tqdm(loader, desc="eval", leave=False, disable=None if progress else True):
        if batch is None:  # every clip of the batch failed to decode (counted by the dataset)
            continue
        labels = batch["label"].to(device)
        with autocast(device):
            logits = model(move_input(batch["clip"], device)).float()
        # unlabelled clips (label -1) are scored but left out of the loss
        loss_sum += F.cross_entropy(logits, labels, ignore_index=-1, reduction="sum")
        labelled += int((batch["label"] >= 0).sum())
        scores.append(logits.softmax(1).cpu())
        video_index.append(batch["video_index"])
    loss = loss_sum.item() / labelled if labelled else math.nan
    return {"scores": torch.cat(scores), "video_index": torch.cat(video_index), "loss": loss}


def accuracies(scores: torch.Tensor, video_index: torch.Tensor, labels: list[int]) -> dict:
    """clip@1, video@1, video@5 (fractions) and the per-video top-1 correctness."""
    labels_t = torch.as_tensor(labels)
    clip_correct = scores.argmax(1) == labels_t[video_index]
    video_scores, order = average_clip_scores(scores, video_index)
    video_labels = labels_t[order]
    k = min(5, scores.shape[1])
    top5 = video_scores.topk(k, 1).indices
    video_correct = top5[:, 0] == video_labels
    return {
        "clip@1": clip_correct.float().mean().item(),
        "video@1": video_correct.float().mean().item(),
        "video@5": (top5 == video_labels[:, None]).any(1).float().mean().item(),
        "num_clips": int(len(scores)),
        "num_videos": int(len(order)),
        "video_correct": video_correct.tolist(),
    }


def evaluate(model: nn.Module, dataset: ClipDataset, **kwargs) -> dict:
    """:func:`accuracies` of the model on ``dataset`` plus its mean ``"loss"``; ``kwargs`` go to :func:`predict`."""
    out = predict(model, dataset, **kwargs)
    return {**accuracies(out["scores"], out["video_index"], dataset.labels), "loss": out["loss"]}
