"""diba2018 (STC): the logic behind its notebooks, so the notebooks stay thin.

Every paper number shown next to ours comes from ``diba2018.yaml`` (the paper spec, with the inventory's arithmetic
where the paper prints none). Ours are measured on the networks of ``replicate.models.stc`` and ``video_resnet``
built at full width on the meta device (sizes, counts, FLOPs: Table 1), the datasets of the profile (Table 2), and
the trained runs of ``replicate.runs`` (Tables 3-9), each claim with its verdict (``replicate.report``). Table 8's
DenseNet3D / Inception3D rows and Table 9's Inception3D row are diba2017's runs, read from there.
"""
from __future__ import annotations

import functools

import pandas as pd
import torch
from torch import nn

from .. import report, runs
from ..flops import count_flops, count_params
from ..models import create
from ..models.stc import STCBlock, STCUnit
from ..models.video_resnet import layer_output_shapes
from . import common
from .common import dataset_facts, merge_splits

PAPER = "diba2018"
write = functools.partial(report.write_results, PAPER)
write_figure = functools.partial(report.save_figure, PAPER)
verdicts_markdown = report.verdict_summary

#: the paper's layer names -> where our networks produce them (``stem`` is conv-BN-ReLU-max pool)
LAYERS = {"conv1": ("stem", 2), "pool": ("stem", 3), "conv2_x": ("layer1", None), "conv3_x": ("layer2", None),
          "conv4_x": ("layer3", None), "conv5_x": ("layer4", None)}
#: Table 1's three columns
TABLE1_NETS = {"3D-ResNet101": ("resnet3d_101", {}), "3D STC-ResNet101": ("stc_resnet3d_101", {}),
               "3D STC-ResNext101": ("stc_resnext3d_101", {})}


def spec() -> dict:
    return runs.load_spec(PAPER)


def _t(name: str) -> dict:
    return spec()["tables"][name]


def _meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return create(name, num_classes=400, **kwargs)


def _at(net: nn.Module, layer: str) -> nn.Module:
    """The module whose output is the paper's ``layer`` (:data:`LAYERS`)."""
    attr, index = LAYERS[layer]
    return getattr(net, attr) if index is None else getattr(net, attr)[index]


def layer_outputs(name: str, clip_len: int, size: int = 112, **kwargs) -> dict[str, tuple[int, ...]]:
    """Output shape ``(C, T, H, W)`` of conv1, the pool and conv2_x .. conv5_x of a full-width network built for
    ``clip_len`` frames, measured on the meta device (nothing is computed)."""
    net = _meta(name, clip_len=clip_len, **kwargs)
    return layer_output_shapes(net, (3, clip_len, size, size), {layer: _at(net, layer) for layer in LAYERS})


def _layer_text(module: nn.Module) -> str:
    """A layer as Table 1 would print it: ``kernel, width, stride`` for the stem's conv and pool; for a residual
    stage ``[kernel, width; ...] x units`` (shortcuts left out), then its STC block's fcs."""
    if isinstance(module, nn.Conv3d):
        return f"{'x'.join(map(str, module.kernel_size))}, {module.out_channels}, stride {'x'.join(map(str, module.stride))}"
    if isinstance(module, nn.MaxPool3d):
        return f"{module.kernel_size}x{module.kernel_size}x{module.kernel_size} max pool, stride {module.stride}"
    first = module[0]
    unit = first.unit if isinstance(first, STCUnit) else first
    convs = [m for n, m in unit.named_modules() if isinstance(m, nn.Conv3d) and not n.startswith("downsample")]
    text = "; ".join(f"{'x'.join(map(str, c.kernel_size))}, {c.out_channels}"
                     + (f", {c.groups} groups" if c.groups > 1 else "") for c in convs)
    text = f"[{text}] x{len(module)}"
    if isinstance(first, STCUnit):
        stc: STCBlock = first.stc
        fcs = {b: getattr(stc, b) for b in ("tcb", "scb") if getattr(stc, b) is not None}
        text += " + STC " + ", ".join(
            f"{b.upper()} fc {g[0].in_features}-{g[0].out_features}-{g[2].out_features}" for b, g in fcs.items())
    return text


