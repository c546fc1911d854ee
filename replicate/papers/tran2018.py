"""tran2018 (R(2+1)D): the logic behind its notebooks, so the notebooks stay thin.

Every number shown next to ours comes from ``tran2018.yaml`` (the paper spec); every number of
ours comes from a model built by ``replicate.models`` or a run trained by ``replicate.runs``.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import config, evaluate, report, runs
from ..flops import count_flops, count_params
from ..models import create
from ..models.video_resnet import layer_output_shapes

PAPER = "tran2018"


def spec() -> dict:
    return runs.load_spec(PAPER)


def results_dir(profile: str) -> Path:
    return report.results_dir(PAPER, profile)


#: ``write(df, name, profile, claims=None)``: results/<paper>/<profile>/<name>.{csv,md} (+ claims);
#: ``write_figure(fig, name, profile)``: <name>.png, returned as an image a notebook displays
write = functools.partial(report.write_results, PAPER)
write_figure = functools.partial(report.save_figure, PAPER)
verdicts_markdown = report.verdict_summary


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


add_columns = report.add_columns
with_seed_columns = report.with_seed_columns


def table2(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Paper vs ours (mean over seeds) per row, with the seed spread and the final training accuracy."""
    rows = []
    for r in _rows():
        m = run_metrics[r["name"]]
        rows.append({"name": r["name"], "paper_clip@1": r["clip1"], "ours_clip@1": 100 * m["clip@1"],
                     "paper_video@1": r["video1"], "ours_video@1": 100 * m["video@1"]})
    return with_seed_columns(report.compare_table(rows, ["clip@1", "video@1"]), run_metrics).round(1)


def _claims(table: str) -> list[report.Claim]:
    return [report.Claim(c["id"], c["text"], c["kind"], c["a"], c.get("b"), metric=c.get("metric", "video@1"))
            for c in spec()["tables"][table]["claims"]]


def claim_scores(claim: report.Claim, run_metrics: dict[str, dict]) -> dict[str, dict]:
    """Row -> seed -> {video id: value} of the claim's metric (per-video clip accuracy for a clip@1
    claim, top-1 correctness for video@1), for ``report.evaluate_claim``."""
    return {name: runs.per_video(m, claim.metric) for name, m in run_metrics.items()}


def table2_claims(run_metrics: dict[str, dict]) -> list[dict]:
    return [report.evaluate_claim(c, claim_scores(c, run_metrics)) for c in _claims("table2")]


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


def _video1_halfwidth(m: dict) -> float:
    """Half-width (points) of an approximate 95% interval of a run's mean video@1: test-video sampling
    (binomial over its test videos) and, with several seeds, the seed spread of the mean."""
    p, seeds = m["video@1"], len(m.get("seeds", [0]))
    return 196 * np.sqrt(p * (1 - p) / m["num_test_videos"] + m.get("video@1_std", 0.0) ** 2 / seeds)


def figure3(costs: pd.DataFrame, run_metrics: dict[str, dict]):
    fig = report.new_figure((11, 4.2))
    left, right = fig.subplots(1, 2)
    ours = pd.Series({n: 100 * m["video@1"] for n, m in run_metrics.items()})
    # approximate 95% interval of each of our mean accuracies: test videos and seeds (the paper's: ~20k videos, tiny)
    ours_err = pd.Series({n: _video1_halfwidth(m) for n, m in run_metrics.items()})
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
    fig = report.new_figure((11, 4))
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


