"""What the papers' notebook modules share: rows merged over splits, a spec table's claims with verdicts, and the
datasets' facts (diba2017 Table 7 and diba2018 Table 2 are the same table)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config, report, runs


def merge_splits(per_split: dict[int, dict]) -> dict:
    """One row's runs over several splits as one run: seed k's test videos of every split together (ids prefixed
    ``s<k>/``: HMDB51's splits share videos), so video@1 is the mean over splits weighted by their test-set sizes
    (equal in UCF101 and HMDB51 up to a few videos) and the verdicts see every video. Only what is merged is kept
    (video@1, the per-video records, the mean training accuracy, the summed time), not split 1's other numbers."""
    if len(per_split) == 1:
        return next(iter(per_split.values()))
    seeds = sorted(set.intersection(*(set(m["seeds"]) for m in per_split.values())))
    per_seed = {}
    for k in seeds:
        parts = [(split, m["per_seed"][k]) for split, m in sorted(per_split.items())]
        correct = [c for _, sm in parts for c in sm["video_correct"]]
        accs = [sm["train_acc"] for _, sm in parts if sm.get("train_acc") is not None]
        per_seed[k] = {"run": "+".join(sm["run"] for _, sm in parts), "seed_index": k,
                       "settings": parts[0][1].get("settings"), "splits": [split for split, _ in parts],
                       "test_video_ids": [f"s{split}/{v}" for split, sm in parts for v in sm["test_video_ids"]],
                       "video_correct": correct, "video@1": float(np.mean(correct)), "num_test_videos": len(correct),
                       **({"train_acc": float(np.mean(accs))} if accs else {}),
                       "train_seconds": float(sum(sm.get("train_seconds", 0.0) for _, sm in parts))}
    return runs.summarize_seeds(per_seed)


def spec_claims(table: dict, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of ``table`` (a spec table) with its verdict: per-video correctness matched by id, seeds as seeds."""
    out = []
    for c in table["claims"]:
        claim = report.Claim(c["id"], c["text"], c["kind"], c["a"], c.get("b"))
        out.append(report.evaluate_claim(claim, {n: runs.per_video(run_metrics[n]) for n in claim.rows}))
    return out


def dataset_table(table: dict, run_metrics: dict[str, dict]) -> pd.DataFrame:
    """A spec table printed as the paper prints it, one row per method and a column pair per dataset (its
    ``datasets``: key -> label): paper, ours (video@1, %; ``run_metrics`` keyed ``"<label> <row>"``) and the
    difference, quoted rows marked reported (:func:`report.compare_table`)."""
    rows = []
    for row in table["rows"]:
        rec = {"name": row["name"], "reported": row.get("reported", False), "note": row.get("note")}
        for dataset, label in table["datasets"].items():
            rec[f"paper_{label}"] = row["paper"][dataset]
            m = run_metrics.get(f"{label} {row['name']}")
            if m is not None:
                rec[f"ours_{label}"] = 100 * m["video@1"]
        rows.append(rec)
    return report.compare_table(rows, list(table["datasets"].values()))


def _role_facts(role: str, profile: str) -> dict:
    """Clips (video files of split 1's train + test lists), source videos (UCF101: class x group; Kinetics: one per
    clip; HMDB51: not derivable from its lists) and classes of one dataset role at ``profile``."""
    test = config.test_subset(role)
    train_list, test_list = (config.video_list(role, 1, subset, profile) for subset in ("train", test))
    samples = list(train_list) + list(test_list)
    if role == "ucf101":  # v_<Class>_gXX_cYY: a source video is a (class, group)
        sources = len({s.video_id.rsplit("_", 1)[0] for s in samples})
    elif role == "kinetics":
        sources = len(samples)
    else:
        sources = None
    return {"clips": len(samples) + len(train_list.missing) + len(test_list.missing), "videos": sources,
            "classes": train_list.num_classes}


def dataset_facts(paper_rows: dict[str, dict], profile: str) -> pd.DataFrame:
    """The paper's clips / videos / classes per dataset role (``paper_rows``: role -> counts) beside ours, counted
    from this profile's lists (split 1's train and test lists: every clip of UCF101 / HMDB51 once; Kinetics train +
    validation; at ``mini`` the stand-ins)."""
    config.ensure_data(profile)
    rows = []
    for role, paper in paper_rows.items():
        ours = _role_facts(role, profile)
        rows.append({"dataset": role, **{f"paper {k}": v for k, v in paper.items()},
                     **{f"ours {k}": v for k, v in ours.items()}})
    return pd.DataFrame(rows).set_index("dataset")
