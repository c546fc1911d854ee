"""The embedded datasets: synthetic stand-ins for each role a real dataset plays in the papers.

Each stand-in is written **in its real dataset's official format**, so the same adapters
(``replicate.data.adapters``) read the embedded data and the real data:

========== ================================ ============================================
role       stands in for                    written as
========== ================================ ============================================
ucf101     UCF101 (small target, 3 splits)  ``<Class>/v_<Class>_gGG_cCC.mp4`` + ucfTrainTestlist
hmdb51     HMDB51 (harder small target)     ``<class>/<name>.mp4`` + ``<class>_test_splitN.txt``
kinetics   Kinetics-400 / Sports-1M         ``<split>/<label>/<id>_<start>_<end>.mp4`` + csv
unlabelled YouTube-8M clips (no labels)     a generic list of paths
images     ImageNet (2D pretraining)        ``<split>/<class>/<n>.png`` (ImageFolder layout)
========== ================================ ============================================

Class bindings (which actor does which motion) are drawn from the dataset seed; the card
(:func:`write_card`) lists them. Splits follow each dataset's own rules: UCF101 holds out
*groups* (same actor and scene) in thirds of 7 of 25 groups; HMDB51 assigns each class's videos
to train (1) / test (2) / unused (0) per split; Kinetics has a train and a validate csv, with a
few listed files missing and two broken on disk, as every real copy has.
"""
from __future__ import annotations

import dataclasses
import json
import os
import string
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .synthetic import (
    COLOURS, SHAPES, TEXTURES, TWINS, TWO_ACTOR_MOTIONS, VIDEO_SHAPES, ActionClass, Actor,
    Nuisance, VideoSpec, render_image, render_video,
)
from .video import write_video

# ------------------------------------------------------------------ how hard each role is
#: UCF101-like: one actor type per twin pair, light clutter.
UCF_NUISANCE = Nuisance(noise_std=6, shake_px=0.5, distractors=(0, 1), hue_jitter=6)
#: HMDB51-like: actors shared between pairs, more clutter, shake and noise.
HMDB_NUISANCE = Nuisance(noise_std=10, shake_px=0.9, distractors=(1, 2), hue_jitter=10,
                         size_range=(0.75, 1.25), speed_range=(0.6, 1.4))
#: Kinetics-like: many classes, moderate clutter.
KINETICS_NUISANCE = Nuisance(noise_std=8, shake_px=0.7, distractors=(0, 2), hue_jitter=8,
                             size_range=(0.8, 1.2), speed_range=(0.65, 1.35))
IMAGE_NUISANCE = Nuisance(noise_std=6, shake_px=0.0, distractors=(0, 1), hue_jitter=8, size_range=(0.9, 1.3))

ROLES = ("ucf101", "hmdb51", "kinetics", "unlabelled", "images")


# ------------------------------------------------------------------ class tables
def _actors(rng: np.random.Generator, n: int) -> list[Actor]:
    """n actors with pairwise different shapes and (while there are enough) colours."""
    shapes = rng.permutation(VIDEO_SHAPES)
    colours = rng.permutation(list(COLOURS))
    return [Actor(str(shapes[i % len(shapes)]), str(colours[i % len(colours)]), str(rng.choice(TEXTURES))) for i in range(n)]


def _pairs(rng: np.random.Generator, forward: list[str], actors: list[Actor], partners: list[Actor]) -> list[ActionClass]:
    out = []
    for i, (motion, actor) in enumerate(zip(forward, actors)):
        partner = partners[i % len(partners)] if motion in TWO_ACTOR_MOTIONS else None
        out += [ActionClass(actor, motion, partner), ActionClass(actor, TWINS[motion], partner)]
    return out