def figure4_summary(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Final train/test errors (means over seeds) and the paper's two claims per depth, each with a 95% interval.

    Test error: video@1, an interval over seeds and test videos matched by id
    (``report.evaluate_claim``). Train error: each seed's last-epoch training accuracy, on its own
    random clips, so an interval over seeds (``report.seed_gap``); with one seed per model the
    spread between runs is unmeasured and the claim is *not run*, with that reason.
    """
    rows = []
    for depth in ("18", "34"):
        names = (f"R(2+1)D-{depth}", f"R3D-{depth}")
        a, b = (run_metrics[n] for n in names)
        train_a, train_b = ([m["train_acc"] for m in r["per_seed"].values()] for r in (a, b))
        if min(len(train_a), len(train_b)) >= 2:
            train = report.seed_gap(train_a, train_b)
            train_text, train_verdict = report.format_gap(train), report.verdict(train["ci_low"], train["ci_high"])
        else:
            train_text, train_verdict = "one seed per model: the spread between runs is not measured", report.NOT_RUN
        test = _test(f"R(2+1)D lower test error ({depth})", "a_gt_b", *names, "video@1", {n: run_metrics[n] for n in names})
        rows.append({
            "depth": depth, "seeds": f"{len(a['seeds'])} / {len(b['seeds'])}",
            "R3D train err": 100 * (1 - np.mean(train_b)), "R(2+1)D train err": 100 * (1 - np.mean(train_a)),
            "train err lower for R(2+1)D by": train_text, "train-error verdict": train_verdict,
            "R3D test err (video)": 100 * (1 - b["video@1"]), "R(2+1)D test err (video)": 100 * (1 - a["video@1"]),
            "test err lower for R(2+1)D by": report.format_gap(test), "test-error verdict": test["verdict"],
        })
    return pd.DataFrame(rows).set_index("depth").round(1)


def regime_text(m: dict) -> str:
    """One line saying how a run was trained at its profile: what a reader needs beside its numbers."""
    s = m["settings"]
    return (f"{m['run']} at {m['profile']}: {s['clip_len']} frames (stride {s['stride']}) x {s['crop']} px crops of "
            f"{s['resize'][0]}x{s['resize'][1]} frames, width {s['width']}, {schedule_text(s)}, batch {s['batch_size']}, "
            f"lr {s['lr']}, {m['environment']['precision']}, {len(m['seeds'])} seed(s); final train accuracy "
            f"{100 * m['train_acc']:.1f}%")


def schedule_text(s: dict) -> str:
    """A run's epochs and learning-rate schedule in words."""
    if s.get("schedule", "step") == "step":
        return f"{s['epochs']}, lr / 10 every {s['step_epochs']}"
    return f"{s['epochs']}, {s['schedule']} after {s.get('warmup_epochs', 0)} warm-up"


def gpu_hours_text(run_names) -> str:
    """The paper-scale cost of these runs, estimated (runs.paper_gpu_hours): the range over them, per run."""
    from ..flops import REFERENCE_GPU

    hours = [runs.paper_gpu_hours(PAPER, name) for name in set(run_names)]
    span = f"{min(hours):.0f}" if round(min(hours)) == round(max(hours)) else f"{min(hours):.0f}-{max(hours):.0f}"
    return (f"~{span} GPU-hours per run (estimate: one {REFERENCE_GPU['name']}, fp32 at "
            f"{100 * REFERENCE_GPU['utilization']:.0f}% of peak; the paper names no hardware)")


def settings_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """What was actually trained at this profile, beside the paper's setting (one row per setting)."""
    paper = spec()["settings"]
    first = next(iter(run_metrics.values()))
    s = first["settings"]
    train = runs.train_list(s)
    minutes = sum(m["train_seconds"] for m in run_metrics.values()) / 60
    seeds = sorted({len(m["seeds"]) for m in run_metrics.values()})
    rows = [
        ("dataset", f"{paper['dataset']} (400 classes)", f"{s['dataset']} role, profile {first['profile']}"
         + (f", first {s['classes']} classes" if s.get("classes") else "")),
        ("train / test videos", "about 300K in all (train + val)", f"{len(train) - first['skipped_videos']['train']} / {first['num_test_videos']}"),
        ("clip (frames x crop)", f"{paper['clip_len']} x {paper['crop']}", f"{s['clip_len']} x {s['crop']}"),
        ("frames resized to", "x".join(map(str, paper["resize"])), "x".join(map(str, s["resize"]))),
        ("channel width", "1.0", str(s["width"])),
        ("frame stride", str(paper["stride"]), str(s["stride"])),
        ("epochs, schedule", schedule_text(paper), schedule_text(s)),
        ("initialisation", "MSRA (caffe2)", "MSRA, residual branches' last BN at 0" if s.get("zero_init_residual") else "MSRA (caffe2)"),
        ("batch, lr", f"{paper['batch_size']}, {paper['lr']}", f"{s['batch_size']}, {s['lr']}"),
        ("precision", "fp32 (GPUs, 2017)", f"{s['precision']} ({first['environment']['precision']} ran, "
         f"torch {first['environment']['torch']}, {first['environment']['threads']} threads)"),
        ("seeds per run", "1", " / ".join(map(str, seeds))),
        ("test clips per video", str(paper["test_clips"]), str(s["test_clips"])),
        ("chance (video@1)", "0.25%", f"{100 / train.num_classes:.1f}%"),
        ("training + test time", gpu_hours_text(m["run"] for m in run_metrics.values()), f"{minutes:.1f} min for {len(run_metrics)} runs, all seeds"),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "ours"]).set_index("setting")


