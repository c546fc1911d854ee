"""diba2018's Spatio-Temporal Channel Correlation (STC) block in Hara et al.'s 3D ResNet / ResNeXt.

Diba et al., "Spatio-Temporal Channel Correlation Networks for Action Classification" (ECCV 2018), section 3.1.
No code for STC was ever released, and our copy of the paper lost its formulas; every choice below is read from the
text (``../shared/papers/notes/diba2018.md``, "STC block") and stated where it is made.

The block is SE-like (Squeeze-and-Excitation, the paper's [26]) with two branches over a feature map X (C x T x H x W):

- **TCB**, the temporal correlation branch: global spatio-temporal average pool (C) -> fc C -> C/r -> ReLU ->
  fc C/r -> C -> sigmoid: a gate s_tem per channel.
- **SCB**, the spatial correlation branch: global *spatial* pool that keeps time (T x C, flattened time-major:
  frame 0's C channels, then frame 1's ...) -> fc TC -> TC/r -> ReLU -> fc TC/r -> C -> sigmoid: a gate s_sp.
  (Section 3.1 names the branches the other way round in its introduction; the pooling is as section 3.1 defines
  it.) Because its first fc sees T x C numbers, the SCB's weights exist for one T only: an STC model runs at the
  clip length it was built for (``clip_len``), and a clip of another length is refused with a clear error.
- Combined by the mean: x_stc = 0.5 (s_tem + s_sp) X (each branch "rescales" X; the block averages the two).
  With one branch (Table 5's TCB-only / SCB-only rows) x_stc is that branch's output alone.

Placement (the text: "inserted after each residual block"; "this output will be added to the residual layer"):

- ``"A"`` (default): SE's placement, inside the unit: z = ReLU(shortcut(x) + x_stc(F(x))).
- ``"B"``: after each residual unit, as its own residual: z = y + x_stc(y), y the unit's output (DESIGN section 7's
  reading of "added as a residual unit").

Both have the same parameters: one STC block per residual unit (8 in ResNet-18, 16 in -50, 33 in -101 and
ResNeXt-101), r = 4. Both fcs have biases, as SE's. The block's fcs are initialised as every fc of the suite
(N(0, 0.01), zero bias), so each gate starts near sigmoid(0) = 0.5. Why A is the default: B multiplies the identity
path by 1 + gate ~ 1.5 at every unit, so a stage of n units scales its input by ~1.5^n (conv4_x of ResNet-101, 23
units: ~10^4; measured in the table1 notebook), and the STC fcs of the late units see pooled features that large.
Measured at the mini recipe (STC-ResNet-101, UCF101 stand-in, lr 0.05, 8 epochs): B diverged in its first epoch
(loss 8.5, chance 2.5) and stayed at chance; at lr 0.01 it learned slower than the plain ResNet-101 (17% vs 28%
training accuracy); A trained at lr 0.05 (22%). A network that cannot train cannot be what produced the paper's
numbers; B stays available (``placement="B"``). Read literally, the SCB's first fc is (TC)^2 / r weights: ResNet-101's
parameters go from 86.1M to 156.4M at 16 frames and 276.8M at 32 (the paper's "small overhead of STC blocks",
section 4.3, does not hold for this reading; the table1 notebook states it).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import Tensor, nn

from .registry import register
from .video_resnet import (
    HARA_DEPTHS, RESNEXT_DEPTHS, BasicBlock, Bottleneck, VideoResNet, init_weights, resnet3d, resnext3d,
)

__all__ = ["STCBlock", "STCUnit", "add_stc", "stc_frames", "stc_network", "BRANCHES", "PLACEMENTS"]

#: the branch sets of diba2018 Table 5
BRANCHES = ("tcb+scb", "tcb", "scb")
#: where the STC block sits in a residual unit (module docstring); the first is the default
PLACEMENTS = ("A", "B")


def _gate(in_features: int, out_features: int, reduction: int) -> nn.Sequential:
    """fc in -> in/r, ReLU, fc in/r -> out, sigmoid (SE's bottleneck)."""
    hidden = max(1, in_features // reduction)
    return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_features),
                         nn.Sigmoid())


