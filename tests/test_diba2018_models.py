"""diba2018's networks against the inventory (../shared/papers/notes/diba2018.md): Hara's 3D ResNet / ResNeXt
(replicate/models/video_resnet.py) and the STC block (replicate/models/stc.py)."""
from __future__ import annotations

import pytest
import torch

from replicate.flops import count_params
from replicate.models import create
from replicate.models.stc import STCBlock, STCUnit, stc_frames
from replicate.models.video_resnet import ZeroPadShortcut
from replicate.papers import diba2018
from replicate.runs import load_spec

TABLE1 = load_spec("diba2018")["tables"]["table1"]


def _meta_params(name: str, **kwargs) -> int:
    with torch.device("meta"):
        return count_params(create(name, **kwargs))


@pytest.mark.parametrize("backbone", sorted(TABLE1["params"]))
def test_parameter_counts_equal_the_inventory(backbone):
    """Base and STC at 16 / 32 / 64 frames, 400 classes (the inventory's M, three decimals)."""
    counts = TABLE1["params"][backbone]
    assert round(_meta_params(backbone) / 1e6, 3) == counts["base"]
    ours = {frames: _meta_params(f"stc_{backbone}", clip_len=frames) for frames in (16, 32, 64)}
    assert {k: round(v / 1e6, 3) for k, v in ours.items()} == counts["stc"]


def test_exact_counts_of_the_backbones_and_table_5_variants():
    """Exact integers (the inventory rounds): Hara's ResNet-18 with its zero-padding shortcuts has no projection."""
    assert _meta_params("resnet3d_18") == 33_235_280
    assert _meta_params("resnext3d_101") == 48_340_816
    variants = {b: _meta_params("stc_resnet3d_101", clip_len=32, branches=b) for b in ("tcb", "scb", "tcb+scb")}
    assert {b: round(v / 1e6, 3) for b, v in variants.items()} == TABLE1["branch_params"]
    # placement moves the block, not its weights
    assert _meta_params("stc_resnet3d_50", clip_len=16, placement="A") == _meta_params("stc_resnet3d_50", clip_len=16)


@pytest.mark.parametrize("frames", [16, 32])
def test_output_sizes_equal_the_inventory(frames):
    for name in ("resnet3d_50", "stc_resnet3d_101", "stc_resnext3d_101"):
        shapes = diba2018.layer_outputs(name, frames)
        assert {k: list(v) for k, v in shapes.items()} == TABLE1["output"][frames], name


def test_stc_frames_are_the_feature_maps_lengths():
    assert stc_frames(16) == (8, 4, 2, 1) and stc_frames(32) == (16, 8, 4, 2) and stc_frames(7) == (4, 2, 1, 1)
    for clip_len in (8, 12):
        shapes = diba2018.layer_outputs("resnet3d_18", clip_len, size=32)
        assert tuple(shapes[f"conv{g}_x"][1] for g in range(2, 6)) == stc_frames(clip_len)


def test_an_stc_model_refuses_another_clip_length_with_a_clear_error():
    model = create("stc_resnet3d_18", num_classes=5, width=0.125, clip_len=8)
    assert model(torch.randn(2, 3, 8, 32, 32)).shape == (2, 5)
    with pytest.raises(ValueError, match="built for feature maps of 4 frames but got 8.*clip_len"):
        model(torch.randn(2, 3, 16, 32, 32))
    # without the spatial branch nothing depends on the clip length
    tcb = create("stc_resnet3d_18", num_classes=5, width=0.125, clip_len=8, branches="tcb")
    assert tcb(torch.randn(2, 3, 16, 32, 32)).shape == (2, 5)


def test_stc_block_gates_are_the_mean_of_its_branches():
    torch.manual_seed(0)
    block = STCBlock(channels=6, frames=3, reduction=2)
    x = torch.randn(2, 6, 3, 4, 4)
    s_tem = block.tcb(x.mean(dim=(2, 3, 4)))
    s_sp = block.scb(x.mean(dim=(3, 4)).transpose(1, 2).reshape(2, 18))  # time-major: frame 0's channels first
    torch.testing.assert_close(block(x), x * ((s_tem + s_sp) / 2)[:, :, None, None, None])
    assert [m.in_features for m in block.scb if isinstance(m, torch.nn.Linear)] == [18, 9]
    # TCB pools time away, so reordering frames does not change its gate; the SCB sees the order
    flipped = x.flip(2)
    torch.testing.assert_close(block.tcb(flipped.mean(dim=(2, 3, 4))), s_tem)
    assert not torch.allclose(block.scb(flipped.mean(dim=(3, 4)).transpose(1, 2).reshape(2, 18)), s_sp)
    with pytest.raises(ValueError, match="tcb\\+scb, tcb, scb"):
        STCBlock(6, 3, branches="both")


