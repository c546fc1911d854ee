"""tran2018 (R(2+1)D): the logic behind its notebooks, so the notebooks stay thin.

Every number shown next to ours comes from ``tran2018.yaml`` (the paper spec); every number of
ours comes from a model built by ``replicate.models`` or a run trained by ``replicate.runs``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import config, report, runs
from ..flops import count_flops, count_params
from ..models import create
from ..models.video_resnet import layer_output_shapes

PAPER = "tran2018"


def spec() -> dict:
    return runs.load_spec(PAPER)


def results_dir(profile: str) -> Path:
    return config.REPO_ROOT / "results" / PAPER / profile


def write(df: pd.DataFrame, name: str, profile: str, claims: list[dict] | None = None) -> None:
    """``results/tran2018/<profile>/<name>.{csv,md}`` (+ verdicts json/md when claims are given)."""
    out = results_dir(profile)
    report.write_table(df, out / name)
    if claims is not None:
        (out / f"{name}_claims.json").write_text(json.dumps(claims, indent=1, default=float) + "\n")
        report.write_table(report.claims_table(claims).set_index("claim"), out / f"{name}_claims")


def _new_figure(figsize: tuple[float, float]):
    """A Figure with an Agg canvas, made without pyplot so a notebook's backend is left alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def write_figure(fig, name: str, profile: str):
    """Save ``results/tran2018/<profile>/<name>.png``; returns it as an image a notebook displays."""
    from IPython.display import Image

    out = results_dir(profile)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return Image(filename=str(path))


def verdicts_markdown(claims: list[dict]) -> str:
    return report.verdict_summary(claims)


# ----------------------------------------------------------------------------- Table 1
def table1() -> pd.DataFrame:
    """Per-layer output sizes (T x H x W) of R3D-18/34 at the paper's input vs Table 1."""
    t = spec()["tables"]["table1"]
    rows = []
    for model_name in t["models"]:
        with torch.device("meta"):  # shapes only: nothing is computed
            model = create(model_name, num_classes=400, width=0.25)
        shapes = layer_output_shapes(model, t["input"])
        for layer, paper_size in t["output_sizes"].items():
            ours = list(shapes[layer][1:])
            rows.append({"model": model_name, "layer": layer, "paper (TxHxW)": "x".join(map(str, paper_size)),
                         "ours (TxHxW)": "x".join(map(str, ours)), "match": ours == list(paper_size)})
    return pd.DataFrame(rows).set_index(["model", "layer"])


# ----------------------------------------------------------------------------- Table 2
def _rows() -> list[dict]:
    return spec()["tables"]["table2"]["rows"]


def table2_params() -> pd.DataFrame:
    """Parameters (millions) at 400 classes, full width: deterministic, compared by nbval."""
    rows = []
    for r in _rows():
        with torch.device("meta"):
            model = create(r["model"], num_classes=400, width=1.0, clip_len=8)
        ours = count_params(model) / 1e6
        rows.append({"name": r["name"], "paper_params (M)": r["params_m"], "ours_params (M)": round(ours, 2)})
    return report.compare_table(rows, ["params (M)"])


def table2_runs(profile: str) -> dict[str, dict]:
    """Row name -> run metrics (trained now if the pipeline has not trained it)."""
    return {r["name"]: runs.ensure_run(PAPER, r["model"], profile) for r in _rows()}


