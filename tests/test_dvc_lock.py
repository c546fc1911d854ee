"""replicate/dvc_lock.py: DVC's lock-file update, one entry at a time, writes dvc.lock byte for byte as DVC does."""
from __future__ import annotations

import io
import re
import shutil
from collections import OrderedDict
from pathlib import Path

from replicate import dvc_lock

REPO = Path(__file__).resolve().parent.parent


def _lock_copy_text(stages: int = 40) -> str:
    """A dvc.lock in DVC's own format: the committed lock's first ``stages`` stages, dumped by DVC."""
    from dvc.utils.serialize._yaml import dumps_yaml, parse_yaml

    full = parse_yaml((REPO / "dvc.lock").read_text(), "dvc.lock")
    return dumps_yaml({"schema": full["schema"], "stages": dict(list(full["stages"].items())[:stages])})


def _lock_copy(folder: Path, stages: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dvc.lock").write_text(_lock_copy_text(stages))
    return folder / "dvc.lock"


def _update(modify_yaml, path: Path) -> None:
    """What Lockfile.dump_stages does: parse, replace one stage's entry, add one, dump."""
    with modify_yaml(path) as data:
        first = next(iter(data["stages"]))
        data["stages"][first] = {**data["stages"][first], "cmd": "python -m replicate.runs tran2018 r2d_18 --profile mini"}
        data["stages"]["new_stage@x"] = {"cmd": "echo on", "outs": [{"path": "out", "md5": "12e4", "size": 1}]}


def test_the_lock_comes_out_as_dvc_writes_it(tmp_path):
    from dvc import dvcfile
    from dvc.utils.serialize._yaml import modify_yaml as dvc_modify_yaml

    ours, theirs = _lock_copy(tmp_path / "ours"), _lock_copy(tmp_path / "theirs")
    before = ours.read_bytes()
    dvc_lock.install()
    dvc_lock.install()  # idempotent
    assert dvcfile.modify_yaml.fast_lock
    with dvcfile.modify_yaml(ours):  # a no-op update leaves the file as it was
        pass
    assert ours.read_bytes() == before
    _update(dvcfile.modify_yaml, ours)
    _update(dvc_modify_yaml, theirs)  # DVC's round-trip parse
    assert ours.read_bytes() == theirs.read_bytes() != before
    # strings that read as booleans or numbers in YAML 1.1 or 1.2 come back as the strings they were
    new = dvc_lock.parse_lock(ours.read_text(), ours)["stages"]["new_stage@x"]
    assert new["cmd"] == "echo on" and new["outs"][0]["md5"] == "12e4" and new["outs"][0]["size"] == 1


def _whole(data) -> str:
    from dvc.utils.serialize._yaml import _dump

    out = io.StringIO()
    _dump(data, out)
    return out.getvalue()


def _ours(data) -> str:
    out = io.StringIO()
    dvc_lock.dump_lock(data, out)
    return out.getvalue()


def test_the_committed_lock_reads_and_writes_as_a_whole_file():
    text = (REPO / "dvc.lock").read_text()
    data = dvc_lock.parse_lock(text, "dvc.lock")
    assert data == dvc_lock._safe_parse(text, "dvc.lock") and len(data["stages"]) > 200
    assert _ours(data) == _whole(data) == text
    again = dvc_lock.parse_lock(text, "dvc.lock")  # from the entries parsed above: equal, and objects of its own
    assert again == data and again["stages"] is not data["stages"]
    first = next(iter(again["stages"]))
    assert again["stages"][first] is not data["stages"][first]


def test_each_update_writes_what_dvcs_whole_dump_writes(monkeypatch):
    data = dvc_lock.parse_lock(_lock_copy_text(12), "dvc.lock")
    _ours(data)
    made, dump_entry = [], dvc_lock._dump_entry
    monkeypatch.setattr(dvc_lock, "_dump_entry", lambda name, *a: made.append(name) or dump_entry(name, *a))
    names = list(data["stages"])
    shared, own = {"sub_batch": 86}, {"k": 1}
    steps = [
        lambda s: s.__setitem__(names[3], OrderedDict(s[names[3]], cmd="python -m x")),  # DVC's entries: OrderedDicts
        lambda s: s.__setitem__("new@1", OrderedDict(cmd="echo on", outs=[{"path": "out", "md5": "12e4", "size": 1}])),
        lambda s: s.__setitem__(names[8], {**s[names[8]], "params": {"a": shared, "b": shared}}),  # anchor id001
        lambda s: s.__setitem__(names[1], {**s[names[1]], "x": [[1], [1]], "y": own, "z": own}),
        lambda s: s.__setitem__(names[1], {**s[names[1]], "y": 1, "z": 2}),  # the later anchor's number goes back
        lambda s: s.__setitem__(names[2], {**s[names[2]], "also": shared}),  # shared by two entries: a whole dump
        lambda s: s.__setitem__(names[2], {"cmd": "yes", "deps": [{"path": "on", "md5": "1e5"}], "outs": []}),
        lambda s: s.pop(names[0]),
    ]
    texts, entries_made = [], []
    for step in steps:
        step(data["stages"])
        made.clear()
        texts.append(_ours(data))
        entries_made.append(list(made))
        assert texts[-1] == _whole(data)
        assert dvc_lock.parse_lock(texts[-1], "dvc.lock") == dvc_lock._safe_parse(texts[-1], "dvc.lock")
    # an entry's anchors are numbered after the earlier entries' ones, and renumbered when those change
    assert [len(re.findall(r"&id\d+", t)) for t in texts[2:6]] == [1, 2, 1, 1] and "*id002" in texts[3]
    # only what changed is made again: the entry updated, and an entry whose anchors' numbers moved
    assert entries_made[:5] == [[names[3]], ["new@1"], [names[8]], [names[1], names[8]], [names[1], names[8]]]
    assert entries_made[5] == [] and entries_made[6] == [names[2]]  # a whole dump; then entries again


def test_what_dvc_did_not_lay_out_is_read_whole():
    crossing = "schema: '2.0'\nstages:\n  a:\n    x: &id001\n      k: 1\n  b:\n    y: *id001\n"
    assert dvc_lock.parse_lock(crossing, "dvc.lock") == {"schema": "2.0", "stages": {"a": {"x": {"k": 1}}, "b": {"y": {"k": 1}}}}
    for text in ("stages:\n    a:\n        cmd: echo\n", "schema: '2.0'\nstages: {}\n", "schema: '2.0'\n"
                 "stages:\n  a:\n    cmd: echo\nother: 1\n", "schema: '2.0'\nstages:\n  a:\n    cmd: 1\n  a:\n    cmd: 2\n"):
        try:
            expected = dvc_lock._safe_parse(text, "dvc.lock")
        except Exception as e:  # a duplicate key: the whole-file parse's error, not a quiet merge
            expected = type(e)
        try:
            got = dvc_lock.parse_lock(text, "dvc.lock")
        except Exception as e:
            got = type(e)
        assert got == expected, text


def test_parameters_files_are_parsed_once_per_content(tmp_path, monkeypatch):
    from dvc.dependency.param import read_param_file
    from dvc.fs import LocalFileSystem
    from dvc.utils.serialize._yaml import load_yaml

    dvc_lock.install()
    params = tmp_path / "params.yaml"
    params.write_text("profile: mini\nprofiles:\n  mini: {seeds: 3, scale: {width: 0.25}}\n")
    parses, parse = [], dvc_lock._safe_parse
    monkeypatch.setattr(dvc_lock, "_safe_parse", lambda text, path: parses.append(path) or parse(text, path))
    fs = LocalFileSystem()
    first = read_param_file(fs, str(params))
    first["profiles"]["mini"]["scale"]["width"] = 1.0  # what DVC does with a result stays there
    assert read_param_file(fs, str(params), key_paths=["profiles.mini.scale"]) == {"profiles": {"mini": {"scale": {"width": 0.25}}}}
    assert read_param_file(fs, str(params)) == load_yaml(str(params)) and len(parses) == 1
    params.write_text("profile: smoke\n")
    assert read_param_file(fs, str(params)) == {"profile": "smoke"} and len(parses) == 2


def test_other_files_keep_the_round_trip_parser_and_their_comments(tmp_path):
    from dvc import dvcfile

    dvc_lock.install()
    dvc_yaml = tmp_path / "dvc.yaml"
    dvc_yaml.write_text("stages:\n  a:  # why a exists\n    cmd: echo a\n")
    with dvcfile.modify_yaml(dvc_yaml) as data:
        data["stages"]["a"]["cmd"] = "echo b"
    assert dvc_yaml.read_text() == "stages:\n  a:  # why a exists\n    cmd: echo b\n"


def test_make_study_runs_dvc_through_it():
    makefile = (REPO / "Makefile").read_text()
    study = re.search(r"^study: .*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    assert "-m replicate.dvc_lock repro" in study


def test_a_scratch_project_reproduces_through_it(tmp_path, monkeypatch):
    import subprocess
    import sys

    if shutil.which("git") is None:
        return
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], check=True)
    Path("dvc.yaml").write_text("stages:\n  hello:\n    cmd: echo hello > out.txt\n    outs:\n      - out.txt\n")
    done = subprocess.run([sys.executable, "-m", "replicate.dvc_lock", "repro", "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Path("out.txt").read_text() == "hello\n" and "hello:" in Path("dvc.lock").read_text()
    again = subprocess.run([sys.executable, "-m", "replicate.dvc_lock", "status"], capture_output=True, text=True)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_the_benchmark_prints_its_ratios(tmp_path):
    import subprocess
    import sys

    lock = _lock_copy(tmp_path, stages=10)
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_dvc_lock.py"), "--lock", str(lock), "--repeats", "1"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "10 stages (best of 1)" in done.stdout, done.stdout
    assert re.search(r"per stage, ratio [\d.]+x; 10 stages: [-\d.]+ min saved", done.stdout), done.stdout
