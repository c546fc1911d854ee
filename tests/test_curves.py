"""Training curves and training minutes per paper (replicate/curves.py) from a runs tree in the real layout."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from replicate import curves
from replicate.errors import MissingInputError, UnknownNameError


def _seed(root, run, k, history, in_metrics=False):
    seed = root / "mini" / "diba2018" / run / f"seed{k}"
    seed.mkdir(parents=True)
    if in_metrics:  # a supervision transfer keeps its history in metrics.json
        (seed / "metrics.json").write_text(json.dumps({"history": history}))  # and no train_seconds
    else:
        (seed / "history.json").write_text(json.dumps(history))
        (seed / "metrics.json").write_text(json.dumps({"video@1": 0.5, "train_seconds": 150.0}))


def _epochs(n, seconds, val=True):
    return [{"epoch": e + 1, "train_loss": 2.0 - e / 10, "train_acc": 0.1 * (e + 1), "seconds": seconds,
             **({"val_clip@1": 0.05 * (e + 1)} if val else {})} for e in range(n)]


def test_curves_and_training_minutes(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    _seed(runs, "stc_resnet18", 0, _epochs(4, 30.0))
    _seed(runs, "stc_resnet18", 1, _epochs(4, 30.0))
    _seed(runs, "transfer_resnet", 0, _epochs(2, 60.0, val=False), in_metrics=True)
    same = runs / "mini" / "diba2018" / "kinetics_copy" / "seed0"  # same_as: no history, counts nothing
    same.mkdir(parents=True)
    (same / "metrics.json").write_text(json.dumps({"same_as": "stc_resnet18"}))
    time = curves.write("diba2018", "mini", runs=runs, out=out)
    assert time == {"training minutes": (8 * 30 + 2 * 60) / 60, "run minutes": 2 * 150 / 60, "trained runs": 2,
                    "trained seeds": 3, "epochs": 10}
    df = pd.read_csv(out / "diba2018.csv")
    assert len(df) == 10 and set(df["run"]) == {"stc_resnet18", "transfer_resnet"}
    assert df[df["run"] == "transfer_resnet"]["val_clip@1"].isna().all()
    assert json.loads((out / "diba2018.json").read_text()) == time
    assert (out / "diba2018.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_input_one_line(tmp_path):
    with pytest.raises(MissingInputError, match="make study PAPER=diba2018"):
        curves.write("diba2018", "mini", runs=tmp_path)
    with pytest.raises(UnknownNameError, match="one of tran2018"):
        curves.write("diba2019", "mini", runs=tmp_path)


def test_a_stage_per_paper_with_its_plots_and_metrics():
    from replicate import summary
    from replicate.config import REPO_ROOT

    stage = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["curves"]
    assert stage["foreach"] == list(summary.PAPERS)
    assert "runs/${profile}/${item}" in stage["do"]["deps"]
    assert [next(iter(p)) for p in stage["do"]["plots"]] == ["results/curves/${profile}/${item}.csv",
                                                               "results/curves/${profile}/${item}.png"]
