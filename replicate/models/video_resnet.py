"""The tran2018 family of video ResNets: R2D, f-R2D, R3D, MCx, rMCx and R(2+1)D.

Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action Recognition" (CVPR 2018),
section 3 and Table 1; the details the text leaves open are taken from the official code,
VMZ (``facebookresearch/VMZ``, ``lib/models/r3d_model.py`` and ``lib/models/video_model.py``);
see DESIGN section 7.

One :class:`VideoResNet` builds every variant, in the style of torchvision's
``models/video/resnet.py``: a variant is a stem plus one *conv builder* per residual stage
(conv2_x .. conv5_x), chosen among

- :class:`Conv3DSimple`: 3x3x3, strides in time and space ("3D");
- :class:`Conv3DNoTemporal`: 1x3x3, strides in space only ("2D");
- :class:`Conv2Plus1D`: 1x3x3 (N_{i-1} -> M_i) + BN + ReLU + 3x1x1 (M_i -> N_i) ("(2+1)D").

Downsampling is at conv3_1, conv4_1 and conv5_1 (Table 1). Only 3D and (2+1)D convs stride
in time there (section 4.1: "we apply temporal striding only for temporal or spatiotemporal
convolutions"); a 2D conv at those positions strides (1, 2, 2), and the block's 1x1x1
projection shortcut strides like the block's first conv (VMZ ``add_simple_block``).

Module names equal torchvision's (``stem``, ``layer1``..``layer4``, ``conv1``/``conv2``/
``downsample`` in each block, ``fc``), so torchvision's ``r3d_18``, ``mc3_18`` and (with
``torchvision_compat=True``) ``r2plus1d_18`` state dicts load with ``load_state_dict``
unchanged: no key mapping is needed. BN keeps PyTorch's defaults (eps 1e-5, momentum 0.1)
as torchvision does, so those weights give torchvision's outputs; VMZ's caffe2 BN used eps
1e-3 (momentum 0.9 in caffe2's convention is PyTorch's 0.1), a difference that only matters
when importing VMZ's own caffe2 weights.

Width scaling (the ``mini`` profile): every channel count c -- the stage widths 64/128/256/512,
the 45 spatial filters of the R(2+1)D stem -- becomes :func:`scale_width` (c, width), i.e.
``max(1, floor(c * width + 0.5))`` (nearest integer, halves rounded up, at least 1); the
(2+1)D intermediate widths M_i are then computed from the scaled N's by the paper's formula.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Union

import torch
from torch import Tensor, nn

from .registry import register

__all__ = [
    "VideoResNet",
    "BasicBlock",
    "BasicStem",
    "ClipStem",
    "R2Plus1dStem",
    "Bottleneck",
    "ResNeXtBottleneck",
    "ZeroPadShortcut",
    "HaraStem",
    "resnet3d",
    "resnext3d",
    "Conv3DSimple",
    "Conv3DNoTemporal",
    "Conv2Plus1D",
    "scale_width",
    "init_weights",
    "r2plus1d_midplanes",
    "layer_output_shapes",
    "PAPER_LAYER_NAMES",
    "r2d",
    "fr2d",
    "r3d",
    "mc",
    "rmc",
    "r2plus1d",
]

#: Blocks per stage (conv2_x .. conv5_x), Table 1 (VMZ ``BLOCK_CONFIG``).
DEPTHS: dict[int, tuple[int, int, int, int]] = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
#: Filters per stage at width 1.0 (Table 1).
STAGE_WIDTHS: tuple[int, int, int, int] = (64, 128, 256, 512)
#: Spatial filters of the R(2+1)D stem (paper appendix, VMZ ``conv1_middle``); not the
#: formula's 83 (= floor(3*49*3*64 / (49*3 + 3*64))).
R2PLUS1D_STEM_MIDPLANES = 45
#: Our module names -> the layer names of the paper's Table 1.
PAPER_LAYER_NAMES: dict[str, str] = {
    "stem": "conv1",
    "layer1": "conv2_x",
    "layer2": "conv3_x",
    "layer3": "conv4_x",
    "layer4": "conv5_x",
    "avgpool": "pool",
}


def init_weights(model: nn.Module, init_conv: Callable[[nn.Conv3d], None] | None = None) -> None:
    """The suite's 3D-net initialisation, in module order: convs He normal with fan_out (caffe2's MSRAFill, which
    VMZ uses; detectron2's c2_msra_fill is the same call) or ``init_conv(conv)``, BN the identity, fc layers
    N(0, 0.01) as torchvision."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d) and init_conv is not None:
            init_conv(m)
        elif isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def scale_width(channels: int, width: float) -> int:
    """``channels * width`` rounded to the nearest integer (halves up), at least 1.

    Halves are rounded up explicitly because Python's ``round`` rounds them to even, which
    would make the width of a layer depend on the parity of an unrelated integer.
    """
    if width <= 0:
        raise ValueError(f"width must be > 0, got {width}")
    return max(1, math.floor(channels * width + 0.5))


