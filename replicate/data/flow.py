"""Optical flow for the two-stream models: compute, quantize, store next to the videos, load.

Which paper used what, and why it matters here:

* Simonyan & Zisserman (2014, two-stream ConvNets) feed the temporal stream a stack of L = 10
  consecutive flow fields, interleaved as ``[x_0, y_0, x_1, y_1, ...]`` (2L = 20 channels);
  :func:`stack_flow` builds exactly that input.
* feichtenhofer2016 (two-stream fusion) computes TV-L1 flow (OpenCV's implementation) and,
  following the two-stream convention, stores it as JPEG-like 8-bit images after clipping to
  +-20 px and linearly rescaling to 0..255. We keep that quantization (:func:`quantize_flow`),
  so the temporal stream sees the same value range and resolution as in the paper. TV-L1 is in
  opencv-contrib only (``cv2.optflow``); ``method="tvl1"`` uses it when installed.
* tran2018 (R(2+1)D) computes Farneback flow "due to its efficiency" and feeds its flow stream
  2-channel clips ``(2, T, H, W)`` (:func:`flow_clip`). Farneback ships with plain OpenCV, so it
  is the default here and the method every test and CI run uses.

Storage mirrors the video tree: ``<video_root>/<rel>.mp4`` -> ``<flow_root>/<rel>.npz`` with
``flow`` (uint8, ``(T-1, H, W, 2)``, flow from frame t to t+1 in ``flow[t]``), ``bound`` and
``method``. Compute a whole tree with::

    python -m replicate.data.flow --videos DIR --out DIR [--method farneback] [--workers N] [--figure PNG]
    python -m replicate.data.flow --role kinetics --profile paper    # what the flow@<role> stages call

``--role R --profile P`` finds both trees in params.yaml (:func:`replicate.config.flow_roots`): at
the synthetic profiles ``data/<P>/<R>/videos`` -> ``data/<P>/flow/<R>``; at ``paper``
``real_data.<R>.root`` -> ``real_data.<R>.flow_root``, with a manifest of the flow files (sizes)
in ``data/paper/flow/<R>/manifest.json``, the stage's output. A role that another role's stand-in
plays at a synthetic profile (``sports1m``) gets a marker saying so there instead.
"""
from __future__ import annotations

import argparse
import os
from multiprocessing import Pool
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from replicate.data.video import VIDEO_EXTENSIONS, VideoReadError, read_all_frames
from replicate.errors import BadValueError, cli

# Clip flow to +-BOUND px before 8-bit quantization (feichtenhofer2016 / two-stream convention):
# at the datasets' 320x240-ish resolution almost all motion between consecutive frames is below
# 20 px, and the 256 levels then give a step of 40/255 = 0.157 px.
BOUND = 20.0

# Farneback parameters: OpenCV's documented standard values (tran2018 gives none). pyr_scale 0.5
# with 3 levels handles motions up to ~ winsize * 2**levels px; winsize 15 averages over a
# neighbourhood large enough to be robust to noise and compression artefacts; poly_n 5 with
# poly_sigma 1.2 is the pairing OpenCV recommends for the polynomial expansion.
FARNEBACK_PYR_SCALE = 0.5
FARNEBACK_LEVELS = 3
FARNEBACK_WINSIZE = 15
FARNEBACK_ITERATIONS = 3
FARNEBACK_POLY_N = 5
FARNEBACK_POLY_SIGMA = 1.2
FARNEBACK_FLAGS = 0

# ToTensorCTHW(*FLOW_PIXELS) turns stored uint8 flow into flow in pixels: (q / 255 - 0.5) * 2 * BOUND
FLOW_PIXELS = (0.5, 1.0 / (2.0 * BOUND))

GENERATE_COMMAND = "python -m replicate.data.flow --videos VIDEO_ROOT --out FLOW_ROOT"

PairFlow = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (gray_t, gray_t+1) -> float32 (H, W, 2)


def _farneback() -> PairFlow:
    import cv2

    def pair(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(
            prev, nxt, None, FARNEBACK_PYR_SCALE, FARNEBACK_LEVELS, FARNEBACK_WINSIZE,
            FARNEBACK_ITERATIONS, FARNEBACK_POLY_N, FARNEBACK_POLY_SIGMA, FARNEBACK_FLAGS,
        )

    return pair


def _tvl1() -> PairFlow:
    import cv2

    if not hasattr(cv2, "optflow"):
        # Both wheels install the same cv2 module; having the two side by side breaks the import.
        raise RuntimeError(
            "method 'tvl1' needs OpenCV's contrib modules (cv2.optflow), which this OpenCV "
            f"{cv2.__version__} lacks. Install them with: pip uninstall -y opencv-python-headless "
            "&& pip install opencv-contrib-python-headless  (or use method='farneback')"
        )
    # OpenCV's default TV-L1 parameters, as in feichtenhofer2016's OpenCV-based flow extraction.
    algo = cv2.optflow.DualTVL1OpticalFlow_create()
    return lambda prev, nxt: algo.calc(prev, nxt, None)


FLOW_METHODS: dict[str, Callable[[], PairFlow]] = {"farneback": _farneback, "tvl1": _tvl1}


def _pair_flow(method: str) -> PairFlow:
    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; known methods: {', '.join(sorted(FLOW_METHODS))}")
    return FLOW_METHODS[method]()


def compute_flow(frames: np.ndarray, method: str = "farneback") -> np.ndarray:
    """Flow between consecutive frames of uint8 RGB ``(T, H, W, 3)``: float32 ``(T-1, H, W, 2)``.

    ``flow[t, y, x] = (dx, dy)`` in pixels: the content at ``(x, y)`` in frame t is at
    ``(x + dx, y + dy)`` in frame t+1. Computed on grayscale, as both OpenCV methods require.
    """
    import cv2

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if len(frames) < 2:
        raise ValueError(f"optical flow needs at least 2 frames, got {len(frames)}")
    pair = _pair_flow(method)
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    return np.stack([pair(a, b) for a, b in zip(gray[:-1], gray[1:])]).astype(np.float32, copy=False)


def quantize_flow(flow: np.ndarray, bound: float = BOUND) -> np.ndarray:
    """Clip to ``+-bound`` px and map linearly to uint8: -bound -> 0, +bound -> 255.

    Rounding is half-up, so zero flow (127.5) is stored as 128 and dequantizes to
    +bound/255 = 0.078 px; every value within the bound comes back within half a step
    (``bound / 255``), values beyond it come back as ``+-bound``.
    """
    scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2.0 * bound))
    return np.floor(scaled + 0.5).astype(np.uint8)


def dequantize_flow(q: np.ndarray, bound: float = BOUND) -> np.ndarray:
    """Inverse of :func:`quantize_flow`: uint8 -> float32 flow in pixels."""
    return (q.astype(np.float32) * np.float32(2.0 * bound / 255.0) - np.float32(bound)).astype(np.float32)


def resize_flow(q: np.ndarray, size: tuple[int, int], bound: float = BOUND) -> np.ndarray:
    """Stored uint8 flow ``(T, H, W, 2)`` at another frame size ``(h, w)``: the fields are
    resized (bilinear) and the vectors scaled with them (x by ``w / W``, y by ``h / H``)."""
    import cv2

    t, height, width, _ = q.shape
    h, w = size
    if (h, w) == (height, width):
        return q
    flow = dequantize_flow(q, bound)
    out = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in flow]) if t else np.zeros((0, h, w, 2), np.float32)
    out *= np.array([w / width, h / height], dtype=np.float32)
    return quantize_flow(out, bound)


def flow_path(video_path: os.PathLike | str, video_root: os.PathLike | str, flow_root: os.PathLike | str) -> Path:
    """``<video_root>/<rel>.<ext>`` -> ``<flow_root>/<rel>.npz`` (the extension is replaced)."""
    video_path, video_root = Path(video_path), Path(video_root)
    try:
        rel = video_path.relative_to(video_root)
    except ValueError:
        raise ValueError(f"video {video_path} is not under the video root {video_root}") from None
    return Path(flow_root) / rel.with_suffix(".npz")


def save_flow(path: os.PathLike | str, flow_uint8: np.ndarray, method: str, bound: float = BOUND) -> Path:
    """Write the npz atomically: an interrupted run leaves a stray ``.part`` file, never a half npz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid keeps two runs writing the same tree from clobbering each other's temp file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as fh:  # a file object stops numpy from appending ".npz" to the temp name
            np.savez_compressed(fh, flow=flow_uint8, bound=np.float32(bound), method=np.str_(method))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_flow(path: os.PathLike | str) -> np.ndarray:
    """Stored flow as uint8 ``(T-1, H, W, 2)``; dequantize with :func:`dequantize_flow`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"optical flow file {path} does not exist; generate it with: {GENERATE_COMMAND}")
    with np.load(path) as data:
        bound = float(data["bound"])
        if bound != BOUND:  # dequantize_flow/stack_flow assume BOUND; another bound would scale the flow wrongly
            raise ValueError(f"{path} was quantized with bound {bound}, this code expects {BOUND}; regenerate it with: {GENERATE_COMMAND}")
        return data["flow"]


def _clamped(indices: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        raise ValueError("flow array holds no flow frames")
    if indices.size and indices.min() < 0:
        raise ValueError(f"flow indices must be >= 0, got {indices.min()}")
    # A clip sampled near the end of a video asks for flow past the last pair of frames
    # (a T-frame video has only T-1 flow fields); repeating the last field keeps the input
    # shape fixed, like the frame samplers' end padding.
    return np.minimum(indices, n - 1)


def stack_flow(flow_uint8: np.ndarray, start: int, L: int = 10, stride: int = 1) -> np.ndarray:
    """Simonyan & Zisserman optical-flow stacking: float32 ``(2L, H, W)`` in pixels.

    Uses flow frames ``start, start+stride, ..., start+(L-1)*stride``; channels are interleaved
    ``[x_0, y_0, x_1, y_1, ...]``. Indices past the last flow frame are clamped to it.
    """
    idx = _clamped(start + stride * np.arange(L), len(flow_uint8))
    stacked = dequantize_flow(flow_uint8[idx])  # (L, H, W, 2)
    _, h, w, _ = stacked.shape
    return np.ascontiguousarray(stacked.transpose(0, 3, 1, 2).reshape(2 * L, h, w))


def flow_clip(flow_uint8: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """Flow clip for 3D networks (tran2018's R(2+1)D flow stream): float32 ``(2, T, H, W)`` in px.

    Channel 0 is dx, channel 1 is dy. Indices past the last flow frame are clamped to it, so
    the frame indices of an RGB clip can be passed unchanged.
    """
    idx = _clamped(np.asarray(indices, dtype=np.int64), len(flow_uint8))
    return np.ascontiguousarray(dequantize_flow(flow_uint8[idx]).transpose(3, 0, 1, 2))


def find_videos(video_root: os.PathLike | str) -> list[Path]:
    """All videos under ``video_root`` (recursive), sorted so runs and figures are reproducible."""
    root = Path(video_root)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file())


def _up_to_date(video: Path, out: Path, method: str) -> bool:
    if not out.is_file() or out.stat().st_mtime < video.stat().st_mtime:
        return False
    # flow from another method or bound in the same tree is stale, not "done"
    with np.load(out) as data:
        return str(data["method"]) == method and float(data["bound"]) == BOUND


def _flow_one(job: tuple[Path, Path, str]) -> tuple[str, Path]:
    """Compute and store one video's flow. Returns ("computed" | "broken", video) for the parent to count."""
    video, out, method = job
    try:
        frames = read_all_frames(video)
    except VideoReadError:
        return "broken", video
    if len(frames) < 2:  # a single frame has no motion to store
        return "broken", video
    save_flow(out, quantize_flow(compute_flow(frames, method)), method)
    return "computed", video


def _init_worker() -> None:
    import cv2

    # the pool already uses every core; OpenCV's own threads would only oversubscribe them
    cv2.setNumThreads(1)


def compute_flow_tree(
    video_root: os.PathLike | str,
    flow_root: os.PathLike | str,
    method: str = "farneback",
    overwrite: bool = False,
    workers: int = 1,
) -> dict[str, int | list[str]]:
    """Compute flow for every video under ``video_root`` into the mirrored tree ``flow_root``.

    Resumable: a video whose npz exists, is newer than the video and was made with the same
    method and bound is skipped (unless ``overwrite``). Broken videos (unreadable, or fewer than
    2 frames) are skipped and counted, never written. Each video's flow depends only on that video, so ``workers > 1`` gives the
    same files as ``workers == 1``. Returns ``{"computed", "up_to_date", "broken": int,
    "broken_files": [str]}`` and prints the same as one summary line.
    """
    from tqdm import tqdm

    _pair_flow(method)  # unknown or unavailable method: fail before touching any video
    video_root, flow_root = Path(video_root), Path(flow_root)
    videos = find_videos(video_root)
    outs = [flow_path(v, video_root, flow_root) for v in videos]
    seen: dict[Path, Path] = {}
    for v, o in zip(videos, outs):
        if o in seen:  # a.mp4 and a.avi in one folder would silently share a.npz
            raise BadValueError(f"{seen[o]} and {v} would both store their flow in {o}; rename one")
        seen[o] = v

    counts: dict[str, int | list[str]] = {"computed": 0, "up_to_date": 0, "broken": 0, "broken_files": []}
    jobs = []
    for v, o in zip(videos, outs):
        if not overwrite and _up_to_date(v, o, method):
            counts["up_to_date"] += 1
        else:
            jobs.append((v, o, method))

    def tally(results) -> None:
        for status, video in tqdm(results, total=len(jobs), desc=f"flow ({method})", unit="video", disable=None):  # None: bars on a terminal only, not in logs
            counts[status] += 1
            if status == "broken":
                counts["broken_files"].append(str(video.relative_to(video_root)))

    if workers > 1 and len(jobs) > 1:
        with Pool(min(workers, len(jobs)), initializer=_init_worker) as pool:
            tally(pool.imap(_flow_one, jobs))  # imap keeps input order: the broken list is reproducible
    else:
        tally(map(_flow_one, jobs))

    broken = counts["broken_files"]
    named = f" ({', '.join(broken[:5])}{', ...' if len(broken) > 5 else ''})" if broken else ""
    print(f"flow {method}: {counts['computed']} computed, {counts['up_to_date']} up to date, "
          f"{counts['broken']} broken{named} -> {flow_root}")
    return counts


def flow_to_rgb(flow: np.ndarray, max_magnitude: float = BOUND) -> np.ndarray:
    """Standard HSV flow colouring of float ``(H, W, 2)``: hue = direction, value = |flow| / max.

    Normalising by a fixed ``max_magnitude`` (BOUND by default, the largest storable flow)
    rather than per frame keeps brightness comparable across frames and videos.
    """
    from matplotlib.colors import hsv_to_rgb

    dx, dy = flow[..., 0], flow[..., 1]
    hue = (np.arctan2(dy, dx) / (2 * np.pi)) % 1.0
    value = np.clip(np.hypot(dx, dy) / max_magnitude, 0.0, 1.0)
    return hsv_to_rgb(np.stack([hue, np.ones_like(hue), value], axis=-1))


def _colour_wheel(size: int = 65) -> np.ndarray:
    """RGBA legend: the colour each (dx, dy) up to the normalising magnitude gets, transparent outside."""
    r = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    dx, dy = np.meshgrid(r, r)  # image coordinates, like the flow: +dy points down
    rgb = flow_to_rgb(np.stack([dx, dy], axis=-1), max_magnitude=1.0)
    alpha = (np.hypot(dx, dy) <= 1.0).astype(np.float32)
    return np.concatenate([rgb, alpha[..., None]], axis=-1)


def _figure(videos: Sequence[tuple[np.ndarray, np.ndarray, str]], n: int, title: str | None, max_magnitude: float):
    """Two rows per video (frames, then their flow), ``n`` columns, plus a colour-wheel legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    prepared = []
    for frames, flow, label in videos:
        flow = dequantize_flow(flow) if flow.dtype == np.uint8 else np.asarray(flow, dtype=np.float32)
        k = min(n, len(flow))
        picks = np.linspace(0, len(flow) - 1, k).round().astype(int)  # spread over the whole video
        prepared.append((frames, flow, label, picks))
    cols = max(len(p[3]) for p in prepared)
    h, w = prepared[0][0].shape[1:3]
    panel_w, gap = 1.6, 0.3  # inches; the gap (as a fraction of a panel) leaves room for the t= titles
    panel_h = panel_w * h / w
    rows = 2 * len(prepared)
    head, foot = (0.5 if title else 0.15), 0.1
    fig_h = rows * panel_h * (1 + gap) + head + foot
    left, legend = 0.3, 1.5  # inches: room for the row labels, and for the colour wheel on the right
    fig_w = panel_w * cols + left + legend
    fig = Figure(figsize=(fig_w, fig_h))
    # An Agg canvas on this figure alone, not pyplot: nothing opens a window and the caller's
    # global backend (e.g. a notebook's inline one) is left alone.
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(rows, cols, left=left / fig_w, right=1 - legend / fig_w,
                            top=1 - head / fig_h, bottom=foot / fig_h, wspace=0.04, hspace=gap)
    for row, (frames, flow, label, picks) in enumerate(prepared):
        for col, t in enumerate(picks):
            top, bottom = fig.add_subplot(grid[2 * row, col]), fig.add_subplot(grid[2 * row + 1, col])
            top.imshow(frames[t])
            top.set_title(f"t={t}", fontsize=7)
            bottom.imshow(flow_to_rgb(flow[t], max_magnitude))
            for ax in (top, bottom):
                ax.set_xticks([])
                ax.set_yticks([])
            if col == 0:
                top.set_ylabel(label or "frame", fontsize=7)
                bottom.set_ylabel("flow", fontsize=7)
    side = min(0.9, fig_h - head - foot - 0.4)  # inches, square
    wheel = fig.add_axes([1 - (legend - 0.4) / fig_w, 0.5 - side / 2 / fig_h, side / fig_w, side / fig_h])
    wheel.imshow(_colour_wheel(), extent=(-max_magnitude, max_magnitude, max_magnitude, -max_magnitude))
    wheel.set_title(f"flow (dx, dy)\nrim = {max_magnitude:g} px", fontsize=7)
    wheel.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def plot_frames_and_flow(frames: np.ndarray, flow: np.ndarray, n: int = 6, title: str | None = None,
                         max_magnitude: float = BOUND):
    """Matplotlib Figure: ``n`` frames (spread over the video) on top, their flow below, plus a legend.

    ``flow`` may be stored uint8 or float pixels; ``flow[t]`` (frame t -> t+1) sits under frame t.
    Colours: hue = direction, value = magnitude / ``max_magnitude`` (see :func:`flow_to_rgb`);
    lower ``max_magnitude`` to see motions of a few pixels. Gives ``2 * min(n, T-1) + 1`` axes.
    """
    return _figure([(frames, flow, "")], n, title, max_magnitude)


#: the dataset roles with two-stream rows (params.yaml: real_data.<role>.flow_root)
FLOW_ROLES = ("ucf101", "hmdb51", "kinetics", "sports1m")


def role_trees(role: str, profile: str | None, params: dict | None = None) -> tuple[Path, Path, Path | None, str | None]:
    """``(video_root, flow_root, manifest, played_by)`` of a role at a profile: the manifest path
    when the flow goes outside the stage's output folder (real data), and the role whose stand-in
    plays this one at a synthetic profile (then nothing is computed)."""
    from .. import config
    from ..errors import UnknownNameError

    if role not in FLOW_ROLES:
        raise UnknownNameError(f"unknown flow role {role!r}; roles with optical flow: {', '.join(FLOW_ROLES)}")
    params = params or config.load_params()
    profile = profile or params["profile"]
    config.profile_params(params, profile)  # an unknown profile: one line
    stage_out = config.data_dir(profile, params) / "flow" / role
    played_by = config.data_role(role, profile)
    if played_by != role:
        return stage_out, stage_out, stage_out / "standin.json", played_by
    video_root, flow_root = config.flow_roots(role, profile, params, must_exist=False)
    if not video_root.is_dir():
        from .samples import DatasetError

        raise DatasetError(f"videos of {role} not found at {video_root}: "
                           + ("run `dvc repro data` first" if profile in config.SYNTHETIC_PROFILES
                              else f"set real_data.{role}.root in params.yaml"))
    return video_root, flow_root, (None if flow_root == stage_out else stage_out / "manifest.json"), None


@cli
def main(argv: Sequence[str] | None = None) -> dict[str, int | list[str]]:
    parser = argparse.ArgumentParser(prog="python -m replicate.data.flow", description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, help="video root, searched recursively")
    parser.add_argument("--out", type=Path, help="flow root: <videos>/<rel>.mp4 -> <out>/<rel>.npz")
    parser.add_argument("--role", help=f"instead of --videos/--out: a dataset role ({', '.join(FLOW_ROLES)}) at --profile")
    parser.add_argument("--profile", help="with --role: smoke | mini | paper (default: params.yaml's profile)")
    parser.add_argument("--method", default="farneback", choices=sorted(FLOW_METHODS))
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--overwrite", action="store_true", help="recompute even up-to-date flow")
    parser.add_argument("--figure", type=Path, help="write a PNG of frames + flow for the first 3 videos")
    parser.add_argument("--figure-max-px", type=float, default=BOUND,
                        help=f"flow magnitude shown at full brightness in the figure (default {BOUND:g})")
    args = parser.parse_args(argv)
    if (args.role is None) == (args.videos is None or args.out is None) or (args.role and (args.videos or args.out)):
        parser.error("give either --videos and --out, or --role (with --profile)")
    try:
        _pair_flow(args.method)  # e.g. tvl1 without opencv-contrib: one clear line, not a traceback
    except RuntimeError as exc:
        parser.error(str(exc))
    manifest = None
    if args.role:
        args.videos, args.out, manifest, played_by = role_trees(args.role, args.profile)
        if played_by:
            import hashlib
            import json

            from .. import config
            from .manifest import tree_sizes, write_manifest

            _, played_flow = config.flow_roots(played_by, args.profile)
            listing = json.dumps(tree_sizes(played_flow, (".npz",)), sort_keys=True).encode()
            write_manifest(manifest, {"role": args.role, "played_by": played_by,
                                      "note": f"at this profile {played_by}'s stand-in plays {args.role}: its flow is "
                                              f"{played_by}'s (flow@{played_by})",
                                      "flow_files_sha256": hashlib.sha256(listing).hexdigest()})
            print(f"{args.role}: played by {played_by}'s stand-in at this profile; wrote {manifest}")
            return {"computed": 0, "up_to_date": 0, "broken": 0, "broken_files": []}
    elif not args.videos.is_dir():
        parser.error(f"--videos {args.videos} is not a folder")

    counts = compute_flow_tree(args.videos, args.out, args.method, overwrite=args.overwrite, workers=args.workers)
    if manifest is not None:  # the flow is outside the stage's output: DVC tracks this list of it instead
        from .manifest import tree_sizes, write_manifest

        write_manifest(manifest, {"role": args.role, "videos": str(args.videos), "flow_root": str(args.out),
                                  "method": args.method, "broken_files": counts["broken_files"],
                                  "files": tree_sizes(args.out, (".npz",))})
        print(f"manifest -> {manifest}")
    if args.figure:
        shown = []
        folders: set[Path] = set()
        for video in find_videos(args.videos):
            out = flow_path(video, args.videos, args.out)
            if out.is_file() and video.parent not in folders:  # broken videos have no flow; one per class folder
                folders.add(video.parent)
                shown.append((read_all_frames(video), load_flow(out), video.parent.name))
            if len(shown) == 3:
                break
        if shown:
            args.figure.parent.mkdir(parents=True, exist_ok=True)
            _figure(shown, 6, f"optical flow ({args.method})", args.figure_max_px).savefig(args.figure, dpi=90)
            print(f"figure -> {args.figure}")
        else:
            print("no flow to plot, figure not written")
    return counts


if __name__ == "__main__":
    main()
