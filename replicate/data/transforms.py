"""Clip transforms: uint8 ``(T, H, W, C)`` frames in, normalised float ``(C, T, H, W)`` out.

Every transform is a callable ``t(clip, rng=None)``. ``clip`` is a numpy array or torch tensor
laid out ``(T, H, W, C)``; spatial transforms return a uint8 torch tensor in the same layout
(possibly a strided view, so cropping costs nothing) and :class:`ToTensorCTHW` ends the chain
with the float ``(C, T, H, W)`` tensor the 3D ConvNets take. Geometry is decided once per clip
and applied to every frame, so a random crop or flip never breaks the motion between frames.

Randomness comes only from the ``rng`` argument (a ``numpy.random.Generator`` or a
``torch.Generator``). :class:`replicate.data.clips.ClipDataset` seeds one from
``(seed, epoch, index)`` per item, which makes every clip reproducible for exact training
resume. Calling a random transform without ``rng`` uses a fresh unseeded generator: fine
for a notebook, not reproducible.

The channel count is never assumed: optical-flow clips have 2 channels ``(x, y)``, and
:class:`RandomHorizontalFlip` with ``flow=True`` negates the x component as a mirror must.

Protocols (``train_transform`` / ``test_transform``):

* tran2018 (R(2+1)D): frames scaled to 128x171, random 112x112 crop and horizontal flip for
  training, centre 112x112 crop for testing: ``train_transform(112, short_side=(128, 171))``.
* scale jitter (ST-ResNet/T3D style): random short side in ``[S_min, S_max]`` before the crop:
  ``train_transform(112, scale_jitter=(128, 160))``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np
import torch

Rng = Union[np.random.Generator, torch.Generator]
Clip = Union[np.ndarray, torch.Tensor]
Size = Union[int, tuple[int, int]]

# Kinetics-400 RGB statistics used by VMZ / torchvision's video_classification reference
# (the R(2+1)D training recipe); values for frames scaled to [0, 1].
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def randint(rng: Rng | None, low: int, high: int) -> int:
    """A uniform integer in ``[low, high)`` from either kind of generator (``None``: unseeded)."""
    if high <= low:
        raise ValueError(f"empty range [{low}, {high})")
    if rng is None:
        rng = np.random.default_rng()
    if isinstance(rng, torch.Generator):
        return int(torch.randint(low, high, (1,), generator=rng).item())
    return int(rng.integers(low, high))


def _uniform(rng: Rng | None) -> float:
    """A uniform float in ``[0, 1)`` from either kind of generator (``None``: unseeded)."""
    if rng is None:
        rng = np.random.default_rng()
    if isinstance(rng, torch.Generator):
        return float(torch.rand(1, generator=rng).item())
    return float(rng.random())


def _as_tensor(clip: Clip) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(clip)) if isinstance(clip, np.ndarray) else clip
    if tensor.ndim != 4:
        raise ValueError(f"expected a clip laid out (T, H, W, C), got shape {tuple(tensor.shape)}")
    return tensor


def _pair(size: Size) -> tuple[int, int]:
    height, width = (size, size) if isinstance(size, int) else size
    if height < 1 or width < 1:
        raise ValueError(f"sizes must be positive, got {size}")
    return int(height), int(width)


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """``(h, w)`` that scales the shorter side to ``short_side`` and keeps the aspect ratio.

    Shared with the decode-time resize of ``ClipDataset`` so decoding at a size and resizing
    after decoding give the same geometry.
    """
    if height <= width:
        return short_side, max(1, round(width * short_side / height))
    return max(1, round(height * short_side / width)), short_side


def _resize(clip: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(clip.shape[1:3]) == size:  # already there (e.g. resized while decoding): no copy
        return clip
    # imported here: torchvision.transforms.v2 costs ~1.5 s of start-up (it pulls in torch._dynamo),
    # and runs that decode at their size (decode_size) never resize afterwards
    import torchvision.transforms.v2.functional as TF

    # torchvision resizes (..., C, H, W); antialias matches what PIL/ffmpeg downscaling does
    resized = TF.resize(clip.permute(0, 3, 1, 2), list(size), antialias=True)
    return resized.permute(0, 2, 3, 1)


class Resize:
    """Resize every frame to exactly ``(h, w)`` (tran2018: 128x171 before cropping 112x112)."""

    def __init__(self, size: Size):
        self.size = _pair(size)

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        return _resize(_as_tensor(clip), self.size)

    def __repr__(self) -> str:
        return f"Resize({self.size})"


class ResizeShortSide:
    """Scale every frame so its shorter side is ``size``, keeping the aspect ratio."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError(f"short side must be positive, got {size}")
        self.size = size

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        return _resize(clip, short_side_size(clip.shape[1], clip.shape[2], self.size))

    def __repr__(self) -> str:
        return f"ResizeShortSide({self.size})"


