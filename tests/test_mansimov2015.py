"""mansimov2015's tables: the exact parts (alphas, identities, parameter counts) and the claim logic."""
from __future__ import annotations

import json

import pytest

from replicate import config, report
from replicate.papers import mansimov2015 as M


def test_figure1_alphas_are_the_papers():
    table = M.figure1_alphas()
    assert table["match"].all() and len(table) == 4 * (4 + 3)  # 4 inits x (3 + sum, 2 + sum)
    assert table.loc[("NWI", "conv1", 1), "ours alpha"] == pytest.approx(5 / 3)


def test_what_each_init_computes_holds_exactly():
    table = M.conv1_identities()
    assert table["holds (< 1e-9)"].all() and len(table) == 7


def test_parameter_counts_equal_the_inventory():
    assert M.parameter_table()["match"].all()


def test_twin_classes_are_the_pairs_only_time_order_separates():
    config.ensure_data("smoke")
    twins = M.twin_class_videos("smoke")
    test = config.video_list("ucf101", 1, "test", "smoke")
    by_class = {test.classes[v.label] for v in test if v.video_id in twins}
    # the smoke stand-in's 4 classes: one motion and its reversal (same actor), spin and idle (untwinned)
    manifest = json.loads((config.data_dir("smoke") / "manifest.json").read_text())["roles"]["ucf101"]["classes"]
    expected = {c["name"] for c in manifest if c["twin"] is not None}
    assert by_class == expected and len(expected) == 2
    actors = {c["actor"] for c in manifest if c["name"] in by_class}
    motions = {c["motion"] for c in manifest if c["name"] in by_class}
    assert len(actors) == 1 and motions == {c["twin"] for c in manifest if c["name"] in by_class}  # a reversed pair
    assert twins == {v.video_id for v in test if test.classes[v.label] in expected}  # every test video of those classes
    assert M.twin_class_videos("paper") is None  # real UCF101 has no twins


def _metrics(correct: dict[str, list[int]]) -> dict:
    """A run's seeds as load_run gives them: video id -> correctness per seed."""
    ids = list(correct)
    per_seed = {k: {"run": "r", "test_video_ids": ids, "video_correct": [correct[v][k] for v in ids],
                    "video_clip_acc": [float(correct[v][k]) for v in ids]} for k in range(3)}
    return {"per_seed": per_seed, "seeds": [0, 1, 2]}


def test_the_plateau_claim_is_tested_on_twin_videos_only(monkeypatch):
    twins = {f"t{i}" for i in range(40)}
    others = [f"o{i}" for i in range(40)]
    # the order-aware inits get the twin videos right, the averaging ones do not; elsewhere all are equal
    good = _metrics({**{v: [1, 1, 1] for v in twins}, **{v: [i % 2] * 3 for i, v in enumerate(others)}})
    bad = _metrics({**{v: [i % 2, 0, (i + 1) % 2] for i, v in enumerate(sorted(twins))},
                    **{v: [i % 2] * 3 for i, v in enumerate(others)}})
    rows = {"Spatial ConvNet": bad, "IA": bad, "IS": bad, "ZWI": good, "NWI": good}
    monkeypatch.setattr(M, "twin_class_videos", lambda profile, params=None: twins)
    claims = {c["id"]: c for c in M.table1_claims(rows, "mini")}
    plateau = claims["off the spatial plateau (twins)"]
    assert plateau["verdict"] == report.REPRODUCED and plateau["n"] == 40  # twin videos only
    assert claims["NWI above IA"]["n"] == 80 and claims["NWI above ZWI"]["verdict"] == report.INCONCLUSIVE
    monkeypatch.setattr(M, "twin_class_videos", lambda profile, params=None: None)
    claims = {c["id"]: c for c in M.table1_claims(rows, "paper")}
    assert claims["off the spatial plateau (twins)"]["verdict"] == report.NOT_RUN
