"""The ``paper`` profile through DVC, on tiny trees in the real formats (tests/realformat.py).

What a user with the real datasets runs (``dvc exp run -S profile=paper``), with one documented
size override so that it fits CI: ``profiles.paper.tran2018`` gets 1 epoch, batch 2, 1 test
clip, no DataLoader workers and split 1 only (mansimov2015 and its image pretraining likewise). Everything else is the paper profile as shipped:
scale 1 (8x112x112 clips from frames resized to 128x171, full-width R(2+1)D-18 / -34), fp32, the
real-format adapters, the manifests, optical flow into ``real_data.<role>.flow_root``, training,
evaluation, a fine-tune onto UCF101 and a notebook.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from realformat import TRUNCATED_KINETICS_VAL, UCF_CLASSES, dvc, edit_params, project, write_real_datasets

#: the size override (params.yaml: profiles.paper.tran2018), the only change to the paper profile
SIZE_OVERRIDE = {"epochs": 1, "batch_size": 2, "test_clips": 1, "num_workers": 0, "cache_frames": False, "splits": [1]}
#: mansimov2015's size override (profiles.paper.mansimov2015 and .image_pretraining), likewise the only change
MANSIMOV_OVERRIDE = {"epochs": 1, "batch_size": 2, "test_clips": 1, "freeze_iters": 1, "num_workers": 0,
                     "cache_frames": False}
PRETRAIN_OVERRIDE = {"epochs": 1, "batch_size": 2, "num_workers": 0}
#: feichtenhofer2016's (profiles.paper.feichtenhofer2016): one epoch of batches of 2, 5 test frames, split 1; everything
#: else (224 px, ST-ResNet's 5 chunks, whole-frame tests with flips) as shipped
FEICHTENHOFER_OVERRIDE = {"epochs": 1, "step_epochs": 1, "batch_size": 2, "test_frames": 5, "test_batch_size": 1,
                          "num_workers": 0, "splits": [1]}
#: the IDT stand-in's (profiles.paper.idt): the tiny tree's videos have 12 frames of 32x64, shorter than IDT's
#: 15-frame trajectories and 32-px volumes, and too few trajectories for 256 GMM components
IDT_OVERRIDE = {"length": 6, "starts_every": 3, "patch": 8, "gmm_components": 2, "gmm_sample": 2000, "splits": [1]}
#: diba2017's (profiles.paper.diba2017): one epoch of batches of 2, split 1, half of the 4 unlabelled clips held out
#: for the pair accuracy (a held-out set needs two videos); everything else (32 x 224 x 224 clips, full-width
#: T3D-121, 5 TSN segments, the DenseNet-121 teacher at 224 px) as shipped
DIBA_OVERRIDE = {"epochs": 1, "step_epochs": 1, "batch_size": 2, "num_workers": 0, "splits": [1],
                 "groups": {"supervision_transfer": {"held_out_every": 2}}}
#: Table 7 (no training: it counts the real lists) and Table 8's supervision transfer (with the teacher's pretraining).
#: Not the fine-tunes of FT-Transfer's chain (half of Kinetics from the transfer, then UCF101: tran2018's fine-tune code
#: path, which its test runs at paper; 40 s each here, and the smoke notebook table8 runs the chain), nor T3D+TSN
#: (Table 10): its 5 x 32 x 224^2 clips per sample cost CI 3 minutes for a code path the smoke notebook (table10) and
#: tests/test_diba2017_models.py already run; the paper settings of all three are checked below without training
DIBA_TARGETS = ["diba2017_table7", "transfer_diba2017@transfer_t3d"]
#: diba2018's (profiles.paper.diba2018): one epoch of batches of 2, split 1; everything else (112 px, Hara's full-width
#: backbones with an STC block per unit) as shipped
DIBA2018_OVERRIDE = {"epochs": 1, "step_epochs": 1, "batch_size": 2, "num_workers": 0, "splits": [1]}
#: Table 2 (counted from the real lists) and a full-width STC-ResNet-101 built for the paper's 16-frame clips (156M
#: parameters, 33 STC blocks), trained and tested on the UCF101 tree. Not the 32-frame baseline (277M parameters: the
#: same code path at twice the cost), nor the transfers and fine-tunes (diba2017's code paths, which its test runs at
#: paper; the smoke notebooks run diba2018's chains); their paper settings are checked in tests/test_diba2018_tables.py
DIBA2018_TARGETS = ["diba2018_table2", "train_diba2018@stc_resnet101_16f"]
#: the Composite LSTM's (profiles.paper.composite_lstm): one epoch of each phase on batches of 2
COMPOSITE_OVERRIDE = {"pretrain": {"epochs": 1, "batch_size": 2}, "classifier": {"epochs": 1, "batch_size": 2}}
#: mansimov2015's stages, one of each kind: the image net, the 2D net, NWI, the Composite LSTM and Table 2 (which pulls
#: in both), the flow stack. Not Table 1 / Figure 2's other inits (IA / IS / ZWI: NWI's code path with another alpha),
#: the other two flow nets (flow_stack's code path with another model: their paper settings are checked below),
#: Table 3 (Table 2's code path) or Figure 1 (full-size nets whatever the profile): the smoke notebooks run those
MANSIMOV_TARGETS = ["train_mansimov2015@spatial_2d", "mansimov2015_table2", "train_flow_mansimov2015@flow_stack"]
#: Kinetics' and Sports-1M's flow, R(2+1)D-34 on RGB (pulled in by the transfer), the Kinetics -> UCF101 transfer. Not
#: the flow net's training (RGB's code path on 2 channels of the stored flow, which mansimov2015's flow stack and
#: feichtenhofer2016's motion streams train on at paper below; its settings are checked), nor the Table 1 notebooks
#: (this paper's or the others'): they depend on no profile setting, and nbval runs them
TARGETS = ["flow@kinetics", "transfer_tran2018@ucf101_s1_rgb_from_kinetics", "flow_sports1m"]


@pytest.fixture(scope="module")
def paper_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    real = write_real_datasets(root / "datasets")
    proj = project(root / "project")
    params = edit_params(proj, profile="paper", real_data=real)
    params["profiles"]["paper"]["tran2018"].update(SIZE_OVERRIDE)
    params["profiles"]["paper"]["mansimov2015"].update(MANSIMOV_OVERRIDE)
    params["profiles"]["paper"]["image_pretraining"].update(PRETRAIN_OVERRIDE)
    params["profiles"]["paper"]["feichtenhofer2016"].update(FEICHTENHOFER_OVERRIDE)
    params["profiles"]["paper"]["idt"] = IDT_OVERRIDE
    params["profiles"]["paper"]["composite_lstm"] = COMPOSITE_OVERRIDE
    params["profiles"]["paper"]["diba2017"].update(DIBA_OVERRIDE)
    params["profiles"]["paper"]["diba2018"].update(DIBA2018_OVERRIDE)
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return proj, real


def test_paper_profile_runs_end_to_end_on_real_formats(paper_project):
    from replicate.runs import run_settings

    proj, real = paper_project
    done = dvc(proj, "repro", *TARGETS, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the data stage validated every role and wrote manifests, not placeholders
    summary = json.loads((proj / "data/paper/manifest.json").read_text())
    assert set(summary["roles"]) == {"ucf101", "hmdb51", "kinetics", "sports1m", "unlabelled", "images"}
    kinetics = json.loads((proj / "data/paper/kinetics/manifest.json").read_text())
    assert len(kinetics["videos"]) == 11 and all(size > 0 for size in kinetics["videos"].values())
    assert not list((proj / "data/paper").rglob("*.mp4"))  # nothing generated, nothing copied
    # flow went into real_data.<role>.flow_root; the stage output is its manifest
    flow = json.loads((proj / "data/paper/flow/kinetics/manifest.json").read_text())
    assert flow["flow_root"] == real["kinetics"]["flow_root"] and len(flow["files"]) >= 10
    assert len(list(Path(real["sports1m"]["flow_root"]).rglob("*.npz"))) == 10  # its 6 train + 4 test videos
    # training at the paper's architecture and input size
    s = run_settings("tran2018", "r2plus1d_34_flow", "paper", yaml.safe_load((proj / "params.yaml").read_text()))
    assert (s["model"], s["modality"], s["crop"], s["clip_len"], s["width"]) == ("r2plus1d_34", "flow", 112, 8, 1.0)
    m = json.loads((proj / "runs/paper/tran2018/r2plus1d_34/seed0/metrics.json").read_text())
    s = m["settings"]
    assert (s["model"], s["crop"], s["clip_len"], s["resize"], s["width"]) == ("r2plus1d_34", 112, 8, [128, 171], 1.0)
    assert m["environment"]["precision"] == "fp32" and m["flops"] > 1e9
    # the truncated validation video is counted, by id, and no per-video array counts it
    assert m["unscored_test_videos"] == [TRUNCATED_KINETICS_VAL] and m["skipped_videos"]["test"] == 1
    assert len(m["test_video_ids"]) == len(m["video_correct"]) == m["num_test_videos"] == 4
    assert (proj / "runs/paper/tran2018/r2plus1d_34/seed0/final.pt").is_file()
    transfer = json.loads((proj / "runs/paper/tran2018/ucf101_s1_rgb_from_kinetics/seed0/metrics.json").read_text())
    assert transfer["num_test_videos"] == 2 and transfer["settings"]["init_from"] == "r2plus1d_34"
    # finished runs leave no checkpoints behind, and DVC sees the study as up to date
    assert not (proj / "checkpoints").exists() or not any((proj / "checkpoints").rglob("*.pt"))
    status = dvc(proj, "status", *TARGETS)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_mansimov2015_runs_at_paper_on_real_formats(paper_project):
    """The image net pretrained on the ImageFolder tree at 224 px and full width, then the 2D net and the
    NWI-inflated 3D net fine-tuned from it on UCF101 split 1 (6-frame clips, 224 crops of 256-px frames), the
    flow stack from scratch (the other flow nets' settings), the Composite LSTM (unlabelled list, then UCF101) and
    Table 2's fusion."""
    from replicate.flops import count_params
    from replicate.models import create
    from replicate.runs import run_settings

    proj, _ = paper_project
    done = dvc(proj, "repro", *MANSIMOV_TARGETS, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pre = json.loads((proj / "runs/paper/image_pretraining/mansimov_2d/metrics.json").read_text())
    assert pre["source"] == "trained" and pre["classes"] == ["n01440764", "n01443537"] and pre["num_val_images"] == 4
    assert (pre["settings"]["crop"], pre["settings"]["resize"], pre["settings"]["width"]) == (224, 256, 1.0)
    for run, model, clip_len in (("spatial_2d", "mansimov_2d_ft", 1), ("init_nwi", "mansimov_3d", 6)):
        m = json.loads((proj / f"runs/paper/mansimov2015/{run}/seed0/metrics.json").read_text())
        s = m["settings"]
        assert (s["model"], s["crop"], s["resize"], s["clip_len"], s["width"]) == (model, 224, [256, 341], clip_len, 1.0)
        assert s["init_from"] == "image:mansimov_2d" and m["environment"]["precision"] == "fp32"
        assert m["params"] == count_params(create(model, num_classes=len(UCF_CLASSES)))  # the paper's net, full width
    # the flow nets from scratch on the stored flow: 1 or 10 fields x 2 channels at 224 px, full width (one trained)
    flow = json.loads((proj / "runs/paper/mansimov2015/flow_stack/seed0/metrics.json").read_text())
    assert flow["params"] == count_params(create("mansimov_flow_stack", num_classes=len(UCF_CLASSES)))
    params = yaml.safe_load((proj / "params.yaml").read_text())
    for run, clip_len in (("flow_single", 1), ("flow_stack", 10), ("flow_slow", 10)):
        s = flow["settings"] if run == "flow_stack" else run_settings("mansimov2015", run, "paper", params)
        assert (s["modality"], s["clip_len"], s["crop"], s["init_from"], s["freeze_iters"]) == ("flow", clip_len, 224, None, 0)
    # the Composite LSTM: fc6 of the full-width image net (4096), 2048 units, the code's optimiser settings
    lstm = json.loads((proj / "runs/paper/mansimov2015/composite_lstm/seed0/metrics.json").read_text())
    s = lstm["settings"]
    assert (s["hidden"], s["window"], s["crop"], s["pretrain"]["lr"], s["pretrain"]["clip"]) == (2048, 16, 224, 1e-4, 1e-4)
    assert lstm["windows"]["unlabelled"] > 0 and lstm["num_test_videos"] == len(lstm["video_correct"]) > 0
    assert "NWI + Composite LSTM" in (proj / "results/mansimov2015/paper/table2.md").read_text()
    status = dvc(proj, "status", *MANSIMOV_TARGETS)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


#: feichtenhofer2016's stages, one of each kind: the ResNet-50 both streams start from, Table 2, and HMDB51's chain
#: of Table 3 (the appearance stream, the motion stream fine-tuned from UCF101's, ST-ResNet) and of Table 4 (the IDT
#: stand-in). Not ST-ResNet* (ST-ResNet's code path with the temporal max pool over at least 5 chunks: 40 s of CI at
#: 224 px; the smoke notebook table3 trains it, tests/test_st_resnet.py checks its sizes on 11 chunks of 224 px, its
#: paper settings are checked below), UCF101's copies of the same stages, the Table 3-4 notebooks and the 16 skipped split-2/3 stages they
#: pull in, nor Table 1 / Figures 1-3 (full-size nets whatever the profile): the smoke notebooks run those
FEICHTENHOFER_TARGETS = ["pretrain_images@resnet50", "feichtenhofer2016_table2",
                         "train_feichtenhofer2016_st_resnet@hmdb51_split1", "idt_feichtenhofer2016@hmdb51_split1"]


def test_feichtenhofer2016_stages_run_at_paper(paper_project):
    """ResNet-50 (MSRA's v1, full width, 1000-class head sized by the ImageFolder tree) pretrained at 224 px,
    Table 2 (the phases' settings at this profile), HMDB51's training chain (its motion stream from UCF101's)
    on the real-format trees at full size: 224-px crops, tests on whole frames and their flips; ST-ResNet*'s paper
    settings; the IDT stand-in."""
    from replicate.flops import count_params
    from replicate.models import create
    from replicate.runs import run_settings

    proj, _ = paper_project
    done = dvc(proj, "repro", *FEICHTENHOFER_TARGETS, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pre = json.loads((proj / "runs/paper/image_pretraining/resnet50/metrics.json").read_text())
    s = pre["settings"]
    assert (s["crop"], s["width"], s["lr"], s["model_kwargs"]) == (224, 1.0, 0.1, {"stride_in_1x1": True})
    assert pre["params"] == count_params(create("resnet50", num_classes=2))
    runs_dir = proj / "runs/paper/feichtenhofer2016"
    st = json.loads((runs_dir / "st_resnet_hmdb51_split1/seed0/metrics.json").read_text())
    s = st["settings"]
    assert (s["model"], s["crop"], s["width"], s["chunks"], s["tau"], s["test_whole_frame"], s["test_flips"]) == (
        "st_resnet50", 224, 1.0, 5, [5, 15], True, True)
    assert s["init_from"] == ["appearance_hmdb51_split1", "motion_hmdb51_split1"] and st["num_test_videos"] >= 1
    star = run_settings("feichtenhofer2016", "st_resnet_star_hmdb51_split1", "paper", yaml.safe_load((proj / "params.yaml").read_text()))
    assert (star["model"], star["crop"], star["chunks"], star["tau"], star["init_from"], star["test_whole_frame"]) == (
        "st_resnet50_star", 224, 11, [1, 15], "st_resnet_hmdb51_split1", True)
    motion = json.loads((runs_dir / "motion_hmdb51_split1/seed0/metrics.json").read_text())
    assert motion["settings"]["init_from"] == "motion_ucf101_split1"
    assert "Appearance" in (proj / "results/feichtenhofer2016/paper/table2.md").read_text()
    idt_run = json.loads((runs_dir / "idt_hmdb51_split1/seed0/metrics.json").read_text())
    assert idt_run["settings"]["gmm_components"] == 2 and idt_run["settings"]["grid"] == 5  # the spec's W = 5
    assert sum(idt_run["trajectories"].values()) > 0 and idt_run["num_test_videos"] >= 1
    status = dvc(proj, "status", *FEICHTENHOFER_TARGETS)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_diba2017_stages_run_at_paper(paper_project):
    """The DenseNet-121 teacher pretrained at 224 px, the 2D -> 3D supervision transfer of a full-width T3D-121 on
    the unlabelled list (32 x 224 x 224 clips), Table 7 counted from the real-format lists; the paper settings of
    FT-Transfer's two fine-tunes and of T3D+TSN (5 segments of 32 frames)."""
    from replicate.flops import count_params
    from replicate.models import create
    from replicate.runs import run_settings

    proj, _ = paper_project
    done = dvc(proj, "repro", *DIBA_TARGETS, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs_dir = proj / "runs/paper/diba2017"
    st = json.loads((runs_dir / "transfer_t3d/seed0/metrics.json").read_text())
    s = st["settings"]
    assert (s["model"], s["crop"], s["clip_len"], s["width"], s["teacher"]) == ("t3d_121", 224, 32, 1.0, "image:densenet121")
    assert st["teacher_unchanged"] and st["held_out_pairs"] == 2 and st["train_pairs"] == 2
    assert st["params"]["student"] == count_params(create("t3d_121", num_classes=1024))
    params = yaml.safe_load((proj / "params.yaml").read_text())
    half = run_settings("diba2017", "half_kinetics_t3d", "paper", params)
    assert (half["train_fraction"], half["init_from"], half["dataset"], half["crop"]) == (0.5, "transfer_t3d", "kinetics", 224)
    ft = run_settings("diba2017", "ft_transfer_t3d_ucf101_split1", "paper", params)
    assert (ft["init_from"], ft["dataset"], ft["crop"]) == ("half_kinetics_t3d", "ucf101", 224)
    tsn = run_settings("diba2017", "t3d_tsn_ucf101_split1", "paper", params)
    assert (tsn["segments"], tsn["test_clips"], tsn["clip_len"], tsn["crop"], tsn["init_from"]) == (5, "all", 32, 224, "kinetics_t3d")
    table7 = (proj / "results/diba2017/paper/table7.csv").read_text()
    assert "ucf101" in table7 and "kinetics" in table7
    status = dvc(proj, "status", *DIBA_TARGETS)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_diba2018_stages_run_at_paper(paper_project):
    """Table 2 counted from the real-format lists, and a full-width STC-ResNet-101 for 16-frame clips at 112 px trained
    and tested on the UCF101 tree (its SCBs built for the clip length, every test clip of it)."""
    from replicate.flops import count_params
    from replicate.models import create

    proj, _ = paper_project
    done = dvc(proj, "repro", *DIBA2018_TARGETS, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    m = json.loads((proj / "runs/paper/diba2018/stc_resnet101_16f/seed0/metrics.json").read_text())
    s = m["settings"]
    assert (s["model"], s["clip_len"], s["crop"], s["resize"], s["width"], s["stride"]) == (
        "stc_resnet3d_101", 16, 112, [122, 163], 1.0, 2)
    assert m["params"] == count_params(create("stc_resnet3d_101", num_classes=len(UCF_CLASSES), clip_len=16))
    assert m["params"] > 150e6 and m["environment"]["precision"] == "fp32" and m["num_test_videos"] >= 1
    table2 = (proj / "results/diba2018/paper/table2.csv").read_text()
    assert "ucf101" in table2 and "kinetics" in table2
    status = dvc(proj, "status", *DIBA2018_TARGETS)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_wrong_root_fails_the_data_stage_naming_key_and_path(paper_project, tmp_path):
    proj, real = paper_project
    wrong = tmp_path / "HMDB51_not_here"
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["real_data"]["hmdb51"]["root"] = str(wrong)
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        failed = dvc(proj, "repro", "data", timeout=600)
    finally:
        edit_params(proj, real_data=real)
    assert failed.returncode != 0
    out = failed.stdout + failed.stderr
    assert f"HMDB51 videos not found: {wrong}" in out and "real_data.hmdb51.root in params.yaml" in out
    assert "Traceback" not in out


def test_a_role_set_to_null_is_recorded_not_required(paper_project, tmp_path):
    """A tran2018-only user without ImageNet or HMDB51 sets those roles to null: the data stage
    records them as not configured (the stages that read them would stop) and validates the rest."""
    import subprocess
    import sys

    proj, real = paper_project
    params = yaml.safe_load((proj / "params.yaml").read_text())
    for role in ("hmdb51", "images", "unlabelled"):
        params["real_data"][role] = None
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "replicate.data.build", "--profile", "paper", "--params",
                           str(tmp_path / "params.yaml"), "--out", str(tmp_path / "data"), "--results", str(tmp_path / "results")],
                          cwd=proj, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    hmdb = json.loads((tmp_path / "data/hmdb51/manifest.json").read_text())
    assert "not_configured" in hmdb and "real_data.hmdb51 is null" in hmdb["not_configured"]
    assert json.loads((tmp_path / "data/kinetics/manifest.json").read_text())["counts"]["train (on disk)"] == 6
    assert "not configured (`real_data.hmdb51: null`)" in (tmp_path / "results/dataset_card.md").read_text()
    assert not (tmp_path / "results/hmdb51_samples.png").exists() and (tmp_path / "results/ucf101_samples.png").is_file()