class ScaleJitter:
    """Scale the short side to a random integer in ``[min_short, max_short]`` (both included).

    Multi-scale training augmentation: the following fixed-size crop then covers a random
    fraction of the frame.
    """

    def __init__(self, min_short: int, max_short: int):
        if not 1 <= min_short <= max_short:
            raise ValueError(f"need 1 <= min_short <= max_short, got {min_short}, {max_short}")
        self.min_short, self.max_short = min_short, max_short

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        short = randint(rng, self.min_short, self.max_short + 1)
        return _resize(clip, short_side_size(clip.shape[1], clip.shape[2], short))

    def __repr__(self) -> str:
        return f"ScaleJitter({self.min_short}, {self.max_short})"


def _check_fits(clip: torch.Tensor, size: tuple[int, int], name: str) -> None:
    height, width = clip.shape[1:3]
    if height < size[0] or width < size[1]:
        raise ValueError(
            f"{name} of {size[0]}x{size[1]} does not fit frames of {height}x{width}; "
            "resize first (short_side / scale_jitter / decode_size)"
        )


class RandomCrop:
    """The same random ``(h, w)`` window for all frames of the clip (training crop)."""

    def __init__(self, size: Size):
        self.size = _pair(size)

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        _check_fits(clip, self.size, "RandomCrop")
        top = randint(rng, 0, clip.shape[1] - self.size[0] + 1)
        left = randint(rng, 0, clip.shape[2] - self.size[1] + 1)
        return clip[:, top : top + self.size[0], left : left + self.size[1]]

    def __repr__(self) -> str:
        return f"RandomCrop({self.size})"


class CenterCrop:
    """The central ``(h, w)`` window of every frame (the single-crop test protocol)."""

    def __init__(self, size: Size):
        self.size = _pair(size)

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        _check_fits(clip, self.size, "CenterCrop")
        top = (clip.shape[1] - self.size[0]) // 2
        left = (clip.shape[2] - self.size[1]) // 2
        return clip[:, top : top + self.size[0], left : left + self.size[1]]

    def __repr__(self) -> str:
        return f"CenterCrop({self.size})"


class RandomHorizontalFlip:
    """Mirror the whole clip left-right with probability ``p``.

    ``flow=True`` is for optical-flow clips, channel 0 holding the horizontal component:
    mirroring the image reverses horizontal motion, so that channel is negated too. Float
    flow is negated (``-x``); uint8 flow is assumed quantised linearly and symmetrically
    around 127.5 (the two-stream/TSN convention, ``replicate.data.flow.quantize_flow``), where
    ``255 - x`` is exact negation. For that quantisation (+-20 px), ``ToTensorCTHW(0.5, 0.025)``
    then yields the flow in pixels.
    """

    def __init__(self, p: float = 0.5, flow: bool = False):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"flip probability must be in [0, 1], got {p}")
        self.p, self.flow = p, flow

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        # always draw, so later transforms see the same random stream whatever p is
        if _uniform(rng) >= self.p:
            return clip
        flipped = clip.flip(2)
        if self.flow:
            x = flipped[..., 0]
            flipped[..., 0] = 255 - x if flipped.dtype == torch.uint8 else -x
        return flipped

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p}, flow={self.flow})"


