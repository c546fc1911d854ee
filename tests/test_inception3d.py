"""Inception3D (replicate/models/inception3d.py): diba2017's I3D-like baseline, BN-Inception-v1 inflated to 3D."""
from __future__ import annotations

import pytest
import torch

from replicate.flops import count_params
from replicate.models import create, inception3d  # noqa: F401  (importing the module registers the builder)
from replicate.models.video_resnet import scale_width

#: I3D's Inception modules (1x1; 3x3 reduce, 3x3; 3x3 reduce, 3x3; pool projection), written out here again so the
#: count below does not read the module under test
WIDTHS = [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64),                                  # 3b, 3c
          (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),    # 4b, 4c, 4d
          (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128),                              # 4e, 4f
          (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]                            # 5b, 5c
#: full width, at 400 / 101 / 51 classes
PARAMS = (12_697_264, 12_390_789, 12_339_539)


def arithmetic_params(num_classes: int, width: float = 1.0, in_channels: int = 3) -> int:
    """Conv weights (no bias) + BN weight and bias per unit, and the logits' 1x1x1 weights + bias."""
    s = lambda c: scale_width(c, width)  # noqa: E731

    def unit(cin: int, cout: int, k: int) -> int:
        return cin * cout * k ** 3 + 2 * cout

    total = unit(in_channels, s(64), 7) + unit(s(64), s(64), 1) + unit(s(64), s(192), 3)
    c = s(192)
    for widths in WIDTHS:
        b0, b1a, b1b, b2a, b2b, b3 = (s(w) for w in widths)
        total += unit(c, b0, 1) + unit(c, b1a, 1) + unit(b1a, b1b, 3) + unit(c, b2a, 1) + unit(b2a, b2b, 3)
        total += unit(c, b3, 1)
        c = b0 + b1b + b2b + b3
    return total + c * num_classes + num_classes


def meta_model(**kwargs):
    with torch.device("meta"):  # full size without allocating or initialising 12.7M parameters
        return create("inception3d", **kwargs).eval()


def test_parameter_counts_equal_the_arithmetic():
    counts = tuple(count_params(meta_model(num_classes=k)) for k in (400, 101, 51))
    print("inception3d parameters at 400 / 101 / 51 classes:", counts)
    assert counts == tuple(arithmetic_params(k) for k in (400, 101, 51)) == PARAMS
    assert count_params(meta_model(in_channels=2)) == arithmetic_params(400, in_channels=2)  # a flow net


def test_width_scaling_reduces_parameters():
    counts = [count_params(meta_model(width=w)) for w in (0.25, 0.5, 1.0)]
    assert counts == [arithmetic_params(400, w) for w in (0.25, 0.5, 1.0)]
    assert counts[0] < counts[1] < counts[2]


def stage_shapes(frames: int, size: int = 224) -> dict[str, tuple[int, ...]]:
    model, shapes = meta_model(), {}
    x = torch.empty(1, 3, frames, size, size, device="meta")
    for name, layer in model.features.named_children():
        x = layer(x)
        shapes[name] = tuple(x.shape[1:])
    return shapes


@pytest.mark.parametrize("frames", [64, 32])
def test_output_sizes_are_i3ds(frames):
    """TF SAME sizes, ceil(L / stride): 64 x 224^2 -> 8 x 7^2 x 1024 before the pool (I3D), 32 -> 4 x 7^2."""
    t = frames // 2
    shapes = stage_shapes(frames)
    assert shapes["Conv3d_1a_7x7"] == (64, t, 112, 112)
    assert shapes["MaxPool3d_2a_3x3"] == (64, t, 56, 56)  # space only
    assert shapes["Conv3d_2c_3x3"] == (192, t, 56, 56)
    assert shapes["MaxPool3d_3a_3x3"] == (192, t, 28, 28)
    assert shapes["Mixed_3c"] == (480, t, 28, 28)
    assert shapes["MaxPool3d_4a_3x3"] == (480, t // 2, 14, 14)
    assert [shapes[f"Mixed_4{k}"][0] for k in "bcdef"] == [512, 512, 512, 528, 832]
    assert shapes["MaxPool3d_5a_2x2"] == (832, t // 4, 7, 7)
    assert shapes["Mixed_5c"] == (1024, frames // 8, 7, 7)


@pytest.mark.parametrize("frames, size, out", [(8, 16, (1, 1, 1)), (17, 33, (3, 2, 2)), (1, 1, (1, 1, 1))])
def test_small_and_odd_inputs_keep_every_size(frames, size, out):
    assert stage_shapes(frames, size)["Mixed_5c"][1:] == out


def test_forward_at_mini_width():
    model = create("inception3d", width=0.25, clip_len=16)  # clip_len is accepted and ignored
    x = torch.randn(2, 3, 16, 32, 32)
    assert model(x).shape == (2, 400)
    assert model.forward_features(x).shape == (2, model.num_features) == (2, 256)


def test_six_dim_input_averages_the_clips_logits():
    torch.manual_seed(0)
    model = create("inception3d", num_classes=10, width=0.25).eval()
    x = torch.randn(2, 3, 3, 8, 16, 16)  # (B, N clips, C, T, H, W)
    with torch.no_grad():
        per_clip = torch.stack([model(x[:, i]) for i in range(3)], 1)
        assert torch.allclose(model(x), per_clip.mean(1), atol=1e-6)


def test_init_is_random_he_with_bn_at_one_zero():
    model = create("inception3d", width=0.25)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm3d)]
    assert all(m.eps == 1e-3 and bool((m.weight == 1).all()) and bool((m.bias == 0).all()) for m in bns)
    stem = model.features.Conv3d_1a_7x7[0].weight  # fan_out = 16 x 7^3: std sqrt(2 / fan_out) ~ 0.0191
    assert abs(stem.std().item() - (2 / (16 * 7 ** 3)) ** 0.5) < 2e-3
    assert bool((model.fc.bias == 0).all())
