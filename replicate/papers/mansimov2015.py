"""mansimov2015 (2D -> 3D initialisation): the logic behind its notebooks, so the notebooks stay thin.

Every number shown next to ours comes from ``mansimov2015.yaml`` (the paper spec); every number
of ours from ``replicate.inflate``, a model of ``replicate.models.mansimov``, a run trained by
``replicate.runs`` (which starts each from the image-pretrained net of ``replicate.pretrain``), the
Composite LSTM of ``replicate.composite``, or a fusion of their stored per-video scores.
"""
from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import torch

from .. import composite, config, inflate, pretrain, report, runs
from ..evaluate import fuse_streams
from ..flops import count_params
from ..models import create
from ..models.mansimov import MANSIMOV_3D_TIME
from .common import spec_claims

PAPER = "mansimov2015"
#: the image-pretrained network every run starts from (its ``init_from``)
IMAGE_NET = "mansimov_2d"
#: parameter counts at full size (the inventory's arithmetic), printed by the architecture cells
PAPER_PARAMS = {("mansimov_2d", 1000): 104_321_000, ("mansimov_2d_ft", 101): 92_040_293, ("mansimov_3d", 101): 92_682_917,
                ("mansimov_flow_single", 101): 92_035_589, ("mansimov_flow_stack", 101): 92_120_261,
                ("mansimov_flow_slow", 101): 93_562_949}
TWIN_CLASSES = "twin_classes"


def spec() -> dict:
    return runs.load_spec(PAPER)


#: ``write(df, name, profile, claims=None)``: results/<paper>/<profile>/<name>.{csv,md} (+ claims);
#: ``write_figure(fig, name, profile)``: <name>.png, returned as an image a notebook displays
write = functools.partial(report.write_results, PAPER)
write_figure = functools.partial(report.save_figure, PAPER)
verdicts_markdown = report.verdict_summary


# ----------------------------------------------------------------------------- the networks
def parameter_table() -> pd.DataFrame:
    """Every network of the paper at full size: our parameter count vs the inventory's (deterministic)."""
    rows = []
    for (name, classes), paper in PAPER_PARAMS.items():
        with torch.device("meta"):
            ours = count_params(create(name, num_classes=classes))
        rows.append({"model": name, "classes": classes, "paper params": paper, "ours params": ours, "match": ours == paper})
    return pd.DataFrame(rows).set_index("model")


# ----------------------------------------------------------------------------- Figure 1
def figure1_alphas() -> pd.DataFrame:
    """alpha_t of each init at T = 3 (conv1) and T = 2 (conv2): ours (``inflate.alphas``) vs the paper's."""
    t = spec()["tables"]["figure1"]
    rows = []
    for init in t["inits"]:
        for time, paper in t["paper_alphas"][init].items():
            ours = inflate.alphas(init, int(time)).tolist()
            for slot, (a, b) in enumerate(zip(ours, paper), start=1):
                rows.append({"init": init.upper(), "layer": "conv1" if int(time) == 3 else "conv2", "t": slot,
                             "paper alpha": b, "ours alpha": a, "match": abs(a - b) < 1e-12})
            rows.append({"init": init.upper(), "layer": "conv1" if int(time) == 3 else "conv2", "t": "sum",
                         "paper alpha": sum(paper), "ours alpha": sum(ours), "match": abs(sum(ours) - 1) < 1e-12})
    return pd.DataFrame(rows).set_index(["init", "layer", "t"])


def figure1(table: pd.DataFrame):
    """Bars of alpha_t per init, one panel per layer (T = 3, T = 2)."""
    fig = report.new_figure((10, 3.4))
    data = table.reset_index()
    data = data[data["t"] != "sum"]
    inits = list(dict.fromkeys(data["init"]))
    for k, layer in enumerate(("conv1", "conv2")):
        ax = fig.add_subplot(1, 2, k + 1)
        part = data[data["layer"] == layer]
        slots = sorted(set(part["t"]))
        width = 0.8 / len(slots)
        for j, slot in enumerate(slots):
            values = [float(part[(part["init"] == i) & (part["t"] == slot)]["ours alpha"].iloc[0]) for i in inits]
            ax.bar(np.arange(len(inits)) + (j - (len(slots) - 1) / 2) * width, values, width, label=f"alpha_{slot}")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(range(len(inits)), inits)
        ax.set_title(f"{layer} (T = {len(slots)})")
        ax.legend(fontsize="small")
    fig.suptitle("W3D_t = alpha_t x W2D, sum_t alpha_t = 1")
    fig.tight_layout()
    return fig


