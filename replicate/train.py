"""The training engine: SGD over a ClipDataset, one random clip per video per epoch.

Kept small enough to hold in one's head (nanoGPT's spirit). :func:`fit` builds the optimizer,
the data loader and the lr schedule from a :class:`TrainConfig`, optionally resumes from
``out_dir/checkpoint.pt``, then runs epochs of::

    set_epoch -> batches (forward, backward, [drop frozen grads], SGD step, [lr step])
              -> [validate] -> log -> checkpoint

Everything else is a small helper below.

* Device: CUDA when present (cuDNN autotuning), else CPU (deterministic algorithms, fixed
  seeds: the same seed and thread count twice give identical weights, in fp32 and in bf16).
  ``precision``: ``bf16`` autocast (on CUDA, and on CPUs with native bf16 -- AVX512-BF16 / AMX:
  1.8-2.3x faster training steps here -- else fp32 with a warning) or ``fp32``. 3D models and
  clips in channels_last_3d on both.
* Schedules, all with SGD + momentum (optionally Nesterov), weight decay on weights only:
  ``cosine`` (linear warm-up, then cosine to 0; per iteration), ``step`` (warm-up, then the lr
  divided by ``gamma`` every ``step_epochs`` epochs -- tran2018: 0.01, /10 every 10 epochs)
  and ``plateau`` (torch's ReduceLROnPlateau on the validation loss, divided by ``gamma``
  after ``plateau_patience`` validations without improvement; no warm-up).
* Frozen layers: parameters under ``freeze_prefixes`` get no update (no step, no momentum, no
  weight decay) for the first ``freeze_iters`` iterations (mansimov2015: convs frozen for 500).
  Their BatchNorm running statistics still follow the data, as in any train-mode forward.
* Checkpoints every epoch with model, optimizer, scheduler, iteration, history and every
  RNG state, written atomically; the previous epoch's is kept beside it (``checkpoint_prev.pt``).
  ``resume=True`` continues from the last complete epoch and, on CPU, ends with exactly the
  weights of an uninterrupted run. A checkpoint made under another config (epochs included) or
  for another model / data (``fingerprint``) is refused, naming the file and every difference;
  one that cannot be read (truncated, empty) falls back to the previous epoch's, or names the
  files to delete. The shuffle order is a
  function of ``(seed, epoch)`` (a DistributedSampler, also for one process) and the clips of
  a ClipDataset of ``(seed, epoch, index)``, so the epoch number is the sampler position.
* DDP under ``torchrun`` (``WORLD_SIZE`` > 1): NCCL on CUDA, gloo on CPU; ``batch_size`` is
  the global batch, split evenly; rank r trains on every r-th clip of the epoch's
  permutation, so the global batches are those of a one-process run. BatchNorm becomes
  SyncBatchNorm on CUDA (``sync_bn``); gloo cannot sync it, so on CPU each process normalises
  its own share of the batch and results match a one-process run only approximately. Rank 0
  alone validates (and broadcasts the numbers so every rank takes the same plateau decision),
  writes files and shows progress bars.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import pickle
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm  # plain tqdm: tqdm.auto warns on stderr in kernels without ipywidgets (breaks nbval)

from .data.clips import ClipDataset, collate_skip_none
from .errors import UsageError
from .evaluate import PRECISIONS, autocast, default_device, evaluate, move_input, move_model, unwrap

log = logging.getLogger(__name__)

SCHEDULES = ("cosine", "step", "plateau")
CHECKPOINT, PREVIOUS_CHECKPOINT = "checkpoint.pt", "checkpoint_prev.pt"
#: config keys that change how fast a run goes, never what it computes: a resume may differ in them
RESUME_MAY_DIFFER = ("num_workers",)


class CheckpointError(UsageError, RuntimeError):
    """A checkpoint that cannot be resumed: made under other settings, or unreadable."""
# Rank 0 validates alone while the other ranks wait in a collective; a full Kinetics validation
# pass can outlast NCCL's 10-minute default timeout.
DDP_TIMEOUT = timedelta(hours=1)


@dataclass
class TrainConfig:
    """Everything that decides a training run (stored in every checkpoint)."""

    epochs: int = 10
    batch_size: int = 16  # global batch; under DDP each of the W processes takes batch_size / W
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4  # weights only: BatchNorm parameters and biases are not decayed
    schedule: str = "cosine"  # cosine (with linear warm-up) | step | plateau
    warmup_epochs: float = 0.0  # cosine and step (linear, from ~0); must be 0 for plateau. Neither tran2018 nor VMZ warms up
    step_epochs: int = 10  # step schedule: divide by gamma every step_epochs (tran2018: 10)
    gamma: float = 10.0  # step and plateau: the lr divisor
    plateau_patience: int = 2  # plateau: validations without improvement before dividing
    freeze_prefixes: tuple[str, ...] = ()  # module names (e.g. "features") whose parameters ...
    freeze_iters: int = 0  # ... get no update during the first freeze_iters iterations
    val_every: int = 1  # validate every val_every epochs, and after the last one
    sync_bn: bool = True  # DDP on CUDA: SyncBatchNorm (impossible with gloo on CPU; never over sub-batch norms)
    micro_batch: int = 0  # > 0: forward / backward this many clips at a time, one step per batch (gradient
    #                       accumulation: feichtenhofer2016's batches of 128 x 5 chunks x 2 streams at 224 px)
    num_workers: int = 0
    seed: int = 0
    precision: str = "fp32"  # bf16 | fp32: autocast dtype of forward passes (evaluate.effective_precision)


def config_dict(cfg: TrainConfig) -> dict:
    """The config as plain types (json- and ``weights_only``-safe)."""
    return asdict(cfg)


def check_config(cfg: TrainConfig, has_val_set: bool) -> None:
    """Reject settings that cannot work, naming the fix."""
    if cfg.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {cfg.schedule!r}; known: {', '.join(SCHEDULES)}")
    if cfg.schedule == "plateau" and not has_val_set:
        raise ValueError("schedule 'plateau' watches the validation loss: pass val_set to fit")
    if cfg.schedule == "plateau" and cfg.warmup_epochs > 0:
        raise ValueError("schedule 'plateau' starts at cfg.lr and has no warm-up: set warmup_epochs=0")
    if cfg.freeze_iters > 0 and not cfg.freeze_prefixes:
        raise ValueError("freeze_iters > 0 needs freeze_prefixes (module names such as 'features')")
    if cfg.val_every < 1:
        raise ValueError(f"val_every must be >= 1, got {cfg.val_every}")
    if cfg.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {cfg.precision!r}; use one of {', '.join(PRECISIONS)}")


def lr_factor(cfg: TrainConfig, epoch_float: float) -> float:
    """Multiplier of ``cfg.lr`` at a fractional epoch, for the cosine and step schedules."""
    if epoch_float < cfg.warmup_epochs:
        return (epoch_float + 1e-3) / cfg.warmup_epochs
    if cfg.schedule == "cosine":
        p = (epoch_float - cfg.warmup_epochs) / max(1e-9, cfg.epochs - cfg.warmup_epochs)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, p)))
    if cfg.schedule == "step":
        return cfg.gamma ** -(epoch_float // cfg.step_epochs)
    raise ValueError(f"schedule {cfg.schedule!r} has no per-iteration lr factor")


# --------------------------------------------------------------------------- setup


def setup_distributed() -> tuple[int, int]:
    """``(rank, world_size)``; under torchrun (``WORLD_SIZE`` > 1) joins the process group.

    A group the caller already initialised is reused; :func:`fit` never destroys it, so a
    script can call ``fit`` several times and ``dist.destroy_process_group()`` at its end.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo", timeout=DDP_TIMEOUT)
    return dist.get_rank(), dist.get_world_size()


def setup_device(device: str | torch.device | None) -> torch.device:
    """The device to train on, with its speed (CUDA) or reproducibility (CPU) settings."""
    device = torch.device(device) if device is not None else default_device()
    if device.type == "cuda":
        if device.index is None:  # under torchrun, setup_distributed made cuda:LOCAL_RANK current
            device = torch.device("cuda", torch.cuda.current_device())
        torch.backends.cudnn.benchmark = True  # fixed clip shapes: autotuned convs are faster
    else:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.SGD:
    """SGD with momentum (optionally Nesterov); weight decay on weights, not on BN/biases."""
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]  # BatchNorm scales/shifts and biases
    return torch.optim.SGD(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
    )


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, iters_per_epoch: int) -> LRScheduler:
    """Per-iteration LambdaLR (cosine, step) or ReduceLROnPlateau (stepped after validations)."""
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=1.0 / cfg.gamma, patience=cfg.plateau_patience
        )
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda it: lr_factor(cfg, it / iters_per_epoch))


def make_loader(train_set: ClipDataset, cfg: TrainConfig, rank: int, world: int, device: torch.device) -> DataLoader:
    """This process's shuffled share of the training set, in batches of ``batch_size / world``."""
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} (global) must divide evenly over {world} processes")
    batch = cfg.batch_size // world
    # A DistributedSampler even for one process: the permutation depends on (seed, epoch) only,
    # so the epoch is the whole sampler state, and rank r taking every world-th index of the
    # same permutation makes the global batches those of a one-process run.
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed)
    return DataLoader(
        train_set, batch_size=batch, sampler=sampler, drop_last=len(sampler) > batch,
        num_workers=cfg.num_workers, collate_fn=collate_skip_none,
        pin_memory=device.type == "cuda", persistent_workers=cfg.num_workers > 0,
    )


def frozen_params(model: nn.Module, cfg: TrainConfig) -> list[nn.Parameter]:
    """Parameters under ``cfg.freeze_prefixes`` (module-name prefixes), if any are frozen."""
    if cfg.freeze_iters <= 0:
        return []
    params = [
        p for name, p in model.named_parameters()
        if any(name == prefix or name.startswith(prefix + ".") for prefix in cfg.freeze_prefixes)
    ]
    if not params:
        top = [name for name, _ in model.named_children()]
        raise ValueError(f"freeze_prefixes {cfg.freeze_prefixes} match no parameter; top-level modules: {top}")
    return params


def wrap_distributed(model: nn.Module, device: torch.device, cfg: TrainConfig) -> nn.Module:
    """``model`` in DistributedDataParallel, with SyncBatchNorm on CUDA if ``cfg.sync_bn``, unless the model
    normalises over sub-batches on purpose (``sub_batch``: feichtenhofer2016): syncing would undo them."""
    sub_batches = any(getattr(m, "sub_batch", None) for m in model.modules())
    if sub_batches and device.type == "cuda" and cfg.sync_bn:
        log.warning("the model normalises over sub-batches (sub_batch): keeping its BatchNorms, not SyncBatchNorm")
    if device.type == "cuda" and cfg.sync_bn and not sub_batches:
        # in place for the children, so the caller's model object is the one trained
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


# --------------------------------------------------------------------------- RNG and files


def rng_state() -> dict[str, Any]:
    """Every RNG the loop or a user transform may draw from, as types ``weights_only`` loads."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Undo of :func:`rng_state`."""
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def all_rng_states(world: int) -> list[dict[str, Any]]:
    """Every rank's RNG state (rank order), so rank 0's checkpoint can restore all of them."""
    if world == 1:
        return [rng_state()]
    states: list[Any] = [None] * world
    dist.all_gather_object(states, rng_state())
    return states


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    # write then rename: a crash mid-write leaves the previous file, never a truncated one
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def save_torch(obj: Any, path: Path) -> None:
    """``torch.save``, atomically."""
    _replace_atomically(path, lambda tmp: torch.save(obj, tmp))


def save_json(obj: Any, path: Path) -> None:
    """Indented json, atomically."""
    _replace_atomically(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1) + "\n"))


def save_epoch(out_dir: Path, model: nn.Module, state: dict[str, Any]) -> None:
    """checkpoint.pt (the last one kept as checkpoint_prev.pt), history.json and, when validation
    improved clip@1, best.pt."""
    history = state["history"]
    if (out_dir / CHECKPOINT).is_file():
        # a crash from here on leaves the previous epoch's checkpoint, which read_checkpoint finds
        os.replace(out_dir / CHECKPOINT, out_dir / PREVIOUS_CHECKPOINT)
    save_torch(state, out_dir / CHECKPOINT)
    save_json(history, out_dir / "history.json")
    last = history[-1].get("val_clip@1")
    earlier = [h["val_clip@1"] for h in history[:-1] if "val_clip@1" in h]
    if last is not None and all(last > acc for acc in earlier):
        save_torch(unwrap(model).state_dict(), out_dir / "best.pt")


def read_checkpoint(out_dir: Path) -> tuple[dict[str, Any], Path] | None:
    """The newest readable checkpoint in ``out_dir`` and its path (checkpoint.pt, else the previous
    epoch's checkpoint_prev.pt), or None when there is none. One that cannot be read (a disk filled
    mid-write, a copy cut short) is skipped with a warning; when every one present is unreadable,
    :class:`CheckpointError` names the files to delete."""
    paths = [out_dir / name for name in (CHECKPOINT, PREVIOUS_CHECKPOINT) if (out_dir / name).is_file()]
    problems = []
    for path in paths:
        try:
            return torch.load(path, map_location="cpu", weights_only=True), path
        except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:  # truncated zip, 0 bytes, bad pickle
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"{path} ({reason})")
            log.warning("cannot read checkpoint %s (%s)%s", path, reason,
                        "; trying the previous epoch's" if path.name == CHECKPOINT else "")
    if problems:
        raise CheckpointError(f"no readable checkpoint to resume from: {'; '.join(problems)}. "
                              f"Delete {' and '.join(str(p) for p in paths)} to train from the start.")
    return None


def check_resumable(ckpt: dict[str, Any], path: Path, cfg: TrainConfig, fingerprint: dict[str, Any] | None) -> None:
    """Refuse a checkpoint made under another config (``RESUME_MAY_DIFFER`` aside) or another
    ``fingerprint`` (what the caller says identifies the model and data), naming every difference."""
    saved = {**ckpt["config"], **{f"fingerprint.{k}": v for k, v in (ckpt.get("fingerprint") or {}).items()}}
    wanted = {**config_dict(cfg), **{f"fingerprint.{k}": v for k, v in (fingerprint or {}).items()}}
    differ = [f"{k}: {_short(saved.get(k))} in the checkpoint, {_short(wanted.get(k))} now"
              for k in sorted(set(saved) | set(wanted))
              if k not in RESUME_MAY_DIFFER and _plain(saved.get(k)) != _plain(wanted.get(k))]
    if differ:
        raise CheckpointError(f"{path} was made under other settings ({'; '.join(differ)}): resuming it would not "
                              f"continue this run. Delete {path.parent} to train from the start, or restore the settings.")


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))  # tuples and lists alike


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def load_checkpoint(ckpt: dict[str, Any], path: Path, model: nn.Module, opt: torch.optim.Optimizer, sched: LRScheduler,
                    rank: int, world: int) -> tuple[int, int, list]:
    """Restore everything from a checkpoint read by :func:`read_checkpoint`; returns
    ``(epochs_done, iteration, history)``."""
    unwrap(model).load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    if len(ckpt["rng"]) == world:
        set_rng_state(ckpt["rng"][rank])
    else:
        log.warning("checkpoint from %d processes, resuming on %d: RNG streams start afresh", len(ckpt["rng"]), world)
    if rank == 0:
        log.warning("resumed from %s after epoch %d of %d", path, ckpt["epoch"], ckpt["config"]["epochs"])
    return ckpt["epoch"], ckpt["iteration"], ckpt["history"]


# --------------------------------------------------------------------------- the loop


def _loss(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device, precision: str):
    """The batch's mean loss and the scores accuracy is counted on. A model with its own training loss
    (feichtenhofer2016: a loss per stream at every temporal position) gets it through
    ``forward(x, positions=True)``, which DDP wraps like any forward."""
    own_loss = getattr(unwrap(net), "training_loss", None)
    with autocast(device, precision):
        out = net(x, positions=True) if own_loss is not None else net(x)
    return own_loss(out, y) if own_loss is not None else (F.cross_entropy(out.float(), y), out)


def train_step(net: nn.Module, batch: dict, opt: torch.optim.Optimizer, device: torch.device,
               frozen: list[nn.Parameter], precision: str, micro_batch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step; returns the batch's mean loss and number correct (on device, no sync). With
    ``micro_batch`` (< the batch) the gradient is accumulated over micro-batches of that many clips, each
    weighted by its share of the batch (under DDP the gradients are reduced once, after the last)."""
    x, y = move_input(batch["clip"], device), batch["label"].to(device, non_blocking=True)
    if 0 < micro_batch < len(y):
        opt.zero_grad(set_to_none=True)
        parts = list(zip(x.split(micro_batch), y.split(micro_batch)))
        loss, correct = torch.zeros((), device=device), torch.zeros((), dtype=torch.long, device=device)
        for i, (xs, ys) in enumerate(parts):
            last = i == len(parts) - 1
            with net.no_sync() if not last and hasattr(net, "no_sync") else contextlib.nullcontext():
                part_loss, logits = _loss(net, xs, ys, device, precision)
                (part_loss * (len(ys) / len(y))).backward()
            loss += part_loss.detach() * (len(ys) / len(y))
            correct += (logits.argmax(1) == ys).sum()
    else:  # one pass (the arithmetic of every run before micro-batches existed, kept exactly)
        loss, logits = _loss(net, x, y, device, precision)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        loss, correct = loss.detach(), (logits.argmax(1) == y).sum()
    for p in frozen:
        # SGD skips parameters without a gradient: no step, no momentum, no weight decay.
        # (requires_grad=False would not do under DDP, whose reducer is fixed at wrap time.)
        p.grad = None
    opt.step()
    return loss, correct


def train_epoch(net: nn.Module, bar: tqdm, opt: torch.optim.Optimizer, sched: LRScheduler, cfg: TrainConfig,
                device: torch.device, iteration: int, frozen: list[nn.Parameter]) -> tuple[torch.Tensor, float, int]:
    """One pass over the loader inside ``bar``; returns ``(stats [loss sum, correct, clips], last lr, iteration)``."""
    net.train()
    stats = torch.zeros(3, dtype=torch.float64, device=device)
    lr = opt.param_groups[0]["lr"]
    for batch in bar:
        lr = opt.param_groups[0]["lr"]
        loss, correct = train_step(net, batch, opt, device, frozen if iteration < cfg.freeze_iters else [], cfg.precision,
                                   cfg.micro_batch)
        if cfg.schedule != "plateau":
            sched.step()
        iteration += 1
        n = len(batch["label"])
        stats[0] += loss * n
        stats[1] += correct
        stats[2] += n
        if not bar.disable:  # .item() waits for the GPU: only when someone watches
            bar.set_postfix(loss=f"{(stats[0] / stats[2]).item():.3f}")
    return stats, lr, iteration


def validate(model: nn.Module, val_set: ClipDataset, cfg: TrainConfig, batch: int, device: torch.device,
             progress: bool, rank: int, world: int) -> dict[str, float]:
    """Validation loss and accuracy, computed on rank 0 and broadcast to every rank."""
    metrics = None
    if rank == 0:
        m = evaluate(model, val_set, batch_size=batch, num_workers=cfg.num_workers, device=device, progress=progress,
                     precision=cfg.precision)
        metrics = {"val_loss": m["loss"], "val_clip@1": m["clip@1"], "val_video@1": m["video@1"]}
    if world > 1:
        box = [metrics]
        dist.broadcast_object_list(box, src=0)
        metrics = box[0]
    return metrics


def fit(model: nn.Module, train_set: ClipDataset, cfg: TrainConfig, device: str | torch.device | None = None,
        progress: bool = True, *, val_set: ClipDataset | None = None, out_dir: str | os.PathLike | None = None,
        resume: bool = False, fingerprint: dict[str, Any] | None = None) -> list[dict]:
    """Train ``model`` in place; returns the per-epoch history (also in ``out_dir/history.json``).

    ``device`` defaults to CUDA when present, else CPU. ``val_set`` (test-mode ClipDataset) is
    evaluated every ``cfg.val_every`` epochs and after the last. ``out_dir`` receives
    ``checkpoint.pt`` and ``history.json`` every epoch, ``best.pt`` (best val clip@1) and
    ``final.pt`` (model state_dict); with ``resume=True`` training continues after the last
    complete epoch of ``out_dir/checkpoint.pt`` (a fresh start when there is none), refusing
    one made under another config or ``fingerprint`` (json-able; stored in every checkpoint: what
    identifies the model and data beyond ``cfg``). Under torchrun every rank calls ``fit`` and
    gets the same history; only rank 0 writes files.
    """
    check_config(cfg, val_set is not None)
    if resume and out_dir is None:
        raise ValueError("resume=True needs the out_dir holding checkpoint.pt")
    rank, world = setup_distributed()
    device = setup_device(device)
    seed_everything(cfg.seed + rank)  # distinct dropout masks per rank
    move_model(model, device)
    frozen = frozen_params(model, cfg)
    opt = make_optimizer(model, cfg)
    loader = make_loader(train_set, cfg, rank, world, device)
    sched = make_scheduler(opt, cfg, len(loader))
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    start, iteration, history = 0, 0, []
    found = read_checkpoint(out) if resume else None
    if found is not None:
        ckpt, path = found
        check_resumable(ckpt, path, cfg, fingerprint)
        start, iteration, history = load_checkpoint(ckpt, path, model, opt, sched, rank, world)
    net = wrap_distributed(model, device, cfg) if world > 1 else model
    show = progress and rank == 0

    for epoch in range(start, cfg.epochs):
        t0 = time.time()
        loader.sampler.set_epoch(epoch)
        train_set.set_epoch(epoch)
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, disable=None if show else True)
        stats, lr, iteration = train_epoch(net, bar, opt, sched, cfg, device, iteration, frozen)
        if world > 1:
            dist.all_reduce(stats)  # global loss/accuracy: every rank logs the same numbers
        train_seconds = time.time() - t0
        loss_sum, correct, seen = stats.tolist()
        record = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen, "lr": lr}
        if val_set is not None and ((epoch + 1) % cfg.val_every == 0 or epoch + 1 == cfg.epochs):
            record.update(validate(model, val_set, cfg, loader.batch_size, device, show, rank, world))
            if cfg.schedule == "plateau":
                sched.step(record["val_loss"])
        record["seconds"] = time.time() - t0
        record["clips_per_s"] = seen / train_seconds
        history.append(record)
        if rank == 0:
            log.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in record.items()})
        if out is not None:
            rng = all_rng_states(world)  # a collective: every rank takes part
            if rank == 0:
                save_epoch(out, model, {
                    "model": unwrap(model).state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                    "epoch": epoch + 1, "iteration": iteration, "history": history, "rng": rng,
                    "config": config_dict(cfg), "fingerprint": fingerprint or {},
                })
    if out is not None and rank == 0:
        save_torch(unwrap(model).state_dict(), out / "final.pt")
    return history
