"""The tran2018 video ResNets, the model registry and the FLOP/parameter counters.

Kept light for a loaded 2-core CPU: full-width models are built on the ``meta`` device where
only shapes matter (parameter counts, FLOPs), forward passes use width 0.25 and small
frames, and only the torchvision equivalence runs full-width models (on a 8x32x32 clip).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision.models.video as tv_video

from replicate.flops import count_flops, count_params
from replicate.models import create, list_models, register
from replicate.models.video_resnet import layer_output_shapes, r2plus1d_midplanes, scale_width

FAMILIES = ["r2d", "fr2d", "r3d", "mc2", "mc3", "mc4", "mc5", "rmc2", "rmc3", "rmc4", "rmc5", "r2plus1d"]
SMALL = dict(width=0.25, num_classes=5)


def meta(name: str, **kwargs) -> torch.nn.Module:
    """Full-size model without memory or init cost: enough for parameters and FLOPs."""
    with torch.device("meta"):
        return create(name, **kwargs)


# --- parameter counts (Table 2) -------------------------------------------------------------

# tran2018 Table 2, millions, 400 classes, 18 layers
PAPER_PARAMS_M = {
    "r2d_18": 11.4, "fr2d_18": 11.4, "r3d_18": 33.4,
    "mc2_18": 11.4, "mc3_18": 11.7, "mc4_18": 12.7, "mc5_18": 16.9,
    "rmc2_18": 33.3, "rmc3_18": 33.0, "rmc4_18": 32.0, "rmc5_18": 27.9,
    "r2plus1d_18": 33.3,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PAPER_PARAMS_M))
def test_params_match_paper_table2(name: str) -> None:
    n = count_params(meta(name)) / 1e6
    assert n == pytest.approx(PAPER_PARAMS_M[name], rel=0.01)


def test_params_torchvision_compat_and_vmz_r2plus1d_34() -> None:
    # torchvision's per-block M: 31.5M (pytorch/vision#1265); its own count is exact
    assert count_params(meta("r2plus1d_18", torchvision_compat=True)) == count_params(tv_video.r2plus1d_18())
    # VMZ model zoo lists R(2+1)D-34 at 63.6M; per-block M would give 61.8M
    assert count_params(meta("r2plus1d_34")) / 1e6 == pytest.approx(63.6, rel=0.01)


def test_r2plus1d_midplanes_per_conv() -> None:
    paper, compat = meta("r2plus1d_18"), meta("r2plus1d_18", torchvision_compat=True)
    # conv3_1: 64 -> 128 then 128 -> 128; the paper/VMZ computes M for each conv
    assert paper.layer2[0].conv1[0][0].out_channels == r2plus1d_midplanes(64, 128) == 230
    assert paper.layer2[0].conv2[0][0].out_channels == r2plus1d_midplanes(128, 128) == 288
    assert compat.layer2[0].conv2[0][0].out_channels == 230
    assert paper.stem[0].out_channels == 45  # appendix: 45 spatial filters in conv1


def test_width_rounding() -> None:
    assert [scale_width(c, 0.25) for c in (64, 128, 256, 512, 45)] == [16, 32, 64, 128, 11]
    assert scale_width(6, 0.25) == 2  # 1.5: halves round up, not to even
    assert scale_width(3, 0.1) == 1  # at least one channel
    model = meta("r2plus1d_18", width=0.25)
    assert model.stem[0].out_channels == 11 and model.fc.in_features == 128
    assert model.layer2[0].conv2[0][0].out_channels == r2plus1d_midplanes(32, 32)


# --- output sizes (Table 1, section 4.1) ----------------------------------------------------

TABLE1 = {"conv1": (8, 56, 56), "conv2_x": (8, 56, 56), "conv3_x": (4, 28, 28), "conv4_x": (2, 14, 14), "conv5_x": (1, 7, 7)}


@pytest.mark.parametrize("depth", [18, 34])
def test_r3d_layer_sizes_match_table1(depth: int) -> None:
    model = create(f"r3d_{depth}", **SMALL)  # sizes do not depend on width
    shapes = layer_output_shapes(model, (3, 8, 112, 112))
    assert {k: v[1:] for k, v in shapes.items() if k in TABLE1} == TABLE1
    assert shapes["conv5_x"][0] == 128 and shapes["pool"] == (128, 1, 1, 1)


# temporal size of the last conv for an 8-frame clip: only 3D/(2+1)D groups stride in time
LAST_T = {
    "r2d": 1, "fr2d": 8, "r3d": 1, "r2plus1d": 1,
    "mc2": 8, "mc3": 8, "mc4": 4, "mc5": 2,  # VMZ final temporal kernels [8, 8, 4, 2]
    "rmc2": 1, "rmc3": 1, "rmc4": 2, "rmc5": 4,  # VMZ [1, 1, 2, 4]
}  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
def test_last_conv_temporal_size(family: str) -> None:
    shapes = layer_output_shapes(create(f"{family}_18", **SMALL), (3, 8, 32, 32))
    assert shapes["conv5_x"][1:] == (LAST_T[family], 2, 2)  # 32 px / 16


def test_mixed_convolution_kernels() -> None:
    """MC3: 3D conv1 and conv2_x, 2D above; rMC3: the reverse (VMZ create_mcx / create_rmcx)."""
    mc3, rmc3 = meta("mc3_18"), meta("rmc3_18")
    t = lambda conv: conv.kernel_size[0]  # noqa: E731
    assert [t(mc3.stem[0])] + [t(getattr(mc3, f"layer{i}")[0].conv1[0]) for i in range(1, 5)] == [3, 3, 1, 1, 1]
    assert [t(rmc3.stem[0])] + [t(getattr(rmc3, f"layer{i}")[0].conv1[0]) for i in range(1, 5)] == [1, 1, 3, 3, 3]
    # a 2D group downsamples in space only, its shortcut too
    assert mc3.layer2[0].downsample[0].stride == (1, 2, 2) and rmc3.layer2[0].downsample[0].stride == (2, 2, 2)


# --- torchvision equivalence ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, tv_builder, kwargs",
    [
        ("r3d_18", tv_video.r3d_18, {}),
        ("mc3_18", tv_video.mc3_18, {}),
        ("r2plus1d_18", tv_video.r2plus1d_18, {"torchvision_compat": True}),
    ],
)
def test_torchvision_state_dict_loads_and_matches(name: str, tv_builder, kwargs: dict) -> None:
    torch.manual_seed(0)
    ref = tv_builder(weights=None).eval()
    for m in ref.modules():  # non-trivial BN so that a mis-wired BN would show
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    ours = create(name, **kwargs).eval()
    ours.load_state_dict(ref.state_dict())  # strict: the module names are torchvision's
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))


def test_paper_r2plus1d_does_not_load_torchvision_weights() -> None:
    with pytest.raises(RuntimeError, match="size mismatch"):
        meta("r2plus1d_18").load_state_dict(tv_video.r2plus1d_18().state_dict(), assign=True)


# --- registry -------------------------------------------------------------------------------


def test_registry_lists_every_variant() -> None:
    names = set(list_models())
    assert {f"{f}_{d}" for f in FAMILIES for d in (18, 34)} <= names
    assert list_models("mc?_18") == ["mc2_18", "mc3_18", "mc4_18", "mc5_18"]


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(KeyError) as err:
        create("r2plus1d18")
    msg = str(err.value)
    assert "did you mean r2plus1d_18" in msg and "rmc5_34" in msg


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register(lambda **kw: None, name="r3d_18")


@pytest.mark.parametrize("name", [f"{f}_{d}" for f in FAMILIES for d in (18, 34)])
def test_every_variant_runs_16_frames(name: str) -> None:
    model = create(name, clip_len=16, **SMALL).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 16, 16, 16)).shape == (1, 5)


def test_optical_flow_input_channels() -> None:
    model = create("r2plus1d_18", in_channels=2, **SMALL).eval()
    assert model.stem[0].in_channels == 2
    with torch.no_grad():
        assert model(torch.randn(2, 2, 8, 32, 32)).shape == (2, 5)


def test_r2d_refuses_other_clip_length() -> None:
    model = create("r2d_18", clip_len=8, **SMALL)
    assert layer_output_shapes(model, (3, 8, 32, 32))["conv1"][1] == 1  # time folded into conv1
    with pytest.raises(ValueError, match="clip_len=16"):
        model(torch.randn(1, 3, 16, 32, 32))


# --- FLOPs (section 4.2, Figure 3) ----------------------------------------------------------


def test_count_flops_runs_on_real_and_meta_models() -> None:
    model = create("r3d_18", **SMALL)
    flops = count_flops(model, (3, 8, 32, 32))
    assert flops > 0 and model.training  # training flag restored
    assert flops == count_flops(meta("r3d_18", **SMALL), (3, 8, 32, 32))


def test_flops_follow_the_papers_comparisons() -> None:
    flops = {f: count_flops(meta(f"{f}_18"), (3, 8, 112, 112)) for f in FAMILIES}
    # "R(2+1)D has roughly the same cost as R3D"
    assert flops["r2plus1d"] == pytest.approx(flops["r3d"], rel=0.03)
    # "The most efficient network is R2D"
    assert min(flops, key=flops.get) == "r2d"
    # "rMC3 is more efficient than f-R2D"; "rMC2 is more costly than rMC3"
    assert flops["rmc3"] < flops["fr2d"] < flops["rmc2"]


# --- public weights: the loading path, with a locally saved stand-in for torchvision's file ---


def test_torchvision_kinetics_weights_load_from_the_hub_cache(tmp_path) -> None:
    from replicate.models import pretrained

    torch.manual_seed(0)
    ref = tv_video.r2plus1d_18(weights=None).eval()  # randomly initialised, saved under the real file name
    path = pretrained.weights_path("r2plus1d_18", hub_dir=tmp_path)
    assert path.name == Path(tv_video.R2Plus1D_18_Weights.KINETICS400_V1.url).name
    path.parent.mkdir(parents=True)
    torch.save(ref.state_dict(), path)
    ours = pretrained.load_torchvision_kinetics("r2plus1d_18", hub_dir=tmp_path).eval()
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x))
    tuned = pretrained.load_torchvision_kinetics("r2plus1d_18", num_classes=7, hub_dir=tmp_path)
    assert tuned.fc.out_features == 7
    torch.testing.assert_close(tuned.layer3[0].conv1[0][0].weight, ref.layer3[0].conv1[0][0].weight)


def test_missing_public_weights_say_where_to_put_them(tmp_path) -> None:
    from replicate.models import pretrained

    with pytest.raises(FileNotFoundError) as err:
        pretrained.load_torchvision_kinetics("r3d_18", hub_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "checkpoints" / "r3d_18-b3b3357e.pth") in msg and "https://download.pytorch.org/" in msg
    with pytest.raises(KeyError, match="only for r3d_18, mc3_18, r2plus1d_18"):
        pretrained.weights_path("r3d_34")


@pytest.mark.parametrize("name", ["r2d_18", "fr2d_18", "r3d_18", "mc3_18", "rmc3_18", "r2plus1d_18", "r3d_34"])
def test_zero_init_residual_starts_every_block_as_its_shortcut(name):
    from replicate.models.video_resnet import BasicBlock

    plain = create(name, num_classes=5, width=0.125)
    zero = create(name, num_classes=5, width=0.125, zero_init_residual=True)
    blocks = [m for m in zero.modules() if isinstance(m, BasicBlock)]
    assert blocks and all(torch.count_nonzero(b.conv2[1].weight) == 0 for b in blocks)
    assert sum(p.numel() for p in zero.parameters()) == sum(p.numel() for p in plain.parameters())
    # a block without downsampling then returns relu(its input)
    block = next(b for b in blocks if b.downsample is None).eval()
    x = torch.randn(1, block.conv1[1].num_features, 2, 4, 4)
    torch.testing.assert_close(block(x), torch.relu(x))
