"""Run configuration (paper settings -> run -> profile -> group) and starting from another run."""
from __future__ import annotations

import pytest
import torch

from replicate import config, runs


def _params(**tran2018) -> dict:
    params = config.load_params()
    params["profiles"]["mini"] = {**params["profiles"]["mini"], "scale": {"width": 0.25, "space": 0.5, "time": 1.0},
                                  "tran2018": tran2018}
    return params


def test_profile_scales_paper_units_and_replaces_what_a_factor_cannot():
    s = runs.run_settings("tran2018", "r3d_18", "mini", _params(epochs=3, test_clips=4))
    assert (s["crop"], s["resize"], s["clip_len"], s["width"]) == (56, [64, 86], 8, 0.25)
    assert (s["epochs"], s["test_clips"], s["lr"]) == (3, 4, 0.01)  # lr stays the paper's


def test_a_group_is_scaled_on_its_own():
    params = _params(epochs=3, groups={"figure5": {"scale": {"time": 0.5, "width": 0.125}, "epochs": 2}})
    f48 = runs.run_settings("tran2018", "r2plus1d_18_f48", "mini", params)
    assert (f48["clip_len"], f48["width"], f48["epochs"], f48["crop"]) == (24, 0.125, 2, 56)
    other = runs.run_settings("tran2018", "r2plus1d_18", "mini", params)
    assert (other["clip_len"], other["width"], other["epochs"]) == (8, 0.25, 3)
    # overrides are in paper units and scaled like the run's own keys
    assert runs.run_settings("tran2018", "r2plus1d_18_f8", "mini", params, overrides={"clip_len": 32})["clip_len"] == 16


def test_a_model_override_applies_to_every_run_of_that_model_under_its_group():
    finetune = next(r for r, v in runs.spec_runs(runs.load_spec("tran2018")).items() if (v or {}).get("group") == "transfer")
    model = runs.run_settings("tran2018", finetune, "mini", _params())["model"]
    params = _params(epochs=3, lr=0.05, models={model: {"lr": 0.02, "zero_init_residual": True}},
                     groups={"transfer": {"lr": 0.005}})
    scratch = next(r for r, v in runs.spec_runs(runs.load_spec("tran2018")).items()
                   if (v or {}).get("model") == model and (v or {}).get("group") != "transfer")
    s = runs.run_settings("tran2018", scratch, "mini", params)
    assert (s["lr"], s["zero_init_residual"], s["epochs"]) == (0.02, True, 3)
    other = runs.run_settings("tran2018", "r2plus1d_18", "mini", params)
    assert other["lr"] == 0.05 and "zero_init_residual" not in other and "models" not in other
    assert runs.run_settings("tran2018", finetune, "mini", params)["lr"] == 0.005  # a fine-tune's lr wins


def test_unknown_run_names_the_known_ones():
    with pytest.raises(KeyError, match="r2plus1d_18_f32_from_f8"):
        runs.run_settings("tran2018", "r2plus1d_18_f99", "mini")


def test_init_from_loads_every_weight_but_a_classifier_of_another_size(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path)
    source = runs.build_model("tran2018", "r2plus1d_18_f8", "mini", num_classes=7)
    (tmp_path / "mini" / "tran2018" / "r2plus1d_18_f8" / "seed1").mkdir(parents=True)
    torch.save(source.state_dict(), tmp_path / "mini" / "tran2018" / "r2plus1d_18_f8" / "seed1" / "final.pt")
    # seed index 1 of the fine-tune starts from seed index 1 of its source
    s = runs.seed_settings(runs.run_settings("tran2018", "r2plus1d_18_f32_from_f8", "mini"), 1)
    target = runs.build_model("tran2018", "r2plus1d_18_f32_from_f8", "mini", num_classes=5)
    assert runs._initialise(target, s, {}) == "r2plus1d_18_f8"
    torch.testing.assert_close(target.layer2[0].conv1[0][0].weight, source.layer2[0].conv1[0][0].weight)
    assert target.fc.out_features == 5
    missing = dict(s, init_from="nope")
    with pytest.raises(FileNotFoundError, match="train nope first"):
        runs._initialise(target, missing, {})


def test_flow_roots_say_how_to_make_the_flow(tmp_path):
    params = {"profile": "paper", "real_data": {"ucf101": {"root": str(tmp_path)}}}
    with pytest.raises(config.DatasetError, match="real_data.ucf101.flow_root"):
        config.flow_roots("ucf101", "paper", params)
    params["real_data"]["ucf101"]["flow_root"] = str(tmp_path / "flow")
    with pytest.raises(config.DatasetError, match=r"dvc repro flow@ucf101.*replicate.data.flow --role ucf101 --profile paper"):
        config.flow_roots("ucf101", "paper", params)


