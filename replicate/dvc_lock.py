"""``python -m replicate.dvc_lock <dvc arguments>``: DVC with a faster update of ``dvc.lock`` (what ``make study`` runs).

After every stage DVC rewrites the whole ``dvc.lock``: it parses the file with ruamel.yaml's round-trip loader (pure
Python, kept so that comments survive), updates the stage's entry and dumps the file again. The study's lock holds
~290 stages (about 1.3 MB); that parse took 5.3 s of the ~9 s each stage spent in DVC's bookkeeping here, about 20
minutes of a whole `mini` study. DVC writes ``dvc.lock`` itself and no one comments it, so this module parses it with
ruamel.yaml's safe loader instead (1.2 s; YAML 1.2, as DVC wrote it) and dumps it with DVC's own dumper: the file comes
out byte for byte as DVC writes it (``tests/test_dvc_lock.py``). Every other file DVC edits (``dvc.yaml`` above all,
whose comments matter) keeps the round-trip parser; nothing else in DVC changes. Plain ``dvc`` gives the same results,
more slowly (``bench/bench_dvc_lock.py`` measures the difference).
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

#: the file whose round-trip parse this module replaces
LOCK_FILE = "dvc.lock"


def parse_lock(text: str, path) -> dict:
    """``dvc.lock``'s text as plain dicts and lists (the safe loader: no comment or layout bookkeeping)."""
    from dvc.utils.serialize._yaml import parse_yaml

    return parse_yaml(text, path, typ="safe")


def install() -> None:
    """Make DVC's lock-file updates parse ``dvc.lock`` with the safe loader (idempotent)."""
    from dvc import dvcfile
    from dvc.utils.serialize import _yaml
    from dvc.utils.serialize._common import _modify_data

    if getattr(dvcfile.modify_yaml, "fast_lock", False):
        return

    @contextmanager
    def modify_yaml(path, fs=None):
        fast = os.path.basename(os.fspath(path)) == LOCK_FILE
        with _modify_data(path, parse_lock if fast else _yaml.parse_yaml_for_update, _yaml._dump, fs=fs) as d:
            yield d

    modify_yaml.fast_lock = True
    dvcfile.modify_yaml = modify_yaml


def main(argv=None) -> int:
    install()
    from dvc.cli import main as dvc_main

    return dvc_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