@torch.no_grad()
def conv1_identities(seed: int = 0, width: float = 0.125, input_size: int = 64) -> pd.DataFrame:
    """What each init computes at conv1 on a random clip, checked in float64 (section 3's reading):
    IA = the 2D filter on the frame mean, ZWI = on frame 1, NWI = ZWI + filtered frame differences;
    and on a static clip every inflated net gives the 2D net's logits. Max abs error per identity."""
    torch.manual_seed(seed)
    net2d = create("mansimov_2d_ft", num_classes=7, width=width, input_size=input_size).double().eval()
    conv = net2d.features.conv1
    x = torch.randn(2, 3, 3, input_size, input_size, dtype=torch.float64)  # 3 frames: conv1's T

    def conv2d(frames):
        return torch.nn.functional.conv2d(frames, conv.weight, conv.bias, conv.stride, conv.padding)

    def conv3d(init):
        return inflate.inflate_conv(conv, 3, init)(x)[:, :, 0]

    no_bias = torch.nn.functional.conv2d
    diffs = sum(no_bias(x[:, :, 0] - x[:, :, t], conv.weight, None, conv.stride, conv.padding) for t in (1, 2)) / 3
    frame = torch.randn(2, 3, input_size, input_size, dtype=torch.float64)
    static = frame.unsqueeze(2).expand(-1, -1, 6, -1, -1)
    rows = [
        ("IA = W2D on the mean frame", (conv3d("ia") - conv2d(x.mean(2))).abs().max()),
        ("ZWI = W2D on frame 1", (conv3d("zwi") - conv2d(x[:, :, 0])).abs().max()),
        ("NWI = ZWI + W2D on (x1 - xt) / T", (conv3d("nwi") - conv2d(x[:, :, 0]) - diffs).abs().max()),
    ]
    for init in ("ia", "is", "zwi", "nwi"):
        net3d = inflate.inflate_model(net2d, MANSIMOV_3D_TIME, init).eval()
        rows.append((f"{init.upper()}: static clip -> the 2D net's logits", (net3d(static) - net2d(frame)).abs().max()))
    return pd.DataFrame([{"identity": name, "max abs error": float(err), "holds (< 1e-9)": bool(err < 1e-9)}
                         for name, err in rows]).set_index("identity")


# ----------------------------------------------------------------------------- pretraining
def pretraining_summary(profile: str) -> pd.DataFrame:
    """The image-pretrained net every row starts from: what it was trained on and how well it does."""
    m = pretrain.ensure_pretrained(IMAGE_NET, profile)
    s = m["settings"]
    paper_top5_error = s.get("paper_top5_error")
    row = {"name": IMAGE_NET, "paper_top-5 error": paper_top5_error,
           "ours_top-5 error": None if m["top5"] is None else 100 * (1 - m["top5"]),
           "note": ("ImageNet (paper) vs " + ("the images stand-in, 16 shape classes" if profile in config.SYNTHETIC_PROFILES
                                               else "ImageNet") if m["source"] == "trained" else m["note"])}
    table = report.compare_table([row], ["top-5 error"])
    return report.add_columns(table, {"top-1 (ours)": [None if m["top1"] is None else 100 * m["top1"]],
                                      "train acc (ours)": [None if m.get("train_acc") is None else 100 * m["train_acc"]],
                                      "epochs": [s["epochs"]], "crop": [s["crop"]], "width": [s["width"]],
                                      "batch norm": [bool(s.get("batch_norm"))]})


# ----------------------------------------------------------------------------- Table 1
def _rows() -> list[dict]:
    return spec()["tables"]["table1"]["rows"]


def table1_runs(profile: str) -> dict[str, dict]:
    """Row name -> run metrics (trained now if the pipeline has not trained it)."""
    return {r["name"]: runs.ensure_run(PAPER, r["run"], profile) for r in _rows()}


