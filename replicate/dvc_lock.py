"""``python -m replicate.dvc_lock <dvc arguments>``: DVC with a faster update of ``dvc.lock`` (what ``make study`` runs).

After every stage DVC rewrites the whole ``dvc.lock``: it parses the file with ruamel.yaml's round-trip loader (pure
Python, kept so that comments survive), updates the stage's entry and dumps the whole file again. The study's lock
holds ~290 stages (about 1.3 MB): that parse took 5.3 s and the dump 3.6 s of the ~9 s each stage spent in DVC's
bookkeeping here, about 40 minutes of a whole ``mini`` study, to change one entry.

This module keeps DVC's format and does only the changed entry's work. DVC writes ``dvc.lock`` itself and no one
comments it, so it is read with ruamel.yaml's safe loader (YAML 1.2, as DVC wrote it) one stage entry at a time, each
entry's text parsed once per process; it is written with DVC's own dumper one stage entry at a time, each entry's text
made once per process and reused while the entry is unchanged. A YAML block mapping is its entries one after another,
so the file comes out byte for byte as DVC's dump of the whole file (``tests/test_dvc_lock.py`` compares them);
where that would not hold -- an alias between two entries, a value that is not plain YAML data, a layout DVC did not
write -- the whole file is parsed or dumped as before. Every other file DVC edits (``dvc.yaml`` above all, whose
comments matter) keeps the round-trip parser. DVC also parses ``params.yaml`` and the paper's spec again for every stage
whose parameters it checks; those are parsed once per process per content. Nothing else in DVC changes. Plain ``dvc``
gives the same results, more slowly (``bench/bench_dvc_lock.py`` measures the difference).
"""
from __future__ import annotations

import io
import os
import pickle
import re
import sys
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any

#: the file whose update this module replaces
LOCK_FILE = "dvc.lock"
#: the only top-level keys of a lock file DVC writes (schema 2.0), in its order
_TOP = ["schema", "stages"]
_STAGES_LINE = "stages:\n"
#: a stage entry starts at a key indented by exactly two spaces (its contents are indented deeper)
_ENTRY_START = re.compile(r"^  (?! )", flags=re.M)
#: what DVC's lock entries are made of (its dumper writes an OrderedDict as a plain mapping)
_PLAIN = (dict, OrderedDict, list, str, int, float, bool, type(None))

#: stage entry text -> the entry parsed (pickled, so that each parse hands DVC objects of its own)
_parsed: dict[str, bytes] = {}
#: (stage name, the entry pickled) -> (its text, the anchors it defines, the anchors before it when it was made)
_dumped: dict[tuple[str, bytes], tuple[str, int, int]] = {}
#: a parameters file's text -> its parse (pickled)
_params: dict[str, bytes] = {}


def _safe_parse(text: str, path) -> dict:
    from dvc.utils.serialize._yaml import parse_yaml

    return parse_yaml(text, path, typ="safe")


def _entries(text: str) -> tuple[str, list[str]] | None:
    """``text`` split into the part before the stage entries and each entry's text; None if DVC did not lay it out so."""
    head, sep, body = text.partition("\n" + _STAGES_LINE)
    if not sep or not body.startswith("  ") or "\n" in head or re.search(r"^\S", body, flags=re.M):
        return None
    starts = [m.start() for m in _ENTRY_START.finditer(body)]
    return head + "\n", [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)])]


def parse_lock(text: str, path) -> dict:
    """``dvc.lock``'s text as plain dicts and lists, as the safe loader reads the whole file (without the comment and
    layout bookkeeping of the round-trip loader); entries seen before by this process are not parsed again."""
    split = _entries(text)
    if split is None:
        return _safe_parse(text, path)
    head, entries = split
    data = _safe_parse(head, path)
    if list(data) != _TOP[:1]:
        return _safe_parse(text, path)
    stages = {}
    for entry in entries:
        if entry not in _parsed:
            try:
                one = _safe_parse(_STAGES_LINE + entry, path)
            except Exception:  # an alias to an anchor in another entry: only the whole file reads it
                return _safe_parse(text, path)
            if list(one) != ["stages"] or not isinstance(one["stages"], dict) or len(one["stages"]) != 1:
                return _safe_parse(text, path)
            _parsed[entry] = pickle.dumps(one["stages"], protocol=pickle.HIGHEST_PROTOCOL)
        stages.update(pickle.loads(_parsed[entry]))
    if len(stages) != len(entries):  # a stage written twice: the whole file decides
        return _safe_parse(text, path)
    data["stages"] = stages
    return data


def _containers(value: Any, ids: set[int]) -> bool:
    """Add the ids of ``value``'s dicts and lists to ``ids``; False if a value is not plain YAML data."""
    if type(value) not in _PLAIN:
        return False
    if isinstance(value, (dict, list)):
        if id(value) in ids:  # shared inside the entry: an anchor and its aliases, made alike in either dump
            return True
        ids.add(id(value))
        return all(_containers(v, ids) for v in (value.values() if isinstance(value, dict) else value))
    return True


def _separate_plain_entries(stages: dict) -> bool:
    """Whether every entry is plain YAML data and shares no dict or list with another entry (an object shared by
    two entries is an anchor in one and an alias in the other: only a dump of the whole file writes that)."""
    seen: set[int] = set()
    for entry in stages.values():
        ids: set[int] = set()
        if not _containers(entry, ids) or not seen.isdisjoint(ids):
            return False
        seen |= ids
    return True


def _entrywise(data: Any) -> bool:
    """Whether ``data`` is a lock file as DVC writes it (a schema, then named stages) whose entries can be dumped
    one by one: plain YAML data, no dict or list shared between two entries."""
    return type(data) is dict and list(data) == _TOP and type(data["schema"]) is str and type(data["stages"]) is dict \
        and bool(data["stages"]) and all(type(name) is str for name in data["stages"]) \
        and _separate_plain_entries(data["stages"])


def _dump_entry(name: str, entry: Any, anchors_before: int) -> tuple[str, int]:
    """One stage entry as it reads inside the whole file (DVC's dumper), and how many anchors it defines."""
    from dvc.utils.serialize._yaml import _get_yaml
    from ruamel.yaml.serializer import Serializer

    made: list[str] = []

    class NumberedFrom(Serializer):  # anchors go on from the previous entries' (DVC numbers them across the file)
        def generate_anchor(self, node: Any) -> Any:
            made.append(self.ANCHOR_TEMPLATE.format(anchors_before + len(made) + 1))
            return made[-1]

    yaml = _get_yaml()
    yaml.Serializer = NumberedFrom
    out = io.StringIO()
    yaml.dump({"stages": {name: entry}}, out)
    text = out.getvalue()
    assert text.startswith(_STAGES_LINE), text[:80]
    return text[len(_STAGES_LINE):], len(made)


def dump_lock(data: Any, stream) -> None:
    """Write ``data`` as DVC's dumper writes the whole file, making only the entries not made before."""
    from dvc.utils.serialize._yaml import _dump

    if not _entrywise(data):
        _dump(data, stream)
        return
    stages = data["stages"]
    out = io.StringIO()
    _dump({"schema": data["schema"]}, out)
    parts, anchors = [out.getvalue(), _STAGES_LINE], 0
    for name, entry in stages.items():
        key = (name, pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
        made = _dumped.get(key)
        if made is None or (made[1] and made[2] != anchors):  # its anchors' numbers go on from the entries before
            _dumped[key] = made = (*_dump_entry(name, entry, anchors), anchors)
        parts.append(made[0])
        anchors += made[1]
    stream.write("".join(parts))


def load_params_file(path, fs=None, **kwargs) -> Any:
    """A YAML parameters file as DVC's loader reads it, parsed once per process per content: DVC reads
    ``params.yaml`` and the paper's spec again for every stage it checks (~290 of each in a study's no-op run)."""
    from dvc.utils.serialize._common import _load_data

    text = _load_data(path, parser=lambda text, _: text, fs=fs, **kwargs)
    if text not in _params:
        _params[text] = pickle.dumps(_safe_parse(text, path), protocol=pickle.HIGHEST_PROTOCOL)
    return pickle.loads(_params[text])


def install() -> None:
    """Make DVC's lock-file updates go through :func:`parse_lock` and :func:`dump_lock`, and its reads of YAML
    parameters files through :func:`load_params_file` (idempotent)."""
    from dvc import dvcfile
    from dvc.utils import serialize
    from dvc.utils.serialize import _yaml
    from dvc.utils.serialize._common import _modify_data

    if getattr(dvcfile.modify_yaml, "fast_lock", False):
        return
    serialize.LOADERS.update({".yaml": load_params_file, ".yml": load_params_file})

    @contextmanager
    def modify_yaml(path, fs=None):
        if os.path.basename(os.fspath(path)) == LOCK_FILE:
            with _modify_data(path, parse_lock, dump_lock, fs=fs) as d:
                yield d
        else:
            with _modify_data(path, _yaml.parse_yaml_for_update, _yaml._dump, fs=fs) as d:
                yield d

    modify_yaml.fast_lock = True
    dvcfile.modify_yaml = modify_yaml


def main(argv=None) -> int:
    install()
    from dvc.cli import main as dvc_main

    return dvc_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    raise SystemExit(main())