# --- which runs a profile trains: the same run twice, skipped splits / groups / self-transfers ---
def test_stand_in_roles_make_sports1m_runs_the_kinetics_ones_at_mini():
    plan = lambda run, profile="mini": runs.run_plan("tran2018", run, profile)  # noqa: E731
    assert config.data_role("sports1m", "mini") == "kinetics" and config.data_role("sports1m", "paper") == "sports1m"
    assert plan("s1m_r2plus1d_34") == {"action": "same_as", "run": "r2plus1d_34"}
    assert plan("s1m_r2plus1d_34_flow") == {"action": "same_as", "run": "r2plus1d_34_flow"}
    # a transfer from an aliased source is the same as the transfer from the source itself
    assert plan("ucf101_s1_rgb_from_s1m") == {"action": "same_as", "run": "ucf101_s1_rgb_from_kinetics"}
    assert plan("ucf101_s1_rgb_from_kinetics") == {"action": "train"}
    # Sports-1M -> Kinetics on one stand-in would train twice on the same videos
    assert plan("r2plus1d_34_from_s1m")["action"] == "skip"
    assert "same videos" in plan("r2plus1d_34_from_s1m")["reason"]
    # the profile's splits and skipped groups
    assert "split 2" in plan("hmdb51_s2_flow_from_kinetics")["reason"]
    assert "table3_32frame" in plan("s1m_r2plus1d_34_f32")["reason"]
    # on real data every role is itself: everything trains
    for run in ("s1m_r2plus1d_34", "r2plus1d_34_from_s1m", "hmdb51_s3_flow_from_s1m", "s1m_r2plus1d_34_flow_f32"):
        assert plan(run, "paper") == {"action": "train"}, run


def _toy_spec(tmp_path, monkeypatch, spec: dict) -> None:
    import yaml

    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(runs, "SPEC_DIR", tmp_path)
    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path / "runs")


TOY_SETTINGS = {"dataset": "ucf101", "clip_len": 8, "stride": 1, "resize": [128, 171], "crop": 112, "test_clips": 2}


def test_identical_runs_train_once_and_markers_say_why(tmp_path, monkeypatch):
    _toy_spec(tmp_path, monkeypatch, {
        "settings": TOY_SETTINGS,
        "runs": {"a": {"model": "r3d_18", "curves": True}, "b": {"model": "r3d_18"}, "c": {"model": "r3d_18", "clip_len": 16},
                 "d": {"model": "r3d_18", "split": 3}},
    })
    params = config.load_params()
    params["profiles"]["mini"] = {**params["profiles"]["mini"], "toy": {"splits": [1, 2]}}
    assert runs.run_plan("toy", "b", "mini", params) == {"action": "same_as", "run": "a"}  # curves only records
    assert runs.run_plan("toy", "c", "mini", params) == {"action": "train"}
    assert runs.run_plan("toy", "d", "mini", params)["action"] == "skip"
    # markers: nothing is trained (no data is even read), the folder says why, load_run follows
    marker = runs.train_run("toy", "d", "mini", params)
    assert "split 3" in marker["skipped"] and runs.load_run("toy", "d", "mini")["skipped"] == marker["skipped"]
    runs.train_run("toy", "b", "mini", params)
    assert runs.load_run("toy", "b", "mini") is None  # its source has not run yet
    (tmp_path / "runs/mini/toy/a/seed0").mkdir(parents=True)
    (tmp_path / "runs/mini/toy/a/seed0/metrics.json").write_text('{"run": "a", "seed_index": 0, "video@1": 0.5}')
    same = runs.load_run("toy", "b", "mini")
    assert same["same_as"] == "a" and same["video@1"] == 0.5 and same["seeds"] == [0]
    with pytest.raises(FileNotFoundError, match="not trained at profile mini"):
        runs.load_model("toy", "d", "mini", params)


def test_public_weights_runs_start_from_torchvision_files_in_the_hub_cache(tmp_path, monkeypatch):
    """Table 5's `pretrained` rows: torchvision's Kinetics-400 file (here a randomly initialised
    torchvision r2plus1d_18 saved where torch.hub keeps it) loads through the compatibility option."""
    import torchvision.models.video as tv_video

    from replicate.models import pretrained

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    params = config.load_params()
    s = runs.run_settings("tran2018", "tv_r2plus1d_18_ucf101", "mini", params)
    assert (s["width"], s["init_from"], s["torchvision_compat"], s["classes"]) == (1.0, "torchvision", True, None)
    model = runs.build_model("tran2018", s["run"], "mini", num_classes=12, params=params, settings=s)
    with pytest.raises(FileNotFoundError, match="copy it to exactly that path"):
        runs._initialise(model, s, params)  # offline, nothing in the cache: says which file goes where
    path = pretrained.weights_path("r2plus1d_18")
    path.parent.mkdir(parents=True)
    torch.manual_seed(1)
    reference = tv_video.r2plus1d_18()
    torch.save(reference.state_dict(), path)
    assert runs._initialise(model, s, params) == "torchvision"
    torch.testing.assert_close(model.layer3[1].conv2[0][3].weight, reference.layer3[1].conv2[0][3].weight)
    assert model.fc.out_features == 12  # a fresh classifier for the target's classes


