"""A ``dvc repro`` killed in the middle of a train stage resumes that run from its last epoch.

DVC deletes a stage's outputs before it runs the stage, so checkpoints live outside them
(``params.yaml: checkpoint_dir``; ``replicate.runs``). This kills a real ``dvc repro`` (SIGKILL
to its whole process group, as a crash or an OOM kill would) once the run has checkpointed two
of its six epochs, runs it again, and checks the second run resumed and finished the same run.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from realformat import dvc, project

RUN, EPOCHS = "r2d_18", 6


def test_killed_dvc_repro_resumes_from_the_last_epoch(tmp_path):
    proj = project(tmp_path / "project")
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["profile"] = "smoke"
    params["profiles"]["smoke"]["seeds"] = 1
    params["profiles"]["smoke"]["tran2018"]["epochs"] = EPOCHS
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stage = f"train_tran2018@{RUN}"
    assert dvc(proj, "repro", "data").returncode == 0  # the data first: only training is killed below

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    first = subprocess.Popen([sys.executable, "-m", "dvc", "repro", stage], cwd=proj, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = proj / "checkpoints/smoke/tran2018" / RUN
    deadline = time.time() + 600
    while time.time() < deadline and first.poll() is None:
        histories = list(work.glob("*/seed0/history.json"))
        try:
            if histories and len(json.loads(histories[0].read_text())) >= 2:
                break
        except ValueError:  # read mid-replace
            pass
        time.sleep(0.05)
    assert first.poll() is None, "the stage ended before it could be killed"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    import torch

    # the kill may land between save_epoch's two renames: then only checkpoint_prev.pt is there
    done_epochs = max(torch.load(p, weights_only=True)["epoch"] for p in work.glob("*/seed0/checkpoint*.pt"))
    assert 2 <= done_epochs < EPOCHS

    second = dvc(proj, "repro", stage, timeout=900)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert re.search(rf"resumed from \S+/checkpoint(_prev)?\.pt after epoch {done_epochs} of {EPOCHS}", second.stdout + second.stderr)
    history = json.loads((proj / "runs/smoke/tran2018" / RUN / "seed0/history.json").read_text())
    assert [h["epoch"] for h in history] == list(range(1, EPOCHS + 1))
    metrics = json.loads((proj / "runs/smoke/tran2018" / RUN / "seed0/metrics.json").read_text())
    assert len(metrics["history"]) == EPOCHS and metrics["settings"]["epochs"] == EPOCHS
    assert not work.exists()  # the finished run's checkpoints are gone
    status = dvc(proj, "status", stage)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout
