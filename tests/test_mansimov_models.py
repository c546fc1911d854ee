"""mansimov2015's networks: parameter counts at full size (the inventory's arithmetic), shapes in
time (6 -> 4 -> 2 -> 1; 10 -> 4 -> 2 -> 1), and the inflated net's static-clip identity."""
from __future__ import annotations

import pytest
import torch

from replicate.errors import BadValueError
from replicate.flops import count_params
from replicate.inflate import inflate_model, inflate_state_dict
from replicate.models import create
from replicate.models.mansimov import MANSIMOV_3D_TIME, feature_size, stack_flow_fields, time_after

FULL_SIZE = {  # ../shared/papers/notes/mansimov2015.md
    ("mansimov_2d", 1000): 104_321_000,
    ("mansimov_2d_ft", 101): 92_040_293,
    ("mansimov_3d", 101): 92_682_917,
    ("mansimov_flow_single", 101): 92_035_589,
    ("mansimov_flow_stack", 101): 92_120_261,
    ("mansimov_flow_slow", 101): 93_562_949,
}


@pytest.mark.parametrize("name, classes", list(FULL_SIZE))
def test_parameter_counts_at_full_size(name, classes):
    with torch.device("meta"):
        model = create(name, num_classes=classes)
    assert count_params(model) == FULL_SIZE[name, classes]


def test_spatial_sizes_follow_the_code():
    assert feature_size(224) == 6  # conv1 110, pool1 55, conv2 27, pool2 14, conv3-4 14, conv5 12, pool5 6
    with pytest.raises(BadValueError, match="too small"):
        create("mansimov_2d_ft", input_size=24)


@pytest.mark.parametrize("name, frames, channels", [("mansimov_3d", 6, 3), ("mansimov_flow_slow", 10, 2)])
def test_time_collapses_to_one_where_the_2d_layers_take_over(name, frames, channels):
    model = create(name, num_classes=5, width=0.125, input_size=64).eval()
    clip = torch.randn(2, channels, frames, 64, 64)
    assert time_after(model, clip) == 1 and model(clip).shape == (2, 5)
    with pytest.raises(BadValueError, match="takes"):
        create(name, clip_len=frames + 2)


def test_flow_stack_is_early_fusion_of_ten_fields():
    model = create("mansimov_flow_stack", num_classes=5, width=0.125, input_size=64).eval()
    clip = torch.randn(2, 2, 10, 64, 64)
    stacked = stack_flow_fields(clip)
    assert stacked.shape == (2, 20, 64, 64) and torch.equal(stacked[:, 2], clip[:, 0, 1])  # x_0, y_0, x_1, ...
    assert model(stacked).shape == (2, 5)


@pytest.mark.parametrize("init", ["ia", "is", "zwi", "nwi"])
def test_inflated_trained_2d_net_gives_its_logits_on_a_static_clip(init):
    torch.manual_seed(0)
    net2d = create("mansimov_2d_ft", num_classes=7, width=0.125, input_size=64).double().eval()
    net3d = inflate_model(net2d, MANSIMOV_3D_TIME, init, seed=0).eval()
    frame = torch.randn(2, 3, 64, 64, dtype=torch.float64)
    clip = frame.unsqueeze(2).expand(-1, -1, 6, -1, -1)
    torch.testing.assert_close(net3d(clip), net2d(frame), rtol=1e-9, atol=1e-9)


def test_2d_net_takes_one_frame_clips_and_refuses_longer_ones():
    net2d = create("mansimov_2d_ft", num_classes=5, width=0.125, input_size=64).eval()
    frame = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(net2d(frame.unsqueeze(2)), net2d(frame))
    with pytest.raises(BadValueError, match="1-frame clips"):
        net2d(torch.randn(2, 3, 6, 64, 64))


@pytest.mark.parametrize("init", ["ia", "zwi", "nwi"])
def test_state_dict_inflation_equals_module_inflation(init):
    # a 3D net built on its own, loaded with a 2D net's inflated weights, is the 2D net inflated
    torch.manual_seed(0)
    net2d = create("mansimov_2d_ft", num_classes=7, width=0.125, input_size=64).double().eval()
    net3d = create("mansimov_3d", num_classes=7, width=0.125, input_size=64).double().eval()
    state, left_out = inflate_state_dict(net2d.state_dict(), net3d.state_dict(), init)
    assert left_out == []
    net3d.load_state_dict(state)
    clip = torch.randn(2, 3, 6, 64, 64, dtype=torch.float64)
    torch.testing.assert_close(net3d(clip), inflate_model(net2d, MANSIMOV_3D_TIME, init)(clip), rtol=1e-9, atol=1e-9)


def test_state_dict_inflation_names_what_does_not_fit():
    image_net = create("mansimov_2d", num_classes=16, width=0.125, input_size=64)  # fc7 4096, 16 classes
    net3d = create("mansimov_3d", num_classes=7, width=0.125, input_size=64)      # fc7 2048, 7 classes
    state, left_out = inflate_state_dict(image_net.state_dict(), net3d.state_dict(), "nwi")
    assert set(left_out) == {f"{p}.{t}" for p in ("classifier.4", "classifier.7", "fc") for t in ("weight", "bias")}
    assert state["features.conv1.weight"].shape[2] == 3 and "classifier.1.weight" in state  # fc6 is kept


def test_flow_nets_take_flow_clips_and_subtract_the_mean_flow():
    torch.manual_seed(0)
    clip = torch.randn(2, 2, 10, 64, 64)
    stack = create("mansimov_flow_stack", num_classes=5, width=0.125, input_size=64).eval()
    assert torch.allclose(stack(clip), stack(stack_flow_fields(clip)), atol=1e-5)  # a flow clip is stacked
    camera = torch.randn(2, 2, 10, 1, 1)  # one displacement per field: removed by the mean-flow subtraction
    for name, frames in (("mansimov_flow_single", 1), ("mansimov_flow_stack", 10), ("mansimov_flow_slow", 10)):
        net = create(name, num_classes=5, width=0.125, input_size=64).eval()
        x = clip[:, :, :frames]
        assert torch.allclose(net(x), net(x + camera[:, :, :frames]), atol=1e-4), name
    with pytest.raises(BadValueError, match="stacked"):
        stack(torch.randn(1, 2, 4, 64, 64))


def test_slow_fusion_from_scratch_has_a_draw_per_time_slice():
    torch.manual_seed(0)
    w = create("mansimov_flow_slow", num_classes=5, width=0.125, input_size=64).features.conv1.weight
    assert w.shape[2] == 4 and not torch.allclose(w[:, :, 0], w[:, :, 1])
    ia = create("mansimov_flow_slow", num_classes=5, width=0.125, input_size=64, init="ia").features.conv1.weight
    assert torch.allclose(ia[:, :, 0], ia[:, :, 1])  # an inflation init starts constant over time


def test_fc6_is_the_frame_feature_of_the_image_net():
    net = create("mansimov_2d", num_classes=10, width=0.125, input_size=64).eval()
    assert net.fc6(torch.randn(3, 3, 64, 64)).shape == (3, 512) and (net.fc6(torch.randn(1, 3, 64, 64)) >= 0).all()
