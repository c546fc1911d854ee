"""The Composite LSTM stream of mansimov2015 (replicate.composite): the code's optimiser, settings,
resume, a whole smoke run in a run's layout, and the late fusion of Tables 2-3."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from replicate import composite, config, report, runs
from replicate.errors import BadValueError
from replicate.models.composite_lstm import CompositeLSTM, LSTMClassifier
from replicate.papers import mansimov2015 as M


def test_code_sgd_is_the_codes_update():
    """util.py Param.Update: v = m v - lr_t (g + wd w), clipped to +-clip, w += v; lr_t x decay every N steps."""
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = composite.CodeSGD([w], lr=0.1, momentum=0.9, weight_decay=0.01, clip=0.15)
    ref_w, v = w.detach().clone(), torch.zeros(3)
    for t in range(5):
        g = torch.tensor([1.0, -3.0, 0.2]) * (t + 1)
        w.grad = g.clone()
        opt.step()
        v = (0.9 * v - 0.1 * (g + 0.01 * ref_w)).clamp(-0.15, 0.15)  # a constant rate, as the code updates
        ref_w = ref_w + v
        assert torch.allclose(w.detach(), ref_w, atol=1e-6)
    with pytest.raises(BadValueError, match="lr"):
        composite.CodeSGD([w], lr=0.0)


def test_code_init_and_classifier_from_encoder():
    torch.manual_seed(0)
    model = CompositeLSTM(16, 8, reconstruct=3, future=2)
    enc = model.encoder
    assert enc.input.weight.abs().max() <= 0.01 and enc.recurrent.bias.abs().max() == 0
    assert enc.peephole.abs().max() <= 0.1 and enc.peephole.abs().max() > 0.01
    clf = LSTMClassifier.from_encoder(model, 5)
    assert torch.equal(clf.lstm.input.weight, enc.input.weight) and torch.equal(clf.lstm.peephole, enc.peephole)
    assert clf.lstm.output.weight.std() < 0.003 and clf.lstm.output.bias.abs().max() == 0


def test_settings_scale_with_the_profile_and_check_the_image_net():
    mini = composite.lstm_settings("mini")
    spec = runs.load_spec("mansimov2015")["composite_lstm"]
    assert mini["hidden"] == 512 and spec["hidden"] == 2048  # width 0.25
    assert mini["crop"] == runs.run_settings("mansimov2015", "spatial_2d", "mini")["crop"]
    assert mini["window"] == 16 and mini["reconstruct"] + mini["future"] == 20
    assert mini["pretrain"]["lr"] == spec["pretrain"]["lr"]  # the spec's, where mini is silent
    params = copy.deepcopy(config.load_params())
    params["profiles"]["mini"]["image_pretraining"]["scale"]["space"] = 0.5
    with pytest.raises(BadValueError, match="same space scale"):
        composite.lstm_settings("mini", params)


def test_a_resumed_phase_equals_an_uninterrupted_one(tmp_path):
    torch.manual_seed(1)
    data, labels = torch.randn(24, 6, 10), torch.randint(0, 3, (24,))
    cfg = {"epochs": 3, "batch_size": 8, "lr": 0.01, "momentum": 0.9, "weight_decay": 0.001, "clip": 0.01,
           "train_peepholes": False}
    torch.manual_seed(2)
    start = LSTMClassifier(10, 8, 3)
    straight, resumed = copy.deepcopy(start), copy.deepcopy(start)
    h1 = composite._fit("c", straight, data, labels, composite._classifier_loss, cfg, 0, "fp32", tmp_path / "a", False)
    composite._fit("c", resumed, data, labels, composite._classifier_loss, {**cfg, "epochs": 1}, 0, "fp32",
                   tmp_path / "b", False)
    fresh = copy.deepcopy(start)  # a new process: weights come from the checkpoint, not from memory
    h2 = composite._fit("c", fresh, data, labels, composite._classifier_loss, cfg, 0, "fp32", tmp_path / "b", False)
    assert h1 == h2 and all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), fresh.state_dict().values()))


def test_smoke_run_is_a_run_with_per_video_records():
    m = composite.ensure_trained("smoke")
    assert m["seeds"] == [0, 1] and m["run"] == "composite_lstm"
    for k, sm in m["per_seed"].items():
        assert len(sm["test_video_ids"]) == len(sm["video_correct"]) == len(sm["video_clip_acc"]) == sm["num_test_videos"]
        assert sm["windows"]["test"] >= sm["num_test_videos"] and len(sm["pretrain_history"]) == 1
        scores = runs.load_video_scores("mansimov2015", "composite_lstm", "smoke", k)
        assert scores["video_ids"] == sm["test_video_ids"] and scores["scores"].shape[0] == sm["num_test_videos"]
        assert np.allclose(scores["scores"].sum(1), 1, atol=1e-4)  # a mean of softmax vectors
        assert sm["settings"]["seed"] == config.load_params()["seed"] + k and sm["environment"]["torch"] == torch.__version__


def _stream(ids, scores, labels):
    return {"video_ids": ids, "scores": np.asarray(scores, dtype=np.float32), "labels": np.asarray(labels)}


def test_fused_run_fuses_seed_k_with_seed_k(monkeypatch):
    ids = ["a", "b", "c"]
    labels = [0, 1, 1]
    streams = {  # stream -> seed -> scores; b is right only after fusing, c only in stream y
        "x": {0: [[0.9, 0.1], [0.6, 0.4], [0.8, 0.2]], 1: [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1]]},
        "y": {0: [[0.6, 0.4], [0.2, 0.8], [0.3, 0.7]], 1: [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1]]},
    }
    monkeypatch.setattr(M, "load_stream", lambda name, profile: {"seeds": [0, 1]})
    monkeypatch.setattr(M.runs, "load_video_scores", lambda paper, name, profile, k: _stream(ids, streams[name][k], labels))
    fused = M.fused_run({"x": 1, "y": 1}, "mini")
    assert fused["per_seed"][0]["video_correct"] == [1, 1, 0] and fused["per_seed"][1]["video_correct"] == [1, 0, 0]
    assert fused["video@1"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    weighted = M.fused_run({"x": 1, "y": 3}, "mini")  # y dominates: c right too
    assert weighted["per_seed"][0]["video_correct"] == [1, 1, 1]
    assert runs.per_video(fused)[0] == {"a": 1.0, "b": 1.0, "c": 0.0}


def test_equality_claim_words():
    ids = [f"v{i}" for i in range(400)]
    same = {k: {v: float(i % 2) for i, v in enumerate(ids)} for k in range(3)}
    shifted = {k: {v: float(i % 2 or i % 10 == 0) for i, v in enumerate(ids)} for k in range(3)}  # +10 points
    claim = report.Claim("eq", "", "a_eq_b", "a", "b", margin=2.0)
    assert report.evaluate_claim(claim, {"a": same, "b": same})["verdict"] == report.REPRODUCED
    far = report.evaluate_claim(claim, {"a": shifted, "b": same})
    assert far["verdict"] == report.CONTRADICTED and far["margin"] == 2.0
    assert "equal within ±2.0" in report.format_gap(far) and "the rows differ" in report.verdict_summary([far])
    near = {k: {v: float(i % 2 or i % 40 == 0) for i, v in enumerate(ids)} for k in range(3)}  # +1 point
    assert report.evaluate_claim(claim, {"a": near, "b": same})["verdict"] != report.CONTRADICTED
    with pytest.raises(ValueError, match="margin"):
        report.Claim("eq", "", "a_eq_b", "a", "b")
    with pytest.raises(ValueError, match="margin"):
        report.Claim("gt", "", "a_gt_b", "a", "b", margin=1.0)


def test_tables_2_and_3_name_only_trained_streams_and_quoted_rows():
    for table in ("table2", "table3"):
        t = M.spec()["tables"][table]
        names = [r["name"] for r in t["rows"]]
        assert len(names) == len(set(names))
        for r in t["rows"]:
            assert sum(k in r for k in ("reported", "run", "fuse")) == 1, r
            streams = [r["run"]] if "run" in r else list(r.get("fuse", {}))
            assert all(s == composite.RUN or s in runs.spec_runs(M.spec()) for s in streams), r
        for c in t["claims"]:
            claim = report.Claim(c["id"], c["text"], c["kind"], c["a"], c.get("b"), margin=c.get("margin"))
            assert set(claim.rows) <= {r["name"] for r in t["rows"] if "reported" not in r}
    weights = {r["name"]: r["fuse"] for r in M.spec()["tables"]["table3"]["rows"] if "fuse" in r}
    assert weights["Two-Stream Spatio-Temporal ConvNet (slow-fusion flow + NWI + LSTM)"] == \
        {"flow_slow": 0.5, "init_nwi": 0.25, "composite_lstm": 0.25}  # the inventory's 1/4 : 1/4 : 1/2
    fusions = [r["fuse"] for r in M.spec()["tables"]["table2"]["rows"] if "fuse" in r]
    assert fusions == [{"init_nwi": 0.5, "composite_lstm": 0.5}]  # "equal average of the two softmax vectors"


def test_param_groups_follow_the_pbtxts():
    clf = LSTMClassifier(10, 8, 3)
    decayed, plain = composite.param_groups(clf, 1e-5, train_peepholes=False)
    names = {id(p): n for n, p in clf.named_parameters()}
    assert {names[id(p)] for p in plain["params"]} == {"lstm.recurrent.bias", "lstm.output.bias"}
    assert {names[id(p)] for p in decayed["params"]} == {"lstm.input.weight", "lstm.recurrent.weight", "lstm.output.weight"}
    assert decayed["weight_decay"] == 1e-5 and plain["weight_decay"] == 0 and not clf.lstm.peephole.requires_grad
    losses = composite._classifier_loss(clf, torch.randn(4, 5, 10), torch.tensor([0, 1, 2, 0]))
    single = composite._classifier_loss(clf, torch.randn(1, 5, 10), torch.tensor([0]))
    assert losses[0] > 3 * single[0] / 2  # summed over sequences (and steps), as the code's gradients