def test_seeds_are_summarised_and_per_video_records_are_keyed_by_id():
    def seed(k, acc, ids, correct):
        return {"run": "r", "seed_index": k, "clip@1": acc, "video@1": acc, "video@5": 1.0, "train_acc": 0.9 + k / 100,
                "train_seconds": 10.0, "test_video_ids": ids, "video_correct": correct, "video_clip_acc": [0.5] * len(ids),
                "history": [{"epoch": 1, "train_acc": 0.5 + k / 10}]}
    m = runs.summarize_seeds({0: seed(0, 0.5, ["a", "b"], [1, 0]), 1: seed(1, 0.7, ["b", "a"], [1, 1]),
                              2: seed(2, 0.6, ["a", "b"], [0, 1])})
    assert m["seeds"] == [0, 1, 2] and m["video@1"] == pytest.approx(0.6) and m["video@1_std"] == pytest.approx(0.1)
    assert m["train_seconds"] == 30.0 and m["history"][0]["train_acc"] == pytest.approx(0.6)
    assert "video_correct" not in m  # only per seed, with its ids
    # seed 1 listed its videos in another order: the values follow the ids, not the positions
    assert runs.per_video(m, "video@1") == {0: {"a": 1.0, "b": 0.0}, 1: {"b": 1.0, "a": 1.0}, 2: {"a": 0.0, "b": 1.0}}
    assert runs.per_video(m, "clip@1")[1] == {"b": 0.5, "a": 0.5}
    with pytest.raises(KeyError, match="video@1, clip@1"):
        runs.per_video(m, "video@5")
    broken = runs.summarize_seeds({0: {**seed(0, 0.5, ["a", "b"], [1]), "run": "r"}})
    with pytest.raises(ValueError, match="2 test video ids but 1"):
        runs.per_video(broken)


def test_seeds_and_precision_come_from_the_profile_and_groups():
    params = config.load_params()
    params["profiles"]["mini"] = {**params["profiles"]["mini"], "seeds": 3, "precision": "bf16"}
    s = runs.run_settings("tran2018", "r3d_18", "mini", params)
    assert runs.seed_indices(s) == [0, 1, 2] and s["precision"] == "bf16"
    assert runs.seed_settings(s, 2)["seed"] == params["seed"] + 2
    with pytest.raises(ValueError, match="seeds must be a whole number"):
        runs.seed_indices({**s, "seeds": 0})


def test_train_stages_depend_on_weight_code_only():
    """A train stage reruns when code that decides weights changes, never for a report, notebook or
    paper-table edit (a docstring in report.py must not retrain the study)."""
    import yaml

    stages = yaml.safe_load((config.REPO_ROOT / "dvc.yaml").read_text())["stages"]
    train = {name: st["do"]["deps"] for name, st in stages.items() if name.split("_")[0] in ("train", "finetune", "transfer")}
    assert len(train) >= 4
    weight_code = {"replicate/runs.py", "replicate/train.py", "replicate/evaluate.py", "replicate/config.py",
                   "replicate/models/registry.py", "replicate/data/clips.py",
                   "replicate/data/transforms.py", "replicate/data/video.py", "replicate/data/adapters.py"}
    for name, deps in train.items():
        code = {d for d in deps if d.startswith(("replicate/", "notebooks/", "tools/"))}
        assert weight_code <= code, f"{name} misses {sorted(weight_code - code)}"
        assert [d for d in code if d.startswith("replicate/models/") and not d.endswith("registry.py")], f"{name}: no model file"
        assert not [d for d in code if d.startswith(("notebooks/", "tools/", "replicate/papers/")) or d.endswith("report.py")], name


def test_notebook_stages_depend_on_the_paper_code_their_module_imports():
    """A paper module that imports ``papers/common.py`` makes every stage that depends on it depend on common.py too:
    an edit there (a verdict's merging of splits) reruns the tables it changes."""
    import yaml

    stages = yaml.safe_load((config.REPO_ROOT / "dvc.yaml").read_text())["stages"]
    checked = 0
    for name, st in stages.items():
        deps = (st.get("do") or st).get("deps", [])
        for dep in deps:
            if dep.startswith("replicate/papers/") and dep.endswith(".py") and dep != "replicate/papers/common.py":
                if "from .common import" in (config.REPO_ROOT / dep).read_text():
                    checked += 1
                    assert "replicate/papers/common.py" in deps, f"{name} depends on {dep}, not on papers/common.py"
    assert checked >= 20


