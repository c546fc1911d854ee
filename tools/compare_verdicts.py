"""Side by side: every claim's verdict in two results folders of the same paper and profile (for
example this clone's and one made under another torch build or thread count).

    python tools/compare_verdicts.py results/tran2018/mini OTHER/results/tran2018/mini \
        --labels "torch 2.14.1" "torch 2.15.0" [--out results/tran2018/mini/verdicts_across_builds.md]

Reads every ``*_claims.csv`` (first column the claim, ``ours`` the estimate and interval, ``verdict``
the word) in both folders and prints one markdown table: claim, each side's estimate and verdict,
and whether the verdicts agree. Exit code 1 when any verdict differs or a claim is on one side only,
2 when a folder holds no claims.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from replicate.errors import MissingInputError, cli


def claims(folder: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """{(table, claim): (ours, verdict)} from every ``*_claims.csv`` in ``folder``."""
    files = sorted(folder.glob("*_claims.csv"))
    if not files:
        raise MissingInputError(f"no *_claims.csv in {folder}: run `dvc repro` there first")
    out = {}
    for path in files:
        frame = pd.read_csv(path)
        table = path.name.removesuffix("_claims.csv")
        for _, row in frame.iterrows():
            out[(table, str(row.iloc[0]))] = (str(row["ours"]), str(row["verdict"]))
    return out


def compare(a: dict, b: dict, labels: tuple[str, str]) -> tuple[str, int]:
    """The markdown table and the number of claims whose verdicts differ (or that one side lacks)."""
    cell = lambda s: s.replace("|", "/")  # noqa: E731
    lines = [f"| table | claim | {labels[0]}: ours | verdict | {labels[1]}: ours | verdict | same verdict |",
             "|---|---|---|---|---|---|---|"]
    differ = 0
    for key in sorted(set(a) | set(b)):
        (ours_a, verdict_a), (ours_b, verdict_b) = a.get(key, ("-", "missing")), b.get(key, ("-", "missing"))
        same = verdict_a == verdict_b
        differ += not same
        lines.append(f"| {key[0]} | {cell(key[1])} | {cell(ours_a)} | {verdict_a} | {cell(ours_b)} | {verdict_b} | "
                     f"{'yes' if same else '**no**'} |")
    lines.append(f"\n{len(set(a) | set(b)) - differ} of {len(set(a) | set(b))} verdicts agree.")
    return "\n".join(lines) + "\n", differ


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--labels", nargs=2, default=("a", "b"))
    ap.add_argument("--out", type=Path, help="also write the table here")
    args = ap.parse_args(argv)
    text, differ = compare(claims(args.a), claims(args.b), tuple(args.labels))
    print(text, end="")
    if args.out:
        args.out.write_text(text)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