def r2plus1d_midplanes(in_planes: int, out_planes: int, t: int = 3, d: int = 3) -> int:
    """M_i = floor(t d^2 N_{i-1} N_i / (d^2 N_{i-1} + t N_i)) (tran2018 section 3.5).

    The (2+1)D block then has about as many parameters as the t x d x d conv it replaces.
    VMZ (``add_conv``, ``is_decomposed``) evaluates it for every conv from that conv's own
    in/out widths; integer floor division is exact where VMZ's ``int(float)`` could round.
    """
    return (t * d * d * in_planes * out_planes) // (d * d * in_planes + t * out_planes)


class Conv3DSimple(nn.Conv3d):
    """Full 3D conv, 3x3x3 (R3D, section 3.3: t = 3, d = 3); strides (s, s, s)."""

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1, midplanes: int | None = None) -> None:
        # midplanes is accepted (and ignored) so all conv builders share one signature
        super().__init__(in_planes, out_planes, kernel_size=(3, 3, 3), stride=stride, padding=1, bias=False)

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


class Conv3DNoTemporal(nn.Conv3d):
    """2D conv applied frame by frame, 1x3x3; strides in space only (section 4.1, VMZ
    ``is_real_3d=False`` uses striding [1, 2, 2])."""

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1, midplanes: int | None = None) -> None:
        super().__init__(
            in_planes, out_planes, kernel_size=(1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False
        )

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return 1, stride, stride


class Conv2Plus1D(nn.Sequential):
    """(2+1)D conv (section 3.5): M 1x3x3 filters, BN, ReLU, then N 3x1x1 filters.

    The stride is split: spatial stride on the 1x3x3 conv, temporal stride on the 3x1x1 conv
    ("the striding is correspondingly decomposed"). The BN + ReLU between the two convs is
    VMZ's ``_middle`` spatial BN and ReLU. ``midplanes=None`` uses the paper's M_i for this
    conv (:func:`r2plus1d_midplanes`); an explicit value is only used for torchvision
    compatibility (see :class:`BasicBlock`).
    """

    def __init__(self, in_planes: int, out_planes: int, stride: int = 1, midplanes: int | None = None) -> None:
        mid = r2plus1d_midplanes(in_planes, out_planes) if midplanes is None else midplanes
        super().__init__(
            nn.Conv3d(in_planes, mid, kernel_size=(1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False),
            nn.BatchNorm3d(mid),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid, out_planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False),
        )

    @staticmethod
    def downsample_stride(stride: int) -> tuple[int, int, int]:
        return stride, stride, stride


ConvBuilder = type[Union[Conv3DSimple, Conv3DNoTemporal, Conv2Plus1D]]


class BasicBlock(nn.Module):
    """ResNet "vanilla" block (section 3, eq. 1): conv-BN-ReLU, conv-BN, add, ReLU.

    ``torchvision_midplanes=True`` reproduces torchvision's (2+1)D widths: torchvision
    computes M once per block from (inplanes, planes) and reuses it for the block's second
    conv (pytorch/vision#1265), where the paper and VMZ compute it from (planes, planes).
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        conv_builder: ConvBuilder,
        stride: int = 1,
        downsample: nn.Module | None = None,
        torchvision_midplanes: bool = False,
    ) -> None:
        super().__init__()
        mid = r2plus1d_midplanes(inplanes, planes) if torchvision_midplanes else None
        self.conv1 = nn.Sequential(
            conv_builder(inplanes, planes, stride, mid), nn.BatchNorm3d(planes), nn.ReLU(inplace=True)
        )
        self.conv2 = nn.Sequential(conv_builder(planes, planes, 1, mid), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    expansion = 1  # output channels / planes

    def branch(self, x: Tensor) -> Tensor:
        """The residual branch F(x), before the addition (where SE-style blocks gate it)."""
        return self.conv2(self.conv1(x))

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.branch(x) + residual)


class Bottleneck(nn.Module):
    """The bottleneck block of ResNet-50 and deeper, as Hara et al.'s 3D ResNets build it (diba2017's ResNet3D):
    1x1x1 conv-BN-ReLU to ``planes``, ``conv_builder`` (3x3x3, carrying the stride)-BN-ReLU, 1x1x1 conv-BN to
    4 x ``planes``, add, ReLU."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, conv_builder: ConvBuilder, stride: int = 1,
                 downsample: nn.Module | None = None, torchvision_midplanes: bool = False) -> None:
        super().__init__()
        mid = r2plus1d_midplanes(planes, planes) if torchvision_midplanes else None
        self.conv1 = nn.Sequential(nn.Conv3d(inplanes, planes, 1, bias=False), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(conv_builder(planes, planes, stride, mid), nn.BatchNorm3d(planes),
                                   nn.ReLU(inplace=True))
        self.conv3 = nn.Sequential(nn.Conv3d(planes, planes * 4, 1, bias=False), nn.BatchNorm3d(planes * 4))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def branch(self, x: Tensor) -> Tensor:
        """The residual branch F(x), before the addition (where SE-style blocks gate it)."""
        return self.conv3(self.conv2(self.conv1(x)))

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.branch(x) + residual)


