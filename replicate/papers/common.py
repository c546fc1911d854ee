"""What the papers' notebook modules share: a spec table's runs (one per row, or merged over splits), its paper /
ours table, its claims with verdicts, and the datasets' facts (diba2017 Table 7 and diba2018 Table 2 are the same
table)."""
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


def trained(m: dict | None) -> bool:
    """Whether a row's run metrics are a trained run's (not absent, not a ``skipped`` marker of this profile)."""
    return m is not None and "skipped" not in m


def row_runs(paper: str, table: dict, profile: str) -> dict[str, dict]:
    """Row name -> its run's metrics (the pipeline's, or trained now: a notebook at smoke) for the rows of a spec
    table that name a run. A row's ``paper_name`` reads a run of another paper's spec (diba2018's Table 8 quotes
    diba2017's Kinetics nets: read, never trained twice)."""
    return {r["name"]: runs.ensure_run(r.get("paper_name", paper), r["run"], profile) for r in table["rows"] if r.get("run")}


def setting_text(m: dict) -> str:
    """How one run was trained at its profile, in a few words."""
    s = m["settings"]
    recipe = "".join(f", {k} {v}" for k, v in (s.get("model_kwargs") or {}).items())  # a per-model or per-run option
    return (f"{s['model']}, {s['clip_len']} frames (stride {s['stride']}) x {s['crop']} px, width {s['width']}, "
            f"{s['epochs']} epochs{recipe}")


def scratch_table(table: dict, run_metrics: dict[str, dict], notes: dict[str, str] | None = None) -> pd.DataFrame:
    """A spec table of one run per row: paper vs ours (video@1, %), the seed spread, the final training accuracy,
    the run and how it was trained (``notes``: run -> a note, e.g. the baseline several tables share)."""
    rows = [{"name": r["name"], "paper_video@1": r["paper"], "ours_video@1": 100 * run_metrics[r["name"]]["video@1"],
             "note": (notes or {}).get(r["run"], "")} for r in table["rows"]]
    table_ = report.with_seed_columns(report.compare_table(rows, ["video@1"]), run_metrics)
    return report.add_columns(table_, {"run": [r["run"] for r in table["rows"]],
                                       "setting": [setting_text(run_metrics[n]) for n in table_.index]}).round(1)


def spec_claims(table: dict, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of ``table`` (a spec table) with its verdict: per-video correctness matched by id, seeds as seeds
    (an ``a_eq_b`` claim with its ``margin``). A claim about a row this profile does not train is *not run* (and
    why); the table's ``reported_claims`` (about quoted numbers, or not testable as worded) are listed with theirs."""
    out = []
    for c in table.get("claims", []):
        claim = report.Claim(c["id"], c["text"], c["kind"], c["a"], c.get("b"), margin=c.get("margin"))
        untrained = [n for n in claim.rows if not trained(run_metrics.get(n))]
        if untrained:
            reasons = sorted({(run_metrics.get(n) or {}).get("skipped", "no run") for n in untrained})
            out.append(report.not_run(c["id"], c["text"], f"not trained: {', '.join(untrained)} ({'; '.join(reasons)})"))
            continue
        out.append(report.evaluate_claim(claim, {n: runs.per_video(run_metrics[n]) for n in claim.rows}))
    for c in table.get("reported_claims", []):
        out.append(report.not_run(c["id"], c["text"], c.get("why", "it is about quoted numbers (reported, not trained here)")))
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
            if trained(m):
                rec[f"ours_{label}"] = 100 * m["video@1"]
        rows.append(rec)
    return report.compare_table(rows, list(table["datasets"].values()))


def pair_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """The 2D -> 3D transfers themselves (``replicate.transfer``), per student (label -> its run): the pair accuracy
    on held-out videos' pairs (chance 50%), on the last epoch's training pairs, whether the teacher was unchanged
    after training, the pairs and the time."""
    rows = []
    for label, m in run_metrics.items():
        first = m["per_seed"][m["seeds"][0]]
        rows.append({"student": label, "held-out pair accuracy": 100 * m["video@1"], "seed sd": 100 * m["video@1_std"],
                     "train pair accuracy": 100 * m["train_acc"], "chance": 50.0, "held-out pairs": first["held_out_pairs"],
                     "training pairs per epoch": first["train_pairs"], "epochs": len(m["history"]),
                     "teacher unchanged": all(s["teacher_unchanged"] for s in m["per_seed"].values()),
                     "seeds": len(m["seeds"]), "minutes": m["train_seconds"] / 60})
    return pd.DataFrame(rows).set_index("student").round(1)


#: a transfer table's columns (diba2017 Table 8, diba2018 Table 7): the transferred net fine-tuned on the target,
#: fine-tuned on half of Kinetics first, and the same net from scratch
TRANSFER_COLUMNS = ("Transfer", "FT-Transfer", "Scratch")


def transfer_runs(paper: str, table: dict, profile: str) -> dict[str, dict]:
    """``"<net> <column>"`` -> its run for a transfer table (``nets``: label -> run stem): Transfer and FT-Transfer
    (``transfer_<net>_ucf101_split1``, ``ft_transfer_<net>_ucf101_split1``), and Scratch (``scratch_runs``) where the
    table has one."""
    out = {}
    for label, net in table["nets"].items():
        out[f"{label} Transfer"] = runs.ensure_run(paper, f"transfer_{net}_ucf101_split1", profile)
        out[f"{label} FT-Transfer"] = runs.ensure_run(paper, f"ft_transfer_{net}_ucf101_split1", profile)
        if label in table["scratch_runs"]:
            out[f"{label} Scratch"] = runs.ensure_run(paper, table["scratch_runs"][label], profile)
    return out


def transfer_table(table: dict, run_metrics: dict[str, dict]) -> pd.DataFrame:
    """A transfer table as the paper prints it (a row per net, Transfer / FT-Transfer), with Scratch beside it."""
    rows = []
    for label in table["nets"]:
        rec = {"name": label}
        for col in TRANSFER_COLUMNS:
            rec[f"paper_{col}"] = table["paper"][label][col]
            m = run_metrics.get(f"{label} {col}")
            if trained(m):
                rec[f"ours_{col}"] = 100 * m["video@1"]
        rows.append(rec)
    out = report.compare_table(rows, list(TRANSFER_COLUMNS))
    return report.add_columns(out, {"seeds": [len(run_metrics[f"{n} Transfer"].get("seeds", [])) for n in out.index]}).round(1)


def dataset_bars(table: pd.DataFrame, datasets: dict[str, str]):
    """Paper vs ours for the trained rows of a :func:`dataset_table` (quoted rows and rows this profile does not
    train left out), one panel per dataset (``datasets``: key -> label)."""
    first = next(iter(datasets.values()))
    trained_rows = table[(table["note"] != report.REPORTED_ONLY) & table[f"{first} ours"].notna()]
    fig = report.new_figure((9, 3.4))
    for k, label in enumerate(datasets.values()):
        ax = fig.add_subplot(1, 2, k + 1)
        x = np.arange(len(trained_rows))
        ax.bar(x - 0.2, trained_rows[f"{label} paper"], 0.4, label="paper", color="#bbbbbb")
        ax.bar(x + 0.2, trained_rows[f"{label} ours"], 0.4, label="ours", color="#4f81bd")
        ax.set_xticks(x, trained_rows.index, rotation=30, ha="right", fontsize=8)
        ax.set_title(label)
        ax.set_ylabel("video accuracy (%)")
    fig.axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


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