class STCBlock(nn.Module):
    """x -> x_stc = mean of the branches' gates x channels of x (module docstring). ``frames`` is the T of the
    feature maps this block sees; the SCB is built for it."""

    def __init__(self, channels: int, frames: int, reduction: int = 4, branches: str = "tcb+scb") -> None:
        super().__init__()
        if branches not in BRANCHES:
            raise ValueError(f"STC branches must be one of {', '.join(BRANCHES)}, got {branches!r}")
        if reduction < 1:
            raise ValueError(f"STC reduction ratio r must be >= 1, got {reduction}")
        self.frames = frames
        self.tcb = _gate(channels, channels, reduction) if "tcb" in branches else None
        self.scb = _gate(frames * channels, channels, reduction) if "scb" in branches else None

    def forward(self, x: Tensor) -> Tensor:  # x: (N, C, T, H, W)
        gates = []
        if self.tcb is not None:
            gates.append(self.tcb(x.mean(dim=(2, 3, 4))))
        if self.scb is not None:
            if x.shape[2] != self.frames:
                raise ValueError(
                    f"this STC block's spatial branch was built for feature maps of {self.frames} frames but got "
                    f"{x.shape[2]}: an STC model only runs at the clip length it was built for; create it with the "
                    f"clip_len of these clips")
            gates.append(self.scb(x.mean(dim=(3, 4)).transpose(1, 2).flatten(1)))  # (N, T*C), time-major
        gate = gates[0] if len(gates) == 1 else (gates[0] + gates[1]) / 2
        return x * gate[:, :, None, None, None]


class STCUnit(nn.Module):
    """A residual unit of the backbone with its STC block, at placement ``"B"`` or ``"A"`` (module docstring)."""

    def __init__(self, unit: BasicBlock | Bottleneck, stc: STCBlock, placement: str = "A") -> None:
        super().__init__()
        if placement not in PLACEMENTS:
            raise ValueError(f"STC placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        self.unit, self.stc, self.placement = unit, stc, placement

    def forward(self, x: Tensor) -> Tensor:
        if self.placement == "B":
            y = self.unit(x)
            return y + self.stc(y)
        residual = x if self.unit.downsample is None else self.unit.downsample(x)
        return self.unit.relu(self.stc(self.unit.branch(x)) + residual)


def stc_frames(clip_len: int) -> tuple[int, int, int, int]:
    """T of the feature maps of conv2_x .. conv5_x of a Hara 3D ResNet for a clip of ``clip_len`` frames: the max
    pool (kernel 3, stride 2, padding 1) and the stride-2 3x3x3 convs of conv3_1 .. conv5_1 each map T to
    floor((T - 1) / 2) + 1 (16 frames: 8, 4, 2, 1; 32: 16, 8, 4, 2)."""
    if clip_len < 1:
        raise ValueError(f"clip_len must be >= 1, got {clip_len}")
    frames, t = [], clip_len
    for _ in range(4):
        t = (t - 1) // 2 + 1
        frames.append(t)
    return tuple(frames)  # type: ignore[return-value]


def add_stc(model: VideoResNet, clip_len: int, reduction: int = 4, branches: str = "tcb+scb",
            placement: str = "A") -> VideoResNet:
    """Wrap every residual unit of ``model`` (conv2_x .. conv5_x) in an :class:`STCUnit`; the new fcs are
    initialised as the suite's (:func:`~replicate.models.video_resnet.init_weights`)."""
    for stage, frames in zip((model.layer1, model.layer2, model.layer3, model.layer4), stc_frames(clip_len)):
        for i, unit in enumerate(stage):
            channels = (unit.conv3 if isinstance(unit, Bottleneck) else unit.conv2)[0].out_channels
            stc = STCBlock(channels, frames, reduction, branches)
            init_weights(stc)
            stage[i] = STCUnit(unit, stc, placement)
    return model


def stc_network(backbone: Callable[..., VideoResNet], depth: int, num_classes: int = 400, width: float = 1.0,
                in_channels: int = 3, clip_len: int = 32, zero_init_residual: bool = False, reduction: int = 4,
                branches: str = "tcb+scb", placement: str = "A") -> VideoResNet:
    """STC-ResNet / STC-ResNeXt (diba2018): ``backbone`` (:func:`~replicate.models.video_resnet.resnet3d` or
    :func:`~replicate.models.video_resnet.resnext3d`) with an STC block in every residual unit, built for clips of
    ``clip_len`` frames."""
    model = backbone(depth, num_classes, width, in_channels, clip_len, zero_init_residual)
    return add_stc(model, clip_len, reduction, branches, placement)


for _depth in HARA_DEPTHS:
    register(partial(stc_network, resnet3d, _depth), name=f"stc_resnet3d_{_depth}")
for _depth in RESNEXT_DEPTHS:
    register(partial(stc_network, resnext3d, _depth), name=f"stc_resnext3d_{_depth}")
del _depth
