"""DVC's per-stage update of ``dvc.lock`` vs ``replicate.dvc_lock``'s, in one run.

After every stage DVC parses the whole lock file (round-trip loader), updates the stage's entry and dumps the whole
file. ``replicate.dvc_lock`` parses and dumps one entry at a time, each entry once per process. This measures, on the
committed ``dvc.lock`` (or ``--lock``), one update both ways as a study makes it -- the file as the previous stage
left it, one entry changed -- and prints the ratio and what it saves over the file's stages (``make study`` updates the
lock once per stage). Both write the same bytes (checked here too).

    python bench/bench_dvc_lock.py --repeats 3
"""
from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from dvc.utils.serialize._yaml import _dump, parse_yaml_for_update

from replicate.dvc_lock import dump_lock, parse_lock
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
    data = parse_lock(text, args.lock)
    stages = list(data["stages"])
    dump_lock(data, io.StringIO())  # the process has made every entry once: the study's first stage
    changes = iter(range(1, 10**9))

    def update(parse, dump, change: int) -> str:
        """What DVC does after a stage: parse the file, change the stage's entry (a new one each time), dump it all."""
        d = parse(text, args.lock)
        d["stages"][stages[change % len(stages)]]["cmd"] = f"python -m replicate.runs bench {change}"
        out = io.StringIO()
        dump(d, out)
        return out.getvalue()

    if update(parse_yaml_for_update, _dump, 0) != update(parse_lock, dump_lock, 0):
        raise RuntimeError("replicate.dvc_lock wrote other bytes than DVC for the same update")
    dvc = best_of(lambda: update(parse_yaml_for_update, _dump, next(changes)), args.repeats)
    ours = best_of(lambda: update(parse_lock, dump_lock, next(changes)), args.repeats)
    print(f"{args.lock.name}: {len(text) / 1e6:.2f} MB, {len(stages)} stages (best of {args.repeats})")
    print(f"update (parse, change one entry, dump): DVC {dvc:.2f} s, replicate.dvc_lock {ours:.3f} s per stage, "
          f"ratio {dvc / ours:.1f}x; {len(stages)} stages: {len(stages) * (dvc - ours) / 60:.1f} min saved")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
