"""Training curves and training time of one paper's runs (the DVC stages ``curves@<paper>``).

``python -m replicate.curves <paper> [--profile P]`` reads the per-epoch history of every trained seed under
``runs/<profile>/<paper>/`` (``history.json``, or the ``history`` a supervision transfer keeps in ``metrics.json``)
and writes, under ``results/curves/<profile>/``:

- ``<paper>.csv``: one row per (run, seed, epoch): train loss and accuracy, validation clip accuracy where the run
  validated, the epoch's seconds (a DVC plot: ``dvc plots show results/curves/mini/diba2018.csv -x epoch -y train_acc``);
- ``<paper>.png``: training accuracy per epoch, one line per run (seed 0), the runs a reader compares side by side;
- ``<paper>.json``: the paper's training time (DVC metrics): minutes summed over every trained seed's epochs
  (``training minutes``), minutes from each seed's first epoch to its last test score (``run minutes``: training and
  testing, each seed's ``train_seconds``), and the runs and seeds behind them. Neither counts start-up, data, flow or
  the notebooks: they are the part of a paper's budget its runs take.

Runs that another stands for (``same_as``) or that a profile skips have no history and count nothing. The outputs sit
outside ``results/<paper>/`` so the site (which depends on those folders) does not wait for them.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from . import config, report
from .errors import MissingInputError, UnknownNameError, cli
from .runs import RUNS_DIR

#: the per-epoch fields a curve shows, in this order (a history may lack the validation ones)
FIELDS = ("train_loss", "train_acc", "val_clip@1", "seconds")


def _history(seed: Path) -> list[dict]:
    if (seed / "history.json").is_file():
        return json.loads((seed / "history.json").read_text())
    metrics = seed / "metrics.json"
    return json.loads(metrics.read_text()).get("history") or [] if metrics.is_file() else []


def curves(paper: str, profile: str, runs: Path = RUNS_DIR) -> pd.DataFrame:
    """Every trained seed's epochs: run, seed, epoch and :data:`FIELDS` (NaN where a history lacks one)."""
    folder = runs / profile / paper
    if not folder.is_dir():
        raise MissingInputError(f"no {folder}: train the paper's runs first (`make study PAPER={paper}`)")
    rows = []
    for seed in sorted(folder.glob("*/seed*")):
        for h in _history(seed):
            rows.append({"run": seed.parent.name, "seed": int(seed.name[4:]), "epoch": int(h["epoch"]),
                         **{f: h.get(f) for f in FIELDS}})
    return pd.DataFrame(rows, columns=["run", "seed", "epoch", *FIELDS])


def run_seconds(paper: str, profile: str, runs: Path = RUNS_DIR) -> float:
    """Seconds from each trained seed's first epoch to its last test score (``train_seconds`` in its metrics.json),
    summed over the paper's seeds; a run that another stands for (``same_as``) records none and counts nothing."""
    total = 0.0
    for metrics in sorted((runs / profile / paper).glob("*/seed*/metrics.json")):
        total += float(json.loads(metrics.read_text()).get("train_seconds") or 0.0)
    return total


def training_time(df: pd.DataFrame, run_seconds: float = 0.0) -> dict:
    """The DVC metrics of a paper's runs: minutes over every seed's epochs, minutes of training and testing
    (``run_seconds``), trained runs and seeds."""
    seeds = df[["run", "seed"]].drop_duplicates()
    return {"training minutes": round(float(df["seconds"].fillna(0).sum()) / 60, 1),
            "run minutes": round(run_seconds / 60, 1),
            "trained runs": int(seeds["run"].nunique()), "trained seeds": int(len(seeds)),
            "epochs": int(len(df))}


def figure(df: pd.DataFrame, paper: str):
    """Training accuracy per epoch, one line per run (its first seed)."""
    fig = report.new_figure((7.5, 4.5))
    ax = fig.add_subplot()
    if df.empty:  # a profile that trains none of the paper's runs still gets its (empty) plot
        ax.text(0.5, 0.5, "no trained runs at this profile", ha="center", va="center", transform=ax.transAxes)
    first = df[df["seed"] == df.groupby("run")["seed"].transform("min")]
    for run, rows in first.groupby("run", sort=True):
        ax.plot(rows["epoch"], 100 * rows["train_acc"], marker=".", label=run)
    ax.set_xlabel("epoch")
    ax.set_ylabel("train accuracy (%)")
    ax.set_title(f"{paper}: training accuracy per epoch (seed 0 of each run)")
    if first["run"].nunique() <= 20:
        ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def write(paper: str, profile: str, runs: Path = RUNS_DIR, out: Path | None = None) -> dict:
    """Write the paper's curves (csv, png) and training time (json); return the time."""
    from .summary import PAPERS

    if paper not in PAPERS:
        raise UnknownNameError(f"unknown paper {paper!r}: one of {', '.join(PAPERS)}")
    df = curves(paper, profile, runs)
    out = out or report.RESULTS_ROOT / "curves" / profile
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / f"{paper}.csv", index=False)
    figure(df, paper).savefig(out / f"{paper}.png", dpi=100)
    time = training_time(df, run_seconds(paper, profile, runs))
    (out / f"{paper}.json").write_text(json.dumps(time, indent=1) + "\n")
    return time


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paper")
    ap.add_argument("--profile", default=None, help="default: params.yaml's profile")
    args = ap.parse_args(argv)
    profile = args.profile or config.load_params()["profile"]
    time = write(args.paper, profile)
    print(f"results/curves/{profile}/{args.paper}.*: {time['trained seeds']} seeds of {time['trained runs']} runs, "
          f"{time['training minutes']} training minutes, {time['run minutes']} minutes of training and testing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
