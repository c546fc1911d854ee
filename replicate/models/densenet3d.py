"""DenseNet3D and T3D (diba2017, Table 1): 3D DenseNet-BC, and the Temporal Transition Layer (TTL).

One class, :class:`DenseNet3D`; T3D is the same network with every transition (a 1x1x1 conv halving the
channels, then a 2x2x2 average pool) replaced by a TTL: K = 3 parallel BN-ReLU-Conv branches of different
temporal depth, concatenated, then the same pool. Variants are parameters: depth (block sizes), and
``transition="dense" | "ttl"`` with ``ttl_widths="inception" | "plain"``.

Geometry (Table 1, 32 x 224 x 224 in): stem 7x7x3 conv stride 2 -> 16 x 112^2; max pool 3x3x3 with stride 1
in time and 2 in space -> 16 x 56^2 (Table 1's output sizes; the official code's pool also strides in time:
the inventory's problem 2); blocks of [1x1x1 to 4 x growth; 3x3x3 to growth] BN-ReLU-Conv layers, growth 32;
each transition halves the channels and the three sizes; after block 4 (2 x 7^2) BN-ReLU, global average pool, fc.

TTL widths, an open choice (the paper says only that "c_1, c_2 and c_K have different channel-depths" and that
T3D has "1.3 times more model parameters than DenseNet3D"):

* ``inception`` (default): the 1x1x1 branch is BN-ReLU-Conv c -> floor(c/6); each deeper branch is
  BN-ReLU-1x1x1 (c -> c/4), then BN-ReLU-3x3xd; outputs floor(c/6), floor(c/6) and the rest of c/2, so every
  later layer is as wide as DenseNet3D's. T3D-121 / DenseNet3D-121 = 1.34 (the paper: 1.3).
* ``plain``: three BN-ReLU-Conv branches reading all c channels with the same output split (the design's first
  reading): 2.22x, far from the paper's 1.3.

Temporal depths d: 1, 3, 6 after block 1 and 1, 3, 4 after blocks 2 and 3. Even d takes asymmetric "same"
padding (d = 6: 2 frames before, 3 after; d = 4: 1 before, 2 after) so the branches stay the same length.
Width scaling as everywhere (``scale_width`` on the stem, growth and bottleneck widths).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from functools import cache

from torch import Tensor, nn

from .registry import register
from .video_resnet import scale_width

#: dense layers per block
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32)}
GROWTH = 32
BOTTLENECK = 4  # the 1x1x1 conv's width: BOTTLENECK x growth
STEM = 64
#: the TTL branches' temporal depths after blocks 1, 2 and 3 (Table 1)
TTL_DEPTHS = ((1, 3, 6), (1, 3, 4), (1, 3, 4))
TTL_WIDTHS = ("inception", "plain")


def _bn_relu_conv(cin: int, cout: int, kernel: tuple[int, int, int]) -> nn.Sequential:
    """BN-ReLU-Conv without bias; ``kernel`` is (time, height, width), padded to keep every size ("same")."""
    pad = [k // 2 for k in kernel]
    conv = nn.Conv3d(cin, cout, kernel, padding=pad if kernel[0] % 2 else (0, pad[1], pad[2]), bias=False)
    layers: list[nn.Module] = [nn.BatchNorm3d(cin), nn.ReLU(inplace=True)]
    if kernel[0] % 2 == 0:  # even temporal depth: one frame more after than before
        layers.append(nn.ConstantPad3d((0, 0, 0, 0, kernel[0] // 2 - 1, kernel[0] // 2), 0.0))
    return nn.Sequential(*layers, conv)


class DenseLayer(nn.Module):
    """BN-ReLU-Conv 1x1x1 (to ``bottleneck`` channels), BN-ReLU-Conv 3x3x3 (to ``growth``); output concatenated."""

    def __init__(self, cin: int, growth: int, bottleneck: int):
        super().__init__()
        self.reduce = _bn_relu_conv(cin, bottleneck, (1, 1, 1))
        self.conv = _bn_relu_conv(bottleneck, growth, (3, 3, 3))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.conv(self.reduce(x))], 1)


class TransitionPool(nn.Module):
    """The transitions' 2x2x2 average pool, stride 2, whose kernel shrinks to 1 along a dimension of size 1 (the
    16-px or 8-frame clips of the mini profile's Tables 3 and 5 reach one unit before the last transition); on
    every size of Table 1 it is the plain 2x2x2 pool."""

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool3d(x, [min(2, n) for n in x.shape[2:]], 2)


def transition_pool() -> nn.Module:
    return TransitionPool()


def segment_consensus(forward, x: Tensor) -> Tensor:
    """``forward`` of a clip batch ``(N, C, T, H, W)``, or of segments ``(N, S, C, T, H, W)`` averaged over the S
    segments (TSN's average consensus: T3D+TSN, diba2017 Table 10)."""
    if x.ndim == 6:
        n, s = x.shape[:2]
        return forward(x.flatten(0, 1)).view(n, s, -1).mean(1)
    return forward(x)


class Transition(nn.Module):
    """DenseNet's transition: BN-ReLU-Conv 1x1x1 (c -> ``cout``), 2x2x2 average pool."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _bn_relu_conv(cin, cout, (1, 1, 1))
        self.pool = transition_pool()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(self.conv(x))


def ttl_split(cout: int) -> tuple[int, int, int]:
    """The branches' output widths: floor(c/6), floor(c/6) and the rest of ``cout`` = c/2 (c = 2 cout)."""
    a = (2 * cout) // 6
    return a, a, cout - 2 * a


class TemporalTransition(nn.Module):
    """The TTL: parallel branches of temporal depths ``depths`` (c -> ``cout`` in all), concatenated, 2x2x2
    average pool. ``widths="inception"``: the deeper branches reduce to c/4 by a 1x1x1 conv first."""

    def __init__(self, cin: int, cout: int, depths: tuple[int, ...], widths: str = "inception"):
        super().__init__()
        if widths not in TTL_WIDTHS:
            raise ValueError(f"unknown TTL width rule {widths!r}; known: {', '.join(TTL_WIDTHS)}")
        self.depths = tuple(depths)
        branches = []
        for d, out in zip(depths, ttl_split(cout)):
            kernel = (d, 1, 1) if d == 1 else (d, 3, 3)
            if widths == "inception" and d > 1:
                mid = max(1, cin // 4)
                branches.append(nn.Sequential(_bn_relu_conv(cin, mid, (1, 1, 1)), _bn_relu_conv(mid, out, kernel)))
            else:
                branches.append(_bn_relu_conv(cin, out, kernel))
        self.branches = nn.ModuleList(branches)
        self.pool = transition_pool()

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(torch.cat([b(x) for b in self.branches], 1))


class DenseNet3D(nn.Module):
    """DenseNet3D (``transition="dense"``) or T3D (``"ttl"``). Input ``(N, C, T, H, W)``; output ``(N, classes)``.

    Args:
        blocks: dense layers per block (``BLOCKS[121]`` or ``BLOCKS[169]``).
        num_classes: classifier outputs.
        width: multiplier on the stem, growth and bottleneck widths.
        in_channels: input channels (3: RGB).
        transition: ``dense`` (1x1x1 conv + pool) or ``ttl`` (the Temporal Transition Layer + pool).
        ttl_widths: the TTL's width rule, ``inception`` (default) or ``plain`` (see the module docstring).
        dropout: before the classifier (0: none).
    """

    def __init__(self, blocks: tuple[int, ...] = BLOCKS[121], num_classes: int = 400, width: float = 1.0,
                 in_channels: int = 3, transition: str = "dense", ttl_widths: str = "inception", dropout: float = 0.0):
        super().__init__()
        if transition not in ("dense", "ttl"):
            raise ValueError(f"unknown transition {transition!r}; known: dense, ttl")
        growth, stem = scale_width(GROWTH, width), scale_width(STEM, width)
        bottleneck = scale_width(BOTTLENECK * GROWTH, width)
        self.stem = nn.Sequential(nn.Conv3d(in_channels, stem, (3, 7, 7), 2, (1, 3, 3), bias=False),
                                  nn.BatchNorm3d(stem), nn.ReLU(inplace=True),
                                  nn.MaxPool3d(3, (1, 2, 2), 1))
        c = stem
        stages: list[nn.Module] = []
        for i, n in enumerate(blocks):
            layers = []
            for _ in range(n):
                layers.append(DenseLayer(c, growth, bottleneck))
                c += growth
            stages.append(nn.Sequential(*layers))
            if i < len(blocks) - 1:
                if transition == "ttl":
                    stages.append(TemporalTransition(c, c // 2, TTL_DEPTHS[i], ttl_widths))
                else:
                    stages.append(Transition(c, c // 2))
                c //= 2
        self.features = nn.Sequential(*stages)
        self.norm = nn.BatchNorm3d(c)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(c, num_classes)
        self.num_features = c
        for m in self.modules():  # He init for the convs, BN at (1, 0), fc bias 0 (torchvision's DenseNet)
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """The pooled block-4 features ``(N, num_features)`` (what the supervision transfer's head reads)."""
        x = F.relu(self.norm(self.features(self.stem(x))))
        return F.adaptive_avg_pool3d(x, 1).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return segment_consensus(lambda clips: self.fc(self.dropout(self.forward_features(clips))), x)


# Every builder takes the suite's keywords (num_classes, width, in_channels, clip_len); clip_len is accepted
# and ignored (the network is fully convolutional in time up to its global pool).
@register
def densenet3d_121(num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
                   **kwargs) -> DenseNet3D:
    """DenseNet3D-121 (Table 1): blocks 6/12/24/16, growth 32, dense transitions."""
    return DenseNet3D(BLOCKS[121], num_classes, width, in_channels, "dense", **kwargs)


@register
def densenet3d_169(num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
                   **kwargs) -> DenseNet3D:
    """DenseNet3D-169: blocks 6/12/32/32."""
    return DenseNet3D(BLOCKS[169], num_classes, width, in_channels, "dense", **kwargs)


@register
def t3d_121(num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
            ttl_widths: str = "inception", **kwargs) -> DenseNet3D:
    """T3D-121: DenseNet3D-121 with its three transitions replaced by TTLs."""
    return DenseNet3D(BLOCKS[121], num_classes, width, in_channels, "ttl", ttl_widths, **kwargs)


@register
def t3d_169(num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
            ttl_widths: str = "inception", **kwargs) -> DenseNet3D:
    """T3D-169: DenseNet3D-169 with TTLs."""
    return DenseNet3D(BLOCKS[169], num_classes, width, in_channels, "ttl", ttl_widths, **kwargs)


@cache
def _densenet2d() -> type:
    # defined on first use: importing torchvision costs every process ~3 s of start-up (every notebook and training
    # stage imports this registry), and only the 2D teacher needs it
    import torchvision

    class DenseNet2D(torchvision.models.DenseNet):
        """torchvision's 2D DenseNet with the suite's width scaling and a ``forward_features``: the image net that
        teaches diba2017's 3D students (section 3.2: "2D DenseNet ... pre-trained on ImageNet")."""

        def forward_features(self, x: Tensor) -> Tensor:
            """Pooled final features ``(N, num_features)`` (torchvision's forward without the classifier)."""
            return F.adaptive_avg_pool2d(F.relu(self.features(x)), 1).flatten(1)

        @property
        def num_features(self) -> int:
            return self.classifier.in_features

    DenseNet2D.__module__, DenseNet2D.__qualname__ = __name__, "DenseNet2D"
    return DenseNet2D


def __getattr__(name: str):  # ``densenet3d.DenseNet2D`` as if defined here (PEP 562)
    if name == "DenseNet2D":
        return _densenet2d()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@register
def densenet121(num_classes: int = 1000, width: float = 1.0, in_channels: int = 3, clip_len: int | None = None,
                **kwargs) -> nn.Module:
    """2D DenseNet-121 (torchvision's layout and names: its ImageNet state dict loads at full width;
    7,978,856 parameters at 1000 classes). ``input_size`` (image pretraining's) is accepted and ignored."""
    if in_channels != 3:
        raise ValueError(f"densenet121 reads RGB images (in_channels 3), got {in_channels}")
    kwargs.pop("input_size", None)
    return _densenet2d()(growth_rate=scale_width(GROWTH, width), block_config=BLOCKS[121],
                      num_init_features=scale_width(STEM, width), bn_size=BOTTLENECK, num_classes=num_classes, **kwargs)