def test_placements_b_and_a():
    """B: z = y + x_stc(y) after the unit; A: z = ReLU(shortcut(x) + x_stc(F(x))), SE's place."""
    torch.manual_seed(0)
    for placement in ("B", "A"):
        model = create("stc_resnet3d_18", num_classes=5, width=0.125, clip_len=8, placement=placement).eval()
        unit = model.layer2[0]
        assert isinstance(unit, STCUnit)
        x = torch.randn(1, 8, 4, 8, 8)
        with torch.no_grad():
            if placement == "B":
                y = unit.unit(x)
                expected = y + unit.stc(y)
            else:
                expected = torch.relu(unit.unit.downsample(x) + unit.stc(unit.unit.branch(x)))
            torch.testing.assert_close(unit(x), expected)
    with pytest.raises(ValueError, match="placement"):
        create("stc_resnet3d_18", width=0.125, placement="C")


def test_hara_shortcuts_and_resnext_units():
    r18 = create("resnet3d_18", width=0.125)
    assert isinstance(r18.layer2[0].downsample, ZeroPadShortcut)
    x = torch.randn(1, 8, 4, 6, 6)
    out = r18.layer2[0].downsample(x)
    assert out.shape == (1, 16, 2, 3, 3)
    torch.testing.assert_close(out[:, :8], x[:, :, ::2, ::2, ::2])
    assert out[:, 8:].abs().sum() == 0
    r50 = create("resnet3d_50", width=0.125)
    assert isinstance(r50.layer2[0].downsample, torch.nn.Sequential)  # type B: 1x1x1 conv + BN
    rx = create("resnext3d_101", width=0.25)
    conv = rx.layer1[0].conv2[0]
    assert conv.groups == 32 and conv.in_channels == 32 and rx.layer1[0].conv3[0].out_channels == 64
    with pytest.raises(ValueError, match="channel per group"):
        create("resnext3d_101", width=0.125)


def test_gradients_reach_the_stem_and_the_gates_of_an_stc_resnext():
    model = create("stc_resnext3d_101", num_classes=4, width=0.25, clip_len=8)
    model(torch.randn(2, 3, 8, 32, 32)).sum().backward()
    assert model.stem[0].weight.grad.abs().sum() > 0
    assert model.layer1[0].stc.scb[0].weight.grad.abs().sum() > 0
    assert model.layer4[-1].stc.tcb[0].weight.grad.abs().sum() > 0


def test_table1_and_the_overhead_statement():
    table = diba2018.table1()
    assert table["match"].all() and list(table.index) == ["conv1", "pool", "conv2_x", "conv3_x", "conv4_x", "conv5_x"]
    assert "32 groups" in table.loc["conv2_x", "3D STC-ResNext101"] and "STC" not in table.loc["conv2_x", "3D-ResNet101"]
    overhead = diba2018.overhead_table()
    assert (overhead["params added (%)"] > 50).all() and (overhead["FLOPs added (%)"] < 2).all()
    assert "does not hold for parameters" in diba2018.overhead_text(overhead)


def test_table2_is_diba2017_table7_counted_by_the_same_code():
    from replicate.papers import diba2017

    table = diba2018.table2("smoke")
    assert table.equals(diba2017.table7("smoke"))
    assert list(table.index) == ["hmdb51", "ucf101", "kinetics"] and table.loc["ucf101", "paper clips"] == 13320
    assert (table["ours classes"] > 1).all()


def test_a_2d_resnet50_teaches_an_stc_student():
    """Section 3.2: a frozen 2D ImageNet ResNet teaches the 3D net; the suite's ResNet-50 (feichtenhofer2016's
    image net, ``pretrain_images@resnet50``) gives its pooled conv5_x features, which its fc turns into its scores."""
    from replicate.transfer import TransferNet

    torch.manual_seed(0)
    teacher = create("resnet50", width=0.125).eval()
    images = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(teacher.fc(teacher.forward_features(images)), teacher(images))
    assert teacher.num_features == 256
    net = TransferNet(create("stc_resnet3d_18", num_classes=128, width=0.125, clip_len=8), teacher, width=0.125)
    net(torch.randn(2, 6, 8, 32, 32)).sum().backward()
    assert all(p.grad is None for p in net.teacher.parameters())
    assert net.student.layer1[0].stc.scb[0].weight.grad.abs().sum() > 0


def test_placement_a_is_the_default_and_b_grows_the_identity_path():
    """B (z = y + x_stc(y)) multiplies the identity path by ~1.5 per unit: conv4_x's 23 units blow its output up by
    orders of magnitude at initialisation (why A, SE's placement, is the default); A stays at the plain net's scale."""
    unit = create("stc_resnet3d_18", num_classes=5, width=0.125, clip_len=8).layer1[0]
    assert isinstance(unit, STCUnit) and unit.placement == "A"
    rms = diba2018.placement_scale_table()
    plain, a, b = (rms.loc[n, "conv4_x RMS"] for n in rms.index)
    assert b > 1000 * plain and a < 2 * plain
    assert rms.loc[rms.index[2], "conv5_x RMS"] < 10  # conv5_1's projection shortcut (with BN) resets the scale
