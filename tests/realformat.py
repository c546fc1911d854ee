"""Tiny datasets in the real formats, and a scratch copy of the project to run DVC in.

:func:`write_real_datasets` writes a few generated videos under each real dataset's own naming
and annotation files (UCF101 lists with CRLF, HMDB51 split files, Kinetics and Sports-1M csvs,
a generic list, an ImageFolder) and returns the ``real_data`` block of a params.yaml pointing
at them; one Kinetics validation video is truncated, as real copies have. :func:`project`
copies the repository's files (tracked and new, not ignored) to a scratch folder whose
params.yaml a test then edits, and :func:`dvc` runs DVC there with this environment.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

from replicate.data.video import write_video

REPO = Path(__file__).resolve().parent.parent
FRAMES, HEIGHT, WIDTH = 12, 32, 64  # small files (decord wants widths it can align); the loaders resize to 128x171

UCF_CLASSES = ["ApplyEyeMakeup", "Archery"]
HMDB_CLASSES = ["brush_hair", "cartwheel"]
KINETICS_CLASSES = ["abseiling", "air drumming"]
SPORTS_CLASSES = ["archery", "bowling"]
TRUNCATED_KINETICS_VAL = "zz-trunc0001_000010_000020"  # Kinetics video ids are <youtube_id>_<start>_<end>


def _video(path: Path, k: int) -> Path:
    """A moving bar whose speed and shade depend on ``k``: real H.264, distinct per video."""
    frames = np.full((FRAMES, HEIGHT, WIDTH, 3), 40 + (k * 37) % 160, np.uint8)
    for t in range(FRAMES):
        x = (t * (1 + k % 3)) % (WIDTH - 8)
        frames[t, :, x:x + 8] = 255 - (k * 11) % 100
    return write_video(path, frames)


def _lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


def _kinetics_layout(root: Path, classes: list[str], subsets: dict[str, tuple[str, str, int]], k0: int) -> dict:
    """Videos ``root/<subset>/<label>/<id>_<start>_<end>.mp4`` and one csv per subset:
    ``subsets`` maps a csv name to (the csv's split value, folder, videos per class)."""
    csvs, k = {}, k0
    for csv_name, (split, folder, per_class) in subsets.items():
        rows = ["label,youtube_id,time_start,time_end,split"]
        for label in classes:
            for i in range(per_class):
                youtube_id = f"{label[:3].replace(' ', '_')}{split[:2]}{i:06d}"
                rows.append(f'"{label}",{youtube_id},10,20,{split}')
                _video(root / folder / label.replace(" ", "_") / f"{youtube_id}_000010_000020.mp4", k)
                k += 1
        csvs[csv_name] = _lines(root / "annotations" / csv_name, rows)
    return csvs


def write_real_datasets(root: Path) -> dict:
    """Every role's tiny tree under ``root``; returns params.yaml's ``real_data`` for them."""
    k = 0
    # UCF101: UCF-101/<Class>/v_<Class>_gXX_cYY.avi (here .mp4, which the adapter accepts), split k tests group k
    ucf = root / "UCF101"
    _lines(ucf / "ucfTrainTestlist/classInd.txt", [f"{i} {c}" for i, c in enumerate(UCF_CLASSES, 1)], "\r\n")
    for split in (1, 2, 3):
        train, test = [], []
        for i, c in enumerate(UCF_CLASSES, 1):
            for g in (1, 2, 3, 4):
                rel = f"{c}/v_{c}_g{g:02d}_c01.avi"
                (test.append(rel) if g == split else train.append(f"{rel} {i}"))
        _lines(ucf / f"ucfTrainTestlist/trainlist{split:02d}.txt", train, "\r\n")
        _lines(ucf / f"ucfTrainTestlist/testlist{split:02d}.txt", test, "\r\n")
    for c in UCF_CLASSES:
        for g in (1, 2, 3, 4):
            _video(ucf / f"UCF-101/{c}/v_{c}_g{g:02d}_c01.mp4", k)
            k += 1
    # HMDB51: <class>/<video>.avi and testTrainMulti_7030_splits/<class>_test_splitN.txt ("name.avi flag ")
    hmdb = root / "HMDB51"
    for c in HMDB_CLASSES:
        names = [f"{c}_video{i}_f_cm_np1_fr_med_{i}.avi" for i in range(3)]
        for name in names:
            _video(hmdb / "videos" / c / name.replace(".avi", ".mp4"), k)
            k += 1
        for split in (1, 2, 3):
            flags = ["2" if i == split - 1 else "1" for i in range(3)]
            _lines(hmdb / f"testTrainMulti_7030_splits/{c}_test_split{split}.txt",
                   [f"{n} {f} " for n, f in zip(names, flags)])
    # Kinetics-400: train.csv / validate.csv, videos under <root>/<subset>/<label>/
    kin = root / "kinetics400"
    kin_csvs = _kinetics_layout(kin, KINETICS_CLASSES, {"train.csv": ("train", "train", 3), "validate.csv": ("val", "val", 2)}, 100)
    with open(kin_csvs["validate.csv"], "a") as handle:  # one more, truncated (a download cut short)
        handle.write(f'"{KINETICS_CLASSES[0]}",zz-trunc0001,10,20,val\n')
    good = _video(kin / "val" / KINETICS_CLASSES[0].replace(" ", "_") / f"{TRUNCATED_KINETICS_VAL}.mp4", 150)
    good.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    # Sports-1M, written in the Kinetics layout (params.yaml's comment says how)
    s1m = root / "sports1m"
    s1m_csvs = _kinetics_layout(s1m, SPORTS_CLASSES, {"train.csv": ("train", "train", 3), "test.csv": ("val", "", 2)}, 200)
    # a generic list of unlabelled clips
    clips = root / "clips"
    for i in range(4):
        _video(clips / f"part{i // 2}/clip {i}.mp4", 300 + i)  # a space in a path, as real lists have
    _lines(clips / "list.txt", [f"part{i // 2}/clip {i}.mp4" for i in range(4)])
    # ImageNet-style ImageFolder
    from PIL import Image

    for sub in ("train", "val"):
        for c in ("n01440764", "n01443537"):
            for i in range(2):
                path = root / "imagenet" / sub / c / f"{c}_{i}.JPEG"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((40, 40, 3), 30 * i + 60, np.uint8)).save(path, format="JPEG")
    return {
        "ucf101": {"format": "ucf101", "root": str(ucf / "UCF-101"), "flow_root": str(ucf / "flow"),
                   "annotations": str(ucf / "ucfTrainTestlist")},
        "hmdb51": {"format": "hmdb51", "root": str(hmdb / "videos"), "flow_root": str(hmdb / "flow"),
                   "splits_dir": str(hmdb / "testTrainMulti_7030_splits")},
        "kinetics": {"format": "kinetics", "root": str(kin), "flow_root": str(root / "kinetics400_flow"),
                     "annotations": {"train": str(kin_csvs["train.csv"]), "val": str(kin_csvs["validate.csv"])}},
        "sports1m": {"format": "kinetics", "root": str(s1m), "flow_root": str(root / "sports1m_flow"),
                     "annotations": {"train": str(s1m_csvs["train.csv"]), "val": str(s1m_csvs["test.csv"])}},
        "unlabelled": {"format": "list", "list_file": str(clips / "list.txt")},
        "images": {"train": str(root / "imagenet/train"), "val": str(root / "imagenet/val")},
    }


