"""``python -m replicate.data.build --profile mini``: the data stage of the pipeline.

For a synthetic profile (smoke, mini) it writes every stand-in under ``data/<profile>/`` (see
``replicate.data.standins``) and a dataset card with sample frame strips per class under
``results/data/<profile>/``. For ``paper`` it generates nothing: it opens every split of every
real dataset named in ``params.yaml: real_data`` through the same adapters, and writes a
manifest per role (``data/paper/<role>/manifest.json``: its root, the sha256 of its annotation
files, every video's size) and one of them all (``data/paper/manifest.json``), which the train
stages depend on, plus the card and sample strips. A missing or wrong root fails here, first:
one line naming the ``real_data`` key, the path and where to download the data; exit code 2.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from .. import config
from ..errors import cli
from . import standins
from .manifest import file_sha256, tree_sizes, write_manifest
from .samples import DatasetError

ROLE_DESCRIPTIONS = {
    "ucf101": ("UCF101", "small target set, 3 train/test splits by group (UCF101 list format)"),
    "hmdb51": ("HMDB51", "harder small target set, 3 splits (HMDB51 split-file format)"),
    "kinetics": ("Kinetics-400 / Sports-1M", "large pretraining set, train / val (Kinetics csv format)"),
    "sports1m": ("Sports-1M", "large pretraining set, train / test (written in the Kinetics csv format)"),
    "unlabelled": ("YouTube-8M clips", "unlabelled clips for supervision transfer (generic list)"),
    "images": ("ImageNet", "still images, 12 video shapes + 4 extra categories (ImageFolder layout)"),
}


#: the roles a profile's card and manifest cover: the synthetic profiles generate the stand-ins'
#: (Sports-1M is played by the Kinetics stand-in), ``paper`` reads every real dataset
PAPER_ROLES = ("ucf101", "hmdb51", "kinetics", "sports1m", "unlabelled", "images")


def _left_out(role: str, profile: str, params: dict) -> bool:
    """At ``paper``, a role the user set to null in ``real_data`` (recorded, not read)."""
    return profile not in config.SYNTHETIC_PROFILES and not (params.get("real_data") or {}).get(role)


def _card_roles(profile: str) -> tuple[str, ...]:
    return standins.ROLES if profile in config.SYNTHETIC_PROFILES else PAPER_ROLES


def _split_counts(role: str, profile: str, params: dict) -> dict[str, int]:
    if role in ("ucf101", "hmdb51"):
        return {f"split{s} {sub}": len(config.video_list(role, s, sub, profile, params)) for s in (1, 2, 3) for sub in ("train", "test")}
    if role in config.TRAIN_VAL_ROLES:
        out = {}
        for sub in ("train", config.test_subset(role)):
            vl = config.video_list(role, 1, sub, profile, params)
            out[f"{sub} (on disk)"] = len(vl)
            out[f"{sub} listed but missing"] = len(vl.missing)
        return out
    if role == "unlabelled":
        return {"clips": len(config.video_list(role, 1, "train", profile, params))}
    return {sub: len(tree_sizes(config.image_folder(sub, profile, params), IMAGE_SUFFIXES)) for sub in ("train", "val")}


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".JPEG")


def real_role_manifest(role: str, params: dict) -> dict:
    """What ``paper`` trains on from one role: its root, annotation hashes, every listed video's size.

    Opens every split and subset through the adapters first, so a wrong root or a malformed
    annotation file raises :class:`DatasetError` here (naming the ``real_data`` key)."""
    counts = _split_counts(role, "paper", params)  # validates every split / subset
    if role == "images":
        roots = {sub: config.image_folder(sub, "paper", params) for sub in ("train", "val")}
        return {"role": role, "counts": counts, "roots": {sub: str(r) for sub, r in roots.items()},
                "files": {sub: tree_sizes(r, IMAGE_SUFFIXES) for sub, r in roots.items()}}
    subsets = [(s, sub) for s in (1, 2, 3) for sub in ("train", "test")] if role in ("ucf101", "hmdb51") else \
        [(1, "train"), (1, config.test_subset(role))] if role in config.TRAIN_VAL_ROLES else [(1, "train")]
    cfg = params["real_data"][role]
    annotation_files: set[Path] = set()
    for key in ("annotations", "splits_dir", "list_file"):
        value = cfg.get(key)
        for item in (value.values() if isinstance(value, dict) else [value] if value else []):
            path = Path(item).expanduser()
            annotation_files.update(p for p in (path.rglob("*") if path.is_dir() else [path]) if p.is_file())
    videos: dict[str, int] = {}
    for split, sub in subsets:
        for sample in config.video_list(role, split, sub, "paper", params):
            videos[str(sample.path)] = Path(sample.path).stat().st_size
    return {"role": role, "counts": counts, "config": {k: str(v) for k, v in cfg.items()},
            "annotations": {str(p): file_sha256(p) for p in sorted(annotation_files)},
            "videos": dict(sorted(videos.items()))}


def write_real_manifests(params: dict, out: Path) -> dict:
    """``out/<role>/manifest.json`` for every role, and ``out/manifest.json`` (each role's counts and
    manifest hash): what the ``paper`` stages depend on. Every role is validated before anything is
    written; a role set to null in ``real_data`` (say, ImageNet for a tran2018-only study) is
    recorded as not configured instead, and the stages that read it stop with the config error."""
    manifests = {role: real_role_manifest(role, params) if not _left_out(role, "paper", params) else
                 {"role": role, "counts": {}, "not_configured": f"real_data.{role} is null: the stages that read it will stop"}
                 for role in PAPER_ROLES}
    summary = {"profile": "paper", "roles": {}}
    for role, manifest in manifests.items():
        digest = write_manifest(out / role / "manifest.json", manifest)
        summary["roles"][role] = {"counts": manifest["counts"], "manifest_sha256": digest}
    write_manifest(out / "manifest.json", summary)
    return summary


def plot_class_strips(role: str, profile: str, params: dict, frames_per_row: int = 6, max_classes: int = 40):
    """One row per class: ``frames_per_row`` frames spread over its first training video, as decoded from disk."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .video import VideoReadError, open_video, read_frames

    vl = config.video_list(role, 1, "train", profile, params)
    by_label: dict[int, list] = {}
    for s in vl:
        by_label.setdefault(s.label, []).append(s)

    def first_readable(samples) -> tuple[np.ndarray, np.ndarray] | None:
        for sample in samples:  # real copies hold broken files: show the class's first video that decodes
            try:
                reader = open_video(sample.path)
                idx = np.linspace(0, len(reader) - 1, frames_per_row).round().astype(int)
                return idx, read_frames(reader, idx)
            except VideoReadError:
                continue
        return None

    shown = {label: first_readable(by_label[label]) for label in sorted(by_label)[:max_classes]}
    labels = [label for label, got in shown.items() if got is not None]
    fig = Figure(figsize=(1.25 * frames_per_row, 0.95 * len(labels) + 0.4))  # no pyplot: a notebook's backend is left alone
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(labels), frames_per_row, squeeze=False)
    for row, label in enumerate(labels):
        idx, frames = shown[label]
        for col in range(frames_per_row):
            ax = axes[row, col]
            ax.imshow(frames[col])
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(vl.classes[label], rotation=0, ha="right", va="center", fontsize=7)
            if row == 0:
                ax.set_title(f"frame {idx[col]}", fontsize=7)
    what = "stand-in" if profile in config.SYNTHETIC_PROFILES else "(real)"
    fig.suptitle(f"{role} {what} ({profile}): one training video per class, frames left to right", fontsize=9)
    fig.tight_layout()
    return fig


