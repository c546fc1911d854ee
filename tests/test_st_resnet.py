"""feichtenhofer2016's networks: ResNet-50 streams, ST-ResNet, ST-ResNet* (replicate/models/st_resnet.py).

The exact checks of the inventory (``../shared/papers/notes/feichtenhofer2016.md``): parameter counts,
Table 1's receptive fields and output sizes, the 4 motion -> appearance edges and the direction of
gradients, the temporal convs' init and the centre-chunk identity, sub-batch BatchNorm.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from replicate.flops import count_params
from replicate.models import create
from replicate.models import st_resnet as S
from replicate.papers import feichtenhofer2016

SMALL = dict(width=1 / 16)  # every channel count / 16: the checks below are about structure, not size


def _meta(name, **kwargs):
    with torch.device("meta"):
        return create(name, **kwargs)


@pytest.mark.parametrize("classes, appearance, motion, st_appearance, st_motion", [
    (101, 23_714_981, 23_768_293, 29_285_541, 29_338_853),
    (51, 23_612_531, 23_665_843, 29_183_091, 29_236_403),
])
def test_parameter_counts_are_the_inventory_s(classes, appearance, motion, st_appearance, st_motion):
    assert count_params(_meta("resnet50", num_classes=1000)) == 25_557_032  # torchvision's resnet50 count
    assert count_params(_meta("st_resnet50_appearance", num_classes=classes)) == appearance
    assert count_params(_meta("st_resnet50_motion", num_classes=classes)) == motion  # + 64 x 17 x 7 x 7 in conv1
    for name in ("st_resnet50", "st_resnet50_star"):  # the pool adds nothing; each temporal conv 3x its 1x1
        st = _meta(name, num_classes=classes)
        assert (count_params(st.appearance), count_params(st.motion)) == (st_appearance, st_motion)
    # v1.5 moves a stride, not a weight
    assert count_params(_meta("resnet50", num_classes=1000, stride_in_1x1=False)) == 25_557_032


def test_spatial_receptive_fields_are_table_1_in_v1_and_torchvision_s_in_v1_5():
    v1 = S.spatial_receptive_fields(_meta("st_resnet50_appearance"))
    assert list(v1.values()) == [7, 11, 35, 99, 291, 483, 675]
    assert list(v1) == ["conv1", "pool1", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "pool5"]
    v15 = S.spatial_receptive_fields(_meta("st_resnet50_appearance", stride_in_1x1=False))
    assert list(v15.values()) == [7, 11, 35, 91, 267, 427, 619]


def test_output_sizes_are_table_1_s():
    st = _meta("st_resnet50_star")
    shapes = {k: tuple(v.shape[2:]) for k, v in S.layer_outputs(st, torch.zeros(1, 23, 11, 224, 224, device="meta"), "motion").items()}
    assert shapes == {"conv1": (11, 112, 112), "pool1": (11, 56, 56), "conv2_x": (11, 56, 56), "conv3_x": (11, 28, 28),
                      "conv4_x": (11, 14, 14), "conv5_x": (11, 7, 7), "pool5": (4, 1, 1)}
    # the temporal pool: 11 chunks -> 4, 25 -> 11, 5 -> 1 (section 3.3)
    for chunks, pooled in ((11, 4), (25, 11), (5, 1)):
        out = st.appearance.position_logits(torch.zeros(1, 3, chunks, 224, 224, device="meta"))
        assert out.shape[2] == pooled


@pytest.mark.parametrize("name, pool5", [("st_resnet50", 17), ("st_resnet50_star", 21)])
def test_temporal_receptive_fields_by_perturbing_one_chunk(name, pool5):
    fields = feichtenhofer2016.measured_temporal_fields(name)  # a small random net, one input chunk changed at a time
    for stream in ("appearance", "motion"):  # 5/9/13/17 chunks (Table 1); pool5 21, not the paper's 47
        assert list(fields[stream].values()) == [1, 1, 5, 9, 13, 17, pool5]
    assert list(fields["motion"]) == ["conv1", "pool1", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "pool5"]


def test_exactly_four_motion_to_appearance_edges_and_none_back():
    st = create("st_resnet50", num_classes=5, **SMALL)
    edges = S.cross_stream_edges(st)
    # from the output of motion res{k}a (a module's output: after its ReLU) into appearance res{k}b's branch only
    assert [(e["from"], e["into"]) for e in edges["motion_to_appearance"]] == [
        (f"motion.layer{k}.0", [f"appearance.layer{k}.1.conv1"]) for k in range(1, 5)]
    assert edges["appearance_depends_on"] == ["flow", "rgb"] and edges["motion_depends_on"] == ["flow"]
    two_streams = S.cross_stream_edges(create("st_resnet50", num_classes=5, connections=(), **SMALL))
    assert two_streams["motion_to_appearance"] == [] and two_streams["appearance_depends_on"] == ["rgb"]


def test_each_connection_computes_x_b_as_relu_a_plus_f_of_a_plus_relu_m():
    # DESIGN / the code: x_b = relu(a) + F(a + relu(m)), a the appearance res{k}a sum before its ReLU, m the
    # motion res{k}a sum; then the unit's ReLU. Recomputed here from the units' parts, not from STResNet.streams.
    torch.manual_seed(0)
    st = create("st_resnet50", num_classes=5, **SMALL).double().eval()
    x = torch.randn(2, 23, 5, 32, 32, dtype=torch.float64)
    relu = torch.relu

    def unit_sum(block, inp):
        return block.residual(inp) + (inp if block.downsample is None else block.downsample(inp))

    with torch.no_grad():
        a, m = st.appearance.stem(x[:, :3]), st.motion.stem(x[:, 3:])
        for name in S.STAGES:
            stage_a, stage_m = getattr(st.appearance, name), getattr(st.motion, name)
            a_pre, m = unit_sum(stage_a[0], a), relu(unit_sum(stage_m[0], m))
            a = relu(relu(a_pre) + stage_a[1].residual(a_pre + m))
            m = stage_m[1](m)
            for block_a, block_m in zip(stage_a[2:], stage_m[2:]):
                a, m = block_a(a), block_m(m)
        got_a, got_m = st.stream_logits(x)
        assert torch.allclose(got_a, st.appearance.head(a), atol=1e-12)
        assert torch.allclose(got_m, st.motion.head(m), atol=1e-12)
        assert torch.allclose(st(x[:, :, :1, :, :]), st(x[:, :, 0]))  # a 4D input is one chunk


def test_the_appearance_loss_reaches_motion_weights_and_the_motion_loss_never_appearance_weights():
    torch.manual_seed(0)
    st = create("st_resnet50", num_classes=5, **SMALL)
    x, y = torch.randn(2, 23, 5, 32, 32), torch.tensor([1, 3])
    for loss_of, reached, untouched in ((0, "motion", None), (1, None, "appearance")):
        st.zero_grad(set_to_none=True)
        S.position_loss(st.stream_logits(x)[loss_of], y).backward()
        if reached:  # every motion layer up to res5a (the last one that feeds appearance) gets a gradient
            above = ("layer4.1.", "layer4.2.", "fc.")
            params = dict(getattr(st, reached).named_parameters())
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in params.items() if not n.startswith(above))
            assert all(p.grad is None for n, p in params.items() if n.startswith(above))
        if untouched:
            assert all(p.grad is None for p in getattr(st, untouched).parameters())


def test_temporal_convs_start_as_the_2d_filter_over_three_and_the_centre_chunk_is_the_2d_net():
    torch.manual_seed(0)
    net2d = create("resnet50", num_classes=7, **SMALL).double().eval()
    for m in net2d.modules():  # BN with statistics of its own, so eval mode is not the identity
        if isinstance(m, nn.BatchNorm3d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    stream = S.load_2d(create("st_resnet50_appearance", num_classes=7, temporal=True, **SMALL), net2d.state_dict(),
                       skip_fc=False).double().eval()
    conv = stream.layer3[1].conv1
    assert conv.kernel_size == (3, 1, 1) and conv.padding == (1, 0, 0)
    assert torch.equal(conv.weight[:, :, 0], conv.weight[:, :, 2]) and torch.equal(conv.weight[:, :, 1], conv.weight[:, :, 2])
    assert torch.allclose(conv.weight.sum(2), net2d.layer3[1].conv1.weight[:, :, 0])
    frame = torch.randn(2, 3, 1, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        expected = net2d.position_logits(frame)[:, :, 0]
        # zero temporal padding spreads a boundary effect 8 chunks in: with 17 identical chunks only the centre is exact
        out = stream.position_logits(frame.expand(-1, -1, 17, -1, -1))
        assert torch.allclose(out[:, :, 8], expected, atol=1e-10)
        assert not torch.allclose(out[:, :, 7], expected, atol=1e-6)


def test_st_resnet_from_the_two_streams_keeps_motion_and_changes_appearance():
    torch.manual_seed(0)
    a = create("st_resnet50_appearance", num_classes=5, **SMALL)
    m = create("st_resnet50_motion", num_classes=5, **SMALL)
    st = S.st_from_streams(create("st_resnet50", num_classes=5, **SMALL), a.state_dict(), m.state_dict()).eval()
    a.eval(), m.eval()
    frame = torch.randn(2, 23, 1, 48, 48)
    with torch.no_grad():
        st_a, st_m = st.stream_logits(frame.expand(-1, -1, 17, -1, -1))
        assert torch.allclose(st_m[:, :, 8], m.position_logits(frame[:, 3:])[:, :, 0], atol=1e-5)
        # the appearance stream now also sees relu(motion): ST-ResNet at init is not the two-stream net
        assert not torch.allclose(st_a[:, :, 8], a.position_logits(frame[:, :3])[:, :, 0], atol=1e-3)


def test_motion_conv1_is_the_rgb_mean_replicated_and_torchvision_weights_load_into_v1_5():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    tv = torchvision.models.resnet50(num_classes=10).eval()
    ours = S.load_2d(create("resnet50", num_classes=10, stride_in_1x1=False), tv.state_dict(), skip_fc=False).eval()
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(ours(image), tv(image), atol=1e-4, rtol=1e-4)
    motion = S.load_2d(create("st_resnet50_motion", num_classes=5), tv.state_dict())
    mean = tv.conv1.weight.mean(1)
    assert motion.conv1.weight.shape[1] == 20
    assert all(torch.equal(motion.conv1.weight[:, c, 0], mean) for c in range(20))
    with pytest.raises(ValueError, match="does not fit"):
        S.load_2d(create("st_resnet50_motion", num_classes=5, width=0.5), tv.state_dict())
    with pytest.raises(ValueError, match="does not fit"):  # only RGB filters are averaged into flow ones
        S.load_2d(create("st_resnet50_appearance", num_classes=5), motion.state_dict())


def test_sub_batch_norm_normalises_each_group_alone_and_is_batch_norm_in_eval():
    torch.manual_seed(0)
    sub, plain = S.SubBatchNorm3d(4, sub_batch=2), nn.BatchNorm3d(4)
    assert sub.state_dict().keys() == plain.state_dict().keys()
    x = torch.randn(7, 4, 2, 3, 3) * 3 + 1
    out = sub(x)
    groups = (3, 2, 2)  # ceil(7 / 2) = 4 groups would leave one sample alone: 3 near-equal groups instead
    for part, got in zip(x.split(groups), out.split(groups)):
        ref = nn.BatchNorm3d(4)(part)
        assert torch.allclose(got, ref, atol=1e-5)
    # the running statistics saw the three groups in turn, as three micro-batches would
    ref = nn.BatchNorm3d(4)
    for part in x.split(groups):
        ref(part)
    assert torch.allclose(sub.running_mean, ref.running_mean) and torch.allclose(sub.running_var, ref.running_var)
    sub.eval(), ref.eval()
    assert torch.allclose(sub(x), ref(x))
    big = S.SubBatchNorm3d(2, sub_batch=86)  # Table 2's motion stream: 256 videos in BN groups of 86 -> 86 + 85 + 85
    seen = []
    original = nn.BatchNorm3d.forward
    try:
        nn.BatchNorm3d.forward = lambda self, part: seen.append(len(part)) or original(self, part)
        big(torch.randn(256, 2, 1, 2, 2))
    finally:
        nn.BatchNorm3d.forward = original
    assert seen == [86, 85, 85]
    net = create("st_resnet50", num_classes=3, sub_batch=4, **SMALL)
    assert all(m.sub_batch == 4 for m in net.modules() if isinstance(m, nn.BatchNorm3d))


def test_heads_as_the_code_has_them():
    motion, appearance = create("st_resnet50_motion", num_classes=101), create("st_resnet50_appearance", num_classes=101)
    assert isinstance(motion.dropout, nn.Dropout) and motion.dropout.p == 0.8  # before the motion fc (code)
    assert isinstance(appearance.dropout, nn.Identity)  # section 3.3: dropout hurt the appearance stream
    for net in (motion, appearance):  # fc: 0.01 * randn, zero bias (code)
        assert abs(net.fc.weight.std().item() - 0.01) < 1e-3 and not net.fc.bias.any()


def test_position_loss_sums_positions_and_averages_videos():
    logits, y = torch.randn(3, 4, 5), torch.tensor([0, 2, 3])
    manual = sum(nn.functional.cross_entropy(logits[:, :, t], y, reduction="sum") for t in range(5)) / 3
    assert torch.allclose(S.position_loss(logits, y), manual)


def test_images_are_one_chunk_and_flow_is_fed_in_the_code_s_byte_units():
    torch.manual_seed(0)
    net = create("resnet50", num_classes=3, **SMALL).eval()
    image = torch.randn(2, 3, 32, 32)
    assert torch.equal(net(image), net(image.unsqueeze(2)))
    motion = create("st_resnet50_motion", num_classes=3, **SMALL).eval()
    seen = []
    motion.conv1.register_forward_hook(lambda _m, i, _o: seen.append(i[0]))
    motion(torch.zeros(1, 20, 1, 32, 32))
    assert torch.equal(seen[0], torch.full_like(seen[0], -0.5))  # 0 px -> byte 127.5 -> 127.5 - 128
    with pytest.raises(ValueError, match="connections"):
        create("st_resnet50", connections=("layer5",))
    # a flow run's clip of 10 fields (N, 2, 10, H, W) is one chunk of 20 channels u1, v1, .., u10, v10
    flow = torch.randn(2, 2, 10, 32, 32)
    stacked = torch.stack([flow[:, c, t] for t in range(10) for c in range(2)], 1).unsqueeze(2)
    assert torch.equal(motion(flow), motion(stacked))


def test_micro_batches_accumulate_the_gradient_of_sub_batch_norm_groups():
    """train_step with micro-batches of the BN group size takes the same step as one pass whose BatchNorms
    normalise those groups (SubBatchNorm3d): the code's numSubBatches, which ST-ResNet needs at 224 px."""
    from replicate.train import train_step

    torch.manual_seed(0)
    # no dropout: its masks are drawn per forward, so micro-batches would draw others
    one = create("st_resnet50", num_classes=3, sub_batch=2, dropout=0.0, **SMALL)
    micro = create("st_resnet50", num_classes=3, sub_batch=2, dropout=0.0, **SMALL)
    micro.load_state_dict(one.state_dict())
    batch = {"clip": torch.randn(4, 23, 3, 32, 32), "label": torch.tensor([0, 1, 2, 1])}
    steps = []
    for net, size in ((one, 0), (micro, 2)):
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        steps.append(train_step(net, batch, opt, torch.device("cpu"), [], "fp32", micro_batch=size))
    torch.testing.assert_close(steps[0][0], steps[1][0], rtol=1e-4, atol=1e-5)  # the batch's mean loss
    assert int(steps[0][1]) == int(steps[1][1])
    for (name, a), b in zip(one.named_parameters(), micro.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=name)  # float order only
