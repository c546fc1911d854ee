"""params.yaml: the active profile, and where each dataset role lives under it.

``params.yaml`` holds every profile (smoke / mini / paper). ``smoke`` and ``mini`` read the
embedded synthetic stand-ins under ``data/<profile>/``; ``paper`` reads the real datasets from
``real_data`` (edit the roots there). Either way the result is a :class:`VideoList` produced by
the same real-format adapters.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from .data import adapters
from .data.samples import DatasetError, VideoList
from .errors import MissingInputError, UnknownNameError

REPO_ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = REPO_ROOT / "params.yaml"
PROFILES = ("smoke", "mini", "paper")
SYNTHETIC_PROFILES = ("smoke", "mini")
#: roles with no stand-in of their own: at the synthetic profiles another role's stand-in plays
#: them (DESIGN: one large labelled set stands in for Kinetics and Sports-1M alike)
STANDIN_FOR = {"sports1m": "kinetics"}
#: roles in the Kinetics layout: a train and a validation csv, tested on validation
TRAIN_VAL_ROLES = ("kinetics", "sports1m")


def load_params(path: os.PathLike | str | None = None) -> dict:
    path = Path(path or PARAMS_FILE)
    if not path.is_file():
        raise MissingInputError(f"parameter file {path} not found: run from the repository root or pass its path")
    return yaml.safe_load(path.read_text())


def profile_params(params: dict, profile: str | None = None) -> dict:
    name = profile or params["profile"]
    if name not in params.get("profiles", {}):
        raise UnknownNameError(f"unknown profile {name!r}; params.yaml defines: {', '.join(params.get('profiles', {}))}")
    return params["profiles"][name]


def data_dir(profile: str, params: dict | None = None) -> Path:
    params = params or load_params()
    root = Path(params.get("data_dir", "data"))
    return (root if root.is_absolute() else REPO_ROOT / root) / profile


def _folder(params: dict | None, key: str) -> Path | None:
    """The folder ``params.yaml: <key>`` names (relative: to the repository), or None when unset."""
    params = params or load_params()
    folder = params.get(key)
    if not folder:
        return None
    folder = Path(folder).expanduser()
    return folder if folder.is_absolute() else REPO_ROOT / folder


def frame_cache_dir(params: dict | None = None) -> Path | None:
    """Where runs with ``cache_frames`` keep decoded frames between runs (``params.yaml:
    frame_cache_dir``; ``null``: decode in every run). A speed cache only: deleting it changes no result."""
    return _folder(params, "frame_cache_dir")


def probe_cache_dir(params: dict | None = None) -> Path | None:
    """Where the probed frame counts of each video list are kept (``params.yaml: probe_cache_dir``):
    at paper scale a run would otherwise open ~240K video headers before its first step. A speed
    cache keyed by each file's size and modification time: deleting it changes no result."""
    return _folder(params, "probe_cache_dir")


def checkpoint_dir(params: dict | None = None) -> Path:
    """Where unfinished runs keep their checkpoints (``params.yaml: checkpoint_dir``): outside every
    DVC output, because DVC deletes a stage's outputs before it runs the stage again, and a crashed
    run must find its last epoch there."""
    return _folder(params, "checkpoint_dir") or REPO_ROOT / "checkpoints"


def data_role(role: str, profile: str | None = None, params: dict | None = None) -> str:
    """The role whose data ``role`` reads under ``profile``: itself on real data, its stand-in's
    role at the synthetic profiles (``sports1m`` -> ``kinetics``)."""
    profile = profile or (params or load_params())["profile"]
    return STANDIN_FOR.get(role, role) if profile in SYNTHETIC_PROFILES else role


def test_subset(role: str) -> str:
    """The subset a role is tested on: Kinetics / Sports-1M have train + val(idation), the small sets train + test."""
    return "val" if role in TRAIN_VAL_ROLES else "test"