def test_work_folder_name_follows_what_decides_the_weights():
    """Checkpoints live under a digest of the weight-deciding settings: a changed learning rate or
    epoch count starts afresh in another folder, a changed worker or seed count does not."""
    s = runs.seed_settings(runs.run_settings("tran2018", "r3d_18", "smoke"), 0)
    digest = runs.weights_digest(s)
    assert runs.weights_digest({**s, "num_workers": 8, "seeds": 5, "cache_frames": False}) == digest
    assert runs.weights_digest({**s, "lr": s["lr"] / 2}) != digest
    assert runs.weights_digest({**s, "epochs": s["epochs"] + 1}) != digest
    assert runs.weights_digest(runs.seed_settings(runs.run_settings("tran2018", "r3d_18", "smoke"), 1)) != digest
    work = runs.work_dir(s)
    assert work.parts[-5:-2] == ("smoke", "tran2018", "r3d_18") and work.parts[-2].startswith(digest + "-")
    assert work.name == "seed0" and work.parent.parent == runs.run_work_dir("tran2018", "r3d_18", "smoke")
    assert runs.RUNS_DIR not in work.parents  # outside the DVC output


def test_st_resnet_runs_start_from_their_streams_and_the_image_net(tmp_path, monkeypatch):
    """feichtenhofer2016's chain: a stream from the image net (motion conv1 = RGB mean over 20 channels), the
    HMDB51 motion stream from the UCF101 one (a fresh classifier: other classes), ST-ResNet from both
    streams (temporal convs the 1x1 filters over 3, the classifiers kept)."""
    from replicate import pretrain

    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path)
    paper = "feichtenhofer2016"
    from replicate.models import create

    image_net = create("resnet50", num_classes=16, width=0.125)
    monkeypatch.setattr(pretrain, "load_pretrained", lambda name, profile: image_net.state_dict())

    def built(run, classes):
        s = runs.seed_settings(runs.run_settings(paper, run, "smoke"), 0)
        return runs.build_model(paper, run, "smoke", num_classes=classes, settings=s), s

    def save(run, model):
        (tmp_path / "smoke" / paper / run / "seed0").mkdir(parents=True)
        torch.save(model.state_dict(), tmp_path / "smoke" / paper / run / "seed0" / "final.pt")

    motion, s = built("motion_ucf101_split1", 4)
    assert runs._initialise(motion, s, {}) == "image:resnet50"
    rgb_mean = image_net.conv1.weight.mean(1, keepdim=True)
    torch.testing.assert_close(motion.conv1.weight, rgb_mean.expand(-1, 20, -1, -1, -1))
    torch.testing.assert_close(motion.layer3[1].conv2.weight, image_net.layer3[1].conv2.weight)
    save("motion_ucf101_split1", motion)
    appearance, s = built("appearance_ucf101_split1", 4)
    runs._initialise(appearance, s, {})
    save("appearance_ucf101_split1", appearance)

    hmdb, s = built("motion_hmdb51_split1", 3)
    assert runs._initialise(hmdb, s, {}) == "motion_ucf101_split1"
    torch.testing.assert_close(hmdb.conv1.weight, motion.conv1.weight)
    assert hmdb.fc.out_features == 3

    st, s = built("st_resnet_ucf101_split1", 4)
    assert s["init_from"] == ["appearance_ucf101_split1", "motion_ucf101_split1"]
    runs._initialise(st, s, {})
    torch.testing.assert_close(st.appearance.fc.weight, appearance.fc.weight)
    torch.testing.assert_close(st.motion.conv1.weight, motion.conv1.weight)
    spread = st.motion.layer4[1].conv1.weight  # a temporal conv: (O, I, 3, 1, 1), each slice W / 3
    assert spread.shape[2] == 3
    torch.testing.assert_close(spread.sum(2, keepdim=True), motion.layer4[1].conv1.weight)
    star, s = built("st_resnet_star_ucf101_split1", 4)
    save("st_resnet_ucf101_split1", st)
    runs._initialise(star, s, {})
    assert all(torch.equal(a, b) for a, b in zip(star.state_dict().values(), st.state_dict().values()))
    assert runs.input_shape(s) == (23, 11, s["crop"], s["crop"])
    # every source in the list is a dependency the plan knows: a skipped stream skips the ST-ResNet built on it
    params = config.load_params()
    params["profiles"]["smoke"]["feichtenhofer2016"]["skip_groups"] = ["motion"]
    plan = runs.run_plan(paper, "st_resnet_ucf101_split1", "smoke", params)
    assert plan == {"action": "skip", "reason": "its source run motion_ucf101_split1 is not run at profile smoke"}
    assert runs.run_plan(paper, "st_resnet_ucf101_split1", "smoke")["action"] == "train"
