"""torchvision's public Kinetics-400 weights for r3d_18, mc3_18 and r2plus1d_18, loaded into our models.

torchvision publishes one checkpoint per model (``torchvision.models.video.*_Weights.KINETICS400_V1``).
Their module names are ours (see ``video_resnet``), so a checkpoint loads with ``load_state_dict``:
``r3d_18`` and ``mc3_18`` as they are, ``r2plus1d_18`` into a model built with
``torchvision_compat=True`` (torchvision's per-block (2+1)D widths, 31.5M parameters instead of the
paper's 33.3M). These are the weights of a model trained by torchvision on real Kinetics-400
(8x112x112 clips, 400 classes), not a reproduction of the paper's own training.

Nothing is downloaded: machines running the study may be offline. The file is looked up where
``torch.hub`` would have put it (``$TORCH_HOME/hub/checkpoints/<file>``, or ``hub_dir``); when it is
not there the error gives the URL and the exact path to put it at.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from .registry import create

#: our model name -> the torchvision weights enum that describes its Kinetics-400 checkpoint
TORCHVISION_KINETICS = {
    "r3d_18": "R3D_18_Weights",
    "mc3_18": "MC3_18_Weights",
    "r2plus1d_18": "R2Plus1D_18_Weights",
}
KINETICS_CLASSES = 400


def _weights_enum(name: str):
    import torchvision.models.video as tv_video

    if name not in TORCHVISION_KINETICS:
        raise KeyError(f"torchvision publishes Kinetics-400 weights only for {', '.join(TORCHVISION_KINETICS)}; got {name!r}")
    return getattr(tv_video, TORCHVISION_KINETICS[name]).KINETICS400_V1


def weights_url(name: str) -> str:
    return _weights_enum(name).url


def weights_path(name: str, hub_dir: os.PathLike | str | None = None) -> Path:
    """Where the checkpoint of ``name`` is expected: ``<hub_dir>/checkpoints/<file name of the URL>``."""
    hub = Path(hub_dir) if hub_dir is not None else Path(torch.hub.get_dir())
    return hub / "checkpoints" / Path(weights_url(name)).name


def load_torchvision_kinetics(name: str, num_classes: int = KINETICS_CLASSES, hub_dir: os.PathLike | str | None = None,
                              **kwargs) -> nn.Module:
    """Our ``name`` model with torchvision's Kinetics-400 weights, at full width.

    With ``num_classes`` other than 400 (fine-tuning on UCF101 / HMDB51) every weight but the
    classifier is loaded and ``fc`` is a fresh layer of ``num_classes`` outputs.
    Raises ``FileNotFoundError`` saying where to put the file when it is not in the hub cache.
    """
    path = weights_path(name, hub_dir)
    if not path.is_file():
        raise FileNotFoundError(
            f"torchvision's Kinetics-400 weights for {name} are not at {path}. This machine does not download: "
            f"fetch {weights_url(name)} elsewhere and copy it to exactly that path (or set TORCH_HOME / pass hub_dir)."
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    if name == "r2plus1d_18":
        kwargs.setdefault("torchvision_compat", True)
    model = create(name, num_classes=KINETICS_CLASSES, **kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise RuntimeError(f"{path} does not fit our {name} ({kwargs or 'default options'}): {str(exc).splitlines()[0]}") from None
    if num_classes != KINETICS_CLASSES:
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        nn.init.normal_(model.fc.weight, 0, 0.01)
        nn.init.zeros_(model.fc.bias)
    return model
