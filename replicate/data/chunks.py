"""Which frames ST-ResNet reads: chunks ``tau`` frames apart, each one RGB frame and a stack of flow fields.

feichtenhofer2016, section 3.4 and the authors' code (the inventory ``../shared/papers/notes/feichtenhofer2016.md``):

* training samples ``n`` chunks (1 for the separate streams, 5 for ST-ResNet, 11 for ST-ResNet*) spaced ``tau``
  frames apart, ``tau`` drawn in ``[5, 15]`` (ST-ResNet) or ``[1, 15]`` (ST-ResNet*), one draw per (sub-)batch
  (:func:`draw_tau`); the chunks start at a random frame;
* a video too short for ``(n - 1) tau + 1`` frames gets a smaller ``tau``; one shorter than ``n`` frames is
  padded symmetrically (the chunks are centred on it and repeat its first and last frames);
* a chunk at frame ``t`` is the RGB frame ``t`` and the flow fields ``t - L/2 .. t + L/2 - 1`` (L = 10: fields
  ``t-5 .. t+4``, code), clamped to the video's fields;
* testing reads 25 frames uniformly spaced over the video (:func:`test_frames`), fully convolutionally.

The functions are index arithmetic on frame counts; :class:`ChunkDataset` reads the frames they name.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import BadValueError
from .flow import FLOW_PIXELS

if TYPE_CHECKING:
    from .clips import ClipDataset

log = logging.getLogger(__name__)

#: section 3.4 / Table 2: tau ranges of the multi-chunk stages
TAU_RANGES = {"st_resnet": (5, 15), "st_resnet_star": (1, 15)}
TEST_FRAMES = 25


def draw_tau(rng: np.random.Generator, low: int, high: int) -> int:
    """One ``tau`` in ``[low, high]`` (both included), for a whole (sub-)batch."""
    if not 1 <= low <= high:
        raise BadValueError(f"tau range must satisfy 1 <= low <= high, got [{low}, {high}]")
    return int(rng.integers(low, high + 1))


def fitted_tau(num_frames: int, chunks: int, tau: int) -> int:
    """``tau``, reduced until ``chunks`` chunks span at most ``num_frames`` frames (at least 1)."""
    if chunks < 1 or tau < 1 or num_frames < 1:
        raise BadValueError(f"need chunks, tau and num_frames >= 1, got {chunks}, {tau}, {num_frames}")
    if chunks == 1:
        return tau
    return max(1, min(tau, (num_frames - 1) // (chunks - 1)))


def chunk_frames(num_frames: int, chunks: int, tau: int, start: int | None = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame index of each of ``chunks`` chunks: ``start + i * tau'`` with ``tau'`` = :func:`fitted_tau`.
    ``start`` given, or drawn from ``rng`` over every start that fits, or (neither) the centred one. A video
    shorter than ``chunks`` frames is padded symmetrically: centred, its first and last frames repeated."""
    step = fitted_tau(num_frames, chunks, tau)
    span = (chunks - 1) * step + 1
    if span > num_frames:  # fewer frames than chunks: tau' = 1, centred, ends repeated
        first = -((span - num_frames) // 2)
        return np.clip(first + step * np.arange(chunks), 0, num_frames - 1)
    last_start = num_frames - span
    if start is None:
        start = int(rng.integers(0, last_start + 1)) if rng is not None else last_start // 2
    if not 0 <= start <= last_start:
        raise BadValueError(f"start {start} is outside 0..{last_start} for {chunks} chunks {step} apart in {num_frames} frames")
    return start + step * np.arange(chunks)


def flow_fields(frame: int, num_fields: int, fields: int = 10) -> np.ndarray:
    """The ``fields`` flow fields of the chunk at ``frame``: ``frame - fields/2 .. frame + fields/2 - 1``
    (``t-5 .. t+4`` for 10, code), clamped to ``0 .. num_fields - 1`` (a T-frame video has T - 1 fields)."""
    if num_fields < 1:
        raise BadValueError("the video has no flow fields")
    return np.clip(frame - fields // 2 + np.arange(fields), 0, num_fields - 1)


def test_frames(num_frames: int, count: int = TEST_FRAMES) -> np.ndarray:
    """``count`` frames uniformly spaced over the video, first and last included (repeats when it is shorter)."""
    if num_frames < 1 or count < 1:
        raise BadValueError(f"need num_frames and count >= 1, got {num_frames}, {count}")
    return np.rint(np.linspace(0, num_frames - 1, count)).astype(np.int64)


test_frames.__test__ = False  # a function of the package, not a pytest test


# --------------------------------------------------------------------------- the dataset


class ChunkDataset(Dataset):
    """ST-ResNet's inputs: per item ``n`` chunks of one video, each one RGB frame (``rgb``: ``3`` channels) and/or
    its stack of ``fields`` flow fields (``flow``: ``2 * fields`` channels, ``u1, v1, .., uL, vL`` as the code
    stacks them), as ``{"clip": (C, n, H, W), "label", "video_index", "clip_index"}``; with both, the RGB
    channels come first (what :class:`replicate.models.st_resnet.STResNet` splits).

    ``rgb`` and ``flow`` are :class:`~replicate.data.clips.ClipDataset` s over the same video list, used as
    frame stores (their ``frames_at``; cache their frames for speed); a video either lacks is left out.

    * ``mode="train"``: one item per video: ``chunks`` chunks ``tau`` apart (:func:`chunk_frames`), ``tau`` drawn
      from ``tau_range`` per video (the code draws one per sub-batch of 4 videos, a constraint of its batching:
      every ``tau`` gives the same shapes here), a random start, one random crop and flip shared by every chunk
      and both streams (code); the flip negates ``u``. Randomness is a function of ``(seed, epoch, index)``.
    * ``mode="test"``: :func:`test_frames` (25) frames uniformly over the video as chunks, and with
      ``test_flips`` each video once more mirrored (items ``(video, flip)``); ``test_crop`` the centre crop of
      that size, or ``None`` for the whole frame (the paper: fully convolutional on whole frames).
    """

    max_fallbacks = 5  # other videos tried after a decode failure before giving up (train mode), as ClipDataset

    def __init__(self, rgb: ClipDataset | None, flow: ClipDataset | None, mode: str = "train", *, chunks: int = 1,
                 tau_range: tuple[int, int] = (1, 1), crop: int = 224, flip: bool = True, fields: int = 10,
                 test_count: int = TEST_FRAMES, test_flips: bool = True, test_crop: int | None = None, seed: int = 0):
        from .transforms import CenterCrop, Compose, RandomCrop, RandomHorizontalFlip, ToTensorCTHW

        if rgb is None and flow is None:
            raise BadValueError("a chunk dataset needs an RGB and/or a flow source")
        if mode not in ("train", "test"):
            raise BadValueError(f"unknown mode {mode!r}; use train or test")
        self.rgb, self.flow, self.mode = rgb, flow, mode
        self.chunks, self.tau_range, self.fields, self.seed = chunks, tuple(tau_range), fields, seed
        self.test_count = test_count
        draw_tau(np.random.default_rng(0), *self.tau_range)  # a bad range fails here, not in a worker
        sources = [d for d in (rgb, flow) if d is not None]
        rows = [{sample.video_id: (i, n) for i, (sample, n) in enumerate(d.videos)} for d in sources]
        self.videos = [(sample, n) for sample, n in sources[0].videos if all(sample.video_id in r for r in rows)]
        self._rows = [[r[sample.video_id][0] for sample, _ in self.videos] for r in rows]
        broken = {sample.video_id: (sample, reason) for d in sources for sample, reason in d.broken}
        self.broken = list(broken.values())  # a video either store could not read, once
        self.video_ids = [sample.video_id for sample, _ in self.videos]
        self.labels = [-1 if sample.label is None else sample.label for sample, _ in self.videos]
        self.flips = (0, 1) if mode == "test" and test_flips else (0,)
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._failed_items = torch.zeros(len(self), dtype=torch.bool).share_memory_()  # seen by every worker
        mean_std = {"rgb": {}, "flow": dict(zip(("mean", "std"), FLOW_PIXELS))}

        def chain(kind: str, flipped: bool | None) -> Compose:
            steps = ([RandomCrop(crop)] if mode == "train" else [CenterCrop(test_crop)] if test_crop else [])
            if flipped is None:
                steps += [RandomHorizontalFlip(0.5, flow=kind == "flow")] if flip else []
            elif flipped:
                steps.append(RandomHorizontalFlip(1.0, flow=kind == "flow"))
            return Compose([*steps, ToTensorCTHW(**mean_std[kind])])

        self._transforms = {(kind, f): chain(kind, None if mode == "train" else bool(f))
                            for kind in ("rgb", "flow") for f in self.flips}

    def __len__(self) -> int:
        return len(self.videos) * len(self.flips)

    @property
    def epoch(self) -> int:
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        self._epoch[0] = epoch

    @property
    def num_failed_items(self) -> int:
        """Items whose frames failed to decode (train: replaced by another video's; test: None)."""
        return int(self._failed_items.sum())

    def chunk_frames_of(self, index: int, video: int | None = None) -> tuple[int, int, np.ndarray]:
        """``(video, flip, frame of each chunk)`` of item ``index`` (train: of this epoch; ``video``: another
        video's chunks in its place, after a decode failure)."""
        own, flip = divmod(index, len(self.flips))
        video = own if video is None else video
        num_frames = self.videos[video][1]
        if self.mode == "test":
            return video, flip, test_frames(num_frames, self.test_count)
        rng = np.random.default_rng([self.seed, self.epoch, index, 1])
        return video, flip, chunk_frames(num_frames, self.chunks, draw_tau(rng, *self.tau_range), rng=rng)

    def __getitem__(self, index: int) -> dict | None:
        from .video import VideoReadError

        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        # as ClipDataset: a test item that fails is dropped (collate_skip_none); a training item becomes another
        # video's (drawn from the item's generator: still deterministic), up to max_fallbacks times
        video = None
        fallback = np.random.default_rng([self.seed, self.epoch, index, 3])
        for _ in range(self.max_fallbacks + 1 if self.mode == "train" else 1):
            try:
                return self._item(index, video)
            except VideoReadError as exc:
                self._failed_items[index] = True
                log.warning("%s; %s", exc, "skipping this test item" if self.mode == "test" else "using another video")
                video = int(fallback.integers(0, len(self.videos)))
        if self.mode == "test":
            return None
        raise RuntimeError(f"item {index}: {self.max_fallbacks + 1} videos in a row failed to decode; the data is "
                           "probably damaged (see the warnings above)")

    def _item(self, index: int, video: int | None = None) -> dict:
        video, flip, frames = self.chunk_frames_of(index, video)
        parts = []
        for kind, source, rows in zip(("rgb", "flow"), (self.rgb, self.flow), self._source_rows()):
            if source is None:
                continue
            # the same generator state for both streams: the same crop and flip (code)
            same = np.random.default_rng([self.seed, self.epoch, index, 2])
            if kind == "rgb":
                parts.append(self._transforms["rgb", flip](source.frames_at(rows[video], frames), same))
            else:
                num_fields = max(1, self.videos[video][1] - 1)
                stack = np.concatenate([flow_fields(t, num_fields, self.fields) for t in frames])
                x = self._transforms["flow", flip](source.frames_at(rows[video], stack), same)  # (2, n*L, H, W)
                n = len(frames)
                parts.append(x.reshape(2, n, self.fields, *x.shape[2:]).permute(2, 0, 1, 3, 4)
                             .reshape(2 * self.fields, n, *x.shape[2:]))
        return {"clip": torch.cat(parts), "label": self.labels[video], "video_index": video, "clip_index": flip}

    def _source_rows(self) -> list[list[int] | None]:
        rows = iter(self._rows)
        return [next(rows) if source is not None else None for source in (self.rgb, self.flow)]