def write_card(profile: str, params: dict, manifest: dict | None, out_dir: Path) -> Path:
    lines = [f"# Dataset card: `{profile}` profile", ""]
    if manifest:
        v = manifest["video"]
        lines += [
            "Synthetic action videos generated by `replicate.data.standins` (seed "
            f"{manifest['seed']}): {v['height']}x{v['width']} px, {v['frames'][0]}-{v['frames'][1]} frames at {v['fps']} fps, "
            "H.264 mp4 read back with decord. A class is an (actor appearance, motion program) pair; every twinned "
            "motion has a time-reversed twin with the same actor, so frame order is needed to tell the twins apart. "
            "See the module docstring of `replicate/data/synthetic.py` for the design.",
            "",
        ]
    else:
        lines += ["Real datasets from `params.yaml: real_data`, read by the official-format adapters.", ""]
    lines += ["| role | stands in for | what | sizes |", "|---|---|---|---|"]
    for role in _card_roles(profile):
        if _left_out(role, profile, params):
            lines.append(f"| `{role}` | {ROLE_DESCRIPTIONS[role][0]} | not configured (`real_data.{role}: null`) | |")
            continue
        counts = _split_counts(role, profile, params)  # a DatasetError stops the stage (validated before at paper)
        desc = ROLE_DESCRIPTIONS[role]
        lines.append(f"| `{role}` | {desc[0]} | {desc[1]} | " + ", ".join(f"{k}: {n}" for k, n in counts.items()) + " |")
    if manifest:
        for role in ("ucf101", "hmdb51", "kinetics"):
            classes = manifest["roles"][role]["classes"]
            lines += ["", f"## `{role}`: {len(classes)} classes", "",
                      f"![{role} samples]({role}_samples.png)", "",
                      "| # | class | actor | motion | time-reversed twin | partner |", "|---|---|---|---|---|---|"]
            for i, c in enumerate(classes):
                lines.append(f"| {i} | {c['name']} | {c['actor']} | {c['motion']} | {c['twin'] or '(none)'} | {c['partner'] or ''} |")
        lines += ["", "`kinetics`: like every real Kinetics copy, two listed training files are missing and two are broken "
                  "(one 0 bytes, one truncated); the loaders skip and count them.", ""]
        lines += ["`images`: classes " + ", ".join(manifest["roles"]["images"]["classes"]) + ".", ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    card = out_dir / "dataset_card.md"
    card.write_text("\n".join(lines) + "\n")
    return card


@cli
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", help="smoke | mini | paper (default: params.yaml's profile)")
    ap.add_argument("--params", default=None, help="params.yaml path")
    ap.add_argument("--out", default=None, help="data directory (default: data/<profile>)")
    ap.add_argument("--results", default=None, help="where the card and figures go (default: results/data/<profile>)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fresh", action="store_true", help="delete the data directory first (otherwise finished files are kept)")
    args = ap.parse_args(argv)
    params = config.load_params(args.params)
    profile = args.profile or params["profile"]
    prof = config.profile_params(params, profile)
    results = Path(args.results) if args.results else config.REPO_ROOT / "results" / "data" / profile
    out = Path(args.out) if args.out else config.data_dir(profile, params)
    manifest = None
    if profile in config.SYNTHETIC_PROFILES:
        if args.fresh and out.exists():
            shutil.rmtree(out)
        manifest = standins.build_all(out, prof["data"], prof["video"], seed=params["seed"], workers=args.workers)
        for role, played_by in config.STANDIN_FOR.items():  # a role with no stand-in of its own: say which plays it
            write_manifest(out / role / "standin.json", {"role": role, "played_by": played_by})
        if args.out:  # a custom location: point the readers at it
            params = {**params, "data_dir": str(Path(args.out).parent)}
        summary = manifest
    else:
        if args.fresh:
            raise DatasetError("--fresh deletes generated data; the paper profile generates none (real_data is read only)")
        summary = write_real_manifests(params, out)
    card = write_card(profile, params, manifest, results)
    for role in ("ucf101", "hmdb51", "kinetics"):
        if _left_out(role, profile, params):
            continue  # left out (real_data.<role>: null): the card says so
        fig = plot_class_strips(role, profile, params)
        fig.savefig(results / f"{role}_samples.png", dpi=80)
    (results / "manifest.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
