"""The training engine on tiny real mp4s: learning, determinism, exact resume, schedules,
frozen layers, logs, checkpoints and a 2-process torchrun run.

The data (``_ddp_worker.make_videos``): 12 training and 6 validation videos of 8 frames,
3 classes told apart by their dominant colour; clips are 4x16x16 and the model is a width-4
ProbeNet, so a whole epoch takes a fraction of a second on one CPU core.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from _ddp_worker import DDP_CONFIG, datasets, run, tiny_model
from replicate.evaluate import cpu_has_bf16
from replicate.train import CheckpointError, TrainConfig, fit, lr_factor

WORKER = Path(__file__).with_name("_ddp_worker.py")
TIMING_KEYS = ("seconds", "clips_per_s")
COSINE = TrainConfig(epochs=4, batch_size=4, lr=0.05, warmup_epochs=0.5, seed=0)
STEP = TrainConfig(epochs=3, batch_size=4, lr=0.01, schedule="step", step_epochs=1, warmup_epochs=0, val_every=2,
                   seed=0)


class Interrupted(Exception):
    """Stands in for a crash or a killed job in the middle of training."""


def _untimed(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in record.items() if k not in TIMING_KEYS} for record in history]


def _assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            _assert_same_tensors(a[key], b[key])
        elif isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return datasets(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="module")
def cosine_run(data, tmp_path_factory):
    """An uninterrupted 4-epoch cosine run with validation and files: (history, weights, out_dir)."""
    train, val = data
    out = tmp_path_factory.mktemp("cosine")
    model = tiny_model()
    history = fit(model, train, COSINE, progress=False, val_set=val, out_dir=out)
    return history, model.state_dict(), out


@pytest.fixture(scope="module")
def step_run(data, tmp_path_factory):
    """An uninterrupted 3-epoch run of the step schedule (lr 0.01, /10 every epoch), validated
    after epochs 2 and 3."""
    train, val = data
    out = tmp_path_factory.mktemp("step")
    model = tiny_model()
    history = fit(model, train, STEP, progress=False, val_set=val, out_dir=out)
    return history, model.state_dict(), out


def test_lr_factor_warmup_cosine_and_step():
    cosine = TrainConfig(epochs=10, warmup_epochs=2, schedule="cosine")
    warm = [lr_factor(cosine, e) for e in (0.0, 0.5, 1.0, 1.5)]
    assert warm == sorted(warm) and warm[0] < 0.01 and warm[-1] < 1
    assert lr_factor(cosine, 2.0) == pytest.approx(1.0)
    assert lr_factor(cosine, 6.0) == pytest.approx(0.5)
    assert lr_factor(cosine, 10.0) == pytest.approx(0.0, abs=1e-12)
    # tran2018: 0.01, divided by 10 every 10 epochs
    step = TrainConfig(lr=0.01, schedule="step", step_epochs=10, warmup_epochs=0)
    lrs = [step.lr * lr_factor(step, e) for e in (0, 9.99, 10, 19.5, 20)]
    assert lrs == pytest.approx([0.01, 0.01, 1e-3, 1e-3, 1e-4])


def test_loss_decreases_and_beats_chance(cosine_run):
    history, _, _ = cosine_run
    assert history[-1]["train_loss"] < 0.75 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_clip@1"] > 1 / 3 + 0.2  # chance is 1/3


def test_same_seed_gives_identical_history_and_weights(data, cosine_run):
    history, weights, _ = cosine_run
    train, val = data
    model = tiny_model()
    again = fit(model, train, COSINE, progress=False, val_set=val)
    assert _untimed(again) == _untimed(history)
    _assert_same_tensors(model.state_dict(), weights)


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16 (AVX512-BF16 / AMX)")
def test_bf16_same_seed_gives_identical_metrics_and_differs_from_fp32(data, cosine_run):
    train, val = data
    runs_bf16 = []
    for _ in range(2):
        model = tiny_model()
        runs_bf16.append((_untimed(fit(model, train, replace(COSINE, precision="bf16"), progress=False, val_set=val)),
                          model.state_dict()))
    assert runs_bf16[0][0] == runs_bf16[1][0]
    _assert_same_tensors(runs_bf16[0][1], runs_bf16[1][1])
    assert runs_bf16[0][0] != _untimed(cosine_run[0])  # bf16 really ran (fp32 gives other numbers)


def test_bf16_falls_back_to_fp32_with_one_warning_without_native_bf16(monkeypatch, caplog):
    from replicate import evaluate

    monkeypatch.setattr(evaluate, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(evaluate, "_warned_fallback", False)
    cpu = torch.device("cpu")
    with caplog.at_level("WARNING", logger="replicate.evaluate"):
        assert evaluate.effective_precision("bf16", cpu) == "fp32"
        assert evaluate.effective_precision("bf16", cpu) == "fp32"
        with evaluate.autocast(cpu, "bf16"):
            assert not torch.is_autocast_enabled("cpu")
    assert sum("no native bf16" in r.message for r in caplog.records) == 1
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        evaluate.effective_precision("fp16", cpu)
    with pytest.raises(ValueError, match="unknown precision"):
        fit(tiny_model(), None, replace(COSINE, precision="half"))


def test_validation_does_not_change_training(data, cosine_run):
    history, weights, _ = cosine_run
    model = tiny_model()
    without_val = fit(model, data[0], COSINE, progress=False)
    assert [r["train_loss"] for r in without_val] == [r["train_loss"] for r in history]
    _assert_same_tensors(model.state_dict(), weights)


def test_resume_refuses_a_checkpoint_made_under_other_settings(data, tmp_path):
    """A longer (or shorter) run's checkpoint is not silently "resumed": the file and each difference are named."""
    train, val = data
    fit(tiny_model(), train, replace(STEP, epochs=2), progress=False, val_set=val, out_dir=tmp_path)
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt was made under other settings \(epochs: 2 in the checkpoint, 3 now\)"):
        fit(tiny_model(), train, STEP, progress=False, val_set=val, out_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match=r"fingerprint\.data: null in the checkpoint, \"other\" now"):
        fit(tiny_model(), train, replace(STEP, epochs=2), progress=False, val_set=val, out_dir=tmp_path, resume=True,
            fingerprint={"data": "other"})
    # what only changes speed may differ
    fit(tiny_model(), train, replace(STEP, epochs=2, num_workers=1), progress=False, val_set=val, out_dir=tmp_path, resume=True)


def _crash_before_epoch(n: int, data, out_dir, monkeypatch) -> None:
    """Train COSINE into ``out_dir`` and crash as epoch index ``n`` starts (its checkpoints stay)."""
    train, val = data
    set_epoch = train.set_epoch

    def crash(epoch: int) -> None:
        if epoch == n:
            raise Interrupted
        set_epoch(epoch)

    monkeypatch.setattr(train, "set_epoch", crash)
    with pytest.raises(Interrupted):
        fit(tiny_model(), train, COSINE, progress=False, val_set=val, out_dir=out_dir)
    monkeypatch.undo()


def test_resume_after_interruption_is_exact(data, cosine_run, tmp_path, monkeypatch):
    history, weights, _ = cosine_run
    train, val = data
    _crash_before_epoch(2, data, tmp_path, monkeypatch)
    assert _load(tmp_path / "checkpoint.pt")["epoch"] == 2
    assert _load(tmp_path / "checkpoint_prev.pt")["epoch"] == 1
    model = tiny_model()
    resumed = fit(model, train, COSINE, progress=False, val_set=val, out_dir=tmp_path, resume=True)
    assert _untimed(resumed) == _untimed(history)
    _assert_same_tensors(model.state_dict(), weights)


@pytest.mark.parametrize("damage", ["truncated", "empty"])
def test_unreadable_checkpoint_falls_back_to_the_previous_epoch(data, cosine_run, tmp_path, monkeypatch, caplog, damage):
    history, weights, _ = cosine_run
    train, val = data
    _crash_before_epoch(3, data, tmp_path, monkeypatch)
    last = tmp_path / "checkpoint.pt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2] if damage == "truncated" else b"")
    model = tiny_model()
    with caplog.at_level("WARNING", logger="replicate.train"):
        resumed = fit(model, train, COSINE, progress=False, val_set=val, out_dir=tmp_path, resume=True)
    assert "trying the previous epoch's" in caplog.text
    assert "resumed from " + str(tmp_path / "checkpoint_prev.pt") + " after epoch 2 of 4" in caplog.text
    assert _untimed(resumed) == _untimed(history)
    _assert_same_tensors(model.state_dict(), weights)


def test_no_readable_checkpoint_names_the_files_to_delete(data, tmp_path):
    train, _ = data
    for name in ("checkpoint.pt", "checkpoint_prev.pt"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"no readable checkpoint.*Delete .*checkpoint\.pt and .*checkpoint_prev\.pt"):
        fit(tiny_model(), train, COSINE, progress=False, out_dir=tmp_path, resume=True)


def test_step_schedule_lr_values_and_val_every(step_run):
    history, _, _ = step_run
    assert [record["lr"] for record in history] == pytest.approx([0.01, 1e-3, 1e-4])
    assert ["val_loss" in record for record in history] == [False, True, True]  # every 2nd and the last


def test_plateau_divides_lr_when_val_loss_stops_improving(data):
    train, val = data
    cfg = TrainConfig(epochs=3, batch_size=4, lr=1e-3, momentum=0.0, nesterov=False, schedule="plateau",
                      warmup_epochs=0, plateau_patience=0, seed=0)
    # with lr this small the BatchNorm statistics' drift makes the val loss creep up
    history = fit(tiny_model(dropout=False), train, cfg, progress=False, val_set=val)
    # ReduceLROnPlateau's rule ("min" mode, relative threshold 1e-4, patience 0) on the logged losses
    best = math.inf
    for this, following in zip(history, history[1:]):
        better = this["val_loss"] < best * (1 - 1e-4)
        best = this["val_loss"] if better else best
        assert following["lr"] == pytest.approx(this["lr"] if better else this["lr"] / 10)
    assert history[-1]["lr"] < history[0]["lr"]


