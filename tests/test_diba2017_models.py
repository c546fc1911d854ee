"""diba2017's networks against the inventory: DenseNet3D and T3D (replicate/models/densenet3d.py), ResNet3D (Hara-style,
replicate/models/video_resnet.py)."""
from __future__ import annotations

import pytest
import torch

from replicate.flops import count_params
from replicate.models import create
from replicate.models.densenet3d import TemporalTransition, ttl_split

#: ../shared/papers/notes/diba2017.md: parameters at 400 / 101 / 51 classes (arith; the method gives
#: torchvision's 2D DenseNet-121 count exactly)
PARAMS = {"densenet3d_121": (11_658_896, 11_352_421, 11_301_171),
          "densenet3d_169": (19_214_992, 18_717_157, 18_633_907)}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts_equal_the_inventory(name):
    assert tuple(count_params(create(name, num_classes=k)) for k in (400, 101, 51)) == PARAMS[name]


def test_ttl_width_rules_give_the_inventory_ratios():
    """Inception-style TTL: 15.57M / 24.77M, 1.34x / 1.29x (the paper: 1.3x); plain branches 25.91M / 39.45M."""
    counts = {(depth, rule): count_params(create(f"t3d_{depth}", ttl_widths=rule))
              for depth in (121, 169) for rule in ("inception", "plain")}
    assert [round(counts[(121, r)] / 1e4) for r in ("inception", "plain")] == [1557, 2591]
    assert [round(counts[(169, r)] / 1e4) for r in ("inception", "plain")] == [2477, 3945]
    assert round(counts[(121, "inception")] / PARAMS["densenet3d_121"][0], 2) == 1.34
    assert round(counts[(169, "inception")] / PARAMS["densenet3d_169"][0], 2) == 1.29


@pytest.mark.parametrize("name", ["densenet3d_121", "t3d_121"])
def test_output_sizes_follow_table_1(name):
    """32 x 224^2 in: 16 x 112^2 after the stem conv, 16 x 56^2 after the pool (stride 1 in time), then each
    transition / TTL halves all three sizes: 8 x 28^2, 4 x 14^2, 2 x 7^2 (sizes do not depend on the width)."""
    model = create(name, width=0.125).eval()
    sizes = []
    hooks = [model.stem[0].register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[2:]))),
             model.stem[3].register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[2:])))]
    hooks += [blk.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[2:]))) for blk in model.features[::2]]
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 224, 224)).shape == (1, 400)
    for h in hooks:
        h.remove()
    assert sizes == [(16, 112, 112), (16, 56, 56), (16, 56, 56), (8, 28, 28), (4, 14, 14), (2, 7, 7)]


def test_channels_at_each_stage():
    widths = {}
    for name in ("densenet3d_121", "densenet3d_169"):
        m = create(name)
        widths[name] = [blk[-1].conv[-1].out_channels + blk[-1].reduce[0].num_features for blk in m.features[::2]]
        widths[name] += [m.num_features]
    assert widths["densenet3d_121"] == [256, 512, 1024, 1024, 1024]
    assert widths["densenet3d_169"] == [256, 512, 1280, 1664, 1664]


def test_ttl_branches_keep_the_clip_length_with_even_kernels_and_split_the_width():
    assert ttl_split(128) == (42, 42, 44)
    ttl = TemporalTransition(16, 8, (1, 3, 6))
    out = [b(torch.randn(2, 16, 8, 6, 6)) for b in ttl.branches]
    assert [tuple(o.shape[1:]) for o in out] == [(2, 8, 6, 6), (2, 8, 6, 6), (4, 8, 6, 6)]
    # the d = 6 branch pads 2 frames before and 3 after: output frame t sees input frames t-2 .. t+3
    conv = ttl.branches[2][-1]
    assert isinstance(conv[2], torch.nn.ConstantPad3d) and conv[2].padding[4:] == (2, 3)
    with pytest.raises(ValueError, match="known: inception, plain"):
        TemporalTransition(16, 8, (1, 3, 6), "wide")


def test_features_for_the_transfer_head_and_gradients_reach_the_stem():
    model = create("t3d_121", num_classes=5, width=0.125)
    x = torch.randn(2, 3, 16, 32, 32)  # 16 frames: the fewest three halvings after the stem leave
    assert model.forward_features(x).shape == (2, model.num_features)
    model(x).sum().backward()
    assert model.stem[0].weight.grad.abs().sum() > 0


def test_resnet3d_is_hara_s_and_the_50_layer_one_has_the_inventory_s_size():
    """ResNet3D-50 (diba2017 Table 4) has about 47.0M parameters at 400 classes (the inventory's arithmetic). Hara
    et al.'s published 3D ResNet-18 / -34 sizes, 33.2M / 63.5M, are ours at 400 classes with their zero-padding
    shortcuts (type A); their ResNet-50's 46.4M is ours at 101 classes (their table does not say which head)."""
    assert round(count_params(create("resnet3d_50")) / 1e5) == 470
    counts = {d: count_params(create(f"resnet3d_{d}")) for d in (18, 34)}
    counts[50] = count_params(create("resnet3d_50", num_classes=101))
    assert {d: n // 100_000 for d, n in counts.items()} == {18: 332, 34: 635, 50: 464}
    model = create("resnet3d_50", width=0.125).eval()
    shapes = {}
    for name in ("stem", "layer1", "layer2", "layer3", "layer4"):
        getattr(model, name).register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 112, 112))
    # conv1 strides 1x2x2, the max pool 2 everywhere, then conv3_1 .. conv5_1 2 everywhere; 4 x the planes out
    assert shapes == {"stem": (8, 16, 28, 28), "layer1": (32, 16, 28, 28), "layer2": (64, 8, 14, 14),
                      "layer3": (128, 4, 7, 7), "layer4": (256, 2, 4, 4)}
