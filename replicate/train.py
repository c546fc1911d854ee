"""The training loop: SGD over a ClipDataset, one random clip per video per epoch.

Kept small enough to hold in one's head (nanoGPT's spirit): build the optimizer and schedule
from a config, then epochs of (set_epoch -> batches -> step), logging loss and accuracy.
Checkpoint/resume, mixed precision and DDP are added in the engine issue on top of this.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from .data.clips import ClipDataset, collate_skip_none


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 16
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "cosine"  # cosine (with linear warm-up) | step
    warmup_epochs: float = 1.0
    step_epochs: int = 10  # step schedule: divide by 10 every step_epochs (tran2018: 10)
    num_workers: int = 0
    seed: int = 0


def lr_at(cfg: TrainConfig, epoch_float: float) -> float:
    if epoch_float < cfg.warmup_epochs:
        return cfg.lr * (epoch_float + 1e-3) / cfg.warmup_epochs
    if cfg.schedule == "cosine":
        p = (epoch_float - cfg.warmup_epochs) / max(1e-9, cfg.epochs - cfg.warmup_epochs)
        return cfg.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))
    if cfg.schedule == "step":
        return cfg.lr * 0.1 ** int(epoch_float // cfg.step_epochs)
    raise ValueError(f"unknown schedule {cfg.schedule!r}; known: cosine, step")


def fit(model: torch.nn.Module, train_set: ClipDataset, cfg: TrainConfig, device: str | torch.device = "cpu",
        progress: bool = True) -> list[dict]:
    """Train ``model`` in place; returns the per-epoch log (loss, accuracy, lr, seconds)."""
    from tqdm.auto import tqdm

    torch.manual_seed(cfg.seed)
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]  # no weight decay on BN and biases
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    gen = torch.Generator().manual_seed(cfg.seed)
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, generator=gen, drop_last=len(train_set) > cfg.batch_size,
                        num_workers=cfg.num_workers, collate_fn=collate_skip_none, persistent_workers=cfg.num_workers > 0)
    history = []
    for epoch in range(cfg.epochs):
        train_set.set_epoch(epoch)
        model.train()
        t0, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False, disable=not progress)
        for i, batch in enumerate(bar):
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, epoch + i / len(loader))
            x, y = batch["clip"].to(device), batch["label"].to(device)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                        "lr": opt.param_groups[0]["lr"], "seconds": time.time() - t0})
    return history


def config_dict(cfg: TrainConfig) -> dict:
    return asdict(cfg)