def test_plateau_needs_a_val_set_and_no_warmup(data):
    train, val = data
    with pytest.raises(ValueError, match="val_set"):
        fit(tiny_model(), train, TrainConfig(schedule="plateau", warmup_epochs=0), progress=False)
    with pytest.raises(ValueError, match="warmup_epochs=0"):
        fit(tiny_model(), train, TrainConfig(schedule="plateau", warmup_epochs=1), progress=False, val_set=val)


def test_frozen_prefixes_stay_put_for_freeze_iters(data, tmp_path):
    train, _ = data
    # 3 iterations per epoch: frozen through epoch 1 and the first iteration of epoch 2;
    # strong momentum and weight decay would move the convs if they reached them
    cfg = TrainConfig(epochs=2, batch_size=4, lr=0.05, weight_decay=0.1, schedule="step", warmup_epochs=0,
                      freeze_prefixes=("features",), freeze_iters=4, seed=0)
    model = tiny_model()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    fit(model, train, cfg, progress=False, out_dir=tmp_path)
    after_one = _load(tmp_path / "checkpoint_prev.pt")["model"]  # the epoch-1 checkpoint
    assert all(torch.equal(after_one[name], before[name]) for name in before if name.startswith("features."))
    assert not torch.equal(after_one["fc.weight"], before["fc.weight"])
    after_two = dict(model.named_parameters())
    assert all(not torch.equal(after_two[name], before[name]) for name in before if name.endswith(".weight"))
    with pytest.raises(ValueError, match="match no parameter"):
        fit(tiny_model(), train, TrainConfig(freeze_prefixes=("backbone",), freeze_iters=1), progress=False)


def test_history_json(cosine_run):
    history, _, out = cosine_run
    logged = json.loads((out / "history.json").read_text())
    assert logged == history
    assert [record["epoch"] for record in logged] == [1, 2, 3, 4]
    for record in logged:
        assert {"train_loss", "train_acc", "lr", "val_loss", "val_clip@1", "val_video@1", *TIMING_KEYS} <= record.keys()
        assert record["clips_per_s"] > 0 and 0 <= record["train_acc"] <= 1


def test_checkpoint_and_weights_load_with_weights_only(cosine_run):
    _, weights, out = cosine_run
    checkpoint = _load(out / "checkpoint.pt")
    assert {"model", "optimizer", "scheduler", "epoch", "iteration", "history", "rng", "config"} <= checkpoint.keys()
    assert checkpoint["epoch"] == 4 and checkpoint["iteration"] == 12
    assert {"python", "numpy", "torch", "cuda"} <= checkpoint["rng"][0].keys()
    _assert_same_tensors(checkpoint["model"], weights)
    _assert_same_tensors(_load(out / "final.pt"), weights)
    model = tiny_model()
    model.load_state_dict(_load(out / "best.pt"))
    assert not list(out.glob("*.tmp"))


@pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()) or importlib.util.find_spec("torch.distributed.run") is None,
    reason="torchrun / gloo not available",
)
def test_torchrun_two_processes_match_one(tmp_path):
    """2 processes x 2 clips (gloo, CPU) against 1 process x 4 clips, same global batches.

    GroupNorm model: equal up to float rounding (measured: losses 1e-7, weights 1e-6 apart).
    BatchNorm model: each process normalises over its 2 clips (no SyncBatchNorm on gloo), so
    the runs drift apart (measured after 9 iterations: train and val loss 0.08 apart); only
    that regime is checked.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(WORKER), str(tmp_path / "videos"), str(tmp_path / "ddp")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert two["world_size"] == 2
    one = run(tmp_path / "videos" / "rank0", tmp_path / "one")  # the files rank 0 wrote

    for key in ("train_loss", "val_loss"):
        assert two["group"][key] == pytest.approx(one["group"][key], abs=1e-5), key
    for key in ("epoch", "lr", "train_acc", "val_clip@1", "val_video@1"):
        assert two["group"][key] == pytest.approx(one["group"][key], abs=1e-9), key
    weights_one, weights_two = (_load(tmp_path / name / "group" / "final.pt") for name in ("one", "ddp"))
    for name, tensor in weights_one.items():
        assert torch.allclose(weights_two[name], tensor, atol=1e-5), name

    assert two["batch"]["lr"] == pytest.approx(one["batch"]["lr"])
    for key in ("train_loss", "val_loss"):
        assert abs(two["batch"][key] - one["batch"][key]) < 0.25, key
    assert len(json.loads((tmp_path / "ddp" / "batch" / "history.json").read_text())) == DDP_CONFIG.epochs