def project(dest: Path) -> Path:
    """A scratch copy of the repository (the files git tracks or would track), DVC without git.

    Without dvc.lock: the study's lock holds every mini stage (about 850 KB), and DVC re-parses and
    rewrites the whole lock (in round-trip YAML) after each stage it runs, about 5 s a stage here
    against 0.7 s for a scratch study's own small lock; a scratch study records only its own stages."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(lambda rel: rel and rel != "dvc.lock", files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    subprocess.run([*_dvc_cmd(), "config", "core.no_scm", "true"], cwd=dest, check=True, capture_output=True)
    return dest


def edit_params(folder: Path, **changes) -> dict:
    """Update the scratch project's params.yaml (top-level keys) and return it."""
    params = yaml.safe_load((folder / "params.yaml").read_text())
    params.update(changes)
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return params


def _dvc_cmd() -> list[str]:
    return [sys.executable, "-m", "dvc"]


def dvc(folder: Path, *args: str, timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    """``dvc <args>`` in ``folder`` with this interpreter's environment (its bin first on PATH,
    so that stage commands' ``python`` and ``papermill`` are this environment's)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "DVC_NO_ANALYTICS": "1", "DVC_NO_UPDATER": "1"}
    return subprocess.run([*_dvc_cmd(), *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout, **popen)
