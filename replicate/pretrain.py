"""Image pretraining: a 2D network trained on the ``images`` role, for the papers that start from one.

mansimov2015 inflates an ImageNet network into 3D; ST-ResNet starts from an ImageNet ResNet-50;
T3D and STC distil a 2D teacher into a 3D student. Each such network is an entry of
``replicate/image_pretraining.yaml`` (its model and ImageNet recipe), trained once per profile by
the DVC stage ``pretrain_images@<name>`` and read by every run whose spec says
``init_from: image:<name>`` (:func:`load_pretrained`).

* ``smoke`` / ``mini``: trained on the image stand-in (``data/<profile>/images``, 16 shape
  classes), scaled like the paper that uses it (``params.yaml: profiles.<profile>.image_pretraining``:
  its ``scale`` and per-model overrides; the width must be the consuming runs' width).
* ``paper``: trained on the user's ImageNet (``real_data.images.train`` / ``.val``), or, when
  ``params.yaml: pretrained_weights.<name>`` names a file, that file's weights are checked against
  the network (every tensor, at full width and 1000 classes) and used instead of training: the 2014
  weights of mansimov2015's net are not downloadable, so a user who has ImageNet weights of this
  network puts them there.

Outputs (``runs/<profile>/image_pretraining/<name>/``): ``final.pt`` (the state dict),
``metrics.json`` (top-1 / top-5 on the validation images, settings, history, environment, or the
file's path and hash) and ``history.json``. Training resumes from ``checkpoints/`` like a run.

    python -m replicate.pretrain mansimov_2d --profile mini   # what the DVC stage calls
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

import yaml

from . import config
from .errors import BadValueError, MissingInputError, UnknownNameError, cli

SPEC_FILE = Path(__file__).resolve().parent / "image_pretraining.yaml"
#: what a spec's ``init_from`` starts with to name an image-pretrained network
IMAGE_SOURCE = "image:"
PAPER_CLASSES = 1000  # ImageNet


def load_spec() -> dict:
    return yaml.safe_load(SPEC_FILE.read_text())


def names() -> list[str]:
    return list(load_spec()["models"])


def pretrain_settings(name: str, profile: str | None = None, params: dict | None = None) -> dict:
    """The full configuration of pretraining ``name`` at ``profile``: defaults -> the model's entry ->
    the profile's scale and overrides (``profiles.<profile>.image_pretraining``)."""
    spec = load_spec()
    if name not in spec["models"]:
        raise UnknownNameError(f"no image-pretrained network {name!r}; known: {', '.join(spec['models'])} "
                               f"({SPEC_FILE.name})")
    params = params or config.load_params()
    profile = profile or params["profile"]
    prof = config.profile_params(params, profile)
    over = dict(prof.get("image_pretraining") or {})
    model_over = dict((over.pop("models", None) or {}).get(name) or {})
    scale = {"width": 1.0, "space": 1.0, **(prof.get("scale") or {}), **over.pop("scale", {}), **model_over.pop("scale", {})}
    # an entry's ``code`` names the file that defines its network, for its DVC stage's deps: not a setting
    s = {**spec["settings"], **{k: v for k, v in spec["models"][name].items() if k != "code"}}
    s["width"] = scale["width"]
    s["crop"] = round(s["crop"] * scale["space"])
    s["resize"] = round(s["resize"] * scale["space"])
    s["precision"] = prof.get("precision", "fp32")
    s.update(over)
    s.update(model_over)
    s.update({"name": name, "profile": profile, "seed": params.get("seed", 0)})
    return s


def out_dir(name: str, profile: str) -> Path:
    return config.REPO_ROOT / "runs" / profile / "image_pretraining" / name


def _weights_file(name: str, profile: str, params: dict) -> Path | None:
    """The user's weights for ``name`` (``params.yaml: pretrained_weights.<name>``), used at ``paper`` only."""
    path = (params.get("pretrained_weights") or {}).get(name)
    if profile in config.SYNTHETIC_PROFILES or not path:
        return None
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingInputError(f"pretrained_weights.{name} in params.yaml names {path}, which does not exist: put the "
                                f"state dict there, or set it to null to pretrain on real_data.images")
    return path


def _build(s: dict, num_classes: int):
    from .models import accepts, create

    # batch_norm is an option of the nets born without BatchNorm (mansimov2015's); a ResNet always has it
    extra = {"batch_norm": True} if s.get("batch_norm") and accepts(s["model"], "batch_norm") else {}
    return create(s["model"], num_classes=num_classes, width=s["width"], input_size=s["crop"], **extra,
                  **(s.get("model_kwargs") or {}))


def _as_built(state: dict, model) -> dict:
    """``state`` with 2D conv weights ``(O, I, k, k)`` given the time axis of a net that builds its 2D convs as
    1 x k x k ``Conv3d`` (ResNet-50 of ``st_resnet``): torchvision's ImageNet files are 4D."""
    target = model.state_dict()
    return {k: v.unsqueeze(2) if k in target and v.ndim == 4 and target[k].ndim == 5 and target[k].shape[2] == 1 else v
            for k, v in state.items()}


def _with_aliases(state: dict, model) -> dict:
    """``state`` with every name of a shared tensor filled in: a module registered twice (the suite's
    ``fc`` is also ``classifier[-1]``) has two names in ``state_dict()``, a file converted from another
    framework only one."""
    names: dict[tuple, list[str]] = {}
    for key, tensor in model.state_dict(keep_vars=True).items():
        names.setdefault((tensor.data_ptr(), tuple(tensor.shape)), []).append(key)
    for group in names.values():
        present = [k for k in group if k in state]
        for key in group:
            if present and key not in state:
                state[key] = state[present[0]]
    return state


