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


def test_unknown_run_names_the_known_ones():
    with pytest.raises(KeyError, match="r2plus1d_18_f32_from_f8"):
        runs.run_settings("tran2018", "r2plus1d_18_f99", "mini")


def test_init_from_loads_every_weight_but_a_classifier_of_another_size(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path)
    source = runs.build_model("tran2018", "r2plus1d_18_f8", "mini", num_classes=7)
    (tmp_path / "mini" / "tran2018" / "r2plus1d_18_f8").mkdir(parents=True)
    torch.save(source.state_dict(), tmp_path / "mini" / "tran2018" / "r2plus1d_18_f8" / "final.pt")
    s = runs.run_settings("tran2018", "r2plus1d_18_f32_from_f8", "mini")
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
    with pytest.raises(config.DatasetError, match="replicate.data.flow --videos"):
        config.flow_roots("ucf101", "paper", params)
