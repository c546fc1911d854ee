"""Bad input at every command line: one line, ``error: ...``, exit code 2, no traceback, nothing written.

Each case runs the real command in a subprocess, as a user would, from a scratch folder where
it would write, so "nothing written" is checked too.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from replicate.errors import BadValueError, UnknownNameError
from replicate.models import create

REPO = Path(__file__).resolve().parent.parent

CASES = {
    "unknown paper": (["-m", "replicate.runs", "no_such_paper", "r3d_18"], "unknown paper 'no_such_paper'"),
    "unknown run": (["-m", "replicate.runs", "tran2018", "no_such_run"], "tran2018 has no run 'no_such_run'; runs: r2d_18"),
    "unknown profile (runs)": (["-m", "replicate.runs", "tran2018", "r3d_18", "--profile", "huge"],
                               "unknown profile 'huge'; params.yaml defines: smoke, mini, paper"),
    "unknown profile (build)": (["-m", "replicate.data.build", "--profile", "huge"], "unknown profile 'huge'"),
    "unknown flow role": (["-m", "replicate.data.flow", "--role", "imagenet", "--profile", "mini"],
                          "unknown flow role 'imagenet'; roles with optical flow: ucf101, hmdb51, kinetics, sports1m"),
    "missing flow videos": (["-m", "replicate.data.flow", "--role", "kinetics", "--profile", "paper"],
                            "set real_data.kinetics.root in params.yaml"),
    "bench: missing videos": (["bench/bench_loader.py", "--videos", "no/such/folder"], "--videos no/such/folder is not a folder"),
    "bench: missing lock": (["bench/bench_dvc_lock.py", "--lock", "no/dvc.lock"], "--lock no/dvc.lock is not a file"),
    "bench: bad gpus": (["bench/gpu_check.py", "--gpus", "0", "--cpu"], "--gpus must be >= 1, got 0"),
    "tools: missing results": (["tools/compare_verdicts.py", "no/a", "no/b"], "no *_claims.csv in no/a"),
}


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    script = args[0]
    if not script.startswith("-"):
        args = [str(REPO / script), *args[1:]]
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_line_and_exit_2(case, tmp_path):
    args, expected = CASES[case]
    if args[0] == "-m" and args[1] in ("replicate.runs", "replicate.data.flow"):
        cwd = REPO  # they read params.yaml from the repository; they must write nothing there either
        before = sorted(p.name for p in (REPO / "runs").glob("*")) if (REPO / "runs").is_dir() else []
    else:
        cwd, before = tmp_path, []
    done = _run(args, cwd)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    if cwd == tmp_path:
        assert not any(tmp_path.iterdir()) or [p.name for p in tmp_path.iterdir()] == [".cache"]
    else:
        after = sorted(p.name for p in (REPO / "runs").glob("*")) if (REPO / "runs").is_dir() else []
        assert after == before


def test_create_refuses_fewer_than_one_class():
    for bad in (0, -3, 2.5, True):
        with pytest.raises(BadValueError, match="num_classes must be a whole number >= 1"):
            create("r3d_18", num_classes=bad)
    with pytest.raises(ValueError):  # and stays a ValueError for callers that catch that
        create("r3d_18", num_classes=0)
    with pytest.raises(UnknownNameError, match="did you mean r3d_18"):
        create("r3d18")
