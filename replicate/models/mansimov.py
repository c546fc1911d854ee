"""The mansimov2015 networks: the 2D image ConvNet, its 3D inflation, and the flow nets.

Mansimov, Srivastava, Salakhutdinov (2015), "Initialization Strategies of Spatio-Temporal
Convolutional Neural Networks". The 2D network is the authors' ImageNet net, an AlexNet /
network-in-network hybrid (TorontoDeepLearning/convnet, ``CLS_net_20140801232522.pbtxt``; the
inventory ``../shared/papers/notes/mansimov2015.md`` lists it layer by layer): five spatial
convs with 1x1 layers after conv2..conv5, LRN after pool1 and pool2, two fc layers.

One :class:`SpatialConvNet` builds it; the named variants differ in their head and input:

========================  ============================================  ============
name                      what                                          params (full)
========================  ============================================  ============
``mansimov_2d``           ImageNet net: fc6 4096, fc7 4096, dropout .5   104,321,000
``mansimov_2d_ft``        "Spatial ConvNet" (sec 3.5): fc7 2048,          92,040,293
                          dropout .8 in both fc layers, 101 classes
``mansimov_3d``           conv1 3x7x7, pool1 2x3x3, conv2 2x5x5 (sec 3)    92,682,917
``mansimov_flow_single``  one flow field (2 channels), as the 2D ft net    92,035,589
``mansimov_flow_stack``   10 flow fields stacked (20 channels)             92,120,261
``mansimov_flow_slow``    10 flow fields, slow fusion: conv1 4/2, conv2   93,562,949
                          2/2, conv3 2/2 in time (10 -> 4 -> 2 -> 1)
========================  ============================================  ============

The 3D nets are the 2D ones inflated (:mod:`replicate.inflate`): conv and pool layers named in
their temporal map get that temporal size, every other layer works per frame (temporal size 1),
and time reaches 1 where the 2D net's layers take over, so "every layer above conv2 is exactly
the 2D layer". ``init`` picks the inflation of a fresh net (it matters when a trained 2D net is
inflated: ``inflate.inflate_model(trained_2d, MANSIMOV_3D_TIME, init)``).

Flow nets take flow clips ``(N, 2, T, H, W)`` as every flow run is fed: the single-frame net a
1-frame clip, the stack net its 10 fields stacked into 20 channels (``stack_flow_fields``), the
slow-fusion net the clip itself. All three subtract from each displacement field its mean vector
first (``mean_flow``: [12]'s "mean flow subtraction", which section 4.3's "similar to [12]" implies).

Scaling: ``width`` multiplies every channel count (``scale_width``), and ``input_size`` (224 in
the paper) sets the spatial size, from which fc6's input is computed; an input too small for
conv5 (3x3, no padding) is refused.

``batch_norm=True`` puts a BatchNorm after every conv (before its ReLU; convs then have no bias).
It is not the paper's network (2014: no BatchNorm), and every count above is without it. The
``mini`` study uses it (``params.yaml``), because this plain 14-layer net with 0.8 dropout barely
moves in the few hundred iterations a CPU study affords: measured, pretraining on the image
stand-in for 40 epochs reached 17% training accuracy either way, but fine-tuning the 2D net on
the UCF101 stand-in from those weights stayed at chance (8%) without it and reached 29-52% with it
(30-60 epochs). The inflation identities hold with it too (BatchNorm is per frame, like the
layers above conv2).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from ..errors import BadValueError
from ..inflate import inflate_model
from .registry import register
from .video_resnet import scale_width

# (name, out channels, kernel, stride, padding, dropout after the ReLU) of every conv, in order
CONVS = (
    ("conv1", 96, 7, 2, 1, 0.0),
    ("conv2", 256, 5, 2, 1, 0.0),
    ("conv2_nin1", 256, 1, 1, 0, 0.0),
    ("conv3", 384, 3, 1, 1, 0.0),
    ("conv3_nin1", 768, 1, 1, 0, 0.0),
    ("conv4", 384, 3, 1, 1, 0.0),
    ("conv4_nin1", 768, 1, 1, 0, 0.1),
    ("conv4_nin2", 384, 1, 1, 0, 0.0),
    ("conv5", 512, 3, 1, 0, 0.0),
    ("conv5_nin1", 1024, 1, 1, 0, 0.3),
    ("conv5_nin2", 512, 1, 1, 0, 0.0),
)
#: after which conv each max pool (3/2/1) and LRN (window, as the code's "add 5e-4" per element) come
POOL_AFTER = {"conv1": "pool1", "conv2_nin1": "pool2", "conv5_nin2": "pool5"}
LRN_AFTER = {"pool1": ("norm1", 24), "pool2": ("norm2", 64)}
#: temporal sizes of the paper's 3D net (section 3): 6 frames -> 4 (conv1) -> 2 (pool1) -> 1 (conv2)
MANSIMOV_3D_TIME = {"features.conv1": 3, "features.pool1": 2, "features.conv2": 2}
MANSIMOV_3D_FRAMES = 6
#: slow fusion over 10 flow fields (Karpathy et al.): conv1 4/2, conv2 2/2, conv3 2/2 in time
SLOW_FUSION_TIME = {"features.conv1": 4, "features.conv2": 2, "features.conv3": 2}
SLOW_FUSION_STRIDE = {"features.conv1": 2, "features.conv2": 2, "features.conv3": 2, "features.pool1": 1}
FLOW_FIELDS = 10


def _out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def feature_size(input_size: int) -> int:
    """Spatial size after pool5 for a square ``input_size`` input (224 -> 6)."""
    n = input_size
    for name, _, k, s, p, _ in CONVS:
        n = _out(n, k, s, p)
        if name in POOL_AFTER:
            n = _out(n, 3, 2, 1)
    return n


class SpatialConvNet(nn.Module):
    """The 2D network: ``features`` (convs, pools, LRN) then ``classifier`` (fc6, fc7, fc8)."""

    def __init__(self, num_classes: int = 1000, width: float = 1.0, in_channels: int = 3, input_size: int = 224,
                 fc7: int = 4096, dropout: float = 0.5, batch_norm: bool = False, mean_flow: bool = False):
        super().__init__()
        self.mean_flow = mean_flow
        if input_size < 1 or feature_size(input_size) < 1:
            raise BadValueError(f"input_size {input_size} is too small for this net (conv5 needs 3x3 left; 224 in the paper, "
                                f">= {min(n for n in range(1, 225) if feature_size(n) >= 1)} works)")
        self.features = nn.Sequential()
        channels = in_channels
        for name, out, k, s, p, drop in CONVS:
            out = scale_width(out, width)
            self.features.add_module(name, nn.Conv2d(channels, out, k, s, p, bias=not batch_norm))
            if batch_norm:  # not the paper's net: a recipe for short schedules (module docstring)
                self.features.add_module(f"{name}_bn", nn.BatchNorm2d(out))
            self.features.add_module(f"{name}_relu", nn.ReLU(inplace=True))
            if drop:
                self.features.add_module(f"{name}_drop", nn.Dropout(drop))
            channels = out
            if name in POOL_AFTER:
                pool = POOL_AFTER[name]
                self.features.add_module(pool, nn.MaxPool2d(3, 2, 1))
                if pool in LRN_AFTER:
                    lrn, size = LRN_AFTER[pool]
                    # the code adds 5e-4 per element of the window: torch's alpha is that times the size
                    self.features.add_module(lrn, nn.LocalResponseNorm(size, alpha=0.0005 * size, beta=0.75, k=1.0))
        fc6 = scale_width(4096, width)
        fc7 = scale_width(fc7, width)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * feature_size(input_size) ** 2, fc6), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc6, fc7), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc7, num_classes),
        )
        self.fc = self.classifier[-1]  # the suite's classifier name (fine-tuning replaces ``fc``)

    def forward(self, x: Tensor) -> Tensor:
        if self.mean_flow:  # [12]: each displacement field minus its mean vector (camera motion, roughly)
            x = x - x.mean(dim=(-2, -1), keepdim=True)
        if x.ndim == 5 and isinstance(self.features.conv1, nn.Conv2d):
            x = self._as_image(x)
        return self.classifier(self.features(x))

    def _as_image(self, clip: Tensor) -> Tensor:
        """A clip ``(N, C, T, H, W)`` as the image this 2D net takes: its one frame (the Spatial ConvNet
        fine-tunes and tests on 1-frame clips, so that its test averages 25 frames like the 3D nets'
        25 clips), or its T flow fields stacked into channels (early fusion, ``mansimov_flow_stack``)."""
        n, c, t, h, w = clip.shape
        if t == 1:
            return clip[:, :, 0]
        if c * t == self.features.conv1.in_channels:
            return stack_flow_fields(clip)
        raise BadValueError(f"this 2D net takes images, 1-frame clips or {self.features.conv1.in_channels} stacked "
                            f"channels, got {t} frames of {c}; inflate it (mansimov_3d) for clips")

    def fc6(self, images: Tensor) -> Tensor:
        """fc6 after its ReLU, per image ``(N, C, H, W)``: the frame features of the Composite LSTM ([14])."""
        return self.classifier[:3](self.features(images))


def _fine_tuned(num_classes: int, width: float, in_channels: int, input_size: int, batch_norm: bool,
                mean_flow: bool = False) -> SpatialConvNet:
    # section 3.5: fc7 4096 -> 2048 ("otherwise the performance dropped by 6-7%"), dropout 0.8 in both fc layers.
    # The flow nets share this head (section 4.3: "similar to [12]"; an assumption: the paper gives theirs no sizes)
    return SpatialConvNet(num_classes, width, in_channels, input_size, fc7=2048, dropout=0.8, batch_norm=batch_norm,
                          mean_flow=mean_flow)


def inflated(net2d: SpatialConvNet, time: Mapping[str, int], init: str = "ia", stride: Mapping[str, int] | None = None,
             seed: int | None = None) -> nn.Module:
    """``net2d`` with the named layers given temporal extent (the rest per frame), as a clip model
    whose time collapses to 1 before the classifier."""
    return inflate_model(net2d, time, init, time_stride=stride, seed=seed)


@register
def mansimov_2d(num_classes: int = 1000, width: float = 1.0, in_channels: int = 3, clip_len: int = 1,
                input_size: int = 224, batch_norm: bool = False) -> SpatialConvNet:
    """The ImageNet network (104,321,000 parameters at 1000 classes)."""
    return SpatialConvNet(num_classes, width, in_channels, input_size, batch_norm=batch_norm)


@register
def mansimov_2d_ft(num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = 1,
                   input_size: int = 224, batch_norm: bool = False) -> SpatialConvNet:
    """The fine-tuned "Spatial ConvNet" (92,040,293 parameters at 101 classes)."""
    return _fine_tuned(num_classes, width, in_channels, input_size, batch_norm)


@register
def mansimov_3d(num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = MANSIMOV_3D_FRAMES,
                input_size: int = 224, init: str = "ia", seed: int | None = None, batch_norm: bool = False) -> nn.Module:
    """The 3D net of Table 1 on ``clip_len`` (6) frames (92,682,917 parameters at 101 classes)."""
    if clip_len != MANSIMOV_3D_FRAMES:
        raise BadValueError(f"mansimov_3d takes {MANSIMOV_3D_FRAMES}-frame clips (6 -> 4 -> 2 -> 1 in time), got {clip_len}")
    return inflated(_fine_tuned(num_classes, width, in_channels, input_size, batch_norm), MANSIMOV_3D_TIME, init, seed=seed)


@register
def mansimov_flow_single(num_classes: int = 101, width: float = 1.0, in_channels: int = 2, clip_len: int = 1,
                         input_size: int = 224, batch_norm: bool = False) -> SpatialConvNet:
    """Flow net on one flow field (x, y: 2 channels) (92,035,589 parameters)."""
    return _fine_tuned(num_classes, width, in_channels, input_size, batch_norm, mean_flow=True)


@register
def mansimov_flow_stack(num_classes: int = 101, width: float = 1.0, in_channels: int = 2, clip_len: int = FLOW_FIELDS,
                        input_size: int = 224, batch_norm: bool = False) -> SpatialConvNet:
    """Flow net on ``clip_len`` (10) stacked flow fields, early fusion: 2 x 10 input channels (92,120,261)."""
    return _fine_tuned(num_classes, width, in_channels * clip_len, input_size, batch_norm, mean_flow=True)


@register
def mansimov_flow_slow(num_classes: int = 101, width: float = 1.0, in_channels: int = 2, clip_len: int = FLOW_FIELDS,
                       input_size: int = 224, init: str = "scratch", batch_norm: bool = False) -> nn.Module:
    """Slow fusion over 10 flow fields (93,562,949 parameters). Trained from scratch (section 4.3), so by
    default (``init="scratch"``) its 3D convs get PyTorch's own random init, every time slice its own
    draw; an inflation init (``ia`` ...) would start them constant over time instead."""
    if clip_len != FLOW_FIELDS:
        raise BadValueError(f"mansimov_flow_slow takes {FLOW_FIELDS} flow fields (10 -> 4 -> 2 -> 1 in time), got {clip_len}")
    if init == "scratch":
        net = inflated(_fine_tuned(num_classes, width, in_channels, input_size, batch_norm, mean_flow=True),
                       SLOW_FUSION_TIME, "ia", SLOW_FUSION_STRIDE)
        for m in net.modules():
            if isinstance(m, nn.Conv3d):
                m.reset_parameters()
        return net
    return inflated(_fine_tuned(num_classes, width, in_channels, input_size, batch_norm, mean_flow=True), SLOW_FUSION_TIME,
                    init, SLOW_FUSION_STRIDE)


def stack_flow_fields(clip: Tensor) -> Tensor:
    """``(N, 2, T, H, W)`` flow clip -> ``(N, 2T, H, W)`` early-fusion input, channels ``x_0, y_0, x_1, y_1, ...``."""
    n, c, t, h, w = clip.shape
    return clip.permute(0, 2, 1, 3, 4).reshape(n, t * c, h, w)


def time_after(model: nn.Module, clip: Tensor) -> int:
    """Temporal size after the features (1 for every net here on its own clip length)."""
    with torch.no_grad():
        return model.features(clip).shape[2]