def synthetic_layout(root: Path, role: str, split: int, subset: str) -> dict:
    """Adapter arguments for a synthetic stand-in written by ``replicate.data.standins``."""
    if role == "ucf101":
        return dict(format="ucf101", root=root / "ucf101/videos", annotations=root / "ucf101/ucfTrainTestlist", split=split, subset=subset)
    if role == "hmdb51":
        return dict(format="hmdb51", root=root / "hmdb51/videos", splits_dir=root / "hmdb51/testTrainMulti_7030_splits", split=split, subset=subset)
    if role == "kinetics":
        csv = "train.csv" if subset == "train" else "validate.csv"
        return dict(format="kinetics", root=root / "kinetics/videos", annotations_csv=root / "kinetics/annotations" / csv, subset=subset)
    if role == "unlabelled":
        return dict(format="list", list_file=root / "unlabelled/list.txt")
    raise DatasetError(f"unknown dataset role {role!r}; roles: ucf101, hmdb51, kinetics, sports1m, unlabelled (images: see image_folder)")


def real_layout(params: dict, role: str, split: int, subset: str) -> dict:
    """Adapter arguments for a real dataset from ``params.yaml: real_data.<role>``."""
    cfg = dict(params.get("real_data", {}).get(role) or {})
    if not cfg:
        raise DatasetError(f"no real dataset configured for role {role!r}: add real_data.{role} to params.yaml")
    fmt = cfg.pop("format", role)
    cfg.pop("flow_root", None)  # where its optical flow is (flow_roots), not an adapter argument
    # the adapters' errors name the params.yaml key a user edits, not their own argument names
    where = {key: f"real_data.{role}.{key} in params.yaml" for key in cfg}
    if fmt == "kinetics":
        csvs = cfg.pop("annotations")
        key = "train" if subset == "train" else "val"
        cfg["annotations_csv"] = csvs[key] if isinstance(csvs, dict) else csvs
        where["annotations_csv"] = f"real_data.{role}.annotations" + (f".{key}" if isinstance(csvs, dict) else "") + " in params.yaml"
        if key != "train" and isinstance(csvs, dict) and Path(os.path.expanduser(csvs["train"])).is_file():
            # a test csv may lack a class (Sports-1M rows exist per downloaded video): number its
            # labels by the training csv's classes, or every later index would shift
            cfg["classes"] = adapters.csv_classes(os.path.expanduser(csvs["train"]))
        return dict(format=fmt, subset=subset, where=where, dataset="sports1m" if role == "sports1m" else "kinetics", **cfg)
    if fmt in ("ucf101", "hmdb51"):
        return dict(format=fmt, split=split, subset=subset, where=where, **cfg)
    return dict(format=fmt, where=where, **cfg)


def video_list(role: str, split: int = 1, subset: str = "train", profile: str | None = None,
               params: dict | None = None, num_classes: int | None = None) -> VideoList:
    """The videos of ``role`` (ucf101 / hmdb51 / kinetics / sports1m / unlabelled) under a profile.

    ``num_classes`` keeps the first N classes only (a profile's way to shrink a study). On the
    synthetic stand-ins "first" follows the generation order of the class table, where every
    motion sits beside its time-reversed twin, so a subset keeps whole twin pairs; on real data
    it follows the dataset's own class order.
    """
    params = params or load_params()
    profile = profile or params["profile"]
    if profile in SYNTHETIC_PROFILES:
        root = data_dir(profile, params)
        if not (root / "manifest.json").is_file():
            raise DatasetError(
                f"the {profile!r} synthetic datasets are not generated yet (no {root}/manifest.json). "
                f"Run `dvc repro data` (or `python -m replicate.data.build --profile {profile}`).")
        kwargs = synthetic_layout(root, data_role(role, profile), split, subset)
    else:
        kwargs = real_layout(params, role, split, subset)
    kwargs = {k: (os.path.expanduser(v) if isinstance(v, str) else v) for k, v in kwargs.items()}
    videos = adapters.load_video_list(kwargs.pop("format"), **kwargs)
    if num_classes is None or num_classes >= videos.num_classes:
        return videos
    order = videos.classes
    if profile in SYNTHETIC_PROFILES:
        manifest = json.loads((data_dir(profile, params) / "manifest.json").read_text())
        order = [c["name"] for c in manifest["roles"][data_role(role, profile)]["classes"]]
    return videos.restrict(order[:num_classes])