# ----------------------------------------------------------------------------- Figure 5
def figure5_runs(profile: str) -> dict[int, dict]:
    """Paper clip length -> the metrics of the R(2+1)D-18 trained at it (scaled by the profile)."""
    return {int(n): runs.ensure_run(PAPER, run, profile) for n, run in spec()["tables"]["figure5"]["lengths"].items()}


def figure5_table(length_runs: dict[int, dict]) -> pd.DataFrame:
    """Clip and video accuracy per clip length, with our scaled length and the per-clip cost."""
    rows = []
    for n, m in sorted(length_runs.items()):
        s = m["settings"]
        rows.append({"paper frames": n, "our frames": s["clip_len"], "clip@1": 100 * m["clip@1"], "video@1": 100 * m["video@1"],
                     "video@1 95% +-": _video1_halfwidth(m), "train acc": 100 * m["train_acc"], "seeds": len(m["seeds"]),
                     "GMACs per clip (ours)": m["flops"] / 2e9})
    return pd.DataFrame(rows).set_index("paper frames").round(2)


def _claim_row(claim: str, paper: str, result: dict, ours: str = "") -> dict:
    """A row of Figure 5's claims table: the paper's number, ours with its interval, the verdict."""
    text = f"{ours}; " if ours else ""
    return {"claim": claim, "paper": paper, "ours": text + (report.format_gap(result) if "diff" in result else result.get("reason", "")),
            "verdict": result["verdict"]}


def _test(claim_id: str, kind: str, a, b, metric: str, rows: dict[str, dict]) -> dict:
    claim = report.Claim(claim_id, "", kind, a, b, metric=metric)
    return report.evaluate_claim(claim, claim_scores(claim, rows))


def figure5_claims(length_runs: dict[int, dict], longer_test: dict, profile: str) -> pd.DataFrame:
    """Figure 5's claims and section 4.3's two experiments, each with a 95% interval over seeds and
    test videos (matched by id), on the metric the paper's sentence is about, in one verdict vocabulary."""
    f5 = spec()["tables"]["figure5"]
    lengths = sorted(length_runs)
    by_name = {f"{n} frames": m for n, m in length_runs.items()}
    rows = []
    # clip accuracy climbs: the longest clip length above the shortest, on per-video clip accuracy
    climb = _test("climb", "a_gt_b", f"{lengths[-1]} frames", f"{lengths[0]} frames", "clip@1", by_name)
    rows.append(_claim_row(f5["claims"][0]["text"], "climbs from 8 to 48 frames", climb, f"clip@1 {lengths[-1]} vs {lengths[0]} frames"))
    # video accuracy peaks inside the range: selection-aware (the interior length is picked from the data)
    peak = _test("peak", "peak_inside", [f"{n} frames" for n in lengths], None, "video@1", by_name)
    rows.append(_claim_row(f5["claims"][1]["text"], f"peak at {f5['claims'][1]['paper_peak']}, then lower", peak,
                           f"video@1 peaks at {peak.get('peak', 'n/a')}"))
    # the 8-frame model tested on 32-frame clips: clip accuracy drops
    lt = f5["longer_test_clips"]
    base = runs.ensure_run(PAPER, lt["run"], profile)
    pair = {f"tested on {lengths[0]}-frame clips": base, f"tested on {lt['test_clip_len']}-frame clips": longer_test}
    drop = _test("drop", "a_gt_b", *pair, "clip@1", pair)
    rows.append(_claim_row("testing the 8-frame model on 32-frame clips lowers clip accuracy", f"clip@1 {lt['paper_clip1_change']:+.1f}",
                           drop, "clip@1 drop (8-frame clips minus 32-frame clips)"))
    # fine-tuning the 32-frame model from the 8-frame one
    ft = f5["finetune"]
    tuned, scratch, short = (runs.ensure_run(PAPER, ft[k], profile) for k in ("run", "scratch", "short"))
    rows_ft = {"fine-tuned 32": tuned, "scratch 32": scratch, "8 frames": short}
    gain = _test("gain", "a_gt_b", "fine-tuned 32", "8 frames", "clip@1", rows_ft)
    rows.append(_claim_row("32-frame model fine-tuned from the 8-frame one beats the 8-frame model",
                           f"clip@1 +{ft['paper_gain_over_short']:.1f} ({ft['paper_finetuned']} vs {ft['paper_finetuned'] - ft['paper_gain_over_short']:.1f})",
                           gain, "clip@1 fine-tuned minus 8-frame"))
    # "almost as good as from scratch": the paper's numbers put scratch 1.7 points above, tested as printed
    behind = _test("behind", "a_gt_b", "scratch 32", "fine-tuned 32", "clip@1", rows_ft)
    rows.append(_claim_row("... almost as good as training the 32-frame model from scratch (scratch a little above)",
                           f"clip@1 {ft['paper_finetuned']} vs {ft['paper_scratch']} ({ft['paper_finetuned'] - ft['paper_scratch']:+.1f})",
                           behind, "clip@1 scratch minus fine-tuned"))
    ratio = figure5_flops_ratio()
    # exact (no noise): counted FLOPs, within 10% of the paper's ratio or not
    rows.append({"claim": "the 8-frame model is 7.3x cheaper than the 32-frame one (FLOPs)", "paper": f"{ft['paper_flops_ratio']}x",
                 "ours": f"{ratio:.2f}x (FlopCounterMode, full width, 112 px; exact, no interval)",
                 "verdict": report.REPRODUCED if abs(ratio / ft["paper_flops_ratio"] - 1) <= 0.1 else report.CONTRADICTED})
    return pd.DataFrame(rows).set_index("claim")


