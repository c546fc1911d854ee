"""The inflation's invariants (Mansimov et al. 2015, section 3; tests of issue 11, point 1)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from replicate.errors import BadValueError, UnknownNameError
from replicate.inflate import INITS, alphas, inflate_conv, inflate_model

@pytest.fixture(autouse=True)
def _float64():
    """The identities are exact in real arithmetic: check them in float64, to ~1e-12."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_alphas_as_the_paper_defines_them():
    assert alphas("ia", 3).tolist() == pytest.approx([1 / 3] * 3)
    assert alphas("zwi", 3).tolist() == [1, 0, 0] and alphas("zwi", 2).tolist() == [1, 0]
    assert alphas("nwi", 3).tolist() == pytest.approx([5 / 3, -1 / 3, -1 / 3])  # Figure 1
    assert alphas("nwi", 2).tolist() == pytest.approx([3 / 2, -1 / 2])
    assert alphas("nwi", 3, special=1).tolist() == pytest.approx([-1 / 3, 5 / 3, -1 / 3])
    assert alphas("is", 3).tolist() == [0.25, 0.5, 0.25] and alphas("is", 2).tolist() == [0.5, 0.5]  # IA = IS at T = 2
    assert alphas("average", 4).tolist() == alphas("ia", 4).tolist()
    for init in INITS:
        for t in range(1, 6):
            assert float(alphas(init, t).sum()) == pytest.approx(1.0, abs=1e-12)
    drawn = alphas("is", 5, seed=3)
    assert (drawn > 0).all() and float(drawn.sum()) == pytest.approx(1.0) and torch.equal(drawn, alphas("is", 5, seed=3))
    assert not torch.equal(drawn, alphas("is", 5, seed=4))


def test_bad_inflation_arguments_are_refused():
    with pytest.raises(UnknownNameError, match="unknown inflation 'i3d'"):
        alphas("i3d", 3)
    with pytest.raises(BadValueError, match="positive numbers summing to 1"):
        alphas("is", 3, weights=[0.5, 0.5, 0.5])
    with pytest.raises(BadValueError, match="outside 0..2"):
        alphas("zwi", 3, special=3)
    with pytest.raises(BadValueError):
        inflate_conv(nn.Linear(3, 3), 3)


@pytest.mark.parametrize("init", INITS)
def test_filters_sum_over_time_to_the_2d_filter_and_bias_is_copied(init):
    conv = nn.Conv2d(3, 8, 5, stride=2, padding=2)
    c3 = inflate_conv(conv, 3, init, seed=0)
    assert c3.weight.shape == (8, 3, 3, 5, 5) and c3.stride == (1, 2, 2) and c3.padding == (0, 2, 2)
    torch.testing.assert_close(c3.weight.sum(2), conv.weight.detach(), rtol=0, atol=1e-12)
    assert torch.equal(c3.bias, conv.bias)


def test_conv1_responses_mean_first_frame_and_frame_differences():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 3, 10, 12)  # N, C, T=3, H, W
    frames = [x[:, :, t] for t in range(3)]
    ia = inflate_conv(conv, 3, "ia")(x)[:, :, 0]
    torch.testing.assert_close(ia, conv(x.mean(2)))  # IA: the 2D filter on the frame mean
    zwi = inflate_conv(conv, 3, "zwi")(x)[:, :, 0]
    torch.testing.assert_close(zwi, conv(frames[0]))  # ZWI: the 2D filter on the first frame
    nwi = inflate_conv(conv, 3, "nwi")(x)[:, :, 0]
    diffs = sum(F.conv2d(frames[0] - frames[t], conv.weight, padding=1) for t in (1, 2)) / 3
    torch.testing.assert_close(nwi, conv(frames[0]) + diffs)  # NWI: ZWI + filtered frame differences
    # IA is blind to frame order at initialisation; NWI is not
    reversed_x = x.flip(2)
    torch.testing.assert_close(inflate_conv(conv, 3, "ia")(reversed_x), inflate_conv(conv, 3, "ia")(x))
    assert not torch.allclose(inflate_conv(conv, 3, "nwi")(reversed_x), inflate_conv(conv, 3, "nwi")(x))


def _net2d() -> nn.Module:
    """A small image net with every layer kind inflate_model handles, random BN statistics."""
    torch.manual_seed(1)
    net = nn.Sequential()
    net.add_module("conv1", nn.Conv2d(3, 8, 7, stride=2, padding=3))
    net.add_module("bn1", nn.BatchNorm2d(8))
    net.add_module("relu1", nn.ReLU())
    net.add_module("norm1", nn.LocalResponseNorm(5, alpha=0.0025, beta=0.75, k=1))
    net.add_module("pool1", nn.MaxPool2d(3, 2, padding=1))
    net.add_module("conv2", nn.Conv2d(8, 16, 5, padding=2))
    net.add_module("relu2", nn.ReLU())
    net.add_module("conv3", nn.Conv2d(16, 16, 1))
    net.add_module("pool2", nn.AvgPool2d(2))
    net.add_module("gap", nn.AdaptiveAvgPool2d(1))
    net.add_module("flat", nn.Flatten())
    net.add_module("drop", nn.Dropout(0.8))
    net.add_module("fc", nn.Linear(16, 5))
    with torch.no_grad():
        net.bn1.running_mean.uniform_(-0.5, 0.5)
        net.bn1.running_var.uniform_(0.5, 2.0)
        net.bn1.weight.uniform_(0.5, 1.5)
    return net.eval()


@pytest.mark.parametrize("init", INITS)
def test_a_static_clip_gives_the_2d_logits(init):
    """Mansimov et al.'s 3D net shape: conv1 temporal 3, pool1 temporal 2, conv2 temporal 2 (6 -> 4 -> 2 -> 1)."""
    net2d = _net2d()
    net3d = inflate_model(net2d, {"conv1": 3, "pool1": 2, "conv2": 2}, init, seed=0).eval()
    frame = torch.randn(2, 3, 32, 40)
    clip = frame.unsqueeze(2).expand(-1, -1, 6, -1, -1)
    torch.testing.assert_close(net3d(clip), net2d(frame), rtol=1e-10, atol=1e-10)
    trunk = net3d[:7]  # conv1 .. conv2: time 6 -> 4 (conv1) -> 2 (pool1) -> 1 (conv2)
    assert trunk(clip).shape[2] == 1
    assert net2d.conv1.weight.ndim == 4  # the 2D net is left alone


def test_inflate_model_maps_every_layer_kind():
    net3d = inflate_model(_net2d(), {"conv1": 3, "pool1": 2})
    assert isinstance(net3d.conv1, nn.Conv3d) and net3d.conv1.kernel_size == (3, 7, 7)
    assert isinstance(net3d.conv2, nn.Conv3d) and net3d.conv2.kernel_size == (1, 5, 5)  # unnamed: per frame
    assert isinstance(net3d.bn1, nn.BatchNorm3d) and torch.equal(net3d.bn1.running_var, _net2d().bn1.running_var)
    assert isinstance(net3d.pool1, nn.MaxPool3d) and net3d.pool1.kernel_size == (2, 3, 3) and net3d.pool1.stride == (2, 2, 2)
    assert isinstance(net3d.pool2, nn.AvgPool3d) and isinstance(net3d.gap, nn.AdaptiveAvgPool3d)
    assert isinstance(net3d.norm1, nn.LocalResponseNorm) and isinstance(net3d.fc, nn.Linear)