def table1() -> pd.DataFrame:
    """Table 1 rebuilt: per layer, the inventory's output size (C x T x H x W at 16 and 32 frames) against each
    column's network, and each column's units (kernel, width) with its STC fcs (at 16 frames)."""
    t = _t("table1")
    size = t["input_size"]
    outs = {(col, frames): layer_outputs(name, frames, size, **kw)
            for col, (name, kw) in TABLE1_NETS.items() for frames in (16, 32)}
    nets = {col: _meta(name, clip_len=16, **kw) for col, (name, kw) in TABLE1_NETS.items()}
    rows = []
    for layer in LAYERS:
        row = {"layer": layer}
        match = True
        for frames in (16, 32):
            paper = tuple(t["output"][frames][layer])
            row[f"inventory {frames}f"] = "x".join(map(str, paper))
            ours = {outs[(col, frames)][layer] for col in TABLE1_NETS}
            row[f"ours {frames}f"] = " / ".join(sorted("x".join(map(str, o)) for o in ours))
            match &= ours == {paper}
        for col, net in nets.items():
            # conv1's output is read after its BN-ReLU; the row describes the conv
            row[col] = _layer_text(net.stem[0] if layer == "conv1" else _at(net, layer))
        row["match"] = match
        rows.append(row)
    return pd.DataFrame(rows).set_index("layer")


def _params(name: str, **kwargs) -> int:
    return count_params(_meta(name, **kwargs))


def parameter_table() -> pd.DataFrame:
    """Parameters at full width and 400 classes: each backbone and its STC version built for 16 / 32 / 64 frames,
    against the inventory's arithmetic (M, three decimals; the paper prints none)."""
    rows = []
    for backbone, counts in _t("table1")["params"].items():
        for frames, expected in [("base", counts["base"]), *counts["stc"].items()]:
            name, kw = (backbone, {}) if frames == "base" else (f"stc_{backbone}", {"clip_len": frames})
            ours = _params(name, **kw)
            rows.append({"network": name, "clip frames": frames, "inventory (M)": expected, "ours": ours,
                         "ours (M)": round(ours / 1e6, 3), "match": round(ours / 1e6, 3) == expected})
    return pd.DataFrame(rows).set_index(["network", "clip frames"])


def branch_table() -> pd.DataFrame:
    """Table 5's variants (STC-ResNet-101 at 32 frames: TCB only, SCB only, both) against the inventory (M)."""
    rows = []
    for branches, expected in _t("table1")["branch_params"].items():
        ours = _params("stc_resnet3d_101", clip_len=32, branches=branches)
        rows.append({"branches": branches, "inventory (M)": expected, "ours": ours, "ours (M)": round(ours / 1e6, 3),
                     "match": round(ours / 1e6, 3) == expected})
    return pd.DataFrame(rows).set_index("branches")


def stc_block_counts() -> pd.DataFrame:
    """STC blocks in each STC network (one per residual unit) against the inventory's."""
    rows = []
    for backbone, expected in _t("table1")["stc_blocks"].items():
        ours = sum(isinstance(m, STCBlock) for m in _meta(f"stc_{backbone}", clip_len=16).modules())
        rows.append({"network": f"stc_{backbone}", "inventory": expected, "ours": ours, "match": ours == expected})
    return pd.DataFrame(rows).set_index("network")


def overhead_table(size: int | None = None) -> pd.DataFrame:
    """What the STC blocks add to ResNet-101 and ResNeXt-101 at 16 and 32 frames: parameters, and FLOPs of one clip
    (``FlopCounterMode``: convolutions and matrix products; the gates' elementwise products are not counted)."""
    size = size or _t("table1")["input_size"]
    rows = []
    for backbone in ("resnet3d_101", "resnext3d_101"):
        for frames in (16, 32):
            base, stc = _meta(backbone), _meta(f"stc_{backbone}", clip_len=frames)
            shape = (3, frames, size, size)
            p0, p1 = count_params(base), count_params(stc)
            f0, f1 = count_flops(base, shape), count_flops(stc, shape)
            rows.append({"network": backbone, "clip frames": frames, "params (M)": round(p0 / 1e6, 1),
                         "with STC (M)": round(p1 / 1e6, 1), "params added (%)": round(100 * (p1 - p0) / p0, 1),
                         "GFLOPs": round(f0 / 1e9, 2), "with STC GFLOPs": round(f1 / 1e9, 2),
                         "FLOPs added (%)": round(100 * (f1 - f0) / f0, 2)})
    return pd.DataFrame(rows).set_index(["network", "clip frames"])


def overhead_text(table: pd.DataFrame) -> str:
    """The overhead in one paragraph, beside the paper's words (section 4.3)."""
    p, f = table["params added (%)"], table["FLOPs added (%)"]
    return (f'The paper: "{_t("table1")["overhead_claim"]}". Ours, with the spatial branch read literally: the STC '
            f"blocks add {p.min():.0f}% to {p.max():.0f}% to the parameters of ResNet-101 / ResNeXt-101 at 16 and 32 "
            f"frames, and {f.min():.2f}% to {f.max():.2f}% to the FLOPs of a clip. \"Small overhead\" holds for "
            f"computation; it does not hold for parameters.")


def placement_scale_table(clip_len: int = 16, size: int = 32, width: float = 0.25, seed: int = 0) -> pd.DataFrame:
    """Why placement A is the default (``replicate.models.stc``): the RMS of each stage's output at initialisation
    (train mode, one random batch of 4 clips) for ResNet-101 and STC-ResNet-101 at placements A and B. B multiplies
    the identity path by 1 + gate ~ 1.5 at every unit: ~1.5^n over a stage of n units (conv4_x: 23)."""
    nets = {"3D-ResNet101": ("resnet3d_101", {}), "STC-ResNet101, placement A": ("stc_resnet3d_101", {"placement": "A"}),
            "STC-ResNet101, placement B": ("stc_resnet3d_101", {"placement": "B"})}
    torch.manual_seed(seed)
    x = torch.randn(4, 3, clip_len, size, size)
    rows = []
    for label, (name, kw) in nets.items():
        torch.manual_seed(seed)
        net = create(name, num_classes=10, width=width, clip_len=clip_len, **kw).train()
        stages = {layer: _at(net, layer) for layer in ("conv2_x", "conv3_x", "conv4_x", "conv5_x")}
        rms: dict[str, float] = {}
        hooks = [m.register_forward_hook(lambda _m, _i, out, k=k: rms.__setitem__(k, out.pow(2).mean().sqrt().item()))
                 for k, m in stages.items()]
        with torch.no_grad():
            net(x)
        for h in hooks:
            h.remove()
        # two significant digits: the growth is the finding, not the third digit of one random batch
        rows.append({"network": label, **{f"{k} RMS": float(f"{v:.2g}") for k, v in rms.items()}})
    return pd.DataFrame(rows).set_index("network")


# ----------------------------------------------------------------------------- Table 2
def table2(profile: str) -> pd.DataFrame:
    """Table 2 at ``profile``: the paper's counts beside ours (:func:`~replicate.papers.common.dataset_facts`)."""
    return dataset_facts(_t("table2")["rows"], profile)


# ----------------------------------------------------------------------------- Tables 3-6 (one run per row)
#: the run Tables 3-6 share (STC-ResNet-101, 32 frames, stride 2, both branches)
BASELINE = "stc_resnet101"


def table_runs(table: str, profile: str) -> dict[str, dict]:
    """Row name -> its run's metrics for the rows of a spec table that name a run (:func:`common.row_runs`)."""
    return common.row_runs(PAPER, _t(table), profile)


def scratch_table(table: str, run_metrics: dict[str, dict]) -> pd.DataFrame:
    """One of Tables 3-6: paper vs ours (video@1, %) per row, the seed spread, the final training accuracy and how
    each run was trained (:func:`common.scratch_table`)."""
    return common.scratch_table(_t(table), run_metrics, {BASELINE: "the shared baseline (Tables 3-6 read one run)"})


def claims(table: str, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of a spec table with its verdict (rows matched by video id; :func:`common.spec_claims`)."""
    return common.spec_claims(_t(table), run_metrics)


def bars(table: pd.DataFrame, metric: str = "video@1"):
    return report.paper_vs_ours_bars(table, metric)


# ----------------------------------------------------------------------------- Table 7
def table7_runs(profile: str) -> dict[str, dict]:
    """``"<net> <column>"`` -> its run: Transfer and FT-Transfer (UCF101 split 1 fine-tunes), and Scratch (Table 3's
    run) where the table has one."""
    return common.transfer_runs(PAPER, _t("table7"), profile)


def table7(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Table 7 as the paper prints it (a row per net, Transfer / FT-Transfer), with Scratch beside it."""
    return common.transfer_table(_t("table7"), run_metrics)


def transfer_runs(profile: str) -> dict[str, dict]:
    """Student label -> its 2D -> 3D transfer run (the Transfer / FT-Transfer fine-tunes start from these)."""
    return {label: runs.ensure_run(PAPER, f"transfer_{net}", profile) for label, net in _t("table7")["nets"].items()}


def pair_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """The transfers: pair accuracies, the teacher frozen, the pairs and the time (:func:`common.pair_table`)."""
    return common.pair_table(run_metrics)


# ----------------------------------------------------------------------------- Table 8
def table8(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Table 8: Kinetics validation top-1 / top-5 per net (ours on the Kinetics stand-in's validation videos); quoted
    rows marked reported, diba2017's rows and Hara's quoted baselines noted."""
    rows = []
    for r in _t("table8")["rows"]:
        rec = {"name": r["name"], "reported": r.get("reported", False), "note": r.get("note"),
               "paper_top-1": r["paper"]["top1"], "paper_top-5": r["paper"]["top5"]}
        m = run_metrics.get(r["name"])
        if common.trained(m):
            rec["ours_top-1"] = 100 * m["video@1"]
            rec["ours_top-5"] = 100 * m["video@5"]
        rows.append(rec)
    table = report.compare_table(rows, ["top-1", "top-5"])
    settings = [common.setting_text(run_metrics[n]) if common.trained(run_metrics.get(n)) else "" for n in table.index]
    return report.add_columns(table, {"setting": settings}).round(1)


# ----------------------------------------------------------------------------- Table 9
def trained_splits(profile: str) -> list[int]:
    """The splits a profile fine-tunes on (mini: 1; paper: 1-3): Table 9 is their mean."""
    s = runs.run_settings(PAPER, "stc_resnet_ucf101_split1", profile)
    return list(s.get("splits") or (1, 2, 3))


def _merged(paper: str, run: str, dataset: str, profile: str) -> dict:
    """One row's fine-tunes on ``dataset`` over the trained splits, merged (a skipped one stays its marker)."""
    per_split = {k: runs.ensure_run(paper, f"{run}_{dataset}_split{k}", profile) for k in trained_splits(profile)}
    skipped = [m for m in per_split.values() if not common.trained(m)]
    return skipped[0] if skipped else merge_splits(per_split)


def table9_runs(profile: str) -> dict[str, dict]:
    """``"<dataset> <row>"`` -> the row's fine-tunes over the trained splits, merged (:func:`merge_splits`)."""
    t = _t("table9")
    return {f"{label} {row['name']}": _merged(row.get("paper_name", PAPER), row["run"], dataset, profile)
            for dataset, label in t["datasets"].items() for row in t["rows"] if not row.get("reported")}


def table9(run_metrics: dict[str, dict], profile: str) -> pd.DataFrame:
    """Table 9 as the paper prints it (a row per method, a column pair per dataset), quoted rows marked reported,
    rows not trained at this profile noted with why."""
    t = _t("table9")
    table = common.dataset_table(t, run_metrics)
    splits = ", ".join(map(str, trained_splits(profile)))
    first = next(iter(t["datasets"].values()))
    notes = []
    for r in t["rows"]:
        m = run_metrics.get(f"{first} {r['name']}")
        notes.append("" if r.get("reported") else splits if common.trained(m) else f"not trained: {m['skipped']}")
    return report.add_columns(table, {"splits": notes}).round(1)


def table9_bars(table: pd.DataFrame):
    """Paper vs ours for the trained rows, both datasets (:func:`common.dataset_bars`)."""
    return common.dataset_bars(table, _t("table9")["datasets"])
