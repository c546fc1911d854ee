"""2D -> 3D supervision transfer (diba2017 section 3.2, Figure 2; reused by diba2018).

A frozen 2D network pretrained on images (the *teacher*) teaches a randomly initialised 3D network (the
*student*) without labels: shown X frames and a clip, a small head says whether they come from the same
video at the same time stamp. Only the student and the head learn.

* Teacher: an image-pretrained network of ``replicate/image_pretraining.yaml`` (diba2017: DenseNet-121;
  trained on the ``images`` role at ``smoke`` / ``mini``, ImageNet or torchvision's file at ``paper``). Each
  of the X frames goes through it alone; its pooled features are averaged over the frames (section 3.2).
* Student: the 3D network of the run, built with ``round(1024 x width)`` outputs: its classifier is the
  paper's "fc after block 4 giving 1024-d" (section 3.2; a fine-tune from it drops that layer like any
  classifier of another size).
* Head (Figure 2): the two feature vectors concatenated (1024 + 1024 at full width) -> fc 512 -> fc 128 ->
  2-way softmax. A ReLU follows each hidden fc (the paper draws the layers, not their activations: ours).
* Pairs: a positive pairs a clip with the frames of the same clip (same video, same time stamp, the same
  crop); a negative pairs a video's frames with a clip of another video (random sampling), 1:1 (the paper:
  "random sampling ... from two different videos"; the ratio unstated, the inventory's default).

One network holds all three (:class:`TransferNet`) and one dataset yields both inputs stacked along the
channels (:class:`PairDataset`: 3 student + 3 teacher channels), so the suite's training loop
(``replicate.train.fit``: resume, bf16, schedules, checkpoints) and evaluation run the transfer unchanged:
its "accuracy" is the pair-matching accuracy. A run of a paper spec's ``supervision_transfer`` section is
trained here (``replicate.runs`` sends it); its ``final.pt`` is the student alone, so later runs start from
it with ``init_from: <transfer run>`` like from any run.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from . import config
from .data.clips import ClipDataset
from .models.video_resnet import scale_width

#: the student's feature width (the fc after block 4) and the head's hidden widths, at width 1 (Figure 2)
STUDENT_FEATURES = 1024
HEAD_WIDTHS = (512, 128)
#: channels of each input in a pair item: the student's clip first, then the teacher's frames
RGB = 3


class PairHead(nn.Module):
    """Figure 2's head: concat(student, teacher) -> fc -> ReLU -> fc -> ReLU -> fc 2."""

    def __init__(self, features: int, widths: tuple[int, ...] = HEAD_WIDTHS):
        super().__init__()
        layers: list[nn.Module] = []
        for w in widths:
            layers += [nn.Linear(features, w), nn.ReLU(inplace=True)]
            features = w
        self.layers = nn.Sequential(*layers, nn.Linear(features, 2))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class TransferNet(nn.Module):
    """Student, frozen teacher and head. Input ``(N, 6, T, H, W)``: the student's clip (channels 0-2) and the
    teacher's T frames (3-5); output the 2 pair logits (1: same video and time)."""

    def __init__(self, student: nn.Module, teacher: nn.Module, width: float = 1.0):
        super().__init__()
        self.student, self.teacher = student, teacher
        for p in self.teacher.parameters():
            p.requires_grad_(False)  # no gradient: SGD leaves the teacher's weights as they are
        student_dim = student.fc.out_features
        self.head = PairHead(student_dim + teacher.num_features, tuple(scale_width(w, width) for w in HEAD_WIDTHS))
        self.teacher.eval()

    def train(self, mode: bool = True) -> "TransferNet":
        super().train(mode)
        self.teacher.eval()  # frozen means its BatchNorm statistics too
        return self

    def teacher_features(self, frames: Tensor) -> Tensor:
        """``(N, C, T, H, W)`` frames -> the teacher's pooled features of each frame, averaged over T."""
        n, c, t, h, w = frames.shape
        with torch.no_grad():
            feats = self.teacher.forward_features(frames.transpose(1, 2).reshape(n * t, c, h, w))
        return feats.view(n, t, -1).mean(1)

    def forward(self, x: Tensor) -> Tensor:
        clip, frames = x[:, :RGB], x[:, RGB:]
        return self.head(torch.cat([self.student(clip), self.teacher_features(frames).to(clip.dtype)], 1))