def table2(run_metrics: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for r in _rows():
        m = run_metrics[r["name"]]
        rows.append({"name": r["name"], "paper_clip@1": r["clip1"], "ours_clip@1": 100 * m["clip@1"],
                     "paper_video@1": r["video1"], "ours_video@1": 100 * m["video@1"]})
    return report.compare_table(rows, ["clip@1", "video@1"]).round(1)


def _claims(table: str) -> list[report.Claim]:
    return [report.Claim(c["id"], c["text"], c["kind"], c["a"], c["b"]) for c in spec()["tables"][table]["claims"]]


def table2_claims(run_metrics: dict[str, dict], n_boot: int = 2000) -> list[dict]:
    correct = {name: np.asarray(m["video_correct"], dtype=float) for name, m in run_metrics.items()}
    return [report.evaluate_claim(c, correct, n_boot=n_boot, seed=0) for c in _claims("table2")]


# ----------------------------------------------------------------------------- Figure 3
def figure3_costs() -> pd.DataFrame:
    """GFLOPs (multiply-adds) per 8x112x112 clip at full width for each Table 2 row."""
    rows = []
    for r in _rows():
        with torch.device("meta"):
            model = create(r["model"], num_classes=400, width=1.0, clip_len=8)
        flops = count_flops(model, (3, 8, 112, 112))
        rows.append({"name": r["name"], "GMACs": round(flops / 2e9, 2), "paper video@1": r["video1"]})
    return pd.DataFrame(rows).set_index("name")


def figure3_cost_claims(costs: pd.DataFrame) -> pd.DataFrame:
    """The paper's statements about Figure 3's cost axis, checked on our FLOP counts."""
    g = costs["GMACs"]
    out = []
    for c in spec()["tables"]["figure3"]["cost_claims"]:
        if "cheapest" in c:
            ok = g.idxmin() == c["cheapest"]
            ours = f"cheapest: {g.idxmin()} ({g.min():.2f})"
        elif "similar" in c:
            a, b = c["similar"]
            rel = abs(g[a] / g[b] - 1)
            ok, ours = rel <= c["tolerance"], f"{a} / {b} = {g[a] / g[b]:.3f}"
        else:
            ok = g[c["cheaper"]] < g[c["than"]]
            ours = f"{c['cheaper']} {g[c['cheaper']]:.2f} vs {c['than']} {g[c['than']]:.2f}"
        out.append({"claim": c["id"], "paper says": c["text"], "ours (GMACs)": ours, "verdict": "reproduced" if ok else "contradicted"})
    return pd.DataFrame(out).set_index("claim")


def figure3(costs: pd.DataFrame, run_metrics: dict[str, dict]):
    fig = _new_figure((11, 4.2))
    left, right = fig.subplots(1, 2)
    ours = pd.Series({n: 100 * m["video@1"] for n, m in run_metrics.items()})
    # 95% binomial interval of each of our accuracies over its test videos (the paper's are ~20k videos: tiny)
    ours_err = pd.Series({n: 196 * np.sqrt(m["video@1"] * (1 - m["video@1"]) / m["num_test_videos"])
                          for n, m in run_metrics.items()})
    for ax, acc, err, title in ((left, costs["paper video@1"], None, "paper (Kinetics, Table 2)"),
                                (right, ours, ours_err, "ours (this profile), 95% intervals")):
        ax.errorbar(costs["GMACs"], acc[costs.index], yerr=None if err is None else err[costs.index],
                    fmt="o", color="tab:blue", ecolor="0.7", capsize=2)
        for name in costs.index:
            ax.annotate(name, (costs.loc[name, "GMACs"], acc[name]), fontsize=8, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel("GMACs per 8x112x112 clip (full width)")
        ax.set_ylabel("video@1 (%)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    fig.suptitle("tran2018 Figure 3: accuracy vs computational complexity")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Figure 4
def figure4_runs(profile: str) -> dict[str, dict]:
    return {r["name"]: runs.ensure_run(PAPER, r["model"], profile) for r in spec()["tables"]["figure4"]["rows"]}


def figure4(run_metrics: dict[str, dict]):
    fig = _new_figure((11, 4))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, depth in zip(axes, ("18", "34")):
        for name, colour in ((f"R3D-{depth}", "tab:blue"), (f"R(2+1)D-{depth}", "tab:red")):
            h = run_metrics[name]["history"]
            ep = [e["epoch"] for e in h]
            ax.plot(ep, [100 * (1 - e["train_acc"]) for e in h], color=colour, lw=1, label=f"{name} train")
            if "val_clip@1" in h[0]:
                ax.plot(ep, [100 * (1 - e["val_clip@1"]) for e in h], color=colour, lw=2.5, label=f"{name} test")
        ax.set_title(f"{depth} layers")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("clip error (%)")
    fig.suptitle("tran2018 Figure 4 (ours): thin = train error, thick = test error")
    fig.tight_layout()
    return fig


def _train_list(m: dict):
    s = m["settings"]
    return config.video_list(s["dataset"], s.get("split", 1), "train", m["profile"], num_classes=s.get("classes"))


def _train_clips(m: dict) -> int:
    """Training clips per epoch of a run: its readable training videos (one clip each)."""
    return len(_train_list(m)) - m["skipped_videos"]["train"]


def figure4_summary(run_metrics: dict[str, dict], n_boot: int = 2000) -> pd.DataFrame:
    """Final train/test errors and the paper's two claims per depth, each with a 95% interval.

    Test error: paired bootstrap over test videos (video@1). Train error: the last epoch's
    training clips, different random clips per model, so an interval for two independent
    proportions (``report.proportion_gap``).
    """
    rows = []
    for depth in ("18", "34"):
        a, b = run_metrics[f"R(2+1)D-{depth}"], run_metrics[f"R3D-{depth}"]
        acc_a, acc_b = a["history"][-1]["train_acc"], b["history"][-1]["train_acc"]
        train = report.proportion_gap(acc_a, _train_clips(a), acc_b, _train_clips(b))
        test = report.paired_bootstrap(a["video_correct"], b["video_correct"], n_boot=n_boot, seed=0)
        rows.append({
            "depth": depth,
            "R3D train err": 100 * (1 - acc_b), "R(2+1)D train err": 100 * (1 - acc_a),
            "train err lower for R(2+1)D by": report.format_gap(train),
            "train-error verdict": report.verdict(train["ci_low"], train["ci_high"]),
            "R3D test err (video)": 100 * (1 - b["video@1"]), "R(2+1)D test err (video)": 100 * (1 - a["video@1"]),
            "test err lower for R(2+1)D by": report.format_gap(test),
            "test-error verdict": report.verdict(test["ci_low"], test["ci_high"]),
        })
    return pd.DataFrame(rows).set_index("depth").round(1)


def settings_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """What was actually trained at this profile, beside the paper's setting (one row per setting)."""
    paper = spec()["settings"]
    first = next(iter(run_metrics.values()))
    s = first["settings"]
    train = _train_list(first)
    minutes = sum(m["train_seconds"] for m in run_metrics.values()) / 60
    rows = [
        ("dataset", f"{paper['dataset']} (400 classes)", f"{s['dataset']} role, profile {first['profile']}"
         + (f", first {s['classes']} classes" if s.get("classes") else "")),
        ("train / test videos", "about 300K in all (train + val)", f"{len(train) - first['skipped_videos']['train']} / {first['num_test_videos']}"),
        ("clip (frames x crop)", f"{paper['clip_len']} x {paper['crop']}", f"{s['clip_len']} x {s['crop']}"),
        ("frames resized to", "x".join(map(str, paper["resize"])), "x".join(map(str, s["resize"]))),
        ("channel width", "1.0", str(s["width"])),
        ("epochs (lr / 10 every)", f"{paper['epochs']} ({paper['step_epochs']})", f"{s['epochs']} ({s['step_epochs']})"),
        ("batch, lr", f"{paper['batch_size']}, {paper['lr']}", f"{s['batch_size']}, {s['lr']}"),
        ("test clips per video", str(paper["test_clips"]), str(s["test_clips"])),
        ("chance (video@1)", "0.25%", f"{100 / train.num_classes:.1f}%"),
        ("training + test time", "n/a", f"{minutes:.1f} min for {len(run_metrics)} runs"),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "ours"]).set_index("setting")
