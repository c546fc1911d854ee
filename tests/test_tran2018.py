"""tran2018's figure helpers that need no training: Figure 6's filter views and numbers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from replicate.models import create
from replicate.papers import tran2018


def test_conv1_filters_shapes_and_scaling():
    r21d = create("r2plus1d_18", num_classes=5, width=0.25)
    with torch.no_grad():
        r21d.stem[0].weight[0].fill_(0.6)   # beyond +-0.3: clipped to 1
        r21d.stem[0].weight[1].fill_(-0.15)  # half the range: -0.5
    f = tran2018.conv1_filters(r21d)
    mid, out = r21d.stem[0].out_channels, r21d.stem[3].out_channels
    assert f["spatial"].shape == (mid, 7, 7, 3) and f["temporal"].shape == (out, mid, 3)
    assert np.all(f["spatial"][0] == 1.0) and np.allclose(f["spatial"][1], -0.5)
    assert f["spatial"].min() >= -1 and f["spatial"].max() <= 1
    r3d = create("r3d_18", num_classes=5, width=0.25)
    assert tran2018.conv1_filters(r3d)["spatiotemporal"].shape == (r3d.stem[0].out_channels, 3, 7, 7, 3)
    with pytest.raises(ValueError, match="RGB filters"):
        tran2018.conv1_filters(create("r2plus1d_18", num_classes=5, width=0.25, in_channels=2))


def test_figure6_draws_every_filter_and_statistics_see_structure():
    torch.manual_seed(0)
    r21d, r3d = create("r2plus1d_18", num_classes=5, width=0.25), create("r3d_18", num_classes=5, width=0.25)
    fig = tran2018.figure6(r21d, r3d)
    images = [ax for ax in fig.axes if ax.images]
    mid, out, r3d_out = r21d.stem[0].out_channels, r21d.stem[3].out_channels, r3d.stem[0].out_channels
    assert len(images) == mid + out + r3d_out
    # smooth "learned" filters (one colour blob each) against the same nets at initialisation
    smooth = create("r2plus1d_18", num_classes=5, width=0.25)
    with torch.no_grad():
        yy, xx = torch.meshgrid(torch.arange(7.0), torch.arange(7.0), indexing="ij")
        blob = torch.exp(-((yy - 3) ** 2 + (xx - 3) ** 2) / 6) * 0.2
        smooth.stem[0].weight.copy_(blob.expand_as(smooth.stem[0].weight[:, :, 0])[:, :, None])
    stats = tran2018.filter_statistics(smooth, r3d, r21d, r3d)
    row = stats.loc["R(2+1)D spatial 1x7x7"]
    assert row["neighbour correlation, trained"] > 0.5 > abs(row["neighbour correlation, at init"])


# --- Tables 3-5: rows from runs (faked here), two-stream fusion, splits, claims -------------------
def _fake_runs(monkeypatch, table: dict[str, dict]) -> None:
    """``table``: run -> {"scores": (V, C), "labels": (V,), optional "same_as" / "skipped"}."""
    from replicate import runs

    def ensure_run(paper, run, profile, *a, **k):
        r = table[run]
        if "skipped" in r:
            return {"skipped": r["skipped"]}
        top1 = np.asarray(r["scores"]).argmax(1) == np.asarray(r["labels"])
        ids = [f"v{i}" for i in range(len(r["labels"]))]
        m = {"clip@1": 0.5, "video@1": float(top1.mean()), "video@5": 1.0, "train_acc": 0.9, "seeds": [0],
             "per_seed": {0: {"run": run, "test_video_ids": ids, "video_correct": top1.astype(int).tolist(),
                              "video_clip_acc": [0.5] * len(ids)}}}
        return {**m, "same_as": r["same_as"]} if "same_as" in r else m

    def load_video_scores(paper, run, profile, seed=0):
        r = table[table[run].get("same_as", run)]
        return {"video_ids": [f"v{i}" for i in range(len(r["labels"]))], "scores": np.asarray(r["scores"], dtype=float),
                "labels": np.asarray(r["labels"])}

    monkeypatch.setattr(runs, "ensure_run", ensure_run)
    monkeypatch.setattr(runs, "load_video_scores", load_video_scores)


def test_two_stream_rows_fuse_the_streams_and_shared_runs_are_not_claims(monkeypatch):
    labels = [0, 1, 0, 1]
    rgb = {"scores": [[0.9, 0.1], [0.6, 0.4], [0.4, 0.6], [0.2, 0.8]], "labels": labels}   # 2 of 4 right
    flow = {"scores": [[0.6, 0.4], [0.1, 0.9], [0.45, 0.55], [0.3, 0.7]], "labels": labels}  # 3 of 4 right
    _fake_runs(monkeypatch, {"r": rgb, "f": flow, "r2": {**rgb, "same_as": "r"}, "f2": {**flow, "same_as": "f"},
                             "x": {"skipped": "split 2 is not run"}})
    both = tran2018.stream_result({"name": "TS", "rgb": "r", "flow": "f"}, "mini")
    # averaged scores: v1 (0.35, 0.65) is right though RGB alone is wrong; v2 (0.425, 0.575) stays wrong
    assert both["clip@1"] is None and both["video@1"] == 0.75
    assert both["correct"] == {0: {"v0": 1.0, "v1": 1.0, "v2": 0.0, "v3": 1.0}}
    shared = tran2018.stream_result({"name": "TS", "pretraining": "S", "rgb": "r2", "flow": "f2"}, "mini")
    assert shared["trained"] == {"rgb": "r", "flow": "f"} and "r2 = r" in tran2018._shared_note(shared, "mini")
    assert "skipped" in tran2018.stream_result({"name": "X", "rgb": "x"}, "mini")
    # the claims: same trained runs on both sides -> not run; a skipped row -> not run; else a bootstrap
    monkeypatch.setattr(tran2018, "spec", lambda: {"tables": {"t": {"claims": [
        {"id": "k", "text": "K above S", "kind": "a_gt_b", "a": "K", "b": "S"},
        {"id": "x", "text": "X above K", "kind": "a_gt_b", "a": "X", "b": "K"},
        {"id": "ts", "text": "TS above RGB", "kind": "a_gt_b", "a": "K", "b": "RGB"}]}}})
    results = {"K": both, "S": shared, "X": {"skipped": "split 2 is not run"},
               "RGB": tran2018.stream_result({"name": "RGB", "rgb": "r"}, "mini")}
    k, x, ts = tran2018.stream_claims("t", results)
    assert k["verdict"] == x["verdict"] == "not run at this profile"
    assert "same trained runs" in k["reason"] and "split 2" in x["reason"]
    assert ts["verdict"] in ("reproduced", "inconclusive") and ts["diff"] == pytest.approx(25.0)


def test_table5_averages_the_splits_run_and_keys_videos_by_split():
    s1 = {"video@1": 0.5, "correct": {0: {"a": 1.0, "b": 0.0}}, "runs": {"rgb": "r_s1"}, "trained": {"rgb": "r_s1"}}
    s2 = {"video@1": 0.7, "correct": {0: {"a": 1.0}}, "runs": {"rgb": "r_s2"}, "trained": {"rgb": "r_s2"}}
    merged = tran2018._merge_splits({1: s1, 2: s2, 3: {"skipped": "split 3 is not run"}})
    assert merged["video@1"] == pytest.approx(0.6) and merged["splits"] == [1, 2]
    assert merged["correct"] == {0: {"s1:a": 1.0, "s1:b": 0.0, "s2:a": 1.0}}
    assert "skipped" in tran2018._merge_splits({1: {"skipped": "no"}})
