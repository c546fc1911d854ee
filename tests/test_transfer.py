"""2D -> 3D supervision transfer (replicate/transfer.py): the frozen teacher, the pairs, the head (Figure 2)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from replicate.data.clips import ClipDataset, segment_starts
from replicate.data.samples import VideoList, VideoSample
from replicate.models import create
from replicate.transfer import PairDataset, TransferNet, split_videos
from replicate.train import TrainConfig, make_optimizer, train_step


def _net(width: float = 0.125) -> TransferNet:
    torch.manual_seed(0)
    student = create("t3d_121", num_classes=round(1024 * width), width=width)
    teacher = create("densenet121", num_classes=16, width=width)
    return TransferNet(student, teacher, width)


def test_head_shapes_follow_figure2_at_full_width():
    with torch.device("meta"):
        net = TransferNet(create("t3d_121", num_classes=1024), create("densenet121", num_classes=1000))
    shapes = [(m.in_features, m.out_features) for m in net.head.modules() if isinstance(m, torch.nn.Linear)]
    assert shapes == [(2048, 512), (512, 128), (128, 2)]  # concat(1024, 1024) -> 512 -> 128 -> 2


def test_only_student_and_head_learn_and_teacher_statistics_stay():
    net = _net()
    teacher_before = {k: v.clone() for k, v in net.teacher.state_dict().items()}
    student_before = {k: v.clone() for k, v in net.student.state_dict().items()}
    head_before = {k: v.clone() for k, v in net.head.state_dict().items()}
    net.train()
    assert not net.teacher.training  # frozen includes its BatchNorm statistics
    cfg = TrainConfig(lr=0.1, batch_size=4)
    opt = make_optimizer(net, cfg)
    batch = {"clip": torch.randn(4, 6, 16, 32, 32), "label": torch.tensor([1, 0, 1, 0])}
    train_step(net, batch, opt, torch.device("cpu"), [], "fp32")
    assert all(torch.equal(v, teacher_before[k]) for k, v in net.teacher.state_dict().items())
    assert any(not torch.equal(v, student_before[k]) for k, v in net.student.state_dict().items())
    assert any(not torch.equal(v, head_before[k]) for k, v in net.head.state_dict().items())
    assert all(p.grad is None for p in net.teacher.parameters())


def test_teacher_features_are_the_mean_over_frames():
    net = _net().eval()
    frames = torch.randn(2, 3, 4, 32, 32)
    per_frame = torch.stack([net.teacher.forward_features(frames[:, :, t]) for t in range(4)], 1)
    assert torch.allclose(net.teacher_features(frames), per_frame.mean(1), atol=1e-5)


class _Videos:
    """A stand-in ClipDataset: video v's clip is filled with v (so a pair says which videos it holds)."""

    def __init__(self, n: int, mode: str):
        self.videos, self.broken, self.mode, self.num_clips = [(None, 10)] * n, [], mode, 1
        self.epoch, self.num_failed_items = 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, v: int) -> dict:
        return {"clip": torch.full((3, 2, 4, 4), float(v)), "label": -1, "video_index": v, "clip_index": 0}


@pytest.mark.parametrize("mode", ["train", "test"])
def test_pairs_are_balanced_positives_same_video_negatives_two_videos(mode):
    n = 10
    pairs = PairDataset(_Videos(n, mode), seed=3)
    for epoch in (0, 1):
        pairs.set_epoch(epoch)
        items = [pairs[i] for i in range(n)]
        labels = [it["label"] for it in items]
        assert sum(labels) == n // 2  # 1:1
        for i, it in enumerate(items):
            student, teacher = it["clip"][0, 0, 0, 0].item(), it["clip"][3, 0, 0, 0].item()
            assert student == i and (teacher == i) == bool(it["label"])
    if mode == "train":  # each video alternates between a positive and a negative from one epoch to the next
        pairs.set_epoch(0)
        a = [pairs[i]["label"] for i in range(n)]
        pairs.set_epoch(1)
        assert [pairs[i]["label"] for i in range(n)] == [1 - x for x in a]
    else:
        assert pairs.labels == [it["label"] for it in items]


def test_held_out_videos_are_disjoint_from_training_videos():
    train, held = split_videos(range(25), 10)
    assert held == [0, 10, 20] and not set(train) & set(held) and len(train) + len(held) == 25


def test_video_list_fraction_keeps_the_same_share_of_every_class():
    samples = [VideoSample(f"v{c}_{i}.mp4", c, f"v{c}_{i}") for c in range(3) for i in range(7 + c)]
    half = VideoList(samples, ["a", "b", "c"], "toy").fraction(0.5)
    counts = np.bincount([s.label for s in half], minlength=3)
    assert counts.tolist() == [3, 4, 4] and half.classes == ["a", "b", "c"]
    assert [s.video_id for s in half if s.label == 0] == ["v0_1", "v0_3", "v0_5"]  # every other one
    with pytest.raises(Exception, match="share"):
        VideoList(samples, ["a", "b", "c"]).fraction(0)


def test_segment_starts_fall_one_in_each_segment():
    rng = np.random.default_rng(0)
    for frames in (10, 64, 81):
        for _ in range(20):
            starts = segment_starts(frames, 5, rng)
            bounds = [k * frames // 5 for k in range(6)]
            assert all(lo <= s < max(hi, lo + 1) for s, lo, hi in zip(starts, bounds[:-1], bounds[1:]))


def test_tsn_items_stack_segments_and_the_network_averages_them(tmp_path):
    from replicate.data.video import write_video

    frames = np.random.default_rng(0).integers(0, 255, (40, 32, 32, 3), dtype=np.uint8)  # decord fails on 16 px
    path = tmp_path / "v.mp4"
    write_video(path, frames, fps=25)
    ds = ClipDataset([VideoSample(path, 0, "v")], clip_len=4, stride=2, mode="train", segments=5, progress=False)
    item = ds[0]
    assert item["clip"].shape == (5, 3, 4, 32, 32)
    net = create("t3d_121", num_classes=3, width=0.125).eval()
    x = torch.randn(2, 5, 3, 8, 32, 32)
    with torch.no_grad():
        together = net(x)
        apart = torch.stack([net(x[:, k]) for k in range(5)], 1).mean(1)
    assert torch.allclose(together, apart, atol=1e-5)
