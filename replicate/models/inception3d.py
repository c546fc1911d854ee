"""Inception3D (diba2017's baseline, "similar to I3D (without ImageNet)"): BN-Inception-v1 inflated to 3D.

The layout is I3D's (Carreira & Zisserman 2017), followed from ``piergiaj/pytorch-i3d`` ``pytorch_i3d.py``
(a port of deepmind ``kinetics-i3d`` ``i3d.py``); module names are its endpoint names:

    Conv3d_1a_7x7     7x7x7 conv, stride 2 in all dims, 64      MaxPool3d_2a_3x3  1x3x3, stride (1, 2, 2)
    Conv3d_2b_1x1     64                                          Conv3d_2c_3x3     3x3x3, 192
    MaxPool3d_3a_3x3  1x3x3, stride (1, 2, 2)                     Mixed_3b, Mixed_3c
    MaxPool3d_4a_3x3  3x3x3, stride 2                             Mixed_4b .. Mixed_4f
    MaxPool3d_5a_2x2  2x2x2, stride 2                             Mixed_5b, Mixed_5c (1024 channels)

then a global average pool, dropout and the logits (a 1x1x1 conv with bias; ours the equal Linear ``fc``).
Every conv is a "unit": Conv3d without bias, BatchNorm3d (eps 1e-3, as I3D), ReLU. An Inception module has four branches: 1x1x1; 1x1x1 then
3x3x3; 1x1x1 then 3x3x3; 3x3x3 max pool (stride 1) then 1x1x1 (widths in :data:`MIXED`, I3D's).

Padding. TF's "SAME" padding (I3D) is asymmetric for stride 2 (the extra row goes after); ours is symmetric,
so the values shift by one position but the output sizes are TF's, ceil(L / stride), for every L:

* convs and the 3-wide pools: padding k // 2, floor mode: floor((L + 2(k//2) - k) / s) + 1 = ceil(L / s) for
  odd k. (``ceil_mode=True`` on top of that padding would overshoot: 112 -> 57, not 56, after MaxPool3d_2a.)
* the 2x2x2 pool (MaxPool3d_5a): no padding, ``ceil_mode=True``: ceil((L - 2) / 2) + 1 = ceil(L / 2), exactly
  TF's SAME (which pads odd L by one at the end).

So 64 x 224^2 in gives 8 x 7^2 x 1024 before the pool (I3D's), 32 x 224^2 gives 4 x 7^2, and small clips
(8 x 16^2) keep >= 1 in every dim (1 x 1^2).

Head: I3D pools 2x7x7 with stride 1, applies the logits and averages them over the remaining time; we pool
globally (adaptive, any input size) before the logits. The logits are linear, so averaging before or after
them is the same, except that I3D's stride-1 window counts the first and last frames half as often.

Init: random (no ImageNet), He (``kaiming_normal_``, fan_out) on the convs, BN at (1, 0), the logits
N(0, 0.01) with zero bias (as :class:`~replicate.models.video_resnet.VideoResNet`'s fc). Width scaling as
everywhere: every channel width c becomes ``scale_width(c, width)``.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .densenet3d import segment_consensus
from .registry import register
from .video_resnet import init_weights, scale_width

#: Inception modules: (1x1; 3x3 reduce, 3x3; 3x3 reduce, 3x3; pool projection), I3D's / GoogLeNet's widths
MIXED: dict[str, tuple[int, int, int, int, int, int]] = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


class Unit3D(nn.Sequential):
    """Conv3d (no bias: BN follows) + BatchNorm3d(eps 1e-3) + ReLU, symmetric "same" padding k // 2."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1):
        super().__init__(nn.Conv3d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm3d(cout, eps=1e-3), nn.ReLU(inplace=True))


class InceptionModule(nn.Module):
    """Four parallel branches, concatenated along the channels; ``widths`` as in :data:`MIXED` (scaled)."""

    def __init__(self, cin: int, widths: tuple[int, ...]):
        super().__init__()
        b0, b1a, b1b, b2a, b2b, b3 = widths
        self.b0 = Unit3D(cin, b0)
        self.b1 = nn.Sequential(Unit3D(cin, b1a), Unit3D(b1a, b1b, 3))
        self.b2 = nn.Sequential(Unit3D(cin, b2a), Unit3D(b2a, b2b, 3))
        self.b3 = nn.Sequential(nn.MaxPool3d(3, 1, 1), Unit3D(cin, b3))
        self.out_channels = b0 + b1b + b2b + b3

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], 1)


class Inception3D(nn.Module):
    """Inception3D / I3D-style network. Input ``(B, C, T, H, W)`` -> ``(B, num_classes)``; a 6-D input
    ``(B, N, C, T, H, W)`` (N clips of one video) gives the mean of the N clips' logits.

    Args:
        num_classes: logits.
        width: multiplier on every channel width.
        in_channels: input channels (3: RGB, 2: flow).
        dropout: before the logits (I3D: 0.5; 0: none).
    """

    def __init__(self, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        s = lambda c: scale_width(c, width)  # noqa: E731
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["Conv3d_1a_7x7"] = Unit3D(in_channels, s(64), 7, 2)
        layers["MaxPool3d_2a_3x3"] = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))  # space only
        layers["Conv3d_2b_1x1"] = Unit3D(s(64), s(64))
        layers["Conv3d_2c_3x3"] = Unit3D(s(64), s(192), 3)
        # the pool before each group of Inception modules; the 2x2x2 one has an even kernel: no padding, and
        # ceil mode gives TF's SAME size (see the module docstring)
        pools = {"Mixed_3b": ("MaxPool3d_3a_3x3", nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))),  # space only
                 "Mixed_4b": ("MaxPool3d_4a_3x3", nn.MaxPool3d(3, 2, 1)),
                 "Mixed_5b": ("MaxPool3d_5a_2x2", nn.MaxPool3d(2, 2, 0, ceil_mode=True))}
        c = s(192)
        for name, widths in MIXED.items():
            if name in pools:
                layers[pools[name][0]] = pools[name][1]
            layers[name] = InceptionModule(c, tuple(s(w) for w in widths))
            c = layers[name].out_channels
        self.features = nn.Sequential(layers)
        self.num_features = c
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        # I3D's 1x1x1 logits conv, on features pooled to 1x1x1: a Linear, named fc as every classifier of the suite
        # (a fine-tune to another class count starts it afresh)
        self.fc = nn.Linear(c, num_classes)
        init_weights(self)  # as the suite's other 3D nets (a small classifier)

    def forward_features(self, x: Tensor) -> Tensor:
        """The globally pooled Mixed_5c features ``(B, num_features)``."""
        return F.adaptive_avg_pool3d(self.features(x), 1).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        # the pooled features are 1x1x1, so the time average of I3D's logits is already taken
        return segment_consensus(lambda clips: self.fc(self.dropout(self.forward_features(clips))), x)


@register
def inception3d(num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int | None = None,
                **kwargs) -> Inception3D:
    """Inception3D (diba2017's I3D-like baseline, trained from scratch). ``clip_len`` is accepted and ignored:
    the network is fully convolutional up to its global pool."""
    return Inception3D(num_classes, width, in_channels, **kwargs)