def twin_class_videos(profile: str, params: dict | None = None) -> set[str] | None:
    """Test video ids of the classes that only frame order tells apart (a motion and its time-reversed
    twin, both in the dataset): the stand-ins record them; real UCF101 has none (None)."""
    params = params or config.load_params()
    if profile not in config.SYNTHETIC_PROFILES:
        return None
    s = runs.run_settings(PAPER, _rows()[0]["run"], profile, params)
    manifest = json.loads((config.data_dir(profile, params) / "manifest.json").read_text())
    classes = manifest["roles"][config.data_role(s["dataset"], profile)]["classes"]
    videos = config.video_list(s["dataset"], s.get("split", 1), config.test_subset(s["dataset"]), profile, params,
                               num_classes=s.get("classes"))
    present = {(c["actor"], c["motion"]) for c in classes if c["name"] in videos.classes}
    twins = {c["name"] for c in classes if c["name"] in videos.classes and (c["actor"], c["twin"]) in present}
    return {v.video_id for v in videos if videos.classes[v.label] in twins}


def _per_video(m: dict, metric: str = "video@1", ids: set[str] | None = None) -> dict[int, dict[str, float]]:
    """A run's per-video values (``runs.per_video``), only the videos ``ids`` when given."""
    per_seed = runs.per_video(m, metric)
    return per_seed if ids is None else {k: {v: x for v, x in seed.items() if v in ids} for k, seed in per_seed.items()}


def _subset_accuracy(m: dict, ids: set[str]) -> float:
    """Mean over seeds of video@1 on the videos ``ids``."""
    return float(np.mean([np.mean(list(seed.values())) for seed in _per_video(m, "video@1", ids).values()]))


def table1(run_metrics: dict[str, dict], profile: str) -> pd.DataFrame:
    """Paper vs ours (mean over seeds) per row, with clip@1, video@1 on the twin classes, seed spread
    and the final training accuracy."""
    rows = [{"name": r["name"], "paper_video@1": r["video1"], "ours_video@1": 100 * run_metrics[r["name"]]["video@1"]}
            for r in _rows()]
    table = report.with_seed_columns(report.compare_table(rows, ["video@1"]), run_metrics)
    twins = twin_class_videos(profile)
    extra = {"clip@1 (ours)": [100 * run_metrics[n]["clip@1"] for n in table.index]}
    if twins:
        extra[f"video@1 twin classes (ours, {len(twins)} videos)"] = [100 * _subset_accuracy(run_metrics[n], twins)
                                                                       for n in table.index]
    return report.add_columns(table, extra).round(1)


def table1_claims(run_metrics: dict[str, dict], profile: str) -> list[dict]:
    """Every claim of Table 1 with its verdict; the twin-class claim on those videos only (or not run
    where the data have no twins)."""
    twins = twin_class_videos(profile)
    out = []
    for c in spec()["tables"]["table1"]["claims"]:
        claim = report.Claim(c["id"], c["text"], c["kind"], c["a"], c.get("b"), metric=c.get("metric", "video@1"))
        ids = None
        if c.get("videos") == TWIN_CLASSES:
            if not twins:
                out.append(report.not_run(c["id"], c["text"], "the data have no time-reversed twin classes (real "
                                                              "UCF101): testable on the stand-ins only"))
                continue
            ids = twins
        scores = {name: _per_video(m, claim.metric, ids) for name, m in run_metrics.items()}
        out.append(report.evaluate_claim(claim, scores))
    return out


def settings_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """What each row was trained with at this profile, beside the paper's settings (the spec)."""
    paper = spec()["settings"]
    keys = ("model", "inflate", "clip_len", "stride", "crop", "width", "batch_norm", "epochs", "batch_size", "lr",
            "schedule", "freeze_iters", "test_clips", "flip")
    rows = {"paper (spec)": {k: paper.get(k, "") for k in keys}}
    for name, m in run_metrics.items():
        s = m["settings"]
        rows[name] = {k: s.get(k, "") for k in keys}
    return pd.DataFrame(rows).T.astype(str)


# ----------------------------------------------------------------------------- Figure 2
def _conv1(model) -> torch.Tensor:
    return model.features.conv1.weight.detach().float().cpu()  # (out, 3, T, 7, 7)


def initial_conv1(init: str, profile: str) -> torch.Tensor:
    """conv1 of the 3D net as its fine-tuning started: the pretrained 2D filter inflated by ``init``."""
    w2d = pretrain.load_pretrained(IMAGE_NET, profile)["features.conv1.weight"].float()
    return inflate.alphas(init, 3).float().view(1, 1, 3, 1, 1) * w2d.unsqueeze(2)