def flow_roots(role: str, profile: str | None = None, params: dict | None = None,
               must_exist: bool = True) -> tuple[Path, Path]:
    """``(video_root, flow_root)`` of ``role``: the stored optical flow mirrors the video tree.

    Synthetic profiles: ``data/<profile>/<role>/videos`` and ``data/<profile>/flow/<role>`` (the
    ``flow@<role>`` stage). Real data: ``real_data.<role>.root`` and ``real_data.<role>.flow_root``
    (also the ``flow@<role>`` stage, which writes there). ``must_exist=False``: where the flow
    goes, before it is computed.
    """
    params = params or load_params()
    profile = profile or params["profile"]
    if profile in SYNTHETIC_PROFILES:
        root = data_dir(profile, params)
        role = data_role(role, profile)
        video_root, flow_root = root / role / "videos", root / "flow" / role
        how = f"`dvc repro flow@{role}`"
    else:
        cfg = params.get("real_data", {}).get(role) or {}
        if "flow_root" not in cfg or "root" not in cfg:
            raise DatasetError(f"no optical flow configured for {role}: set real_data.{role}.flow_root (and .root) in "
                               f"params.yaml; the flow@{role} stage computes the flow of root's videos into it")
        video_root, flow_root = Path(os.path.expanduser(cfg["root"])), Path(os.path.expanduser(cfg["flow_root"]))
        how = f"`dvc repro flow@{role}` (or `python -m replicate.data.flow --role {role} --profile {profile}`)"
    if must_exist and not flow_root.is_dir():
        raise DatasetError(f"optical flow of {role} not found at {flow_root}; compute it with {how}")
    return video_root, flow_root


def image_folder(subset: str = "train", profile: str | None = None, params: dict | None = None) -> Path:
    """Root of the still-image set (ImageFolder layout: ``<root>/<class>/<image>``)."""
    params = params or load_params()
    profile = profile or params["profile"]
    if profile in SYNTHETIC_PROFILES:
        root = data_dir(profile, params) / "images" / subset
    else:
        images = params.get("real_data", {}).get("images") or {}
        if subset not in images:
            raise DatasetError(f"no still-image set configured: set real_data.images.{subset} in params.yaml (ImageFolder layout)")
        root = Path(os.path.expanduser(images[subset]))
    if not root.is_dir():
        how = "generate it with `dvc repro data`" if profile in SYNTHETIC_PROFILES else f"set real_data.images.{subset} in params.yaml"
        raise DatasetError(f"image set not found at {root}: {how}")
    return root


def ensure_data(profile: str, params: dict | None = None) -> None:
    """Generate a synthetic profile's datasets if they are not there yet (no card, no figures).

    The pipeline's ``data`` stage is the normal way; this lets a notebook run standalone (at the
    smoke profile in CI, from a fresh clone) without a prior ``dvc repro``.
    """
    params = params or load_params()
    if profile not in SYNTHETIC_PROFILES:
        return
    root = data_dir(profile, params)
    if not (root / "manifest.json").is_file():
        prof = profile_params(params, profile)
        from .data import standins  # lazy: generating is rare, and standins pulls in the renderer

        standins.build_all(root, prof["data"], prof["video"], seed=params["seed"], workers=2)


def ensure_flow(role: str, profile: str, params: dict | None = None) -> None:
    """Compute the optical flow of a ``smoke`` stand-in if it is not there yet, as :func:`ensure_data`
    generates its videos, so that a notebook runs standalone in CI. At ``mini`` the pipeline's
    ``flow@<role>`` stage is the way (minutes of CPU); real data: ``python -m replicate.data.flow``."""
    params = params or load_params()
    if profile != "smoke":
        return
    role = data_role(role, profile)
    root = data_dir(profile, params)
    video_root, flow_root = root / role / "videos", root / "flow" / role
    if video_root.is_dir() and not flow_root.is_dir():
        from .data.flow import compute_flow_tree  # lazy: OpenCV is only needed here

        compute_flow_tree(video_root, flow_root, method=params.get("flow_method", "farneback"), workers=2)