class PairDataset(torch.utils.data.Dataset):
    """Pairs of (clip, frames) over a :class:`ClipDataset` of unlabelled videos, labelled 1 (same video, same
    time stamp) or 0 (frames of one video, a clip of another), as ``{"clip": (6, T, H, W), "label", ...}``.

    Train mode: item ``i`` of epoch ``e`` is positive when ``i + e`` is even (1:1 in every epoch, each video
    alternating), its negative partner drawn from ``(seed, epoch, i)``; each clip is its video's random clip of
    the epoch. Test mode (held-out videos, one centre clip each): item ``i`` is positive when ``i`` is even, its
    negative partner the video half the list away. Each item is its own "video" for the evaluator."""

    def __init__(self, base: ClipDataset, seed: int = 0):
        if base.mode == "test" and base.num_clips != 1:
            raise ValueError("a test PairDataset needs one clip per video (num_clips=1)")
        if len(base.videos) < 2:
            raise ValueError("pairs need at least two videos (a negative pairs two different videos)")
        self.base, self.seed = base, seed
        self.labels = [1 - i % 2 for i in range(len(base.videos))]  # the test items' (train items' vary by epoch)
        self.video_ids = [f"pair{i}" for i in range(len(base.videos))]
        self.videos, self.broken = base.videos, base.broken

    def __len__(self) -> int:
        return len(self.base.videos)

    def set_epoch(self, epoch: int) -> None:
        self.base.set_epoch(epoch)

    @property
    def num_failed_items(self) -> int:
        return self.base.num_failed_items

    def __getitem__(self, index: int) -> dict | None:
        n = len(self)
        if self.base.mode == "train":
            epoch = self.base.epoch
            positive = (index + epoch) % 2 == 0
            other = (index + 1 + int(np.random.default_rng([self.seed, epoch, index, 1]).integers(n - 1))) % n
        else:
            positive, other = index % 2 == 0, (index + max(1, n // 2)) % n
        clip = self.base[index]
        frames = clip if positive else self.base[other]
        if clip is None or frames is None:  # a test clip that failed to decode (counted by the base dataset)
            return None
        return {"clip": torch.cat([clip["clip"], frames["clip"]], 0), "label": int(positive), "video_index": index,
                "clip_index": 0}


def split_videos(videos, held_out_every: int):
    """The unlabelled videos for training and for the held-out pair accuracy (every ``held_out_every``-th)."""
    samples = list(videos)
    return ([v for i, v in enumerate(samples) if i % held_out_every], samples[::held_out_every])


def build(s: dict) -> TransferNet:
    """A run's TransferNet: its student (random init, seeded), the image-pretrained teacher it names."""
    from .models import create
    from .pretrain import IMAGE_SOURCE, load_pretrained, pretrain_settings

    torch.manual_seed(s["seed"])
    student = create(s["model"], num_classes=scale_width(STUDENT_FEATURES, s["width"]), width=s["width"],
                     clip_len=s["clip_len"], **(s.get("model_kwargs") or {}))
    name = s["teacher"].removeprefix(IMAGE_SOURCE)
    ts = pretrain_settings(name, s["profile"])
    state = load_pretrained(name, s["profile"])
    classes = next(v for k, v in state.items() if k.endswith("weight") and v.ndim == 2).shape[0]
    teacher = create(ts["model"], num_classes=classes, width=ts["width"], **(ts.get("model_kwargs") or {}))
    teacher.load_state_dict(state)
    return TransferNet(student, teacher, s["width"])


def datasets(s: dict, params: dict) -> tuple[PairDataset, PairDataset]:
    """The training and held-out pairs of a run's unlabelled videos, at its clip length, stride and crop."""
    from .data.transforms import test_transform, train_transform
    from .runs import _store_kwargs

    videos = config.video_list(s["dataset"], 1, "train", s["profile"], params)
    train_videos, held_out = split_videos(videos, s.get("held_out_every", 10))
    common = _store_kwargs(s, params, tuple(s["resize"]))
    train = ClipDataset(train_videos, s["clip_len"], s["stride"], "train", seed=s["seed"],
                        transform=train_transform(s["crop"], flip=s.get("flip", False)), **common)
    test = ClipDataset(held_out, s["clip_len"], s["stride"], "test", num_clips=1, transform=test_transform(s["crop"]),
                       **common)
    return PairDataset(train, s["seed"]), PairDataset(test, s["seed"])


def train_seed(s: dict, params: dict, progress: bool, work: Path) -> dict:
    """Train one seed of a supervision-transfer run in ``work`` (resumable) and store the student as ``final.pt``,
    the pair accuracy per epoch (train pairs and held-out pairs) in ``metrics.json``'s history."""
    from .evaluate import evaluate
    from .flops import count_params
    from .runs import _TRAIN_KEYS, _environment, weights_digest
    from .train import TrainConfig, fit, save_json, save_torch

    config.ensure_data(s["profile"], params)
    net = build(s)
    train_set, held_out = datasets(s, params)
    cfg = TrainConfig(**{k: s[k] for k in _TRAIN_KEYS if k in s}, seed=s["seed"], val_every=1)
    t0 = time.time()
    history = fit(net, train_set, cfg, progress=progress, val_set=held_out, out_dir=work, resume=True,
                  fingerprint={"run": f"{s['paper']}/{s['run']}", "seed_index": s["seed_index"],
                               "settings": weights_digest(s)})
    m = evaluate(net, held_out, precision=s["precision"], batch_size=s.get("test_batch_size", 16))
    teacher_before = load_teacher_state(s)
    unchanged = all(torch.equal(v, teacher_before[k]) for k, v in net.teacher.state_dict().items())
    save_torch(net.student.state_dict(), work / "final.pt")  # what later runs start from: the student alone
    result = {
        "paper": s["paper"], "run": s["run"], "profile": s["profile"], "seed_index": s["seed_index"], "settings": s,
        "task": "supervision_transfer",
        # the pair-matching accuracy on held-out videos' pairs, under the keys every run's metrics use
        "video@1": m["video@1"], "clip@1": m["clip@1"], "video@5": m["video@1"], "loss": m["loss"],
        "pair_accuracy": m["video@1"], "held_out_pairs": m["num_videos"], "train_pairs": len(train_set),
        "train_acc": history[-1]["train_acc"] if history else None, "history": history,
        "teacher_unchanged": unchanged,
        "test_video_ids": [held_out.video_ids[i] for i in m["video_order"]],
        "video_correct": [int(c) for c in m["video_correct"]], "video_clip_acc": m["video_clip_acc"],
        "params": {"student": count_params(net.student), "head": count_params(net.head),
                   "teacher (frozen)": count_params(net.teacher)},
        "train_seconds": time.time() - t0, "environment": _environment(s["precision"]),
    }
    save_json(result, work / "metrics.json")
    return result


def load_teacher_state(s: dict) -> dict:
    from .pretrain import IMAGE_SOURCE, load_pretrained

    return load_pretrained(s["teacher"].removeprefix(IMAGE_SOURCE), s["profile"])
