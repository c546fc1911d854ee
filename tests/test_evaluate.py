"""Video-level accuracies and two-stream score fusion."""
from __future__ import annotations

import pytest
import torch

from replicate.evaluate import accuracies, fuse_streams


def test_accuracies_average_clip_scores_per_video():
    # video 0: clips say 1 then 0 (mean favours 0); video 1: both clips say 2
    scores = torch.tensor([[0.8, 0.2, 0.0], [0.3, 0.7, 0.0], [0.0, 0.1, 0.9], [0.1, 0.0, 0.9]])
    out = accuracies(scores, torch.tensor([0, 0, 1, 1]), labels=[0, 2])
    assert out["clip@1"] == pytest.approx(0.75) and out["video@1"] == 1.0
    assert out["video_correct"] == [True, True] and out["video_labels"] == [0, 2]
    # per-video clip accuracy (what clip@1 claims are tested on): video 0 has 1 of 2 clips right
    assert out["video_clip_acc"] == [0.5, 1.0]
    torch.testing.assert_close(out["video_scores"][0], torch.tensor([0.55, 0.45, 0.0]))


def _stream(ids, scores, labels):
    return {"video_ids": ids, "scores": torch.tensor(scores), "labels": torch.tensor(labels)}


def test_fusion_averages_scores_and_aligns_videos():
    # RGB is right on video a, flow on video b; averaged, each stream's confident vote wins
    rgb = _stream(["a", "b", "c"], [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], [0, 1, 1])
    flow = _stream(["b", "a"], [[0.1, 0.9], [0.4, 0.6]], [1, 0])  # other order, no "c" (no flow for it)
    out = fuse_streams([rgb, flow])
    assert out["video_ids"] == ["a", "b"] and out["dropped"] == 1
    assert out["video_correct"] == [True, True] and out["video@1"] == 1.0
    only_flow = fuse_streams([rgb, flow], weights=[0.0, 1.0])
    assert only_flow["video_correct"] == [False, True]


def test_fusion_refuses_mismatched_streams():
    rgb = _stream(["a"], [[0.9, 0.1]], [0])
    with pytest.raises(ValueError, match="at least two"):
        fuse_streams([rgb])
    with pytest.raises(ValueError, match="disagree on the labels"):
        fuse_streams([rgb, _stream(["a"], [[0.9, 0.1]], [1])])
    with pytest.raises(ValueError, match="share no test video"):
        fuse_streams([rgb, _stream(["z"], [[0.9, 0.1]], [0])])
    with pytest.raises(ValueError, match="one non-negative weight"):
        fuse_streams([rgb, rgb], weights=[1.0])