class ToTensorCTHW:
    """``(T, H, W, C)`` -> float32 ``(C, T, H, W)``; uint8 is scaled to [0, 1], then
    ``(x - mean) / std`` per channel. ``mean``/``std`` are scalars or one value per channel
    (3 for RGB, 2 for flow). Floating-point input is taken as already in [0, 1].
    """

    def __init__(self, mean: float | Sequence[float] = KINETICS_MEAN, std: float | Sequence[float] = KINETICS_STD):
        self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        self.std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if (self.std <= 0).any():
            raise ValueError(f"std must be positive, got {std}")

    def __call__(self, clip: Clip, rng: Rng | None = None) -> torch.Tensor:
        clip = _as_tensor(clip)
        channels = clip.shape[3]
        for name, stat in (("mean", self.mean), ("std", self.std)):
            if stat.numel() not in (1, channels):
                raise ValueError(f"{name} has {stat.numel()} values but the clip has {channels} channels")
        scale = 1.0 / (self.std * (255.0 if clip.dtype == torch.uint8 else 1.0))
        # copy=True: float input must not be normalised in place behind the caller's back
        out = clip.permute(3, 0, 1, 2).to(torch.float32, memory_format=torch.contiguous_format, copy=True)
        # one fused pass: x * (1 / (255 std)) - mean / std == (x / 255 - mean) / std
        out.mul_(scale.view(-1, 1, 1, 1)).sub_((self.mean / self.std).view(-1, 1, 1, 1))
        return out

    def __repr__(self) -> str:
        return f"ToTensorCTHW(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Compose:
    """Apply ``transforms`` in order, passing the same ``rng`` to each."""

    def __init__(self, transforms: Sequence[Callable[[Clip, Rng | None], Clip]]):
        self.transforms = list(transforms)

    def __call__(self, clip: Clip, rng: Rng | None = None) -> Clip:
        for transform in self.transforms:
            clip = transform(clip, rng)
        return clip

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(map(repr, self.transforms)) + "])"


def _resize_step(short_side: Size | None) -> list[Callable]:
    if short_side is None:
        return []
    return [ResizeShortSide(short_side) if isinstance(short_side, int) else Resize(short_side)]


def train_transform(
    crop: Size,
    short_side: Size | None = None,
    scale_jitter: tuple[int, int] | None = None,
    flip: bool = True,
    mean: float | Sequence[float] = KINETICS_MEAN,
    std: float | Sequence[float] = KINETICS_STD,
    flow: bool = False,
) -> Compose:
    """Training chain: [resize or scale jitter] -> random crop -> [flip] -> normalise.

    ``short_side`` is an int (scale the shorter side) or ``(h, w)`` (tran2018: ``(128, 171)``);
    leave it ``None`` when ``ClipDataset(decode_size=...)`` already resized while decoding.
    ``scale_jitter=(S_min, S_max)`` replaces the fixed resize with a random short side.
    ``flow=True`` makes the flip negate the flow x channel (pass 2-channel mean/std as well).
    """
    if short_side is not None and scale_jitter is not None:
        raise ValueError("give short_side or scale_jitter, not both: scale jitter is the resize")
    steps = [ScaleJitter(*scale_jitter)] if scale_jitter is not None else _resize_step(short_side)
    steps.append(RandomCrop(crop))
    if flip:
        steps.append(RandomHorizontalFlip(0.5, flow=flow))
    steps.append(ToTensorCTHW(mean, std))
    return Compose(steps)


def test_transform(
    crop: Size,
    short_side: Size | None = None,
    mean: float | Sequence[float] = KINETICS_MEAN,
    std: float | Sequence[float] = KINETICS_STD,
) -> Compose:
    """Test chain (deterministic): [resize] -> centre crop -> normalise (tran2018's test crop)."""
    return Compose([*_resize_step(short_side), CenterCrop(crop), ToTensorCTHW(mean, std)])


test_transform.__test__ = False  # a builder, not a pytest test, even when imported into a test module