def figure2_numbers(profile: str) -> pd.DataFrame:
    """Per init (mean over filters, then mean +- sd over seeds): cos(W_t, W_1) after fine-tuning (at
    init: 1 for IA / IS, -1 for NWI, undefined for ZWI's zero slices), and how far each slice moved
    from its initial value, relative to the norm of the pretrained 2D filter."""
    t = spec()["tables"]["figure2"]
    rows = []
    for label, run in t["inits"].items():
        m = runs.ensure_run(PAPER, run, profile)  # trained now if the pipeline has not (a notebook at smoke)
        init = runs.run_settings(PAPER, run, profile)["inflate"]
        w0 = initial_conv1(init, profile)
        base = w0.sum(2).flatten(1).norm(dim=1)  # the 2D filter's norm, per filter
        per_seed = []
        for k in m["seeds"]:
            w = _conv1(runs.load_model(PAPER, run, profile, seed=k))
            flat = w.flatten(3).permute(0, 2, 1, 3).flatten(2)  # (out, T, 3*49)
            cos = torch.nn.functional.cosine_similarity(flat[:, 1:], flat[:, :1].expand_as(flat[:, 1:]), dim=2)
            moved = (w - w0).permute(0, 2, 1, 3, 4).flatten(2).norm(dim=2) / base[:, None]
            per_seed.append([cos[:, 0].mean(), cos[:, 1].mean(), moved[:, 0].mean(), moved[:, 1].mean(), moved[:, 2].mean()])
        v = np.array(torch.tensor(per_seed))
        names = ["cos(W2, W1)", "cos(W3, W1)", "moved W1", "moved W2", "moved W3"]
        row = {"init": label, "seeds": len(v)}
        for j, name in enumerate(names):
            row[name] = v[:, j].mean()
            row[f"{name} sd"] = v[:, j].std(ddof=1) if len(v) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("init")


def figure2(profile: str, seed: int = 0):
    """conv1's first filters after fine-tuning, per init: each filter's slices W1 | W2 | W3 side by
    side on one colour scale per filter (its largest |weight| maps to full intensity)."""
    t = spec()["tables"]["figure2"]
    n = t["filters_shown"]
    fig = report.new_figure((1.05 * n, 1.2 * len(t["inits"]) + 0.4))
    for i, (label, run) in enumerate(t["inits"].items()):
        w = _conv1(runs.load_model(PAPER, run, profile, seed=seed))[:n]  # (n, 3, T, 7, 7)
        for j in range(len(w)):
            f = w[j]
            f = 0.5 + 0.5 * f / f.abs().max().clamp_min(1e-12)
            pad = torch.ones(3, f.shape[2], 1)
            image = torch.cat([torch.cat([f[:, s], pad], 2) for s in range(f.shape[1])], 2)[:, :, :-1]
            ax = fig.add_subplot(len(t["inits"]), n, i * n + j + 1)
            ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(f"conv1 after fine-tuning (seed index {seed}): each filter as W1 | W2 | W3")
    return fig


# ----------------------------------------------------------------------------- Tables 2-3
def load_stream(name: str, profile: str) -> dict:
    """One trained stream of Tables 2-3 (trained now if the pipeline has not: a notebook at smoke): a run of
    the spec, or the Composite LSTM (``replicate.composite``), in :func:`replicate.runs.load_run`'s shape."""
    if name == composite.RUN:
        return composite.ensure_trained(profile)
    return runs.ensure_run(PAPER, name, profile)


def fused_run(weights: dict[str, float], profile: str) -> dict:
    """The late fusion of streams (name -> weight) as a run: seed k is the weighted mean of seed k's stored
    per-video softmax scores of every stream (``evaluate.fuse_streams``), on the videos they share."""
    seeds = sorted(set.intersection(*(set(load_stream(n, profile)["seeds"]) for n in weights)))
    if not seeds:
        raise ValueError(f"the streams {', '.join(weights)} share no seed index at {profile}: nothing to fuse")
    per_seed = {}
    for k in seeds:
        f = fuse_streams([runs.load_video_scores(PAPER, n, profile, k) for n in weights], list(weights.values()))
        per_seed[k] = {"run": " + ".join(weights), "seed_index": k, "video@1": f["video@1"], "video@5": f["video@5"],
                       "num_test_videos": f["num_videos"], "test_video_ids": f["video_ids"],
                       "video_correct": [int(c) for c in f["video_correct"]], "dropped_videos": f["dropped"]}
    return runs.summarize_seeds(per_seed)