def use_weights_file(name: str, path: Path, s: dict) -> dict:
    """Check that ``path`` holds every tensor of the network (full width, 1000 classes) and publish it."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    model = _build(s, PAPER_CLASSES)
    state = _with_aliases(_as_built(dict(state), model), model)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise BadValueError(f"{path} does not fit {s['model']} at width {s['width']} with {PAPER_CLASSES} classes: "
                            f"{str(exc).splitlines()[0]} (pretrained_weights.{name} in params.yaml)") from None
    out = out_dir(name, s["profile"])
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "final.pt")
    metrics = {"name": name, "profile": s["profile"], "source": "file", "path": str(path),
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "settings": s, "top1": None, "top5": None,
               "note": "weights read from a file, not trained here: no accuracy measured"}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def train(name: str, s: dict, params: dict, progress: bool = True) -> dict:
    """Train ``name`` on the images role (resuming from its work folder), evaluate, publish."""
    import torch

    from .data.images import ImageDataset
    from .data.transforms import test_transform, train_transform
    from .evaluate import evaluate
    from .flops import count_params
    from .runs import _environment, weights_digest
    from .train import TrainConfig, fit, save_json

    config.ensure_data(s["profile"], params)
    synthetic = s["profile"] in config.SYNTHETIC_PROFILES
    train_set = ImageDataset(config.image_folder("train", s["profile"], params),
                             train_transform(s["crop"], s["resize"], flip=s["flip"]), seed=s["seed"], cache=synthetic)
    val_set = ImageDataset(config.image_folder("val", s["profile"], params), test_transform(s["crop"], s["resize"]),
                           classes=train_set.classes, cache=synthetic)
    torch.manual_seed(s["seed"])
    model = _build(s, train_set.num_classes)
    keys = ("epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "schedule", "warmup_epochs",
            "step_epochs", "gamma", "num_workers", "precision")
    cfg = TrainConfig(**{k: s[k] for k in keys if k in s}, seed=s["seed"])
    # named by the settings and the data (its manifest): other settings or regenerated images start afresh
    manifest = config.data_dir(s["profile"], params) / "manifest.json"
    data = hashlib.sha256(manifest.read_bytes()).hexdigest()[:8] if manifest.is_file() else "nodata"
    work = config.checkpoint_dir(params) / s["profile"] / "image_pretraining" / name / f"{weights_digest(s)}-{data}"
    t0 = time.time()
    history = fit(model, train_set, cfg, progress=progress, out_dir=work, resume=True,
                  fingerprint={"pretrain": name, "settings": weights_digest(s)})
    m = evaluate(model, val_set, precision=s["precision"], num_workers=s.get("num_workers", 0))
    metrics = {"name": name, "profile": s["profile"], "source": "trained", "settings": s,
               "top1": m["video@1"], "top5": m["video@5"], "loss": m["loss"], "num_val_images": m["num_videos"],
               "classes": train_set.classes, "train_images": len(train_set),
               "train_acc": history[-1]["train_acc"] if history else None, "history": history,
               "params": count_params(model), "train_seconds": time.time() - t0,
               "environment": _environment(s["precision"])}
    save_json(metrics, work / "metrics.json")
    out = out_dir(name, s["profile"])
    out.mkdir(parents=True, exist_ok=True)
    for file in ("final.pt", "history.json", "metrics.json"):  # metrics.json last: it marks the output done
        shutil.copy2(work / file, out / file)
    shutil.rmtree(work.parent, ignore_errors=True)
    return metrics


def pretrain(name: str, profile: str | None = None, params: dict | None = None, progress: bool = True) -> dict:
    """Pretrain ``name`` at ``profile`` (or take the user's weights file at ``paper``); its metrics."""
    params = params or config.load_params()
    s = pretrain_settings(name, profile, params)
    path = _weights_file(name, s["profile"], params)
    return use_weights_file(name, path, s) if path else train(name, s, params, progress)


def ensure_pretrained(name: str, profile: str, params: dict | None = None) -> dict:
    """The metrics of ``name`` at ``profile``, pretraining it now if the pipeline has not (notebooks at smoke)."""
    done = out_dir(name, profile) / "metrics.json"
    if done.is_file():
        return json.loads(done.read_text())
    return pretrain(name, profile, params, progress=False)


def load_pretrained(name: str, profile: str) -> dict:
    """The state dict of the pretrained ``name`` at ``profile`` (``final.pt``)."""
    import torch

    path = out_dir(name, profile) / "final.pt"
    if not path.is_file():
        raise MissingInputError(f"{path} does not exist: pretrain it first (`dvc repro pretrain_images@{name}` or "
                                f"`python -m replicate.pretrain {name} --profile {profile}`)")
    return torch.load(path, map_location="cpu", weights_only=True)


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help=f"an entry of {SPEC_FILE.name}")
    ap.add_argument("--profile", default=None)
    args = ap.parse_args(argv)
    m = pretrain(args.name, args.profile)
    if m["source"] == "file":
        print(f"image_pretraining/{args.name} ({m['settings']['profile']}): weights from {m['path']}")
    else:
        print(f"image_pretraining/{args.name} ({m['settings']['profile']}): top-1 {100 * m['top1']:.1f}  top-5 "
              f"{100 * m['top5']:.1f}  train acc {100 * m['train_acc']:.1f}  ({m['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
