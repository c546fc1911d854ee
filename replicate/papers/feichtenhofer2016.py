"""feichtenhofer2016 (ST-ResNet): the logic behind its notebooks, so the notebooks stay thin.

Every number shown next to ours comes from ``feichtenhofer2016.yaml`` (the paper spec, with the
inventory's arithmetic where the paper prints nothing); every number of ours is measured on a network
of ``replicate.models.st_resnet``: built sizes and strides, perturbation of single chunks, the traced
graph, autograd, ``FlopCounterMode`` (Table 1, Figures 1-3), or read from the trained runs of
``replicate.runs`` and the IDT stand-in of ``replicate.idt`` (Tables 2-4).
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch

from .. import config, idt, report, runs
from ..evaluate import fuse_streams
from ..flops import count_flops, count_params
from ..models import create
from ..models import st_resnet as S
from .common import dataset_table, merge_splits, spec_claims

PAPER = "feichtenhofer2016"
#: a small width for the checks that run real numbers (structure does not depend on width)
CHECK_WIDTH = 1 / 16

write = functools.partial(report.write_results, PAPER)
write_figure = functools.partial(report.save_figure, PAPER)
verdicts_markdown = report.verdict_summary


def spec() -> dict:
    return runs.load_spec(PAPER)


def _t1() -> dict:
    return spec()["tables"]["table1"]


# ----------------------------------------------------------------------------- Table 1
def measured_temporal_fields(name: str = "st_resnet50_star", chunks: int = 31, size: int = 32,
                             seed: int = 0) -> dict[str, dict[str, int]]:
    """Temporal receptive field (chunks) of the centre unit of every layer group, per stream, found by
    changing one input chunk at a time (:func:`st_resnet.temporal_receptive_fields`) on a small random net."""
    torch.manual_seed(seed)
    st = create(name, num_classes=5, width=CHECK_WIDTH).eval()
    base, delta = torch.randn(1, 23, chunks, size, size), torch.randn(1, 23, 1, size, size)
    layers = _t1()["layers"]

    def run(t):
        x = base.clone()
        if t is not None:
            x[:, :, t:t + 1] += delta
        return {f"{s}.{k}": v for s in ("appearance", "motion") for k, v in S.layer_outputs(st, x, s).items()}

    fields = S.temporal_receptive_fields(run, chunks, [f"{s}.{k}" for s in ("appearance", "motion") for k in layers])
    return {s: {k: fields[f"{s}.{k}"] for k in layers} for s in ("appearance", "motion")}


def table1() -> pd.DataFrame:
    """Table 1, paper vs ours per layer group: output size (ST-ResNet* at 11 chunks of 224^2, measured on the
    full-size net on the meta device), spatial receptive field (v1, and torchvision's v1.5 beside it) and
    temporal receptive field (chunks, by perturbation; the same in both streams)."""
    t = _t1()
    with torch.device("meta"):
        st = create("st_resnet50_star", num_classes=101)
        v15 = create("st_resnet50_appearance", num_classes=101, stride_in_1x1=False)
    outs = S.layer_outputs(st, torch.zeros(1, 23, t["chunks"], t["input_size"], t["input_size"], device="meta"), "appearance")
    spatial = S.spatial_receptive_fields(st.appearance, t["input_size"])
    spatial15 = S.spatial_receptive_fields(v15, t["input_size"])
    temporal = measured_temporal_fields()
    rows = []
    for layer in t["layers"]:
        side, chunks = t["output"][layer]
        shape = tuple(outs[layer].shape)
        ours_out = f"{shape[3]}x{shape[4]}x{shape[2]}"
        same_streams = temporal["appearance"][layer] == temporal["motion"][layer]
        rows.append({
            "layer": layer,
            "paper output": f"{side}x{side}x{chunks}", "ours output": ours_out,
            "paper spatial RF": t["spatial_field"][layer], "ours spatial RF (v1)": spatial[layer],
            "torchvision v1.5 RF": spatial15[layer],
            "paper temporal RF (tau)": t["temporal_field"][layer],
            "ours temporal RF (chunks)": temporal["appearance"][layer] if same_streams else np.nan,
            "match": (ours_out == f"{side}x{side}x{chunks}" and spatial[layer] == t["spatial_field"][layer]
                      and temporal["appearance"][layer] == t["temporal_field"][layer] and same_streams),
        })
    return pd.DataFrame(rows).set_index("layer")


def frame_spans(table: pd.DataFrame) -> pd.DataFrame:
    """Frames a unit sees at tau = 15: ``(n - 1) tau + 1`` RGB frames, ``(n - 1) tau + L + 1`` for flow (a chunk
    is L = 10 flow fields, which span L + 1 frames; the inventory's ``(n - 1) tau + L`` counts fields), for the
    paper's chunk counts and ours, beside the paper's sentences (255 and 705 frames)."""
    t = _t1()
    tau, fields = t["tau"], t["flow_fields"]
    rows = []
    for layer, claimed in t["frames_claimed"].items():
        for source, n in (("paper", t["temporal_field"][layer]), ("ours", int(table.loc[layer, "ours temporal RF (chunks)"]))):
            rows.append({"layer": layer, "chunks from": source, "chunks": n, "paper says (frames)": claimed,
                         "n x tau": n * tau, "RGB frames (n-1) tau + 1": (n - 1) * tau + 1,
                         "flow frames (n-1) tau + L + 1": (n - 1) * tau + fields + 1})
    return pd.DataFrame(rows).set_index(["layer", "chunks from"])


def parameter_table() -> pd.DataFrame:
    """Every network at full size: our parameter count vs the inventory's arithmetic (the paper prints no count:
    its "34M" for ResNet-50 matches none)."""
    nets = {
        "resnet50 (ImageNet, 1000 classes)": ("resnet50", 1000, None),
        "appearance stream (101)": ("st_resnet50_appearance", 101, None),
        "motion stream (101)": ("st_resnet50_motion", 101, None),
        "ST-ResNet appearance stream (101)": ("st_resnet50", 101, "appearance"),
        "ST-ResNet motion stream (101)": ("st_resnet50", 101, "motion"),
        "appearance stream (51)": ("st_resnet50_appearance", 51, None),
        "motion stream (51)": ("st_resnet50_motion", 51, None),
        "ST-ResNet appearance stream (51)": ("st_resnet50", 51, "appearance"),
        "ST-ResNet motion stream (51)": ("st_resnet50", 51, "motion"),
    }
    paper = _t1()["params"]
    rows = []
    for label, (name, classes, stream) in nets.items():
        with torch.device("meta"):
            net = create(name, num_classes=classes)
        ours = count_params(getattr(net, stream) if stream else net)
        rows.append({"network": label, "model": name, "inventory params": paper[label], "ours params": ours,
                     "match": ours == paper[label]})
    return pd.DataFrame(rows).set_index("network")


def macs_table() -> pd.DataFrame:
    """Multiply-adds per chunk at 224^2 (``FlopCounterMode`` / 2, 1000 classes), in millions, vs the inventory's
    arithmetic, and the paper's one number: ResNet-50's "3.8 billion multiply-add FLOPs" (section 4)."""
    size = _t1()["input_size"]

    def gmacs(name: str, channels: int, chunks: int = 1, **kwargs) -> float:
        with torch.device("meta"):
            net = create(name, num_classes=1000, **kwargs)
        return count_flops(net, (channels, chunks, size, size)) / 2 / chunks / 1e9

    v1 = gmacs("st_resnet50_appearance", 3)
    ours = {"ResNet-50 v1 (appearance stream)": v1,
            "ResNet-50 v1.5 (torchvision)": gmacs("st_resnet50_appearance", 3, stride_in_1x1=False),
            "8 temporal convs of one stream": gmacs("st_resnet50_appearance", 3, 5, temporal=True) - v1,
            "motion conv1 (20 vs 3 channels)": gmacs("st_resnet50_motion", 20) - v1}
    inventory, paper = _t1()["gmacs"], _t1()["paper_gmacs"]
    return pd.DataFrame([{"what": k, "paper MMACs": 1000 * paper[k] if k in paper else np.nan,
                          "inventory MMACs": 1000 * inventory[k], "ours MMACs": 1000 * v,
                          "match": abs(v - inventory[k]) < 5e-4} for k, v in ours.items()]).set_index("what")


# ----------------------------------------------------------------------------- Figure 1
def connections_table() -> tuple[pd.DataFrame, dict]:
    """The cross-stream data flow of ST-ResNet, from its traced graph, and the direction gradients take
    (autograd on a small random net): the 4 motion -> appearance edges, where each comes from and goes, and
    none back. Returns the table and the graph's edges (:func:`st_resnet.cross_stream_edges`)."""
    torch.manual_seed(0)
    st = create("st_resnet50", num_classes=5, width=CHECK_WIDTH)
    graph = S.cross_stream_edges(st)
    x, y = torch.randn(2, 23, 5, 32, 32), torch.tensor([1, 3])
    reach = {}
    for k, (loss_of, other) in enumerate((("appearance", "motion"), ("motion", "appearance"))):
        st.zero_grad(set_to_none=True)
        S.position_loss(st.stream_logits(x)[k], y).backward()
        params = list(getattr(st, other).parameters())
        reach[loss_of] = sum(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in params), len(params)
    rows = [
        {"check": "motion -> appearance edges (traced graph)", "expected": 4, "ours": len(graph["motion_to_appearance"])},
        *({"check": f"edge {k + 1}: from / into", "expected": f"motion.layer{k + 1}.0 / appearance.layer{k + 1}.1.conv1",
           "ours": f"{e['from']} / {', '.join(e['into'])}"} for k, e in enumerate(graph["motion_to_appearance"])),
        {"check": "inputs the motion scores depend on (no appearance -> motion edge)", "expected": "flow",
         "ours": ", ".join(graph["motion_depends_on"])},
        {"check": "inputs the appearance scores depend on", "expected": "flow, rgb",
         "ours": ", ".join(graph["appearance_depends_on"])},
        {"check": "motion tensors with a gradient from the appearance loss", "expected": "all below res5b (ours, derived)",
         "ours": f"{reach['appearance'][0]} of {reach['appearance'][1]}"},
        {"check": "appearance tensors with a gradient from the motion loss", "expected": 0,
         "ours": f"{reach['motion'][0]} of {reach['motion'][1]}"},
    ]
    return pd.DataFrame(rows).set_index("check"), graph


@torch.no_grad()
def init_identities(seed: int = 0, size: int = 64) -> pd.DataFrame:
    """What the temporal convs and the connections do at initialisation (float64, BN in eval mode with random
    statistics): a stream with temporal convs only, from 2D weights, gives the 2D net's scores at the centre
    of 17 identical chunks (zero padding reaches 8 chunks in, so not one chunk earlier); ST-ResNet initialised
    from the two streams keeps the motion stream's scores but not the appearance stream's (it now also
    receives relu(motion)): ST-ResNet at init is not the two-stream net."""
    torch.manual_seed(seed)

    def randomised(net):
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        return net.double().eval()

    a2d = randomised(create("st_resnet50_appearance", num_classes=5, width=CHECK_WIDTH))
    m2d = randomised(create("st_resnet50_motion", num_classes=5, width=CHECK_WIDTH))
    # float64 nets before loading: load_state_dict copies into the target's dtype
    a_t = S.load_2d(create("st_resnet50_appearance", num_classes=5, width=CHECK_WIDTH, temporal=True).double(),
                    a2d.state_dict(), skip_fc=False).eval()
    st = S.st_from_streams(create("st_resnet50", num_classes=5, width=CHECK_WIDTH).double(), a2d.state_dict(),
                           m2d.state_dict()).eval()
    frame = torch.randn(2, 23, 1, size, size, dtype=torch.float64)
    clip = frame.expand(-1, -1, 17, -1, -1)
    a_ref, m_ref = a2d.position_logits(frame[:, :3])[:, :, 0], m2d.position_logits(frame[:, 3:])[:, :, 0]
    a_out = a_t.position_logits(clip[:, :3])
    st_a, st_m = st.stream_logits(clip)
    rows = [
        ("appearance + temporal convs, centre chunk (9 of 17) vs the 2D stream", (a_out[:, :, 8] - a_ref).abs().max(), True),
        ("appearance + temporal convs, chunk 8 of 17 vs the 2D stream", (a_out[:, :, 7] - a_ref).abs().max(), False),
        ("ST-ResNet motion stream, centre chunk vs the motion stream", (st_m[:, :, 8] - m_ref).abs().max(), True),
        ("ST-ResNet appearance stream, centre chunk vs the appearance stream", (st_a[:, :, 8] - a_ref).abs().max(), False),
    ]
    return pd.DataFrame([{"check": c, "max abs difference": float(d),
                          # what the notebook shows: a bound below 1e-9 (rounding differs between CPUs), else 3 digits
                          "difference": "< 1e-9" if float(d) < 1e-9 else f"{float(d):.3g}", "expected equal": e,
                          "as expected": (float(d) < 1e-9) == e} for c, d, e in rows]).set_index("check")


def figure1(graph: dict):
    """Figure 1 redrawn from the traced graph: the two streams' stages and an arrow for every measured motion ->
    appearance edge, from the stage its motion operand comes from."""
    edges = graph["motion_to_appearance"]
    fig = report.new_figure((9, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    stages = ["conv1", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "pool5 / fc"]
    for row, (stream, colour) in enumerate((("motion", "#c0504d"), ("appearance", "#4f81bd"))):
        for i, name in enumerate(stages):
            ax.add_patch(_box(i * 1.6, row * 2.0, colour))
            ax.text(i * 1.6 + 0.6, row * 2.0 + 0.35, name, ha="center", va="center", fontsize=8, color="white")
            if i:
                ax.annotate("", (i * 1.6, row * 2.0 + 0.35), ((i - 1) * 1.6 + 1.2, row * 2.0 + 0.35),
                            arrowprops=dict(arrowstyle="->", color="black", lw=0.8))
        ax.text(-0.2, row * 2.0 + 0.35, stream, ha="right", va="center", fontsize=9)
    for edge in edges:  # layer<k> is conv<k+1>_x, box k
        x = int(str(edge["from"]).split(".")[1].removeprefix("layer")) * 1.6 + 0.75
        ax.annotate("", (x, 2.0), (x, 0.7), arrowprops=dict(arrowstyle="->", color="#9bbb59", lw=2))
        ax.text(x + 0.08, 1.35, "+", color="#9bbb59", fontsize=12, va="center")
    ax.set_xlim(-1.5, 6 * 1.6)
    ax.set_ylim(-0.4, 3.0)
    ax.axis("off")
    ax.set_title(f"{len(edges)} motion -> appearance residual connections (measured on the traced graph), none back")
    fig.tight_layout()
    return fig


def _box(x: float, y: float, colour: str):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), 1.2, 0.7, boxstyle="round,pad=0.02", color=colour)


# ----------------------------------------------------------------------------- Figure 2
def figure2_table() -> pd.DataFrame:
    """Figure 2's conv5_1 .. conv5_3 of both streams, read off the full-size ST-ResNet: every conv's kernel
    (H x W x T, the paper's order) and channels, and which conv the traced graph's motion edge feeds."""
    with torch.device("meta"):
        st = create("st_resnet50", num_classes=101)
    fed = {m for e in S.cross_stream_edges(create("st_resnet50", num_classes=5, width=CHECK_WIDTH))["motion_to_appearance"]
           for m in e["into"]}
    rows = []
    for stream in ("appearance", "motion"):
        for b, block in enumerate(getattr(st, stream).layer4):
            for conv_name in ("conv1", "conv2", "conv3"):
                conv = getattr(block, conv_name)
                t, h, w = conv.kernel_size
                rows.append({"stream": stream, "unit": f"conv5_{b + 1}", "conv": conv_name,
                             "kernel (HxWxT)": f"{h}x{w}x{t}", "channels": f"{conv.in_channels} -> {conv.out_channels}",
                             "receives motion": f"{stream}.layer4.{b}.{conv_name}" in fed})
    return pd.DataFrame(rows).set_index(["stream", "unit", "conv"])


# ----------------------------------------------------------------------------- Figure 3
def figure3_table(fields: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The measured temporal receptive fields (chunks), one column per stream, beside the paper's."""
    table = pd.DataFrame(fields)
    table.insert(0, "paper (tau)", [_t1()["temporal_field"][layer] for layer in table.index])
    return table


def figure3(fields: dict[str, dict[str, int]]):
    """Figure 3: the input chunks that reach the centre unit of conv5_x (17) and of the pooled features (21),
    against the paper's 47, at tau = 15 on a frame axis."""
    t = _t1()
    tau = t["tau"]
    fig = report.new_figure((9, 2.8))
    ax = fig.add_subplot(1, 1, 1)
    rows = [("conv5_x (ours)", fields["appearance"]["conv5_x"], "#4f81bd"), ("pool5 (ours)", fields["appearance"]["pool5"], "#9bbb59"),
            ("pool5 (paper's 47)", t["temporal_field"]["pool5"], "#c0504d")]
    for y, (label, n, colour) in enumerate(rows):
        chunks = np.arange(n) - (n - 1) / 2  # offsets from the unit's centre chunk
        ax.scatter(chunks * tau, np.full(n, y), s=12, color=colour)
        ax.text(-(n - 1) / 2 * tau - 12, y, f"{label}: {n} chunks, {(n - 1) * tau + 1} frames", ha="right", va="center",
                fontsize=8)
    ax.set_yticks([])
    ax.set_xlabel(f"frame offset from the unit's centre chunk (tau = {tau})")
    ax.set_xlim(-750, 380)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_title("temporal receptive field of one unit (chunks found by perturbing one input chunk at a time)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Tables 2-3
def _t3() -> dict:
    return spec()["tables"]["table3"]


def trained_splits(profile: str, params: dict | None = None) -> list[int]:
    """The splits whose runs a profile trains (mini: 1; paper: 1-3): Table 3 is their mean."""
    s = runs.run_settings(PAPER, "appearance_ucf101_split1", profile, params)
    return list(s.get("splits") or (1, 2, 3))


def _run_name(stage: str, dataset: str, split: int) -> str:
    return f"{stage}_{dataset}_split{split}"


def _fused_seed(fused: dict, run: str, k: int) -> dict:
    """A fusion's seed record (``evaluate.fuse_streams``' result), shaped as a trained seed's for the verdicts."""
    return {"run": run, "seed_index": k, "video@1": fused["video@1"], "video@5": fused["video@5"],
            "num_test_videos": fused["num_videos"], "test_video_ids": fused["video_ids"],
            "video_correct": [int(c) for c in fused["video_correct"]], "dropped_videos": fused["dropped"]}


def fused_streams(dataset: str, split: int, profile: str) -> dict:
    """The evaluation-only Two-Streams row of one split: per seed, the appearance and motion streams' stored
    per-video scores (averaged fc outputs, not softmaxes) averaged with equal weights (section 4.1)."""
    names = [_run_name(stage, dataset, split) for stage in ("appearance", "motion")]
    metrics = [runs.ensure_run(PAPER, n, profile) for n in names]
    per_seed = {k: _fused_seed(fuse_streams([runs.load_video_scores(PAPER, n, profile, k) for n in names]),
                               " + ".join(names), k)
                for k in sorted(set(metrics[0]["seeds"]) & set(metrics[1]["seeds"]))}
    return runs.summarize_seeds(per_seed)


def _table_runs(table: dict, profile: str, row_runs) -> dict[str, dict]:
    """``"<dataset> <row>"`` -> every trained row of ``table`` (its ``rows``, quoted ones left out) over the
    trained splits; ``row_runs(row, dataset, split)`` gives a row's metrics on one split."""
    out = {}
    for dataset, label in table["datasets"].items():
        for row in table["rows"]:
            if not row.get("reported"):
                out[f"{label} {row['name']}"] = merge_splits({split: row_runs(row, dataset, split)
                                                               for split in trained_splits(profile)})
    return out


def table_claims(table: dict, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of ``table`` (a spec table) with its verdict."""
    return spec_claims(table, run_metrics)


def table3_runs(profile: str) -> dict[str, dict]:
    """``"<dataset> <row>"`` -> the row's runs over the trained splits (:func:`common.merge_splits`), each run read
    from the pipeline's outputs (or trained now: a notebook at smoke)."""
    def row_runs(row: dict, dataset: str, split: int) -> dict:
        if "fuse" in row:
            return fused_streams(dataset, split, profile)
        return runs.ensure_run(PAPER, _run_name(row["run"], dataset, split), profile)

    return _table_runs(_t3(), profile, row_runs)


def table3(run_metrics: dict[str, dict], profile: str) -> pd.DataFrame:
    """Table 3, paper vs ours per dataset and row (video@1, %): the mean over seeds, its seed spread, the final
    training accuracy, and how many test videos and splits it covers."""
    t = _t3()
    splits = trained_splits(profile)
    rows = []
    for dataset, label in t["datasets"].items():
        for row in t["rows"]:
            name = f"{label} {row['name']}"
            note = "evaluation only: appearance + motion scores averaged" if "fuse" in row else ""
            rows.append({"name": name, "paper_video@1": row["paper"][dataset],
                         "ours_video@1": 100 * run_metrics[name]["video@1"], "note": note})
    table = report.with_seed_columns(report.compare_table(rows, ["video@1"]), run_metrics)
    first_seed = {n: m["per_seed"][m["seeds"][0]] for n, m in run_metrics.items()}
    return report.add_columns(table, {"test videos": [len(first_seed[n]["test_video_ids"]) for n in table.index],
                                      "splits": [", ".join(map(str, splits))] * len(table)}).round(1)


def table3_claims(run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of Table 3 with its verdict."""
    return table_claims(_t3(), run_metrics)


def table3_bars(table: pd.DataFrame):
    """Paper vs ours per row, both datasets."""
    return report.paper_vs_ours_bars(table, "video@1")


#: Table 2's columns, and what each is in a run's settings
_TABLE2_KEYS = {"chunks": "chunks", "tau": "tau", "SGD batch": "batch_size", "BN batch": "model_kwargs",
                "lr": "lr", "epochs": "epochs", "lr / 10 every (epochs)": "step_epochs", "crop": "crop",
                "width": "width", "test frames": "test_frames", "test flips": "test_flips",
                "test on whole frames": "test_whole_frame"}


def table2(profile: str) -> pd.DataFrame:
    """Table 2 (the training phases) as settings, paper (the spec, in the paper's units: its iterations as
    epochs of one item per video) beside ours at ``profile``, for each stage's UCF101 split-1 run."""
    spec_ = spec()
    paper_runs = runs.spec_runs(spec_)
    rows = []
    for stage, label in (("appearance", "Appearance stream"), ("motion", "Motion stream"), ("st_resnet", "ST-ResNet"),
                         ("st_resnet_star", "ST-ResNet*")):
        name = _run_name(stage, "ucf101", 1)
        paper = {**spec_["settings"], "width": 1.0, **paper_runs[name]}
        ours = runs.run_settings(PAPER, name, profile)
        for who, s in (("paper", paper), (f"ours ({profile})", ours)):
            rec = {"phase": label, "settings": who}
            for col, key in _TABLE2_KEYS.items():
                value = s.get(key)
                if key == "model_kwargs":  # BN statistics over sub-batches of this many videos, or the batch
                    value = min((value or {}).get("sub_batch") or s["batch_size"], s["batch_size"])
                elif key == "tau" and s.get("chunks", 1) == 1:
                    value = None  # one chunk: no spacing
                rec[col] = "-" if value is None else str(value)
            rows.append(rec)
    return pd.DataFrame(rows).set_index(["phase", "settings"])


# ----------------------------------------------------------------------------- Table 4
def _t4() -> dict:
    return spec()["tables"]["table4"]


def ensure_idt(dataset: str, split: int, profile: str) -> dict:
    """The IDT stand-in's result on a split (``replicate.idt``), read from the pipeline's outputs or computed now."""
    done = runs.load_run(PAPER, idt.run_name(dataset, split), profile)
    if done is None:
        idt.run(PAPER, dataset, split, profile, progress=False)
        done = runs.load_run(PAPER, idt.run_name(dataset, split), profile)
    return done


def _l2_rows(scores: dict) -> dict:
    x = np.asarray(scores["scores"], dtype=np.float64)
    return {**scores, "scores": x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)}


def fused_with_idt(dataset: str, split: int, profile: str) -> dict:
    """ST-ResNet* + IDT on one split: per ST-ResNet* seed, its video scores and the stand-in's SVM scores, each
    L2-normalised per video, averaged (section 4.2); the stand-in is deterministic, its one result serves every seed."""
    star = _run_name("st_resnet_star", dataset, split)
    metrics = runs.ensure_run(PAPER, star, profile)
    ensure_idt(dataset, split, profile)
    idt_scores = _l2_rows(runs.load_video_scores(PAPER, idt.run_name(dataset, split), profile, 0))
    per_seed = {k: _fused_seed(fuse_streams([_l2_rows(runs.load_video_scores(PAPER, star, profile, k)), idt_scores]),
                               f"{star} + {idt.run_name(dataset, split)}", k)
                for k in metrics["seeds"]}
    return runs.summarize_seeds(per_seed)


def table4_runs(profile: str) -> dict[str, dict]:
    """``"<dataset> <row>"`` -> the trained rows of Table 4 over the trained splits."""
    def row_runs(row: dict, dataset: str, split: int) -> dict:
        if "fuse" in row:
            return fused_with_idt(dataset, split, profile)
        if row["run"] == "idt":
            return ensure_idt(dataset, split, profile)
        return runs.ensure_run(PAPER, _run_name(row["run"], dataset, split), profile)

    return _table_runs(_t4(), profile, row_runs)


def table4(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Table 4 as the paper prints it (one row per method, a column pair per dataset): paper, ours, difference;
    quoted rows marked reported; then the seed spread of ours per dataset."""
    t = _t4()
    labels = list(t["datasets"].values())
    table = dataset_table(t, run_metrics)
    extra = {}
    for label in labels:
        ms = [run_metrics.get(f"{label} {n}") for n in table.index]
        extra[f"{label} seed sd"] = [100 * m["video@1_std"] if m else np.nan for m in ms]
    return report.add_columns(table, extra).round(1)


def table4_claims(run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of Table 4 with its verdict."""
    return table_claims(_t4(), run_metrics)