def class_table(role: str, seed: int) -> list[ActionClass]:
    """The full class list of a role (profiles take a prefix of it)."""
    if role not in ("ucf101", "hmdb51", "kinetics"):
        raise KeyError(f"role {role!r} has no class table; roles with classes: ucf101, hmdb51, kinetics")
    rng = np.random.default_rng([seed, ROLES.index(role), 17])
    forward = list(TWINS)
    if role == "ucf101":
        # 5 twin pairs with their own actor each + 2 untwinned classes with their own actor:
        # a frame model can get the untwinned ones and half of each pair (ceiling ~58%).
        order = ["advance", "orbit_forward", "grow", "fall", "approach", "sawtooth_up"]
        actors = _actors(rng, 8)
        pairs = _pairs(rng, order[:5], actors[:5], actors[7:])
        return pairs[:2] + [ActionClass(actors[5], "spin"), ActionClass(actors[6], "idle")] + pairs[2:] + _pairs(rng, order[5:], actors[7:], actors[:1])
    if role == "hmdb51":
        # 7 twin pairs + spin + idle over only 4 actor types: appearance explains less.
        order = ["advance", "orbit_forward", "grow", "fall", "sawtooth_up", "approach", "push"]
        actors = _actors(rng, 5)
        pair_actors = [actors[i % 4] for i in range(len(order))]
        pairs = _pairs(rng, order, pair_actors, actors[4:])
        return pairs[:4] + [ActionClass(actors[0], "spin"), ActionClass(actors[1], "idle")] + pairs[4:]
    if role == "kinetics":
        # every program with two different actors: 9 pairs x 2 + spin/idle x 2 = 40 classes
        actors = _actors(rng, 12)
        out = []
        for rep in range(2):
            acts = [actors[(i + rep * 5) % 12] for i in range(len(forward))]
            out += _pairs(rng, forward, acts, [actors[(rep * 7 + 3) % 12]])
            out += [ActionClass(actors[(10 + rep) % 12], "spin"), ActionClass(actors[(9 + 2 * rep) % 12], "idle")]
        return out


def ucf_name(c: ActionClass) -> str:
    return "".join(w.capitalize() for w in c.words)


def hmdb_name(c: ActionClass) -> str:
    return "_".join(c.words)


def kinetics_name(c: ActionClass) -> str:
    return " ".join(c.words)


# ------------------------------------------------------------------ rendering jobs
@dataclass(frozen=True)
class _Job:
    kind: str  # "video" | "image" | "empty" | "truncated"
    path: str
    seed: tuple
    cls: ActionClass | None
    nuisance: Nuisance
    shape: str = ""
    scene_seed: tuple | None = None


def _run_job(job: _Job, vs: VideoSpec) -> str:
    path = Path(job.path)
    if job.kind == "image":
        import cv2

        path.parent.mkdir(parents=True, exist_ok=True)
        img = render_image(job.shape, job.seed, vs, job.nuisance)
        cv2.imwrite(str(path), img[..., ::-1])
        return job.path
    frames = render_video(job.cls, job.seed, vs, job.nuisance, scene_seed=job.scene_seed)
    write_video(path, frames, fps=vs.fps)
    if job.kind == "empty":  # a 0-byte file, as broken downloads leave them
        path.write_bytes(b"")
    elif job.kind == "truncated":  # an interrupted download: first half of the bytes
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return job.path


def _run_jobs(jobs: list[_Job], vs: VideoSpec, workers: int, desc: str):
    from tqdm import tqdm  # plain tqdm: tqdm.auto writes a warning to stderr in kernels without ipywidgets

    todo = [j for j in jobs if not Path(j.path).exists()]  # resumable: finished files are kept
    if workers <= 1:
        for j in tqdm(todo, desc=desc, unit="file", leave=False, disable=None):  # None: bars on a terminal only, not in logs
            _run_job(j, vs)
        return
    with ProcessPoolExecutor(workers) as pool:
        list(tqdm(pool.map(_run_job, todo, [vs] * len(todo), chunksize=8), total=len(todo), desc=desc, unit="file", leave=False, disable=None))


# ------------------------------------------------------------------ writers per role
def _seed(seed: int, role: str, *idx: int) -> tuple:
    return (seed, ROLES.index(role), *idx)


def build_ucf101(out: Path, classes: list[ActionClass], seed: int, groups: int, test_groups: int, clips_per_group: int) -> list[_Job]:
    """UCF101 layout; split k (1..3) tests on groups (k-1)*test_groups+1 .. k*test_groups."""
    if 3 * test_groups > groups:
        raise ValueError(f"ucf101 stand-in: 3 splits x {test_groups} test groups need >= {3 * test_groups} groups, got {groups}")
    vids, lists = out / "videos", out / "ucfTrainTestlist"
    lists.mkdir(parents=True, exist_ok=True)
    names = [ucf_name(c) for c in classes]
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {n}\r\n" for i, n in enumerate(names)))  # UCF101 uses CRLF
    jobs, entries = [], []
    for ci, (c, name) in enumerate(zip(classes, names)):
        for g in range(1, groups + 1):
            # a group shares its actor variant and scene, as in UCF101: the seed depends on the group
            for k in range(1, clips_per_group + 1):
                rel = f"{name}/v_{name}_g{g:02d}_c{k:02d}.mp4"
                jobs.append(_Job("video", str(vids / rel), _seed(seed, "ucf101", ci, g, k), c, UCF_NUISANCE,
                                 scene_seed=_seed(seed, "ucf101", ci, g)))
                entries.append((rel, ci, g))
    for split in (1, 2, 3):
        test = set(range((split - 1) * test_groups + 1, split * test_groups + 1))
        (lists / f"trainlist{split:02d}.txt").write_text("".join(f"{r} {ci + 1}\r\n" for r, ci, g in entries if g not in test))
        (lists / f"testlist{split:02d}.txt").write_text("".join(f"{r}\r\n" for r, ci, g in entries if g in test))
    return jobs


def build_hmdb51(out: Path, classes: list[ActionClass], seed: int, videos_per_class: int, train: int, test: int) -> list[_Job]:
    """HMDB51 layout: per class and split, ``train`` videos marked 1, ``test`` marked 2, the rest 0."""
    if train + test > videos_per_class:
        raise ValueError(f"hmdb51 stand-in: train {train} + test {test} > {videos_per_class} videos per class")
    vids, splits = out / "videos", out / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True, exist_ok=True)
    jobs = []
    for ci, c in enumerate(classes):
        name = hmdb_name(c)
        files = [f"synthetic_{name}_u_cm_np1_fr_med_{i}.mp4" for i in range(videos_per_class)]
        for i, f in enumerate(files):
            jobs.append(_Job("video", str(vids / name / f), _seed(seed, "hmdb51", ci, i), c, HMDB_NUISANCE))
        for split in (1, 2, 3):
            order = np.random.default_rng(_seed(seed, "hmdb51", ci, 1000 + split)).permutation(videos_per_class)
            mark = np.zeros(videos_per_class, int)
            mark[order[:train]], mark[order[train:train + test]] = 1, 2
            (splits / f"{name}_test_split{split}.txt").write_text("".join(f"{f} {m} \n" for f, m in zip(files, mark)))
    return jobs


def _youtube_id(rng: np.random.Generator) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(rng.choice(list(alphabet), 11))


def build_kinetics(out: Path, classes: list[ActionClass], seed: int, train_per_class: int, val_per_class: int,
                   missing: int = 2, broken: bool = True) -> list[_Job]:
    """Kinetics-400 layout: ``annotations/{train,validate}.csv`` and ``videos/{train,val}/<label>/<id>_<s>_<e>.mp4``.

    Like every real copy, ``missing`` listed training files are absent, and (``broken``) one
    training file is 0 bytes and one is truncated: loaders must skip and count them.
    """
    ann, vids = out / "annotations", out / "videos"
    ann.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(_seed(seed, "kinetics", 99))
    jobs, rows = [], {"train": [], "validate": []}
    for ci, c in enumerate(classes):
        label = kinetics_name(c)
        # as released: the file is validate.csv, its split column and the archive folder say "val"
        for csv_name, split, n in (("train", "train", train_per_class), ("validate", "val", val_per_class)):
            for i in range(n):
                yid, start = _youtube_id(rng), int(rng.integers(0, 300))
                rel = f"{split}/{label}/{yid}_{start:06d}_{start + 10:06d}.mp4"
                rows[csv_name].append((label, yid, start, start + 10, split))
                jobs.append(_Job("video", str(vids / rel), _seed(seed, "kinetics", ci, i, split == "train"), c, KINETICS_NUISANCE))
    for split, r in rows.items():
        lines = ["label,youtube_id,time_start,time_end,split"] + [f'"{a}",{b},{s},{e},{p}' for a, b, s, e, p in r]
        (ann / f"{split}.csv").write_text("\n".join(lines) + "\n")
    train_idx = [i for i, j in enumerate(jobs) if "/train/" in j.path]
    pick = np.random.default_rng(_seed(seed, "kinetics", 98)).choice(train_idx, missing + 2 * broken, replace=False)
    for k, i in enumerate(pick):
        if k < missing:
            jobs[i] = None  # listed in the csv, never written
        else:
            jobs[i] = dataclasses.replace(jobs[i], kind="empty" if k == missing else "truncated")
    return [j for j in jobs if j is not None]


def build_unlabelled(out: Path, classes: list[ActionClass], seed: int, videos: int) -> list[_Job]:
    """Unlabelled clips (YouTube-8M stand-in): the pretraining classes' world, labels discarded."""
    rng = np.random.default_rng(_seed(seed, "unlabelled", 0))
    jobs, lines = [], []
    for i in range(videos):
        c = classes[int(rng.integers(len(classes)))]
        rel = f"videos/clip_{i:05d}.mp4"
        jobs.append(_Job("video", str(out / rel), _seed(seed, "unlabelled", i), c, KINETICS_NUISANCE))
        lines.append(rel)
    out.mkdir(parents=True, exist_ok=True)
    (out / "list.txt").write_text("# unlabelled clips: one path per line, no label\n" + "\n".join(lines) + "\n")
    return jobs


def build_images(out: Path, seed: int, train_per_class: int, val_per_class: int) -> list[_Job]:
    """Still images, one class per shape (16: the 12 video shapes + 4 extra categories)."""
    jobs = []
    for si, shape in enumerate(SHAPES):
        for split, n in (("train", train_per_class), ("val", val_per_class)):
            for i in range(n):
                jobs.append(_Job("image", str(out / split / shape / f"{shape}_{i:05d}.png"),
                                 _seed(seed, "images", si, i, split == "train"), None, IMAGE_NUISANCE, shape))
    return jobs


# ------------------------------------------------------------------ entry point
def build_all(out: os.PathLike | str, sizes: dict, video: dict, seed: int = 0, workers: int = 1,
              roles: tuple[str, ...] = ROLES) -> dict:
    """Write every stand-in of a profile under ``out`` and return its manifest (also saved as json)."""
    out = Path(out)
    vs = VideoSpec(**video)
    manifest = {"seed": seed, "video": asdict(vs), "roles": {}}
    for role in roles:
        cfg = dict(sizes[role])
        if role == "images":
            jobs = build_images(out / role, seed, cfg["train_per_class"], cfg["val_per_class"])
            manifest["roles"][role] = {"classes": list(SHAPES), **cfg}
        else:
            n_classes = cfg.pop("classes", None)
            table = class_table("kinetics" if role == "unlabelled" else role, seed)
            classes = table[:n_classes] if n_classes else table
            builder = {"ucf101": build_ucf101, "hmdb51": build_hmdb51, "kinetics": build_kinetics, "unlabelled": build_unlabelled}[role]
            jobs = builder(out / role, classes, seed, **cfg)
            if role != "unlabelled":
                manifest["roles"][role] = {
                    "classes": [{"name": {"ucf101": ucf_name, "hmdb51": hmdb_name, "kinetics": kinetics_name}[role](c),
                                 "actor": c.actor.name, "motion": c.motion, "twin": c.twin_motion,
                                 "partner": c.partner.name if c.partner else None} for c in classes],
                    **cfg}
            else:
                manifest["roles"][role] = cfg
        _run_jobs(jobs, vs, workers, desc=role)
        manifest["roles"][role]["files"] = len(jobs)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest
