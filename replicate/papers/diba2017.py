"""diba2017 (T3D): the logic behind its notebooks, so the notebooks stay thin.

Every paper number shown next to ours comes from ``diba2017.yaml`` (the paper spec, with the inventory's
arithmetic where the paper prints none). Ours are measured: the networks of ``replicate.models.densenet3d``,
``inception3d`` and ``video_resnet`` built on the meta device (sizes, counts, multiply-adds; Table 1), the
supervision transfer of ``replicate.transfer`` (Figure 2), and the trained runs of ``replicate.runs``
(Tables 2-10), each with its verdicts (``replicate.report``).
"""
from __future__ import annotations

import functools

import pandas as pd
import torch

from .. import config, report, runs, transfer
from ..flops import count_flops, count_params
from ..models import create
from ..models import densenet3d as D
from . import common
from .common import dataset_facts, dataset_table, merge_splits, spec_claims

PAPER = "diba2017"
write = functools.partial(report.write_results, PAPER)
write_figure = functools.partial(report.save_figure, PAPER)
verdicts_markdown = report.verdict_summary


def spec() -> dict:
    return runs.load_spec(PAPER)


def _t(name: str) -> dict:
    return spec()["tables"][name]


# ----------------------------------------------------------------------------- Table 1
def stage_outputs(name: str, clip_len: int = 32, size: int = 224) -> dict[str, tuple[int, ...]]:
    """Output shape ``(C, T, H, W)`` of every stage of a full-size DenseNet3D / T3D (stem conv, pool, each dense
    block and transition), measured with forward hooks on the meta device."""
    with torch.device("meta"):
        net = create(name, num_classes=400)
    named = {"stem": net.stem[0], "pool": net.stem[3]}
    blocks = transitions = 0
    for module in net.features:
        if isinstance(module, (D.Transition, D.TemporalTransition)):
            transitions += 1
            named[f"transition{transitions}"] = module
        else:
            blocks += 1
            named[f"block{blocks}"] = module
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [m.register_forward_hook(lambda _m, _i, out, k=k: shapes.__setitem__(k, tuple(out.shape[1:])))
             for k, m in named.items()]
    net(torch.zeros(1, 3, clip_len, size, size, device="meta"))
    for h in hooks:
        h.remove()
    return shapes


def table1() -> pd.DataFrame:
    """Table 1, paper vs ours per stage: output size H x W x T at 32 x 224^2 (DenseNet3D-121, -169 and T3D-121:
    the TTL keeps every size), and channels (121 and 169) against the inventory's."""
    t = _t("table1")
    outs = {n: stage_outputs(n, t["clip_len"], t["input_size"]) for n in ("densenet3d_121", "densenet3d_169", "t3d_121")}
    rows = []
    for stage, (side, frames) in t["output"].items():
        c121, c169 = t["channels"]["densenet3d_121"].get(stage), t["channels"]["densenet3d_169"].get(stage)
        sizes = {n: f"{o[stage][2]}x{o[stage][3]}x{o[stage][1]}" for n, o in outs.items()}
        paper = f"{side}x{side}x{frames}"
        rows.append({"stage": stage, "paper output": paper, "ours DenseNet3D-121": sizes["densenet3d_121"],
                     "ours DenseNet3D-169": sizes["densenet3d_169"], "ours T3D-121": sizes["t3d_121"],
                     "inventory channels 121": c121, "ours channels 121": outs["densenet3d_121"][stage][0],
                     "inventory channels 169": c169, "ours channels 169": outs["densenet3d_169"][stage][0],
                     "match": (len(set(sizes.values()) | {paper}) == 1
                               and c121 in (None, outs["densenet3d_121"][stage][0])
                               and c169 in (None, outs["densenet3d_169"][stage][0]))})
    return pd.DataFrame(rows).set_index("stage")


def _params(name: str, classes: int, **kwargs) -> int:
    with torch.device("meta"):
        return count_params(create(name, num_classes=classes, **kwargs))


def parameter_table() -> pd.DataFrame:
    """Parameters at full width: DenseNet3D-121 / -169 at 400 / 101 / 51 classes, T3D under each TTL width rule,
    ResNet3D-50 and Inception3D (400 classes), against the inventory's arithmetic (the paper prints none)."""
    t = _t("table1")
    rows = []
    for name, counts in t["params"].items():
        for classes, expected in counts.items():
            rows.append({"network": name, "classes": classes, "TTL widths": "-", "inventory": expected,
                         "ours": _params(name, classes)})
    for rule, counts in t["t3d_params"].items():
        for depth, expected in counts.items():
            rows.append({"network": f"t3d_{depth}", "classes": 400, "TTL widths": rule, "inventory": expected,
                         "ours": _params(f"t3d_{depth}", 400, ttl_widths=rule)})
    for name, expected in t["other_params"].items():
        rows.append({"network": name, "classes": 400, "TTL widths": "-", "inventory": expected,
                     "ours": _params(name, 400)})
    table = pd.DataFrame(rows)
    table["match"] = table["inventory"] == table["ours"]
    return table.set_index(["network", "classes", "TTL widths"])


def ratio_table() -> pd.DataFrame:
    """T3D / DenseNet3D parameters (400 classes) for each TTL width rule and depth, beside the paper's 1.3."""
    t = _t("table1")
    rows = []
    for rule in D.TTL_WIDTHS:
        for depth in (121, 169):
            t3d, dense = _params(f"t3d_{depth}", 400, ttl_widths=rule), _params(f"densenet3d_{depth}", 400)
            rows.append({"TTL widths": rule, "depth": depth, "T3D params": t3d, "DenseNet3D params": dense,
                         "ours ratio": round(t3d / dense, 2), "paper ratio": t["paper_ratio"],
                         "within 0.05 of the paper": abs(t3d / dense - t["paper_ratio"]) < 0.05})
    return pd.DataFrame(rows).set_index(["TTL widths", "depth"])


def ttl_table(rule: str = "inception") -> pd.DataFrame:
    """Each TTL of the full-size T3D-121: its branches' kernels (H x W x T), widths and padding in time, against
    Table 1's temporal depths."""
    with torch.device("meta"):
        net = create("t3d_121", num_classes=400, ttl_widths=rule)
    ttls = [m for m in net.features if isinstance(m, D.TemporalTransition)]
    depths = _t("table1")["ttl_depths"]
    rows = []
    for k, (ttl, (stage, paper_depths)) in enumerate(zip(ttls, depths.items())):
        for b, branch in enumerate(ttl.branches):
            convs = [m for m in branch.modules() if isinstance(m, torch.nn.Conv3d)]
            pads = [m.padding for m in branch.modules() if isinstance(m, torch.nn.ConstantPad3d)]
            t, h, w = convs[-1].kernel_size
            rows.append({"TTL": stage, "branch": b + 1, "paper temporal depth": paper_depths[b],
                         "ours kernel (HxWxT)": f"{h}x{w}x{t}",
                         "convs": " -> ".join(f"{c.in_channels}->{c.out_channels}" for c in convs),
                         "time padding (before, after)": f"{pads[0][4]}, {pads[0][5]}" if pads else f"{t // 2}, {t // 2}",
                         "match": t == paper_depths[b]})
    return pd.DataFrame(rows).set_index(["TTL", "branch"])


def macs_table() -> pd.DataFrame:
    """Multiply-adds per clip (``FlopCounterMode`` / 2, 400 classes) vs the inventory's arithmetic (G)."""
    inputs = {"DenseNet3D-121, 32x224^2": ("densenet3d_121", 32, 224), "DenseNet3D-121, 16x224^2": ("densenet3d_121", 16, 224),
              "DenseNet3D-121, 32x112^2": ("densenet3d_121", 32, 112), "DenseNet3D-169, 32x224^2": ("densenet3d_169", 32, 224)}
    rows = []
    for label, (name, frames, size) in inputs.items():
        with torch.device("meta"):
            net = create(name, num_classes=400)
        ours = count_flops(net, (3, frames, size, size)) / 2 / 1e9
        expected = _t("table1")["gmacs"][label]
        rows.append({"input": label, "inventory GMACs": expected, "ours GMACs": round(ours, 1),
                     "match": abs(ours - expected) < 0.1})
    return pd.DataFrame(rows).set_index("input")


# ----------------------------------------------------------------------------- Figure 2
def head_table() -> pd.DataFrame:
    """Figure 2's network at full width (meta device): the student's 1024-d fc, the teacher's pooled features, the
    head's layers, and which parts learn."""
    with torch.device("meta"):
        net = transfer.TransferNet(create("t3d_121", num_classes=transfer.STUDENT_FEATURES),
                                   create("densenet121", num_classes=1000))
    linears = [m for m in net.head.modules() if isinstance(m, torch.nn.Linear)]
    rows = [{"part": "student (T3D-121), its fc after block 4", "shape": f"{net.student.fc.in_features} -> "
             f"{net.student.fc.out_features}", "learns": True, "parameters": count_params(net.student)},
            {"part": "teacher (2D DenseNet-121), pooled features averaged over the frames",
             "shape": f"{net.teacher.num_features}", "learns": False, "parameters": count_params(net.teacher)}]
    rows += [{"part": f"head fc {k + 1}", "shape": f"{m.in_features} -> {m.out_features}", "learns": True,
              "parameters": count_params(m)} for k, m in enumerate(linears)]
    return pd.DataFrame(rows).set_index("part")


def pairs_table(n: int = 6) -> pd.DataFrame:
    """How pairs are made (``transfer.PairDataset``, train mode, epochs 0 and 1) on ``n`` videos labelled by their
    index: which video the student's clip and the teacher's frames come from, and the label."""
    class Videos:
        def __init__(self):
            self.videos, self.broken, self.mode, self.num_clips, self.epoch, self.num_failed_items = \
                [(None, 1)] * n, [], "train", 1, 0, 0

        def set_epoch(self, epoch):
            self.epoch = epoch

        def __getitem__(self, v):
            return {"clip": torch.full((3, 1, 1, 1), float(v))}

    pairs = transfer.PairDataset(Videos(), seed=0)
    rows = []
    for epoch in (0, 1):
        pairs.set_epoch(epoch)
        for i in range(n):
            item = pairs[i]
            rows.append({"epoch": epoch, "item": i, "clip from video": int(item["clip"][0].item()),
                         "frames from video": int(item["clip"][3].item()),
                         "label": "positive (same video, same time)" if item["label"] else "negative (two videos)"})
    return pd.DataFrame(rows).set_index(["epoch", "item"])


def teacher_step_table(seed: int = 0) -> pd.DataFrame:
    """One SGD step of the transfer on a small random T3D / DenseNet-121 pair: what changed."""
    from ..train import TrainConfig, make_optimizer, train_step

    torch.manual_seed(seed)
    width = 0.125
    net = transfer.TransferNet(create("t3d_121", num_classes=128, width=width), create("densenet121", num_classes=16, width=width),
                               width)
    before = {part: {k: v.clone() for k, v in getattr(net, part).state_dict().items()} for part in ("teacher", "student", "head")}
    net.train()
    opt = make_optimizer(net, TrainConfig(lr=0.1))
    train_step(net, {"clip": torch.randn(4, 6, 8, 32, 32), "label": torch.tensor([1, 0, 1, 0])}, opt, torch.device("cpu"), [], "fp32")
    rows = []
    for part, expected in (("teacher", False), ("student", True), ("head", True)):
        after = getattr(net, part).state_dict()
        changed = sum(not torch.equal(v, before[part][k]) for k, v in after.items())
        rows.append({"part": part, "tensors changed": f"{changed} of {len(after)}", "expected to change": expected,
                     "as expected": (changed > 0) == expected})
    return pd.DataFrame(rows).set_index("part")


TRANSFER_RUNS = {"ResNet3D-50": "transfer_resnet3d", "DenseNet3D-121": "transfer_densenet3d", "T3D-121": "transfer_t3d"}


def transfer_runs(profile: str) -> dict[str, dict]:
    return {label: runs.ensure_run(PAPER, name, profile) for label, name in TRANSFER_RUNS.items()}


def transfer_table(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Per student: the pair accuracies, the teacher frozen, the pairs and the time (:func:`common.pair_table`)."""
    return common.pair_table(run_metrics)


def figure2(run_metrics: dict[str, dict]):
    """The pair-matching accuracy per epoch (training pairs, and held-out pairs) of each student, chance at 50%."""
    fig = report.new_figure((7, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    for (label, m), colour in zip(run_metrics.items(), ("#c0504d", "#4f81bd", "#9bbb59")):
        epochs = [h["epoch"] for h in m["history"]]
        ax.plot(epochs, [100 * h["train_acc"] for h in m["history"]], "--", color=colour, label=f"{label} (train pairs)")
        ax.plot(epochs, [100 * h["val_video@1"] for h in m["history"]], "-o", color=colour, ms=3, label=f"{label} (held-out)")
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.text(1, 51, "chance", color="grey", fontsize=8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("pair accuracy (%)")
    ax.set_title("2D -> 3D supervision transfer: does the clip match the frames?")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- Tables 2-6, 9 (one run per row)
def table_runs(table: str, profile: str) -> dict[str, dict]:
    """Row name -> its run's metrics for the rows of a spec table that name a run (:func:`common.row_runs`)."""
    return common.row_runs(PAPER, _t(table), profile)


def scratch_table(table: str, run_metrics: dict[str, dict]) -> pd.DataFrame:
    """One of Tables 2-6: paper vs ours (video@1, %) per row, the seed spread, the final training accuracy, and
    what each run was trained on (:func:`common.scratch_table`)."""
    return common.scratch_table(_t(table), run_metrics, {"densenet3d_121": "the shared baseline (Tables 2-6 read one run)"})


def claims(table: str, run_metrics: dict[str, dict]) -> list[dict]:
    """Every claim of a spec table with its verdict (rows matched by video id)."""
    return spec_claims(_t(table), run_metrics)


def bars(table: pd.DataFrame):
    return report.paper_vs_ours_bars(table, "video@1")


# ----------------------------------------------------------------------------- Table 7
def table7(profile: str) -> pd.DataFrame:
    """Table 7 at ``profile``: the paper's counts beside ours (:func:`~replicate.papers.common.dataset_facts`)."""
    return dataset_facts(_t("table7")["rows"], profile)


# ----------------------------------------------------------------------------- Table 8
def table8_runs(profile: str) -> dict[str, dict]:
    """``"<net> <column>"`` -> its run: Transfer, FT-Transfer (UCF101 split 1 fine-tunes) and Scratch (Table 4's)."""
    return common.transfer_runs(PAPER, _t("table8"), profile)


def table8(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Table 8 as the paper prints it (a row per net, Transfer / FT-Transfer), with Scratch beside it."""
    return common.transfer_table(_t("table8"), run_metrics)


# ----------------------------------------------------------------------------- Table 9
def table9(run_metrics: dict[str, dict]) -> pd.DataFrame:
    """Table 9: Top1-Val and Avg = (top-1 + top-5) / 2 per net (ours: both on the Kinetics validation videos);
    quoted rows marked reported."""
    rows = []
    for r in _t("table9")["rows"]:
        rec = {"name": r["name"], "reported": r.get("reported", False), "note": r.get("note"),
               "paper_Top1-Val": r["paper"]["top1"], "paper_Avg": r["paper"]["avg"]}
        m = run_metrics.get(r["name"])
        if m is not None:
            rec["ours_Top1-Val"] = 100 * m["video@1"]
            rec["ours_Avg"] = 100 * (m["video@1"] + m["video@5"]) / 2
        rows.append(rec)
    return report.compare_table(rows, ["Top1-Val", "Avg"]).round(1)


# ----------------------------------------------------------------------------- Table 10
def trained_splits(profile: str) -> list[int]:
    """The splits a profile fine-tunes on (mini: 1; paper: 1-3): Table 10 is their mean."""
    s = runs.run_settings(PAPER, "t3d_ucf101_split1", profile)
    return list(s.get("splits") or (1, 2, 3))


def table10_runs(profile: str) -> dict[str, dict]:
    """``"<dataset> <row>"`` -> the row's fine-tunes over the trained splits, merged (:func:`merge_splits`)."""
    t = _t("table10")
    out = {}
    for dataset, label in t["datasets"].items():
        for row in t["rows"]:
            if not row.get("reported"):
                out[f"{label} {row['name']}"] = merge_splits({
                    k: runs.ensure_run(PAPER, f"{row['run']}_{dataset}_split{k}", profile) for k in trained_splits(profile)})
    return out


def table10(run_metrics: dict[str, dict], profile: str) -> pd.DataFrame:
    """Table 10 as the paper prints it (a row per method, a column pair per dataset), quoted rows marked reported."""
    t = _t("table10")
    table = dataset_table(t, run_metrics)
    splits = ", ".join(map(str, trained_splits(profile)))
    return report.add_columns(table, {"splits": [splits if not r.get("reported") else "" for r in t["rows"]]}).round(1)


def table10_bars(table: pd.DataFrame):
    """Paper vs ours for the trained rows, both datasets (:func:`common.dataset_bars`)."""
    return common.dataset_bars(table, _t("table10")["datasets"])
