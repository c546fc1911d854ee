"""Evaluation: clip@1, video@1 and video@5, as the papers report them.

Clip accuracy scores every test clip on its own; video accuracy averages the softmax scores of
a video's clips (tran2018: 10 uniform clips; diba2017/2018: all non-overlapping clips) and
takes the top class. Per-video correctness is returned too, so verdicts can bootstrap over
test videos.
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from .data.clips import ClipDataset, average_clip_scores, collate_skip_none


@torch.no_grad()
def predict(model: torch.nn.Module, dataset: ClipDataset, batch_size: int = 16, num_workers: int = 0,
            device: str | torch.device = "cpu", progress: bool = False) -> dict:
    """Softmax scores of every test clip, with the video each came from."""
    from tqdm.auto import tqdm

    model.eval().to(device)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=collate_skip_none)
    scores, video_index = [], []
    for batch in tqdm(loader, desc="eval", leave=False, disable=not progress):
        if batch is None:  # every clip of the batch failed to decode (counted by the dataset)
            continue
        scores.append(model(batch["clip"].to(device)).float().softmax(1).cpu())
        video_index.append(batch["video_index"])
    return {"scores": torch.cat(scores), "video_index": torch.cat(video_index)}


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


def evaluate(model: torch.nn.Module, dataset: ClipDataset, **kwargs) -> dict:
    out = predict(model, dataset, **kwargs)
    return accuracies(out["scores"], out["video_index"], dataset.labels)