class ResNeXtBottleneck(Bottleneck):
    """Hara et al.'s 3D ResNeXt block (``models/resnext.py``, diba2018's 3D-ResNeXt-101): 1x1x1 conv-BN-ReLU to
    ``cardinality * (planes // 32)`` channels, a 3x3x3 conv in ``cardinality`` groups (carrying the stride)-BN-ReLU,
    1x1x1 conv-BN to 2 x ``planes``, add, ReLU. Stage ``planes`` are 128 / 256 / 512 / 1024, so the stages end at
    256 .. 2048 channels as ResNet-50's do."""

    expansion = 2
    cardinality = 32

    def __init__(self, inplanes: int, planes: int, conv_builder: ConvBuilder, stride: int = 1,
                 downsample: nn.Module | None = None, torchvision_midplanes: bool = False) -> None:
        nn.Module.__init__(self)
        # Hara: mid_planes = cardinality * int(planes / 32); at a width below 1/4 that would be 0 channels
        mid = self.cardinality * (planes // 32)
        if mid == 0:
            raise ValueError(f"a ResNeXt stage of {planes} planes has no channel per group (cardinality "
                             f"{self.cardinality} needs >= 32 planes); use width >= {32 / 128:g}")
        self.conv1 = nn.Sequential(nn.Conv3d(inplanes, mid, 1, bias=False), nn.BatchNorm3d(mid), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(
            nn.Conv3d(mid, mid, 3, stride=conv_builder.downsample_stride(stride), padding=1, groups=self.cardinality,
                      bias=False),
            nn.BatchNorm3d(mid), nn.ReLU(inplace=True))
        self.conv3 = nn.Sequential(nn.Conv3d(mid, planes * 2, 1, bias=False), nn.BatchNorm3d(planes * 2))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample


class ZeroPadShortcut(nn.Module):
    """Hara et al.'s shortcut type A (``downsample_basic_block``, their ResNet-18 and -34): the input subsampled by
    the stride, its missing channels zeros. It has no parameters."""

    def __init__(self, out_channels: int, stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.out_channels, self.stride = out_channels, stride

    def forward(self, x: Tensor) -> Tensor:
        x = x[:, :, :: self.stride[0], :: self.stride[1], :: self.stride[2]]  # avg_pool3d with kernel 1, as Hara
        pad = x.new_zeros(x.shape[0], self.out_channels - x.shape[1], *x.shape[2:])
        return torch.cat([x, pad], dim=1)


class BasicStem(nn.Sequential):
    """conv1 (Table 1): ``temporal_kernel`` x 7 x 7 filters, stride 1x2x2, then BN, ReLU.

    R3D and MCx use 3x7x7 (temporal padding 1); f-R2D and rMCx use 1x7x7 (VMZ
    ``create_r2df`` / ``create_rmcx``). No max pool: Table 1 goes from conv1 (8x56x56)
    straight to conv2_x at the same size.
    """

    def __init__(self, in_channels: int, out_channels: int, temporal_kernel: int = 3, temporal_padding: int = 1) -> None:
        super().__init__(
            nn.Conv3d(
                in_channels,
                out_channels,
                kernel_size=(temporal_kernel, 7, 7),
                stride=(1, 2, 2),
                padding=(temporal_padding, 3, 3),
                bias=False,
            ),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )


class ClipStem(BasicStem):
    """R2D's conv1 (section 3.1, VMZ ``create_r2d``): an L x 7 x 7 kernel without temporal
    padding folds the whole clip of L frames into channels, so its output has T = 1.

    A clip of another length would silently become a sliding-window model, so a length
    other than ``clip_len`` is refused.
    """

    def __init__(self, in_channels: int, out_channels: int, clip_len: int) -> None:
        if clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {clip_len}")
        super().__init__(in_channels, out_channels, temporal_kernel=clip_len, temporal_padding=0)
        self.clip_len = clip_len

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[2] != self.clip_len:
            raise ValueError(
                f"R2D was built for clips of {self.clip_len} frames but got {x.shape[2]}; "
                f"create it with clip_len={x.shape[2]}"
            )
        return super().forward(x)


class R2Plus1dStem(nn.Sequential):
    """R(2+1)D conv1 (paper appendix, VMZ ``create_r3d`` with ``is_decomposed``): ``mid``
    (45 at full width) 1x7x7 filters stride 1x2x2, BN, ReLU, then ``out`` 3x1x1 filters, BN,
    ReLU."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv3d(in_channels, mid_channels, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(mid_channels),
            nn.ReLU(inplace=True),
            nn.Conv3d(mid_channels, out_channels, kernel_size=(3, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
        )


class HaraStem(nn.Sequential):
    """Hara et al.'s 3D ResNet conv1 (kenshohara/3D-ResNets-PyTorch ``models/resnet.py``): 7x7x7 filters, stride
    1x2x2, padding 3, BN, ReLU, then a 3x3x3 max pool with stride 2 (every dimension), padding 1."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv3d(in_channels, out_channels, kernel_size=7, stride=(1, 2, 2), padding=3, bias=False),
            nn.BatchNorm3d(out_channels),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=3, stride=2, padding=1),
        )


class VideoResNet(nn.Module):
    """A video ResNet: stem (conv1), four stages of :class:`BasicBlock`, global
    spatiotemporal average pool, fc (Table 1, section 4.1).

    Args:
        stem: conv1; its output must have ``widths[0]`` channels.
        conv_builders: one conv builder per stage conv2_x .. conv5_x.
        layers: blocks per stage (``DEPTHS``).
        widths: filters per stage (already scaled).
        num_classes: fc outputs.
        torchvision_midplanes: torchvision's per-block (2+1)D widths, see :class:`BasicBlock`.
        block: the residual unit (:class:`BasicBlock`, :class:`Bottleneck`, :class:`ResNeXtBottleneck`).
        shortcut: where a unit changes width or stride, ``"B"`` a 1x1x1 projection + BN (VMZ; Hara's type B) or
            ``"A"`` the subsampled input padded with zero channels (:class:`ZeroPadShortcut`, Hara's type A).
        stem_width: the stem's output channels where they differ from ``widths[0]`` (ResNeXt: 64 vs 128).
        zero_init_residual: start the last BN of every residual branch at 0, so each block begins
            as the identity (Goyal et al. 2017; torchvision's ResNet option). Not the paper's
            initialisation: a training-recipe choice for short schedules (the ``mini`` profile:
            R3D-18 reached 70% video@1 in 24 epochs with it, 58% without).

    The pool is global over whatever the last conv leaves (``AdaptiveAvgPool3d(1)``): VMZ
    pools with a fixed kernel equal to the last tensor's size at its reference clip length,
    which is the same thing there and keeps working at any clip length here. There is no
    dropout (neither the paper nor VMZ has one).
    """

    def __init__(
        self,
        stem: nn.Module,
        conv_builders: Sequence[ConvBuilder],
        layers: Sequence[int],
        widths: Sequence[int],
        num_classes: int = 400,
        torchvision_midplanes: bool = False,
        zero_init_residual: bool = False,
        block: type[BasicBlock] | type[Bottleneck] = BasicBlock,
        shortcut: str = "B",
        stem_width: int | None = None,
    ) -> None:
        super().__init__()
        self._block = block
        if not (len(conv_builders) == len(layers) == len(widths) == 4):
            raise ValueError("VideoResNet needs 4 stages: one conv builder, block count and width for each")
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut must be 'A' (zero padding) or 'B' (1x1x1 projection), got {shortcut!r}")
        self._shortcut = shortcut
        self.stem = stem
        self._inplanes = widths[0] if stem_width is None else stem_width
        # conv2_x keeps the stem's resolution; conv3_1, conv4_1, conv5_1 downsample (Table 1)
        self.layer1 = self._make_layer(conv_builders[0], widths[0], layers[0], 1, torchvision_midplanes)
        self.layer2 = self._make_layer(conv_builders[1], widths[1], layers[1], 2, torchvision_midplanes)
        self.layer3 = self._make_layer(conv_builders[2], widths[2], layers[2], 2, torchvision_midplanes)
        self.layer4 = self._make_layer(conv_builders[3], widths[3], layers[3], 2, torchvision_midplanes)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _make_layer(
        self, conv_builder: ConvBuilder, planes: int, blocks: int, stride: int, torchvision_midplanes: bool
    ) -> nn.Sequential:
        downsample = None
        block, out = self._block, planes * self._block.expansion
        # VMZ add_simple_block: a 1x1x1 projection (+BN) when the width changes or the block
        # downsamples, with the stride of the block's first conv (Hara's shortcut type B likewise)
        if (stride != 1 or self._inplanes != out) and self._shortcut == "A":
            downsample = ZeroPadShortcut(out, conv_builder.downsample_stride(stride))
        elif stride != 1 or self._inplanes != out:
            downsample = nn.Sequential(
                nn.Conv3d(
                    self._inplanes, out, kernel_size=1, stride=conv_builder.downsample_stride(stride), bias=False
                ),
                nn.BatchNorm3d(out),
            )
        layers = [block(self._inplanes, planes, conv_builder, stride, downsample, torchvision_midplanes)]
        self._inplanes = out
        layers += [
            block(out, planes, conv_builder, torchvision_midplanes=torchvision_midplanes)
            for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def _init_weights(self, zero_init_residual: bool) -> None:
        init_weights(self)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.conv2[1].weight)
                elif isinstance(m, Bottleneck):
                    nn.init.zeros_(m.conv3[1].weight)

    def forward(self, x: Tensor) -> Tensor:  # x: (N, C, T, H, W)
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def layer_output_shapes(model: VideoResNet, input_shape: Sequence[int],
                        modules: dict[str, nn.Module] | None = None) -> dict[str, tuple[int, ...]]:
    """Output shape (C, T, H, W) of conv1, conv2_x .. conv5_x and the pool (paper names, Table
    1) for one clip of shape ``input_shape`` = (C, T, H, W), measured with forward hooks;
    ``modules`` (name -> submodule of ``model``) measures other places instead.

    Runs one batch-1 forward pass in eval mode without gradients (so BN running statistics
    are untouched) and restores the model's training flag. The input is built on the device
    of the model's parameters, so a model built on the ``meta`` device gives the shapes
    without computing anything.
    """
    if len(input_shape) != 4:
        raise ValueError(f"input_shape must be (C, T, H, W) of one clip, got {tuple(input_shape)}")
    shapes: dict[str, tuple[int, ...]] = {}
    if modules is None:
        modules = {name: getattr(model, attr) for attr, name in PAPER_LAYER_NAMES.items()}
    handles = [
        module.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:])))
        for name, module in modules.items()
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return shapes