def _weights_text(weights: dict[str, float]) -> str:
    total = sum(weights.values())
    return "softmax average: " + " + ".join(f"{w / total:.2g} {n}" for n, w in weights.items())


def table_runs(table: str, profile: str) -> dict[str, dict]:
    """Row name -> metrics of every trained row of ``table`` (table2 / table3): a stream or a fusion."""
    out = {}
    for r in spec()["tables"][table]["rows"]:
        if "run" in r:
            out[r["name"]] = load_stream(r["run"], profile)
        elif "fuse" in r:
            out[r["name"]] = fused_run(r["fuse"], profile)
    return out


def results_table(table: str, run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Paper vs ours for every row of ``table``: quoted rows marked reported, fusions with their weights,
    the seed spread, seeds and final training accuracy of what we trained."""
    rows = []
    for r in spec()["tables"][table]["rows"]:
        rec = {"name": r["name"], "paper_video@1": r.get("video1"), "reported": r.get("reported", False)}
        if r["name"] in run_metrics:
            rec["ours_video@1"] = 100 * run_metrics[r["name"]]["video@1"]
        rec["note"] = "; ".join(x for x in (r.get("note"), _weights_text(r["fuse"]) if "fuse" in r else None) if x)
        rows.append(rec)
    df = report.compare_table(rows, ["video@1"])
    ours = [run_metrics.get(n, {}) for n in df.index]
    return report.add_columns(df, {"video@1 seed sd": [100 * m.get("video@1_std", np.nan) for m in ours],
                                   "seeds": np.array([len(m.get("seeds", [])) or None for m in ours], dtype=object),
                                   "train acc (ours)": [100 * m.get("train_acc", np.nan) for m in ours]}).round(1)


def table_claims(table: str, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of ``table`` with its verdict; claims about quoted numbers only are listed as not testable."""
    return spec_claims(spec()["tables"][table], run_metrics)


def lstm_settings_table(m: dict) -> pd.DataFrame:
    """What the Composite LSTM was trained with at this profile, beside the spec (the code's settings)."""
    paper = spec()["composite_lstm"]
    s = m["settings"]
    keys = ("image_net", "stride", "hidden", "reconstruct", "future", "window")
    rows = {"paper (spec)": {k: paper.get(k, "") for k in keys}, "ours": {k: s.get(k, "") for k in keys}}
    for phase in ("pretrain", "classifier"):
        for k in ("epochs", "batch_size", "lr", "momentum", "clip"):
            rows["paper (spec)"][f"{phase} {k}"] = paper[phase].get(k, "")
            rows["ours"][f"{phase} {k}"] = s[phase].get(k, "")
    windows = m["per_seed"][min(m["seeds"])].get("windows", {})
    rows["ours"].update({f"{k} windows": v for k, v in windows.items()})
    return pd.DataFrame(rows).T.astype(str)


def lstm_curves(m: dict):
    """The Composite LSTM per seed: composite pretraining loss (no labels) and the classifier's training accuracy."""
    fig = report.new_figure((9, 3.2))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for k, sm in sorted(m["per_seed"].items()):
        pre, cls = sm["pretrain_history"], sm["history"]
        ax1.plot([h["epoch"] for h in pre], [h["loss"] for h in pre], label=f"seed index {k}")
        ax2.plot([h["epoch"] for h in cls], [100 * h["train_acc"] for h in cls], label=f"seed index {k}")
    ax1.set(xlabel="epoch", ylabel="reconstruction + future loss", title="composite pretraining (unlabelled)")
    ax2.set(xlabel="epoch", ylabel="train accuracy (%)", title="classifier (UCF101 split 1)")
    ax1.legend(fontsize="small")
    fig.tight_layout()
    return fig


def bars(df: pd.DataFrame):
    """Paper vs ours for the rows we trained (a quoted row has no bar of ours)."""
    return report.paper_vs_ours_bars(df[df["note"] != report.REPORTED_ONLY], "video@1")
