"""diba2018's runs and trained tables (3-9) without training: the spec's runs, their stages and plans, the settings
the paper profile trains with, and the tables and verdicts built from faked run metrics."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from replicate import config, report, runs
from replicate.papers import common, diba2018

PAPER = "diba2018"


def _stages() -> dict:
    return yaml.safe_load((config.REPO_ROOT / "dvc.yaml").read_text())["stages"]


def _fake_metrics(run: str, correct: list[int], settings: dict | None = None) -> dict:
    ids = [f"v{i}" for i in range(len(correct))]
    seed = {"run": run, "test_video_ids": ids, "video_correct": correct, "video_clip_acc": [0.5] * len(ids),
            "teacher_unchanged": True, "held_out_pairs": 10, "train_pairs": 90}
    return {"video@1": float(np.mean(correct)), "video@1_std": 0.0, "video@5": 1.0, "train_acc": 0.9, "train_seconds": 60.0,
            "seeds": [0], "per_seed": {0: seed}, "history": [{"epoch": 1}],
            "settings": settings or {"model": "m", "clip_len": 16, "stride": 2, "crop": 32, "width": 0.25, "epochs": 1}}


@pytest.fixture(autouse=True)
def spec_read_once(monkeypatch):
    """The spec parsed once, not deep-copied per call: ``run_plan`` settles each of diba2018's 80 runs against every
    earlier one (O(n^2) settings), which reads the spec each time. Nothing here mutates it."""
    parsed = {}

    def load_spec(paper):
        if paper not in parsed:
            parsed[paper] = runs._parse_spec(runs.SPEC_DIR / f"{paper}.yaml", 0)
        return parsed[paper]

    monkeypatch.setattr(runs, "load_spec", load_spec)


@pytest.fixture
def read_runs(monkeypatch):
    """ensure_run faked: every run trained (all test videos right but the first), except those the profile skips;
    returns the (paper, run) pairs read."""
    seen: list[tuple[str, str]] = []
    params = config.load_params()

    def ensure_run(paper, run, profile, *a, **k):
        seen.append((paper, run))
        plan = runs.run_plan(paper, run, profile, params)
        if plan["action"] == "skip":
            return {"skipped": plan["reason"]}
        return _fake_metrics(run, [0] + [1] * 9)

    monkeypatch.setattr(runs, "ensure_run", ensure_run)
    return seen


def test_every_run_has_its_stage_and_fine_tunes_keep_their_sources_clip_length():
    """One DVC stage per spec run (train / transfer / finetune_diba2018); an SCB is built for one clip length, so every
    fine-tune runs at its source's, at every profile."""
    spec = runs.load_spec(PAPER)
    stages = _stages()
    staged = set()
    for kind in ("train", "transfer", "finetune"):
        foreach = stages[f"{kind}_diba2018"]["foreach"]
        staged |= set(foreach if isinstance(foreach, list) else foreach.keys())
    assert staged == set(runs.spec_runs(spec))
    params = config.load_params()
    for name, data in stages["finetune_diba2018"]["foreach"].items():
        assert data["from"] == spec["finetunes"][name]["init_from"]
        for profile in ("smoke", "mini", "paper"):
            s, src = (runs.run_settings(PAPER, n, profile, params) for n in (name, data["from"]))
            assert s["clip_len"] == src["clip_len"], (name, profile)


def test_mini_plan_shares_the_baseline_and_skips_only_what_it_says():
    params = config.load_params()
    plans = {r: runs.run_plan(PAPER, r, "mini", params) for r in runs.spec_runs(runs.load_spec(PAPER))}
    skipped = {r for r, p in plans.items() if p["action"] == "skip"}
    assert all("_split2" in r or "_split3" in r or "64f" in r for r in skipped)
    assert "kinetics_stc_resnet101_64f" in skipped and "stc_resnet_64f_ucf101_split1" in skipped
    # Table 9's "-Transfered Knowledge" on UCF101 split 1 is Table 7's Transfer run, trained once
    assert plans["stc_resnet_transfer_ucf101_split1"] == {"action": "same_as", "run": "transfer_stc_resnet_ucf101_split1"}
    assert plans["resnet3d_transfer_ucf101_split1"] == {"action": "same_as", "run": "transfer_resnet3d_ucf101_split1"}
    # 15 from scratch (not the 64-frame Kinetics net), 4 transfers, 4 on half of Kinetics, 8 Table 7 fine-tunes, 12 of
    # Table 9's 16 on split 1 (not the 64-frame rows, not the two that are Table 7's)
    assert sum(p["action"] == "train" for p in plans.values()) == 43
    for table in ("table3", "table4", "table5", "table6"):
        assert diba2018.BASELINE in {r["run"] for r in diba2018._t(table)["rows"]}


def test_paper_profile_trains_the_papers_settings():
    params = config.load_params()
    s = runs.run_settings(PAPER, "stc_resnet101", "paper", params)
    assert (s["model"], s["clip_len"], s["crop"], s["resize"], s["width"], s["stride"]) == (
        "stc_resnet3d_101", 32, 112, [122, 163], 1.0, 2)
    assert (s["lr"], s["batch_size"], s["weight_decay"], s["nesterov"], s["epochs"]) == (0.1, 128, 1e-4, True, 200)
    k = runs.run_settings(PAPER, "kinetics_stc_resnext101_32f", "paper", params)
    assert (k["dataset"], k["model"], k["clip_len"]) == ("kinetics", "stc_resnext3d_101", 32)
    t = runs.run_settings(PAPER, "transfer_stc_resnet", "paper", params)
    assert (t["teacher"], t["clip_len"], t["batch_size"], t["epochs"], t["dataset"]) == ("image:resnet50", 16, 32, 150, "unlabelled")
    tcb = runs.run_settings(PAPER, "stc_resnet101_tcb", "paper", params)
    assert tcb["model_kwargs"] == {"branches": "tcb"}
    assert runs.run_plan(PAPER, "stc_resnet_hmdb51_split3", "paper", params)["action"] == "train"


