"""replicate/dvc_lock.py: DVC's lock-file update with the safe loader writes dvc.lock byte for byte as DVC does."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from replicate import dvc_lock

REPO = Path(__file__).resolve().parent.parent


def _lock_copy(folder: Path, stages: int = 40) -> Path:
    """A dvc.lock in DVC's own format: the committed lock's first ``stages`` stages, dumped by DVC."""
    from dvc.utils.serialize._yaml import dump_yaml, parse_yaml

    full = parse_yaml((REPO / "dvc.lock").read_text(), "dvc.lock")
    part = {"schema": full["schema"], "stages": dict(list(full["stages"].items())[:stages])}
    folder.mkdir(parents=True, exist_ok=True)
    dump_yaml(folder / "dvc.lock", part)
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
    assert "10 stages" in done.stdout and re.search(r"parse .* ratio [\d.]+x\n", done.stdout), done.stdout
    assert re.search(r"per stage, ratio [\d.]+x; 10 stages: [-\d.]+ min saved", done.stdout), done.stdout
