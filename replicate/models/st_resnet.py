"""The feichtenhofer2016 networks: ResNet-50 streams and the Spatiotemporal ResNet (ST-ResNet).

Feichtenhofer, Pinz, Wildes, "Spatiotemporal Residual Networks for Video Action Recognition" (NIPS
2016). What the text leaves open is taken from the official MatConvNet code (feichtenhofer/st-resnet;
the inventory ``../shared/papers/notes/feichtenhofer2016.md`` lists every fact, marked "(code)").

One :class:`ResNet` builds every stream, in the style of torchvision's ``models/resnet.py`` (its
module names, so torchvision's ImageNet state dict loads after :func:`from_2d_state`): a variant is
a choice of

- ``stride_in_1x1``: where the bottleneck at conv3_1 / conv4_1 / conv5_1 strides. ``True`` is the
  MSRA ("v1") ResNet-50 the paper used, whose receptive fields are Table 1's 7/11/35/99/291/483/675;
  ``False`` is torchvision's "v1.5" (stride in the 3x3), 35/91/267/427/619 (:func:`spatial_receptive_fields`).
  torchvision's ImageNet weights, the only ResNet-50 weights a ``paper`` user can load offline, are v1.5:
  a v1 net loads them (same tensors) but computes something else than they were trained for.
- ``temporal``: the 16 temporal convs of section 3.2 (8 per stream): the first and last 1x1 conv of the
  second bottleneck of every stage (res2b..res5b, "branch2a" and "branch2c") become 1x1x3, temporal
  stride 1, zero temporal padding 1 (code), initialised as the 2D filter over 3 (eq. 5, the inflation
  ``average`` of :mod:`replicate.inflate`).
- ``temporal_pool``: ST-ResNet*'s max pool over time, window 5, stride 2, no padding. The code puts it
  after res5c's ReLU, before the spatial average pool; the paper's Table 1 lists it after pool5. The
  two orders do not commute (max then mean is not mean then max): we follow the code.
- ``in_channels``: 3 for the appearance stream (one RGB frame per chunk); 2 x ``flow_fields`` for the
  motion stream (10 stacked flow fields, 20 channels ``u1, v1, .., u10, v10``).

A stream takes clips ``(N, C, T, H, W)`` whose T positions are *chunks* (one frame, or one stack of 10
flow fields, each ``tau`` frames apart) and computes per position: every conv is 1 x k x k except the
temporal ones, so with ``temporal=False`` a stream is a 2D ResNet-50 applied to every chunk. An image
batch ``(N, C, H, W)`` is one chunk. :meth:`ResNet.position_logits` gives the classifier's output at
every remaining temporal position ``(N, K, T')``, the positions the paper's losses are summed over;
``forward`` averages them (the test protocol averages the fc outputs, not softmaxes).

:class:`STResNet` couples an appearance and a motion stream by the 4 motion -> appearance residual
connections "before the second residual unit at each spatial resolution" (eq. 2; Figure 1). The code
adds the *pre-ReLU* sum of the appearance res{k}a block and the *post-ReLU* output of the motion
res{k}a block, and feeds that only into the residual branch of the appearance res{k}b block; the
identity path of res{k}b stays ``relu(appearance res{k}a)`` and the ReLU after the res{k}b sum is
kept. No parameters are added; the appearance loss reaches the motion stream through them, the motion
loss never reaches the appearance stream. Its input is the two streams' channels concatenated,
appearance first: ``(N, 3 + 2 * flow_fields, T, H, W)``; :meth:`STResNet.stream_logits` gives both
streams' position logits (each stream has its own loss), ``forward`` their average (the paper fuses
streams by averaging non-softmaxed scores).

Flow enters conv1 in the code's units: bytes minus 128 (``6.375 u - 0.5`` for ``u`` pixels), the scale the
MSRA/MatConvNet ImageNet filters of its motion conv1 were trained for (0..255 inputs minus a mean).
torchvision's ImageNet weights expect inputs about 58x smaller (``(x / 255 - mean) / std``): after their conv1
an eval-mode BatchNorm with ImageNet statistics would see far larger values than it was trained on; in
training mode the BatchNorm after the bias-free conv1 normalises the scale away. A ``paper`` user starting from
torchvision's weights fine-tunes in training mode, as the paper does, so the scale is kept (stated, not tuned).

``sub_batch`` turns every BatchNorm into :class:`SubBatchNorm3d`: statistics over groups of that many
samples (Table 2's "BN batch": 8 appearance, 86 motion, 4 for ST-ResNet), as the code's micro-batches
with accumulated gradients compute them. Width scaling as everywhere: ``scale_width`` on 64/128/256/512.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import torch
from torch import Tensor, nn

from ..errors import BadValueError
from ..inflate import alphas, inflate_state_dict
from .registry import register
from .video_resnet import init_weights, scale_width

#: bottlenecks per stage (conv2_x .. conv5_x) and their widths at width 1.0 (outputs are 4x)
LAYERS: tuple[int, int, int, int] = (3, 4, 6, 3)
STAGE_WIDTHS: tuple[int, int, int, int] = (64, 128, 256, 512)
EXPANSION = 4
STAGES = ("layer1", "layer2", "layer3", "layer4")
#: our stage names -> the paper's Table 1 rows
PAPER_LAYER_NAMES: dict[str, str] = {"layer1": "conv2_x", "layer2": "conv3_x", "layer3": "conv4_x", "layer4": "conv5_x"}
#: the block of every stage whose 1x1 convs become temporal, and into whose residual branch motion feeds: "b"
SECOND_BLOCK = 1
TEMPORAL_SIZE = 3  # eq. 5: T' = 3
TEMPORAL_POOL = (5, 2)  # ST-ResNet*: window, stride
FLOW_FIELDS = 10  # L: stacked optical-flow fields per motion chunk
#: the code feeds flow as bytes minus 128, byte = 255 (u + 20) / 40 for u in pixels clipped to +-20
FLOW_BYTES_PER_PIXEL = 255.0 / 40.0
FLOW_BYTE_OFFSET = 255.0 * 20.0 / 40.0 - 128.0  # -0.5
#: dropout before the motion stream's classifier (code); none in the appearance stream (section 3.3:
#: dropout "after the classifier" hurt it)
MOTION_DROPOUT = 0.8


def _init_conv(conv: nn.Conv3d) -> None:
    """He normal with fan_out; a temporal conv starts as a 2D draw spread over time (eq. 5), as from 2D weights."""
    if conv.kernel_size[0] == 1:
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        return
    flat = torch.empty(conv.weight.shape[:2] + conv.weight.shape[3:])
    nn.init.kaiming_normal_(flat, mode="fan_out", nonlinearity="relu")
    with torch.no_grad():
        conv.weight.copy_(_spread_over_time(flat, conv.weight.shape[2]))


class SubBatchNorm3d(nn.BatchNorm3d):
    """BatchNorm whose training statistics are taken over ``ceil(n / sub_batch)`` near-equal groups of the
    ``n`` samples (256 at sub-batch 86: 86 + 85 + 85, as the code's ``numSubBatches``), each group normalised
    by its own mean and variance and each updating the running statistics in turn: what running those groups
    as separate micro-batches does (ghost batch norm). A batch under ``2 * sub_batch`` is one group, and no
    group has a single sample (7 at sub-batch 2: 3 + 2 + 2). In eval
    mode, or with ``sub_batch=None``, it is a plain ``BatchNorm3d`` (same state dict)."""

    def __init__(self, num_features: int, sub_batch: int | None = None, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        if sub_batch is not None and sub_batch < 1:
            raise BadValueError(f"sub_batch must be >= 1 samples, got {sub_batch}")
        self.sub_batch = sub_batch

    def forward(self, x: Tensor) -> Tensor:
        n, g = x.shape[0], self.sub_batch
        if not self.training or g is None or n < 2 * g:
            return super().forward(x)
        groups = min(-(-n // g), n // 2)  # never a group of one sample (its variance is 0)
        sizes = [n // groups + (i < n % groups) for i in range(groups)]
        return torch.cat([super(SubBatchNorm3d, self).forward(part) for part in x.split(sizes)])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, sub_batch={self.sub_batch}"


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, time: int = 1) -> nn.Conv3d:
    """A ``time`` x k x k conv (no bias, as every ResNet conv), zero padding that keeps sizes at stride 1."""
    return nn.Conv3d(cin, cout, (time, kernel, kernel), (1, stride, stride), (time // 2, kernel // 2, kernel // 2),
                     bias=False)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 (x4 channels) residual unit. ``stride_in_1x1`` puts a downsampling stride in the
    first 1x1 (v1) instead of the 3x3 (v1.5); ``temporal`` makes both 1x1 convs 1x1x3 (section 3.2)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 stride_in_1x1: bool = True, temporal: bool = False, norm=nn.BatchNorm3d) -> None:
        super().__init__()
        time = TEMPORAL_SIZE if temporal else 1
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = _conv(inplanes, planes, 1, s1, time)
        self.bn1 = norm(planes)
        self.conv2 = _conv(planes, planes, 3, s3)
        self.bn2 = norm(planes)
        self.conv3 = _conv(planes, planes * EXPANSION, 1, 1, time)
        self.bn3 = norm(planes * EXPANSION)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))

    def pre_relu(self, x: Tensor, branch_input: Tensor | None = None) -> Tensor:
        """The sum before the unit's last ReLU; ``branch_input`` (ST-ResNet) replaces ``x`` in the
        residual branch only, the identity path keeps ``x``."""
        identity = x if self.downsample is None else self.downsample(x)
        # a new tensor, never modified in place: ST-ResNet reuses this sum for the next unit's branch input
        return self.residual(x if branch_input is None else branch_input) + identity

    def forward(self, x: Tensor, branch_input: Tensor | None = None) -> Tensor:
        return torch.relu(self.pre_relu(x, branch_input))


class ResNet(nn.Module):
    """A ResNet-50 stream over chunks: conv1 7x7/2, max pool 3x3/2, four stages of :class:`Bottleneck`,
    optional temporal max pool, spatial average pool, fc per temporal position.

    Args:
        num_classes: fc outputs.
        width: multiplier on every channel count.
        in_channels: input channels (3 RGB; 20 for 10 stacked flow fields).
        stride_in_1x1: v1 (``True``, the paper's) or v1.5 (``False``, torchvision's) geometry.
        temporal: the 8 temporal 1x1x3 convs of this stream (res2b..res5b).
        temporal_pool: ST-ResNet*'s temporal max pool (window 5, stride 2) after conv5_x.
        dropout: before the fc (motion: 0.8, code).
        sub_batch: BN statistics over groups of this many samples (:class:`SubBatchNorm3d`).
        flow_input: the input is flow in pixels, fed to conv1 in the code's byte units (x 255/40 - 0.5).
        zero_init_residual: start the last BN of every unit at 0, so each unit begins as its identity path
            (Goyal et al. 2017; torchvision's option). Not MSRA's init: a recipe for short schedules.
    """

    def __init__(self, num_classes: int = 1000, width: float = 1.0, in_channels: int = 3, stride_in_1x1: bool = True,
                 temporal: bool = False, temporal_pool: bool = False, dropout: float = 0.0,
                 sub_batch: int | None = None, flow_input: bool = False, zero_init_residual: bool = False) -> None:
        super().__init__()
        norm = partial(SubBatchNorm3d, sub_batch=sub_batch)
        widths = [scale_width(c, width) for c in STAGE_WIDTHS]
        self.flow_input = flow_input
        self.conv1 = nn.Conv3d(in_channels, widths[0], (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False)
        self.bn1 = norm(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self._inplanes = widths[0]
        for name, planes, blocks, stride in zip(STAGES, widths, LAYERS, (1, 2, 2, 2)):
            self.add_module(name, self._make_layer(planes, blocks, stride, stride_in_1x1, temporal, norm))
        self.pool5 = nn.MaxPool3d((TEMPORAL_POOL[0], 1, 1), (TEMPORAL_POOL[1], 1, 1)) if temporal_pool else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool3d((None, 1, 1))  # spatial only: the classifier scores every position
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc = nn.Linear(widths[3] * EXPANSION, num_classes)
        self._init_weights()
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    nn.init.zeros_(m.bn3.weight)

    def _make_layer(self, planes: int, blocks: int, stride: int, stride_in_1x1: bool, temporal: bool, norm) -> nn.Sequential:
        downsample = None
        if stride != 1 or self._inplanes != planes * EXPANSION:
            downsample = nn.Sequential(_conv(self._inplanes, planes * EXPANSION, 1, stride), norm(planes * EXPANSION))
        layers = [Bottleneck(self._inplanes, planes, stride, downsample, stride_in_1x1, norm=norm)]
        self._inplanes = planes * EXPANSION
        layers += [Bottleneck(self._inplanes, planes, stride_in_1x1=stride_in_1x1, temporal=temporal and i == SECOND_BLOCK,
                              norm=norm) for i in range(1, blocks)]
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        # convs: He normal, fan_out (MSRA's init, torchvision's); BN: identity; fc: 0.01 * randn, zero bias (code)
        init_weights(self, init_conv=_init_conv)

    def fit_image_state(self, state: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """An image-pretrained ResNet-50 state fitted to this stream (:func:`from_2d_state`): what
        ``replicate.runs`` loads for ``init_from: image:<name>``."""
        return from_2d_state(state, self)

    def stem(self, x: Tensor) -> Tensor:
        """conv1 and pool1, on ``(N, C, T, H, W)``."""
        if self.flow_input:
            x = x * FLOW_BYTES_PER_PIXEL + FLOW_BYTE_OFFSET
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def head(self, x: Tensor) -> Tensor:
        """conv5_x output -> classifier scores at every remaining temporal position ``(N, K, T')``."""
        x = self.avgpool(self.pool5(x)).flatten(3).squeeze(3)  # (N, C, T')
        return self.fc(self.dropout(x.transpose(1, 2))).transpose(1, 2)

    def position_logits(self, x: Tensor) -> Tensor:
        """Classifier scores ``(N, K, T')`` at every temporal position of clips ``(N, C, T, H, W)``, or of
        images ``(N, C, H, W)`` (one chunk). A motion stream also takes a plain flow clip ``(N, 2, L, H, W)`` of
        its L fields (what a flow run's loader gives) as one chunk of ``2L`` stacked channels."""
        if x.ndim == 4:
            x = x.unsqueeze(2)
        elif self.flow_input and x.shape[1] == 2 and 2 * x.shape[2] == self.conv1.in_channels:
            x = x.transpose(1, 2).reshape(x.shape[0], -1, 1, *x.shape[3:])  # u1, v1, .., uL, vL (code)
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.head(x)

    def forward_features(self, x: Tensor) -> Tensor:
        """Pooled conv5_x features ``(N, num_features)`` of images ``(N, C, H, W)`` (or clips, averaged over their
        temporal positions): what a supervision transfer's head reads from a 2D teacher (diba2018 section 3.2)."""
        x = self.stem(x.unsqueeze(2) if x.ndim == 4 else x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(self.pool5(x)).flatten(2).mean(2)

    @property
    def num_features(self) -> int:
        return self.fc.in_features

    def forward(self, x: Tensor, positions: bool = False) -> Tensor:
        """Scores ``(N, K)``: the classifier's output averaged over temporal positions; ``positions=True``
        gives them per position, ``(N, K, T')`` (what :meth:`training_loss` takes)."""
        logits = self.position_logits(x)
        return logits if positions else logits.mean(2)

    @staticmethod
    def training_loss(position_scores: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """The paper's loss of ``forward(x, positions=True)`` (:func:`position_loss`) and the scores
        ``(N, K)`` accuracy is counted on; ``replicate.train`` uses it instead of a clip's cross-entropy."""
        return position_loss(position_scores, labels), position_scores.mean(2)


class STResNet(nn.Module):
    """Two :class:`ResNet` streams with motion -> appearance residual connections into the residual
    branch of the second unit of the stages in ``connections`` (all four in the paper)."""

    def __init__(self, appearance: ResNet, motion: ResNet, connections: Sequence[str] = STAGES) -> None:
        super().__init__()
        unknown = [c for c in connections if c not in STAGES]
        if unknown:
            raise BadValueError(f"connections name stages {', '.join(STAGES)}; got {', '.join(unknown)}")
        self.appearance = appearance
        self.motion = motion
        self.connections = tuple(connections)
        self.appearance_channels = appearance.conv1.in_channels

    def streams(self, rgb: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
        """Position logits ``(N, K, T')`` of the appearance and the motion stream."""
        a, m = self.appearance.stem(rgb), self.motion.stem(flow)
        for name in STAGES:
            stage_a, stage_m = getattr(self.appearance, name), getattr(self.motion, name)
            a_sum = stage_a[0].pre_relu(a)
            m = stage_m[0](m)
            a = torch.relu(a_sum)
            for i in range(1, len(stage_a)):
                cross = i == SECOND_BLOCK and name in self.connections
                a = stage_a[i](a, branch_input=a_sum + m if cross else None)
                m = stage_m[i](m)
        return self.appearance.head(a), self.motion.head(m)

    def stream_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`streams` of the concatenated input ``(N, 3 + 2L, T, H, W)`` (appearance channels first; a 4D
        ``(N, 3 + 2L, H, W)`` input is one chunk)."""
        if x.ndim == 4:
            x = x.unsqueeze(2)
        return self.streams(x[:, : self.appearance_channels], x[:, self.appearance_channels:])

    def forward(self, x: Tensor, positions: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """The two streams' scores averaged (``(N, K)``); ``positions=True``: each stream's position
        scores, ``(appearance, motion)``, for :meth:`training_loss`."""
        a, m = self.stream_logits(x)
        return (a, m) if positions else (a.mean(2) + m.mean(2)) / 2

    @staticmethod
    def training_loss(position_scores: tuple[Tensor, Tensor], labels: Tensor) -> tuple[Tensor, Tensor]:
        """Each stream its own :func:`position_loss`, weight 1 (a joint softmax "overfits severely to appearance
        information", section 3.4), summed; accuracy on the averaged scores."""
        a, m = position_scores
        return position_loss(a, labels) + position_loss(m, labels), (a.mean(2) + m.mean(2)) / 2

    def load_streams(self, appearance: Mapping[str, Tensor], motion: Mapping[str, Tensor]) -> None:
        """Stage 2's initialisation from the two trained streams' states (:func:`st_from_streams`): what
        ``replicate.runs`` does for ``init_from: [<appearance run>, <motion run>]``."""
        st_from_streams(self, appearance, motion)


def position_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """The paper's loss for one stream: softmax loss at every temporal position ``(N, K, T')``, summed over
    positions, averaged over videos (code)."""
    per_position = nn.functional.cross_entropy(logits.float(), labels[:, None].expand(-1, logits.shape[2]), reduction="none")
    return per_position.sum(1).mean()


# --- weights -----------------------------------------------------------------------------------


def _spread_over_time(weight2d: Tensor, time: int) -> Tensor:
    """``(O, I, k, k)`` -> ``(O, I, time, k, k)``: each slice the filter over ``time`` (eq. 5, ``average``)."""
    a = alphas("average", time).to(weight2d.dtype)
    return a.view(1, 1, time, 1, 1) * weight2d.unsqueeze(2)


def from_2d_state(state: Mapping[str, Tensor], model: ResNet, *, skip_fc: bool = True) -> dict[str, Tensor]:
    """A ResNet-50 state (ours, or torchvision's with 4D conv weights) fitted to ``model``: 1 x k x k
    convs take the 2D filters; the temporal convs the filters over 3 (eq. 5, through
    :func:`replicate.inflate.inflate_state_dict`); a motion conv1 the mean of the RGB filters, replicated
    over its ``2L`` channels (code); the fc is left out (``skip_fc``: a new task) unless it fits.
    Load the result with ``load_state_dict(..., strict=False)``; every other tensor must be present."""
    target = model.state_dict()
    flat = {k: (v[:, :, 0] if v.ndim == 5 and v.shape[2] == 1 else v) for k, v in state.items()
            if not (skip_fc and k.startswith("fc."))}
    conv1 = flat.get("conv1.weight")
    want = target["conv1.weight"]
    if conv1 is not None and conv1.shape[1] == 3 and want.shape[1] != 3:
        flat["conv1.weight"] = conv1.mean(1, keepdim=True).expand(-1, want.shape[1], -1, -1).contiguous()
    # a 1 x k x k target is a 2D filter "inflated" over one slice (alpha = 1): the filter itself
    fitted, _ = inflate_state_dict(flat, target, "average")
    left = [k for k in target if k not in fitted and not k.startswith("fc.") and not k.endswith("num_batches_tracked")]
    if left:
        raise BadValueError(f"the ResNet-50 state does not fit this stream: {len(left)} tensors missing or of another "
                            f"shape, e.g. {', '.join(left[:3])} (is it a ResNet-50 at this width?)")
    return fitted


def load_2d(model: ResNet, state: Mapping[str, Tensor], *, skip_fc: bool = True) -> ResNet:
    """``model`` with the ResNet-50 ``state`` loaded by :func:`from_2d_state`."""
    model.load_state_dict(from_2d_state(state, model, skip_fc=skip_fc), strict=False)
    return model


def st_from_streams(st: STResNet, appearance: Mapping[str, Tensor], motion: Mapping[str, Tensor]) -> STResNet:
    """ST-ResNet initialised from the two trained streams (stage 2): every weight the stream's, the temporal
    convs its 1x1 filters over 3, the classifiers kept (each stream keeps its own loss)."""
    load_2d(st.appearance, appearance, skip_fc=False)
    load_2d(st.motion, motion, skip_fc=False)
    return st


# --- analysis: Table 1 and Figure 3 -----------------------------------------------------------


def spatial_receptive_fields(model: ResNet, input_size: int = 224) -> dict[str, int]:
    """Receptive field side (pixels) of a unit after conv1, pool1, conv2_x .. conv5_x and pool5 (Table 1),
    from the kernel sizes and strides of the built model along its deepest path (every unit's residual
    branch); pool5 averages the whole last map of an ``input_size`` input (7 x 7 at 224)."""
    field, jump, size = 1, 1, input_size
    out: dict[str, int] = {}

    def through(kernel: int, stride: int, padding: int) -> None:
        nonlocal field, jump, size
        field += (kernel - 1) * jump
        jump *= stride
        size = (size + 2 * padding - kernel) // stride + 1

    def spatial(m: nn.Module) -> tuple[int, int, int]:
        k, s, p = (v[-1] if isinstance(v, tuple) else v for v in (m.kernel_size, m.stride, m.padding))
        return k, s, p

    through(*spatial(model.conv1))
    out["conv1"] = field
    through(*spatial(model.maxpool))
    out["pool1"] = field
    for name in STAGES:
        for block in getattr(model, name):
            for conv in (block.conv1, block.conv2, block.conv3):
                through(*spatial(conv))
        out[PAPER_LAYER_NAMES[name]] = field
    through(size, 1, 0)
    out["pool5"] = field
    return out


@torch.no_grad()
def temporal_receptive_fields(run, chunks: int, layers: Sequence[str]) -> dict[str, int]:
    """Chunks that reach the centre output position of each hooked layer, found by perturbation: ``run``
    takes a perturbation function ``f(t)`` that returns the model's input with chunk ``t`` changed (``t =
    None``: the reference) and returns ``{layer: output (N, C, T', ...)}``; a chunk is in a layer's field
    when changing it changes that layer's centre position. Counts what the network computes, not what
    its kernels promise (zero padding, strides and pools included)."""
    reference = run(None)
    fields = {name: 0 for name in layers}
    for t in range(chunks):
        changed = run(t)
        for name in layers:
            centre = reference[name].shape[2] // 2
            if not torch.equal(reference[name][:, :, centre], changed[name][:, :, centre]):
                fields[name] += 1
    return fields


def layer_outputs(model: ResNet | STResNet, x: Tensor, stream: str | None = None) -> dict[str, Tensor]:
    """Outputs of conv1, pool1, conv2_x..conv5_x and pool5 (Table 1's names) of ``model`` (for an
    ST-ResNet, of its ``stream``) on ``x``, in eval mode without gradients; the training flag is restored."""
    net = model if stream is None else getattr(model, stream)
    modules = {"conv1": net.conv1, "pool1": net.maxpool, **{PAPER_LAYER_NAMES[s]: getattr(net, s)[-1] for s in STAGES},
               "pool5": net.avgpool}
    outs: dict[str, Tensor] = {}
    handles = [m.register_forward_hook(lambda _m, _i, o, name=name: outs.__setitem__(name, o)) for name, m in modules.items()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return outs


# --- builders ------------------------------------------------------------------------------------
# Every builder takes the suite's keywords (num_classes, width, in_channels, clip_len); clip_len (the
# number of chunks) and input_size are accepted and ignored: the nets are fully convolutional in space
# and time.


@register
def resnet50(num_classes: int = 1000, width: float = 1.0, in_channels: int = 3, clip_len: int = 1,
             input_size: int = 224, stride_in_1x1: bool = True, sub_batch: int | None = None,
             zero_init_residual: bool = False) -> ResNet:
    """The ImageNet ResNet-50 both streams start from (25,557,032 parameters at 1000 classes)."""
    return ResNet(num_classes, width, in_channels, stride_in_1x1, sub_batch=sub_batch, zero_init_residual=zero_init_residual)


@register
def st_resnet50_appearance(num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = 1,
                           input_size: int = 224, stride_in_1x1: bool = True, temporal: bool = False,
                           temporal_pool: bool = False, sub_batch: int | None = None) -> ResNet:
    """The appearance stream: one RGB frame per chunk (23,714,981 parameters at 101 classes)."""
    return ResNet(num_classes, width, in_channels, stride_in_1x1, temporal, temporal_pool, 0.0, sub_batch)


@register
def st_resnet50_motion(num_classes: int = 101, width: float = 1.0, in_channels: int = 2, clip_len: int = 1,
                       input_size: int = 224, stride_in_1x1: bool = True, temporal: bool = False,
                       temporal_pool: bool = False, flow_fields: int = FLOW_FIELDS, dropout: float = MOTION_DROPOUT,
                       sub_batch: int | None = None) -> ResNet:
    """The motion stream: ``flow_fields`` (10) stacked flow fields per chunk, ``in_channels`` (2) each
    (23,768,293 parameters at 101 classes)."""
    return ResNet(num_classes, width, in_channels * flow_fields, stride_in_1x1, temporal, temporal_pool, dropout,
                  sub_batch, flow_input=True)


def _st_resnet(temporal_pool: bool, num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = 5,
               input_size: int = 224, stride_in_1x1: bool = True, flow_fields: int = FLOW_FIELDS,
               dropout: float = MOTION_DROPOUT, sub_batch: int | None = None,
               connections: Sequence[str] = STAGES) -> STResNet:
    appearance = st_resnet50_appearance(num_classes, width, in_channels, stride_in_1x1=stride_in_1x1, temporal=True,
                                        temporal_pool=temporal_pool, sub_batch=sub_batch)
    motion = st_resnet50_motion(num_classes, width, stride_in_1x1=stride_in_1x1, temporal=True,
                                temporal_pool=temporal_pool, flow_fields=flow_fields, dropout=dropout, sub_batch=sub_batch)
    return STResNet(appearance, motion, connections)


@register
def st_resnet50(num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = 5, **kwargs) -> STResNet:
    """ST-ResNet (section 3): both streams with their temporal convs and the 4 motion -> appearance
    connections (29,285,541 + 29,338,853 parameters at 101 classes); input ``(N, 3 + 20, T, H, W)``."""
    return _st_resnet(False, num_classes, width, in_channels, clip_len, **kwargs)


@register
def st_resnet50_star(num_classes: int = 101, width: float = 1.0, in_channels: int = 3, clip_len: int = 11,
                     **kwargs) -> STResNet:
    """ST-ResNet* (section 3.3): ST-ResNet with the temporal max pool (5, stride 2) after conv5_x."""
    return _st_resnet(True, num_classes, width, in_channels, clip_len, **kwargs)


def cross_stream_edges(st: STResNet) -> dict[str, object]:
    """The data flow between the streams, read off the traced graph of :meth:`STResNet.streams` (torch.fx):
    every operation is labelled with the inputs it depends on (``rgb``, ``flow``); an *edge* from motion to
    appearance is an operation that takes a motion-only tensor and a tensor that depends on the RGB input.
    Returns the edges in order, each with the module whose output is its motion operand (``from``) and the
    modules its result feeds (``into``), and which inputs each stream's scores depend on."""
    from torch import fx

    class Streams(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, rgb: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
            return self.st.streams(rgb, flow)

    class Tracer(fx.Tracer):  # a BatchNorm is one operation, whatever its sub-batches
        def is_leaf_module(self, m: nn.Module, name: str) -> bool:
            return isinstance(m, nn.BatchNorm3d) or super().is_leaf_module(m, name)

    def module_of(node: fx.Node) -> str:
        stack = node.meta.get("nn_module_stack") or {}
        name = node.target if node.op == "call_module" else (list(stack)[-1] if stack else node.name)
        return str(name).removeprefix("st.")

    graph = Tracer().trace(Streams())
    source: dict[fx.Node, frozenset[str]] = {}
    edges: list[dict[str, object]] = []
    for node in graph.nodes:
        if node.op == "placeholder":
            source[node] = frozenset([node.name])
            continue
        inputs = [source[n] for n in node.all_input_nodes]
        source[node] = frozenset().union(*inputs) if inputs else frozenset()
        if node.op != "output" and frozenset(["flow"]) in inputs and any("rgb" in i for i in inputs):
            motion_operand = next(n for n in node.all_input_nodes if source[n] == frozenset(["flow"]))
            edges.append({"node": node.name, "from": module_of(motion_operand),
                          "into": sorted(module_of(u) for u in node.users)})
    out = next(n for n in graph.nodes if n.op == "output")
    appearance, motion = out.args[0]
    return {"motion_to_appearance": edges, "appearance_depends_on": sorted(source[appearance]),
            "motion_depends_on": sorted(source[motion])}