def test_table_stages_depend_on_every_run_their_notebook_reads(read_runs):
    """Each table notebook's runs (read through its module, at the paper profile: every split) are its stage's deps,
    diba2017's included (Tables 8-9 read its Kinetics nets and fine-tunes, never training them again)."""
    stages = _stages()
    loaders = {"table3": lambda: diba2018.table_runs("table3", "paper"), "table4": lambda: diba2018.table_runs("table4", "paper"),
               "table5": lambda: diba2018.table_runs("table5", "paper"), "table6": lambda: diba2018.table_runs("table6", "paper"),
               "table7": lambda: (diba2018.table7_runs("paper"), diba2018.transfer_runs("paper")),
               "table8": lambda: diba2018.table_runs("table8", "paper"), "table9": lambda: diba2018.table9_runs("paper")}
    for table, load in loaders.items():
        read_runs.clear()
        load()
        deps = {d for d in stages[f"diba2018_{table}"]["deps"] if d.startswith("runs/")}
        assert deps == {f"runs/${{profile}}/{p}/{r}" for p, r in read_runs}, table


def test_tables_and_verdicts_from_runs(read_runs):
    """Tables 3-9 from faked runs: paper / ours / difference, rows the profile skips shown as not trained, the
    equivalence claim judged against its margin, the quoted claims listed with why."""
    t3_runs = diba2018.table_runs("table3", "mini")
    t3 = diba2018.scratch_table("table3", t3_runs)
    assert list(t3.index) == ["3D-ResNet101", "STC-ResNet18", "STC-ResNet50", "STC-ResNet101"]
    assert t3.loc["STC-ResNet101", "video@1 ours"] == 90.0 and t3.loc["STC-ResNet101", "video@1 paper"] == 47.9
    claims = {c["id"]: c for c in diba2018.claims("table3", t3_runs)}
    eq = claims["STC-ResNet50 comparable with ResNet101"]
    assert eq["margin"] == 2.0 and eq["diff"] == 0.0 and eq["verdict"] in (report.REPRODUCED, report.INCONCLUSIVE)
    t8_runs = diba2018.table_runs("table8", "mini")
    assert ("diba2017", "kinetics_densenet3d") in read_runs
    t8 = diba2018.table8(t8_runs)
    assert t8.loc["C3D* [4]", "note"] == report.REPORTED_ONLY and t8.loc["STC-ResNet101", "top-5 ours"] == 100.0
    verdicts = {c["id"]: c for c in diba2018.claims("table8", t8_runs)}
    assert verdicts["2-3% on Kinetics"]["verdict"] == report.NOT_RUN and "1.3" in verdicts["2-3% on Kinetics"]["reason"]
    t9_runs = diba2018.table9_runs("mini")
    t9 = diba2018.table9(t9_runs, "mini")
    assert np.isnan(t9.loc["STC-ResNet 101 (64 frames)", "UCF101 ours"])
    assert t9.loc["STC-ResNet 101 (64 frames)", "splits"].startswith("not trained: group long_clips")
    assert t9.loc["STC-ResNext 101 (32 frames)", "splits"] == "1"
    c9 = {c["id"]: c for c in diba2018.claims("table9", t9_runs)}
    assert c9["64 frames above 16 (STC-ResNet, UCF101)"]["verdict"] == report.NOT_RUN
    assert "long_clips" in c9["64 frames above 16 (STC-ResNet, UCF101)"]["reason"]
    pairs = diba2018.pair_table(diba2018.transfer_runs("mini"))
    assert list(pairs.index) == ["3D-ResNet", "3D-ResNext", "STC-ResNet", "STC-ResNext"] and pairs["teacher unchanged"].all()
    t7 = diba2018.table7(diba2018.table7_runs("mini"))
    assert np.isnan(t7.loc["3D-ResNext", "Scratch ours"]) and t7.loc["STC-ResNet", "Scratch ours"] == 90.0


def test_spec_claims_margin_skips_and_quoted_claims():
    """common.spec_claims: an a_eq_b claim takes its margin; a claim on a row the profile skips is not run, with the
    skip's reason; a table's reported_claims are listed with their own why (or the quoted-numbers default)."""
    same = _fake_metrics("a", [1, 0] * 50)
    table = {"claims": [{"id": "eq", "text": "t", "kind": "a_eq_b", "a": "A", "b": "B", "margin": 30.0},
                        {"id": "gt", "text": "t", "kind": "a_gt_b", "a": "A", "b": "S"}],
             "reported_claims": [{"id": "q", "text": "t"}, {"id": "w", "text": "t", "why": "the paper's own table disagrees"}]}
    out = {c["id"]: c for c in common.spec_claims(table, {"A": same, "B": same, "S": {"skipped": "group g is not run"}})}
    assert out["eq"]["verdict"] == report.REPRODUCED and out["eq"]["margin"] == 30.0
    assert out["gt"]["verdict"] == report.NOT_RUN and "group g is not run" in out["gt"]["reason"]
    assert out["q"]["reason"].startswith("it is about quoted numbers") and out["w"]["reason"] == "the paper's own table disagrees"