# --- builders -------------------------------------------------------------------------------
# Stage g (2..5) is conv{g}_x = layer{g-1}. Every builder takes the suite's common keywords.


def _video_resnet(
    depth: int, stem: nn.Module, conv_builders: Sequence[ConvBuilder], num_classes: int, width: float, **kwargs: bool
) -> VideoResNet:
    """``kwargs``: :class:`VideoResNet`'s options (``torchvision_midplanes``, ``zero_init_residual``)."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {depth}")
    widths = [scale_width(c, width) for c in STAGE_WIDTHS]
    return VideoResNet(stem, conv_builders, DEPTHS[depth], widths, num_classes, **kwargs)


def r2d(depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 8,
        zero_init_residual: bool = False) -> VideoResNet:
    """R2D (section 3.1): conv1 is L x 7 x 7 over the whole clip (T becomes 1), then all 2D."""
    stem = ClipStem(in_channels, scale_width(STAGE_WIDTHS[0], width), clip_len)
    return _video_resnet(depth, stem, [Conv3DNoTemporal] * 4, num_classes, width, zero_init_residual=zero_init_residual)


def fr2d(depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 8,
        zero_init_residual: bool = False) -> VideoResNet:
    """f-R2D (section 3.2): 1x7x7 conv1 and 2D convs on every frame; no temporal striding,
    so the last conv keeps all L frames and the final pool averages over them."""
    stem = BasicStem(in_channels, scale_width(STAGE_WIDTHS[0], width), temporal_kernel=1, temporal_padding=0)
    return _video_resnet(depth, stem, [Conv3DNoTemporal] * 4, num_classes, width, zero_init_residual=zero_init_residual)


def r3d(depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 8,
        zero_init_residual: bool = False) -> VideoResNet:
    """R3D (section 3.3, Table 1): 3x7x7 conv1, all convs 3x3x3, temporal stride 2 at
    conv3_1, conv4_1, conv5_1."""
    stem = BasicStem(in_channels, scale_width(STAGE_WIDTHS[0], width))
    return _video_resnet(depth, stem, [Conv3DSimple] * 4, num_classes, width, zero_init_residual=zero_init_residual)


def mc(
    level: int, depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 8,
    zero_init_residual: bool = False,
) -> VideoResNet:
    """MCx (section 3.4, VMZ ``create_mcx``): 3D convs in conv1 and the groups below
    ``level``, 2D convs from group ``level`` up."""
    if not 2 <= level <= 5:
        raise ValueError(f"MCx level must be 2..5, got {level}")
    stem = BasicStem(in_channels, scale_width(STAGE_WIDTHS[0], width))
    builders = [Conv3DSimple if g < level else Conv3DNoTemporal for g in range(2, 6)]
    return _video_resnet(depth, stem, builders, num_classes, width, zero_init_residual=zero_init_residual)


def rmc(
    level: int, depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 8,
    zero_init_residual: bool = False,
) -> VideoResNet:
    """rMCx (section 3.4, VMZ ``create_rmcx``): 2D convs below ``level`` (conv1 is 1x7x7),
    3D convs from group ``level`` up."""
    if not 2 <= level <= 5:
        raise ValueError(f"rMCx level must be 2..5, got {level}")
    stem = BasicStem(in_channels, scale_width(STAGE_WIDTHS[0], width), temporal_kernel=1, temporal_padding=0)
    builders = [Conv3DNoTemporal if g < level else Conv3DSimple for g in range(2, 6)]
    return _video_resnet(depth, stem, builders, num_classes, width, zero_init_residual=zero_init_residual)


def r2plus1d(
    depth: int,
    num_classes: int = 400,
    width: float = 1.0,
    in_channels: int = 3,
    clip_len: int = 8,
    torchvision_compat: bool = False,
    zero_init_residual: bool = False,
) -> VideoResNet:
    """R(2+1)D (section 3.5): every 3x3x3 conv of R3D becomes a (2+1)D conv with the paper's
    M_i per conv (VMZ); conv1 is 45 1x7x7 then 64 3x1x1 filters (appendix).

    ``torchvision_compat=True`` uses torchvision's per-block M instead (31.5M parameters at
    depth 18 instead of the paper's 33.3M; pytorch/vision#1265), so that torchvision's
    ``r2plus1d_18`` state dict loads. It is a compatibility mode, not the paper's model.
    """
    stem = R2Plus1dStem(
        in_channels, scale_width(R2PLUS1D_STEM_MIDPLANES, width), scale_width(STAGE_WIDTHS[0], width)
    )
    return _video_resnet(
        depth, stem, [Conv2Plus1D] * 4, num_classes, width, torchvision_midplanes=torchvision_compat,
        zero_init_residual=zero_init_residual,
    )


#: Hara et al.'s 3D ResNets (blocks per stage, block, shortcut): diba2017's ResNet3D baseline ("ResNet3D-50" in its
#: Table 4) and diba2018's backbones. Hara's released ResNet-18 / -34 use shortcut A, the deeper ones B (their README)
HARA_DEPTHS: dict[int, tuple[tuple[int, int, int, int], type[BasicBlock] | type[Bottleneck], str]] = {
    18: ((2, 2, 2, 2), BasicBlock, "A"), 34: ((3, 4, 6, 3), BasicBlock, "A"), 50: ((3, 4, 6, 3), Bottleneck, "B"),
    101: ((3, 4, 23, 3), Bottleneck, "B")}
#: Hara et al.'s 3D ResNeXts: blocks per stage (ResNeXt-101: diba2018's 3D-ResNeXt-101)
RESNEXT_DEPTHS: dict[int, tuple[int, int, int, int]] = {101: (3, 4, 23, 3)}
#: ResNeXt stage planes at width 1.0 (Hara's ``models/resnext.py``: 128, 256, 512, 1024; outputs twice that)
RESNEXT_WIDTHS: tuple[int, int, int, int] = (128, 256, 512, 1024)


def resnet3d(depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
             zero_init_residual: bool = False) -> VideoResNet:
    """Hara et al.'s 3D ResNet (diba2017's ResNet3D, diba2018's 3D-ResNet): :class:`HaraStem` (7x7x7 conv, max
    pool), 3x3x3 convs everywhere, spatiotemporal stride 2 at conv3_1, conv4_1, conv5_1; basic blocks with
    zero-padding shortcuts (type A) at depths 18 and 34, bottleneck blocks with projection shortcuts (type B) from
    depth 50. Initialisation as :class:`VideoResNet` (Hara's code leaves the fc at PyTorch's default: a difference
    in the starting point only)."""
    if depth not in HARA_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(HARA_DEPTHS)}, got {depth}")
    layers, block, shortcut = HARA_DEPTHS[depth]
    widths = [scale_width(c, width) for c in STAGE_WIDTHS]
    return VideoResNet(HaraStem(in_channels, widths[0]), [Conv3DSimple] * 4, layers, widths, num_classes,
                       zero_init_residual=zero_init_residual, block=block, shortcut=shortcut)


def resnext3d(depth: int, num_classes: int = 400, width: float = 1.0, in_channels: int = 3, clip_len: int = 32,
              zero_init_residual: bool = False) -> VideoResNet:
    """Hara et al.'s 3D ResNeXt (diba2018's 3D-ResNeXt-101): :func:`resnet3d`'s stem and strides with
    :class:`ResNeXtBottleneck` units (cardinality 32) and projection shortcuts (type B, as Hara's ResNeXt-101)."""
    if depth not in RESNEXT_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(RESNEXT_DEPTHS)}, got {depth}")
    stem_width = scale_width(STAGE_WIDTHS[0], width)
    widths = [scale_width(c, width) for c in RESNEXT_WIDTHS]
    return VideoResNet(HaraStem(in_channels, stem_width), [Conv3DSimple] * 4, RESNEXT_DEPTHS[depth], widths,
                       num_classes, zero_init_residual=zero_init_residual, block=ResNeXtBottleneck,
                       stem_width=stem_width)


for _depth in HARA_DEPTHS:
    register(partial(resnet3d, _depth), name=f"resnet3d_{_depth}")
for _depth in RESNEXT_DEPTHS:
    register(partial(resnext3d, _depth), name=f"resnext3d_{_depth}")
for _depth in DEPTHS:
    register(partial(r2d, _depth), name=f"r2d_{_depth}")
    register(partial(fr2d, _depth), name=f"fr2d_{_depth}")
    register(partial(r3d, _depth), name=f"r3d_{_depth}")
    for _level in range(2, 6):
        register(partial(mc, _level, _depth), name=f"mc{_level}_{_depth}")
        register(partial(rmc, _level, _depth), name=f"rmc{_level}_{_depth}")
    register(partial(r2plus1d, _depth), name=f"r2plus1d_{_depth}")
del _depth, _level