def figure5_flops_ratio(short: int = 8, long: int = 32) -> float:
    """FLOPs of R(2+1)D-18 on a ``long``-frame clip over a ``short``-frame one (full width, 112x112)."""
    with torch.device("meta"):
        model = create("r2plus1d_18", num_classes=400, width=1.0)
    return count_flops(model, (3, long, 112, 112)) / count_flops(model, (3, short, 112, 112))


def figure5_longer_test(profile: str) -> dict:
    """The 8-frame model evaluated on 32-frame test clips (both scaled by the profile)."""
    lt = spec()["tables"]["figure5"]["longer_test_clips"]
    runs.ensure_run(PAPER, lt["run"], profile)
    return runs.evaluate_run(PAPER, lt["run"], profile, clip_len=lt["test_clip_len"])


def figure5(table: pd.DataFrame):
    fig = report.new_figure((6.5, 4))
    ax = fig.subplots()
    x = table.index.to_numpy()
    ax.plot(x, table["clip@1"], "o-", color="tab:blue", label="clip@1")
    ax.errorbar(x, table["video@1"], yerr=table["video@1 95% +-"], fmt="s-", color="tab:red", ecolor="0.7", capsize=2,
                label="video@1 (10 clips), 95% intervals")
    ax.set_xticks(x, [f"{n}\n({f})" for n, f in zip(x, table["our frames"])])
    ax.set_xlabel("clip length: paper frames (our frames)")
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("tran2018 Figure 5 (ours): accuracy vs clip length, R(2+1)D-18")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Figure 6
FILTER_RANGE = 0.3  # the appendix: "weights scaled from [-0.3, 0.3] to [-1, 1]"


def conv1_filters(model) -> dict[str, np.ndarray]:
    """conv1 weights of a VideoResNet, clipped to +-0.3 and scaled to [-1, 1] (the appendix's Figure 6).

    R(2+1)D (``R2Plus1dStem``): ``spatial`` (mid, 7, 7, 3) RGB 7x7 filters and ``temporal`` (out, mid, 3):
    each temporal filter as a mid x 3 matrix (input channel x time). A single 3D conv1 (R3D, MCx):
    ``spatiotemporal`` (out, t, 7, 7, 3), one RGB 7x7 image per time step.
    """
    convs = [m for m in model.stem if isinstance(m, torch.nn.Conv3d)]
    scaled = [np.clip(c.weight.detach().float().cpu().numpy() / FILTER_RANGE, -1, 1) for c in convs]
    if len(convs) == 2:  # (2+1)D: 1x7x7 spatial, then 3x1x1 temporal
        spatial, temporal = scaled
        if spatial.shape[1] != 3:
            raise ValueError(f"Figure 6 shows RGB filters; this model's conv1 takes {spatial.shape[1]} channels")
        return {"spatial": spatial[:, :, 0].transpose(0, 2, 3, 1), "temporal": temporal[:, :, :, 0, 0]}
    (w,) = scaled
    if w.shape[1] != 3:
        raise ValueError(f"Figure 6 shows RGB filters; this model's conv1 takes {w.shape[1]} channels")
    return {"spatiotemporal": w.transpose(0, 2, 3, 4, 1)}


