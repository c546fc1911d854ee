"""DVC's per-stage update of ``dvc.lock``: its round-trip parse vs ``replicate.dvc_lock``'s safe parse, in one run.

After every stage DVC parses the whole lock file, updates the stage's entry and dumps the file. This measures, on the
committed ``dvc.lock`` (or ``--lock``), the seconds of each step both ways and prints the ratio of one whole update
(parse + dump): what ``make study`` saves per stage, times the study's ~290 stages. The dump is DVC's own either way.

    python bench/bench_dvc_lock.py --repeats 3
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from dvc.utils.serialize._yaml import _dump, parse_yaml_for_update

from replicate.dvc_lock import parse_lock
from replicate.errors import MissingInputError, cli

REPO = Path(__file__).resolve().parents[1]


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lock", type=Path, default=REPO / "dvc.lock")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if not args.lock.is_file():
        raise MissingInputError(f"--lock {args.lock} is not a file: give a dvc.lock (the default is the study's)")
    text = args.lock.read_text()
    stages = len(parse_lock(text, args.lock)["stages"])
    round_trip = best_of(lambda: parse_yaml_for_update(text, args.lock), args.repeats)
    safe = best_of(lambda: parse_lock(text, args.lock), args.repeats)
    data = parse_lock(text, args.lock)
    dump = best_of(lambda: _dump(data, io.StringIO()), args.repeats)
    print(f"{args.lock.name}: {len(text) / 1e6:.2f} MB, {stages} stages (best of {args.repeats})")
    print(f"parse  round-trip (DVC) {round_trip:.2f} s   safe (replicate.dvc_lock) {safe:.2f} s   ratio {round_trip / safe:.1f}x")
    print(f"update (parse + DVC's dump {dump:.2f} s): {round_trip + dump:.2f} s -> {safe + dump:.2f} s per stage, "
          f"ratio {(round_trip + dump) / (safe + dump):.2f}x; {stages} stages: "
          f"{stages * (round_trip - safe) / 60:.1f} min saved")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