def _grid(n: int) -> tuple[int, int]:
    cols = int(np.ceil(np.sqrt(n * 1.6)))
    return int(np.ceil(n / cols)), cols


def figure6(r2plus1d, r3d=None, title: str = ""):
    """Figure 6: R(2+1)D's conv1 (spatial filters as upscaled RGB images, temporal filters as
    mid x 3 matrices) and, if given, R3D's conv1 (its time slices side by side) for contrast."""
    f = conv1_filters(r2plus1d)
    spatial, temporal = f["spatial"], f["temporal"]
    panels = [("R(2+1)D conv1: spatial 7x7 filters", spatial, "rgb"),
              ("R(2+1)D conv1: temporal filters (input channel x time)", temporal, "matrix")]
    if r3d is not None:
        st = conv1_filters(r3d)["spatiotemporal"]  # (out, t, 7, 7, 3) -> time slices side by side, 1 px gap
        gap = np.zeros((st.shape[0], st.shape[2], 1, 3))
        panels.append(("R3D conv1: 3x7x7 filters, time steps left to right",
                       np.stack([np.concatenate(sum(([s, g] for s, g in zip(v, [gap[0]] * len(v))), [])[:-1], axis=1)
                                 for v in st]), "rgb"))
    fig = report.new_figure((5.2 * len(panels), 5.2))
    outer = fig.add_gridspec(1, len(panels), wspace=0.15)
    for k, (name, filters, kind) in enumerate(panels):
        rows, cols = _grid(len(filters))
        inner = outer[k].subgridspec(rows, cols, wspace=0.08, hspace=0.08)
        for i in range(rows * cols):
            ax = fig.add_subplot(inner[i // cols, i % cols])
            ax.set_axis_off()
            if i >= len(filters):
                continue
            if kind == "rgb":  # [-1, 1] -> [0, 1], nearest upscaling by imshow
                ax.imshow((filters[i] + 1) / 2, interpolation="nearest")
            else:
                ax.imshow(filters[i], cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        fig.text((k + 0.5) / len(panels), 0.96, name, ha="center", fontsize=9)
    fig.suptitle(title or "tran2018 Figure 6: conv1 filters (weights scaled from [-0.3, 0.3] to [-1, 1])", y=1.02)
    return fig


def _neighbour_correlation(images: np.ndarray) -> float:
    """Mean correlation of horizontally and vertically adjacent weights of 7x7 filters (N, 7, 7, C).

    Near 0 for random initialisation; learned colour blobs and edges are smooth, so it rises.
    """
    x = images - images.mean(axis=(1, 2), keepdims=True)
    pairs = [(x[:, :, :-1], x[:, :, 1:]), (x[:, :-1], x[:, 1:])]
    num = sum((a * b).sum() for a, b in pairs)
    den = sum(np.sqrt((a * a).sum() * (b * b).sum()) for a, b in pairs)
    return float(num / den)


def filter_statistics(r2plus1d, r3d, r2plus1d_init, r3d_init) -> pd.DataFrame:
    """Figure 6 in numbers: spatial smoothness of conv1 filters, trained vs freshly initialised.

    The paper's figure is qualitative; this makes "the filters learned structure" checkable:
    each row compares a trained conv1 with the same architecture at initialisation.
    """
    rows = []
    for name, model, init, key in (("R(2+1)D spatial 1x7x7", r2plus1d, r2plus1d_init, "spatial"),
                                   ("R3D 3x7x7 (each time step)", r3d, r3d_init, "spatiotemporal")):
        trained, fresh = conv1_filters(model)[key], conv1_filters(init)[key]
        rows.append({"filters": name, "count": int(trained.shape[0]),
                     "neighbour correlation, trained": _neighbour_correlation(trained.reshape(-1, 7, 7, 3)),
                     "neighbour correlation, at init": _neighbour_correlation(fresh.reshape(-1, 7, 7, 3)),
                     "share of weights beyond +-0.3 (clipped in the figure)": float(np.mean(np.abs(trained) >= 1.0))})
    return pd.DataFrame(rows).set_index("filters")


# ----------------------------------------------------------------------------- Tables 3-5
STREAMS = ("rgb", "flow")


def row_label(row: dict) -> str:
    """A row's name in our tables: ``"<name>, <pretraining>"`` where the paper repeats names across pretrainings."""
    return f"{row['name']}, {row['pretraining']}" if "pretraining" in row else row["name"]


def stream_result(row: dict, profile: str, **fill) -> dict:
    """Our numbers for one row of Tables 3-5: its RGB run, its flow run, or both fused (two-stream).

    ``fill`` completes run-name templates (``{dataset}``, ``{split}``). Returns ``clip@1`` (None
    for two-stream, as the paper prints none), ``video@1``, ``video@5`` (fractions, means over
    seeds), ``correct`` (seed -> test video id -> top-1 correct, for the claims), ``runs`` (stream
    -> run) and ``trained`` (stream -> the run whose weights it is: another one where the
    profile's stand-ins make two runs identical); or ``{"skipped": reason}`` when the profile does
    not train a stream. Two-stream fuses the streams' scores seed by seed (RGB seed k with flow seed k).
    """
    names = {k: row[k].format(**fill) for k in STREAMS if k in row}
    if not names:
        raise ValueError(f"row {row_label(row)!r} names no run (rgb: / flow:) and is not reported_only")
    metrics = {k: runs.ensure_run(PAPER, n, profile) for k, n in names.items()}
    for k, m in metrics.items():
        if "skipped" in m:
            return {"skipped": f"{names[k]}: {m['skipped']}"}
    if len(names) == 2:  # tran2018's two-stream: the average of the streams' video scores
        seeds = sorted(set(metrics["rgb"]["seeds"]) & set(metrics["flow"]["seeds"]))
        fused = {k: evaluate.fuse_streams([runs.load_video_scores(PAPER, names[s], profile, k) for s in STREAMS])
                 for k in seeds}
        out = {"clip@1": None, **{key: float(np.mean([f[key] for f in fused.values()])) for key in ("video@1", "video@5")}}
        out["correct"] = {k: {str(i): float(c) for i, c in zip(f["video_ids"], f["video_correct"])} for k, f in fused.items()}
    else:
        (m,) = metrics.values()
        out = {key: m[key] for key in ("clip@1", "video@1", "video@5")}
        out["train_acc"] = 100 * m["train_acc"]  # a fused row has two: see its streams' rows
        out["correct"] = runs.per_video(m, "video@1")
    out["runs"] = names
    out["trained"] = {k: m.get("same_as", names[k]) for k, m in metrics.items()}
    return out


def _shared_note(res: dict, profile: str) -> str:
    shared = [f"{r} = {res['trained'][k]}" for k, r in res["runs"].items() if res["trained"][k] != r]
    return f"at {profile} the same run{'s' if len(shared) > 1 else ''} as: {', '.join(shared)}" if shared else ""


def stream_table(table: str, profile: str) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Table 3 or 4: paper vs ours per row (``metrics`` in the spec), and our per-row results for the claims."""
    t = spec()["tables"][table]
    rows, results = [], {}
    for r in t["rows"]:
        rec = {"name": row_label(r), **{f"paper_{metric}": r.get(col) for col, metric in t["metrics"].items()}}
        if r.get("reported_only"):
            rows.append({**rec, "reported": True})
            continue
        res = results[rec["name"]] = stream_result(r, profile)
        if "skipped" in res:
            rec["note"] = f"not trained at {profile}: {res['skipped']}"
        else:
            rec.update({f"ours_{m}": None if res[m] is None else 100 * res[m] for m in t["metrics"].values()})
            rec["note"] = _shared_note(res, profile)
        rows.append(rec)
    table = add_columns(report.compare_table(rows, list(t["metrics"].values())),
                        {"train acc (ours)": [results.get(n, {}).get("train_acc", np.nan) for n in (r["name"] for r in rows)]})
    return table.round(1), results


def _merge_splits(per_split: dict[int, dict]) -> dict:
    """Table 5's number for one row and target: the mean over the splits run; correctness keyed by (split, video)."""
    done = {k: v for k, v in per_split.items() if "skipped" not in v}
    if not done:
        return {"skipped": next(iter(per_split.values()))["skipped"]}
    return {
        "video@1": float(np.mean([v["video@1"] for v in done.values()])),
        "train_acc": float(np.mean([v["train_acc"] for v in done.values()])) if all("train_acc" in v for v in done.values()) else np.nan,
        "splits": sorted(done),
        # per seed, keyed by (split, video): a claim pairs the two rows' same test video of the same split
        "correct": {seed: {f"s{k}:{vid}": c for k, v in done.items() for vid, c in v["correct"].get(seed, {}).items()}
                    for seed in set.intersection(*(set(v["correct"]) for v in done.values()))},
        "runs": {f"s{k}:{s}": r for k, v in done.items() for s, r in v["runs"].items()},
        "trained": {f"s{k}:{s}": r for k, v in done.items() for s, r in v["trained"].items()},
    }


def table5(profile: str, pretrained: bool = False) -> tuple[pd.DataFrame, dict[str, dict[str, dict]]]:
    """Table 5: video@1 on each target, the mean over the splits the profile runs, paper vs ours.

    ``pretrained=True`` adds rows fine-tuned from torchvision's public Kinetics-400 weights
    (split 1; the weights must be in the torch hub cache: the error says where).
    Returns the table and, per target, our per-row results (for :func:`stream_claims`).
    """
    t = spec()["tables"]["table5"]
    extra = [{**r, "public": True} for r in t["public_weights"]] if pretrained else []
    rows, results = [], {ds: {} for ds in t["datasets"]}
    for r in t["rows"] + extra:
        rec = {"name": row_label(r), **{f"paper_{ds}": r.get(ds) for ds in t["datasets"]}}
        if r.get("reported_only"):
            rows.append({**rec, "reported": True})
            continue
        notes = []
        for ds in t["datasets"]:
            splits = [1] if r.get("public") else t["splits"]
            res = results[ds][rec["name"]] = _merge_splits({k: stream_result(r, profile, dataset=ds, split=k) for k in splits})
            if "skipped" in res:
                notes.append(f"{ds} not trained at {profile}: {res['skipped']}")
                continue
            rec[f"ours_{ds}"] = 100 * res["video@1"]
            if len(res["splits"]) < len(splits):
                notes.append(f"{ds}: split{'s' if len(res['splits']) > 1 else ''} {', '.join(map(str, res['splits']))} only")
        shared = [_shared_note(results[ds][rec["name"]], profile) for ds in t["datasets"] if "skipped" not in results[ds][rec["name"]]]
        rec["note"] = "; ".join(notes + [s for s in shared if s])
        rows.append(rec)
    # a two-stream row has two training accuracies: see its streams' rows
    table = add_columns(report.compare_table(rows, list(t["datasets"])),
                        {f"{ds} train acc (ours)": [results[ds].get(n, {}).get("train_acc", np.nan) for n in (r["name"] for r in rows)]
                         for ds in t["datasets"]})
    return table.round(1), results


def stream_claims(table: str, results: dict[str, dict], scope: str = "") -> list[dict]:
    """The table's claims on our rows: video@1, an interval over seeds and the test videos both rows
    share (matched by id), or ``not run`` (with the reason) where the profile trained a row not at
    all, or trained both rows as the very same runs (Sports-1M vs Kinetics pretraining on one stand-in)."""
    out = []
    for c in spec()["tables"][table]["claims"]:
        cid = f"{c['id']} ({scope})" if scope else c["id"]
        a, b = results[c["a"]], results[c["b"]]
        skipped = [f"{name}: {res['skipped']}" for name, res in ((c["a"], a), (c["b"], b)) if "skipped" in res]
        if skipped:
            out.append(report.not_run(cid, c["text"], "not trained: " + skipped[0]))
            continue
        if sorted(a["trained"].values()) == sorted(b["trained"].values()):
            out.append(report.not_run(cid, c["text"], f"both rows are the same trained runs at this profile "
                                      f"({', '.join(sorted(set(a['trained'].values())))}): one stand-in plays both datasets"))
            continue
        claim = report.Claim(cid, c["text"], c["kind"], c["a"], c["b"], metric=c.get("metric", "video@1"))
        out.append(report.evaluate_claim(claim, {c["a"]: a["correct"], c["b"]: b["correct"]}))
    return out


def table5_claims(results: dict[str, dict[str, dict]]) -> list[dict]:
    """Table 5's claims, tested on each target separately."""
    return [c for ds, res in results.items() for c in stream_claims("table5", res, scope=ds)]


#: the fine-tuning run whose settings stand for all Table 5 fine-tunes (they differ only in target, split, stream)
_FINETUNE_EXAMPLE = "ucf101_s1_rgb_from_kinetics"


def _target_train_lists(profile: str) -> dict:
    """Table 5's targets -> the training video list a fine-tune uses at this profile (split 1)."""
    ft = runs.run_settings(PAPER, _FINETUNE_EXAMPLE, profile)
    return {ds: runs.train_list({**ft, "dataset": ds}) for ds in spec()["tables"]["table5"]["datasets"]}


def transfer_settings_table(profile: str) -> pd.DataFrame:
    """What Tables 3-5 trained at this profile, beside the paper (pretraining and fine-tuning recipes, targets)."""
    sp = spec()
    paper = sp["settings"]
    pre = runs.run_settings(PAPER, "r2plus1d_34_flow", profile)
    ft = runs.run_settings(PAPER, _FINETUNE_EXAMPLE, profile)
    paper_ft = {**paper, **sp["transfers"][_FINETUNE_EXAMPLE]}
    splits = ft.get("splits") or sp["tables"]["table5"]["splits"]
    sizes, chance = [], [f"{pre['dataset']} {100 / runs.train_list(pre).num_classes:.1f}%"]
    for ds, train in _target_train_lists(profile).items():
        test = config.video_list(ds, 1, config.test_subset(ds), profile, num_classes=ft.get("classes"))
        sizes.append(f"{ds}: {train.num_classes} classes, {len(train)} / {len(test)}")
        chance.append(f"{ds} {100 / train.num_classes:.1f}%")
    rows = [
        ("Sports-1M role", "Sports-1M (487 classes, 1.1M videos)",
         f"{config.data_role('sports1m', profile)} role" + (" (the same stand-in as Kinetics)" if config.data_role("sports1m", profile) != "sports1m" else "")),
        ("Kinetics role", "Kinetics (400 classes)", f"{pre['dataset']} role" + (f", first {pre['classes']} classes" if pre.get("classes") else "")),
        ("model", "R(2+1)D-34 (R3D-34 baseline)", f"R(2+1)D-34 at width {pre['width']}"),
        ("clip (frames x crop)", f"{paper['clip_len']} (and 32) x {paper['crop']}", f"{pre['clip_len']} x {pre['crop']}"),
        ("pretraining epochs, schedule", "Sports-1M 50, Kinetics 45, lr / 10 every 10", schedule_text(pre)),
        ("seeds per run", "1", str(pre["seeds"])),
        ("flow", "Farneback, 2 channels per frame", "Farneback (flow stage), 2 channels, +-20 px"),
        ("fine-tuning epochs, schedule, lr", f"{schedule_text(paper_ft)}, {paper_ft['lr']}", f"{schedule_text(ft)}, {ft['lr']}"),
        ("targets (train / test videos, split 1)", "UCF101 101 classes, HMDB51 51 classes", "; ".join(sizes)),
        ("splits averaged (Table 5)", "1, 2, 3", ", ".join(map(str, splits))),
        ("two-stream", "average of the RGB and flow scores", "average of the RGB and flow video scores"),
        ("chance (video@1)", "Kinetics 0.25%, UCF101 1.0%, HMDB51 2.0%", ", ".join(chance)),
        ("compute", f"pretraining: {gpu_hours_text(['r2plus1d_34', 's1m_r2plus1d_34'])}; fine-tuning: "
         + gpu_hours_text([_FINETUNE_EXAMPLE]).split(' (')[0], "see each run's time in the tables"),
    ]
    return pd.DataFrame(rows, columns=["setting", "paper", "ours"]).set_index("setting")


def table5_figure(table: pd.DataFrame, profile: str):
    """Paper vs ours per target (bars), our R(2+1)D rows only, with the target's chance level at this profile."""
    ours = table[table["note"] != report.REPORTED_ONLY]
    fig = report.new_figure((11, 3.8))
    targets = _target_train_lists(profile)
    for i, (ds, train) in enumerate(targets.items()):
        ax = fig.add_subplot(1, len(targets), i + 1)
        report.paper_vs_ours_bars(ours, ds, ax=ax)
        ax.axhline(100 / train.num_classes, color="k", ls=":", lw=1, label="chance (ours)")
        ax.set_title(ds)
        ax.set_ylabel("video@1 (%)")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("tran2018 Table 5: video@1 after fine-tuning (paper vs ours)")
    fig.tight_layout()
    return fig
