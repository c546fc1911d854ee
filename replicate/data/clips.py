"""Clips: which frames to read from a video, and the Dataset that reads and transforms them.

The protocols of the replicated papers:

* training: one clip per video per epoch at a random start (temporal jittering), clip length
  ``L`` (8..48 frames) sampled every ``stride`` frames (1/2/4/16 ablations);
* testing, tran2018 (R(2+1)D): ``N = 10`` uniformly spaced clips per video, clip scores
  averaged per video (video@1) -- ``mode="test", num_clips=10``;
* testing, diba2017/2018 (T3D, STC): all non-overlapping clips, scores averaged -- ``num_clips="all"``.

A clip starting at ``s`` reads frames ``s + i * stride`` for ``i < L``. Indices past the end of
the video wrap around to its start (the video is looped): this is what VMZ and most video
loaders do for videos shorter than a clip span, it keeps every clip exactly ``L`` frames long,
and it means no video has to be dropped for being short.

Broken videos are never fatal. :func:`probe_videos` sorts out the files that cannot be opened
(missing, empty, truncated headers) before training; a file that opens but fails while
decoding a clip is logged once and replaced (train) or skipped (test, see
:func:`collate_skip_none`). Retries are bounded, so nothing loops forever.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate
from tqdm import tqdm

from replicate.data.samples import DatasetError, VideoSample
from replicate.data.transforms import Rng, ToTensorCTHW, randint, short_side_size
from replicate.data.flow import flow_path, load_flow, resize_flow
from replicate.data.video import VideoReadError, decoder_version, open_video, read_frames

log = logging.getLogger(__name__)

SAMPLING_MODES = ("random", "uniform", "all")
DATASET_MODES = ("train", "test")
_PROGRESS_MIN_VIDEOS = 200  # below this, probing takes well under a second: no bar
# Part of every frame-cache key, with decord's version: bump it when what _read_whole returns for the
# same file changes (another resize, another flow decoding), so that no run reads frames of the old code.
FRAME_CACHE_FORMAT = 1
_CACHE_VERSION = 1

ProbeResult = tuple[list[tuple[VideoSample, int]], list[tuple[VideoSample, str]]]

# numpy parses every stored array's header with ast.literal_eval, and before 3.12 CPython keeps the
# ast converter's recursion counter per interpreter, not per thread: two decoding threads parsing at
# once can fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905;
# it failed CI once). The threads of ClipDataset._cache_all_frames therefore open stored arrays one
# at a time: a frame-cache entry's header under the lock and its read outside it; a flow file whole
# (resizing outside), since numpy parses and inflates an .npz member in one call.
_STORED_ARRAY_LOCK = threading.Lock()


# --------------------------------------------------------------------------- probing


def _load_cache(cache: Path) -> dict[str, dict[str, Any]]:
    if not cache.is_file():
        return {}
    try:
        data = json.loads(cache.read_text())
        if data.get("version") == _CACHE_VERSION:
            return dict(data["entries"])
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        log.warning("ignoring unreadable probe cache %s (%s); it will be rebuilt", cache, exc)
        return {}
    log.warning("ignoring probe cache %s written by another version; it will be rebuilt", cache)
    return {}


def _save_cache(cache: Path, entries: dict[str, dict[str, Any]]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    # write then rename: concurrent runs (one per GPU) never read a half-written file
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": entries}))
    os.replace(tmp, cache)


def _probe_one(path: Path) -> dict[str, Any]:
    try:
        return {"num_frames": len(open_video(path)), "reason": None}
    except VideoReadError as exc:
        return {"num_frames": None, "reason": exc.reason}


def probe_videos(
    video_list: Iterable[VideoSample],
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> ProbeResult:
    """Count the frames of every video; return ``(readable, broken)``, never raise for a file.

    ``readable`` is ``[(sample, num_frames)]`` and ``broken`` is ``[(sample, reason)]``, both in
    input order. Only the container is opened (decord reads the header and index, no frame is
    decoded), so a file whose header is fine but whose data is truncated is caught later, when
    a clip is decoded. ``cache`` is a json file keyed by absolute path, size and mtime, so
    re-runs are instant and a replaced file is probed again. The tqdm bar goes to stderr and
    only appears for ``progress=True`` and at least 200 videos.
    """
    samples = list(video_list)
    cache_path = Path(cache) if cache is not None else None
    entries = _load_cache(cache_path) if cache_path is not None else {}
    changed = False
    readable: list[tuple[VideoSample, int]] = []
    broken: list[tuple[VideoSample, str]] = []
    bar = tqdm(
        samples,
        desc="probing videos",
        unit="video",
        file=sys.stderr,
        disable=not progress or len(samples) < _PROGRESS_MIN_VIDEOS,
    )
    for sample in bar:
        key = os.path.abspath(sample.path)
        try:
            stat = os.stat(key)
        except OSError:
            broken.append((sample, "file does not exist"))
            continue
        entry = entries.get(key)
        if entry is None or entry.get("size") != stat.st_size or entry.get("mtime_ns") != stat.st_mtime_ns:
            entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **_probe_one(Path(key))}
            entries[key] = entry
            changed = True
        if entry["num_frames"] is None:
            broken.append((sample, entry["reason"]))
        else:
            readable.append((sample, int(entry["num_frames"])))
    if cache_path is not None and changed:
        _save_cache(cache_path, entries)
    return readable, broken


# --------------------------------------------------------------------------- clip positions


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def clip_starts(
    num_frames: int,
    clip_len: int,
    stride: int,
    mode: str,
    num_clips: int | None = None,
    rng: Rng | None = None,
) -> list[int]:
    """Start frames of the clips to read from a video of ``num_frames`` frames.

    A clip spans ``(clip_len - 1) * stride + 1`` frames; "valid" starts are those whose span
    fits in the video. A video shorter than one span has the single start 0 (its clip loops,
    see :func:`clip_indices`).

    * ``"random"``: one start, uniform over the valid starts, drawn from ``rng`` (required,
      so that training clips are reproducible) -- training-time temporal jittering.
    * ``"uniform"``: ``num_clips`` evenly spaced starts from the first to the last valid one,
      so together they cover the video (tran2018's 10 test clips); one clip is the centre
      clip. Always exactly ``num_clips`` starts -- a video with fewer valid starts repeats
      some, which leaves the per-video average unchanged.
    * ``"all"``: consecutive non-overlapping clips ``0, L*stride, 2*L*stride, ...`` (the
      sampling grid continues across clips) as long as they fit; trailing frames that do not
      fill a clip are left out, and a short video gives one clip (diba2017/2018's test protocol).
    """
    _check_positive(num_frames=num_frames, clip_len=clip_len, stride=stride)
    last = num_frames - ((clip_len - 1) * stride + 1)  # last valid start; < 0: shorter than a clip
    if mode == "random":
        if rng is None:
            raise ValueError("mode 'random' needs rng (a numpy or torch Generator) so clips are reproducible")
        return [randint(rng, 0, max(last, 0) + 1)]
    if mode == "uniform":
        _check_positive(num_clips=num_clips)
        if last <= 0:
            return [0] * num_clips
        if num_clips == 1:
            return [last // 2]
        # round(k * last / (num_clips - 1)) in integers: first start 0, last start `last`
        return [(2 * k * last + num_clips - 1) // (2 * (num_clips - 1)) for k in range(num_clips)]
    if mode == "all":
        step = clip_len * stride
        return list(range(0, max(last, 0) + 1, step))
    raise ValueError(f"unknown clip sampling mode {mode!r}; valid modes: {', '.join(SAMPLING_MODES)}")


def clip_indices(start: int, clip_len: int, stride: int, num_frames: int) -> np.ndarray:
    """Frame indices ``start + i * stride`` for ``i < clip_len``, looped past the last frame.

    Looping (index modulo ``num_frames``) is the VMZ / common-loader choice for short videos:
    the clip keeps its length and temporal stride, at the cost of a jump back to frame 0.
    """
    _check_positive(clip_len=clip_len, stride=stride, num_frames=num_frames)
    if not 0 <= start < num_frames:
        raise ValueError(f"start {start} is outside a video of {num_frames} frames")
    return (start + np.arange(clip_len, dtype=np.int64) * stride) % num_frames


# --------------------------------------------------------------------------- dataset


def _header_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` from the container header (PyAV), without decoding a frame.

    decord cannot report the frame size without decoding, and resizing while decoding needs
    both target sides, so an aspect-preserving decode size has to start from here.
    """
    import av

    try:
        with av.open(str(path)) as container:
            context = container.streams.video[0].codec_context
            return int(context.height), int(context.width)
    except (av.FFmpegError, IndexError) as exc:
        raise VideoReadError(path, f"cannot read the frame size from the header ({exc})") from None


class ClipDataset(Dataset):
    """Clips of the videos in ``video_list``, as dicts ready for a DataLoader.

    Items are ``{"clip": float (C, T, H, W), "label": int (-1 if unlabelled),
    "video_index": int, "clip_index": int}``; ``video_index`` indexes :attr:`videos`,
    :attr:`video_ids` and :attr:`labels` (readable videos only), so an evaluator can average
    clip scores per video with :func:`average_clip_scores`.

    * ``mode="train"``: one item per video, a clip at a random start (temporal jittering);
      its randomness (start and transform) depends only on ``(seed, epoch, index)``, so an
      epoch replays exactly after a resume, whatever the worker count. Call
      :meth:`set_epoch` before iterating each epoch. ``num_clips`` is not used.
    * ``mode="test"``: one item per (video, clip), deterministic; ``num_clips`` uniform clips
      per video (tran2018: 10) or ``"all"`` non-overlapping clips (diba2017/2018).

    ``transform(frames, rng)`` maps uint8 ``(T, H, W, 3)`` frames to the clip tensor (see
    ``replicate.data.transforms``); the default only scales to [0, 1] and makes it CTHW.
    ``decode_size`` resizes inside the decoder, much cheaper than resizing decoded frames:
    ``(h, w)`` (tran2018: ``(128, 171)``) or an int short side (aspect kept, frame size read
    from each container's header once).

    Videos that cannot be opened are excluded at construction, listed in :attr:`broken` and
    reported in one warning. A clip that fails to decode is logged once per video; in train
    mode the item becomes a clip of another video (drawn from the item's generator, so still
    deterministic; at most :attr:`max_fallbacks` others are tried), in test mode the item is
    ``None`` -- load with ``collate_fn=collate_skip_none``. Both are counted in
    :attr:`num_failed_items` and :attr:`decode_failures`.

    ``cache_frames=True`` decodes every video once, at construction, and keeps its frames in
    memory (uint8, at ``decode_size``): clips are then slices, with no decoding per epoch.
    For small datasets (the embedded ``mini`` ones: decoding costs as much CPU as a 3D
    ResNet's training step there). Forked DataLoader workers share the frames. If the frames
    would need more than ``cache_limit_bytes`` it warns and decodes per clip instead.
    ``frame_cache_dir`` keeps those frames on disk too, one ``.npy`` per video (about 1 MB for a
    ``mini`` video), so the next dataset over the same videos -- the next run of the study --
    loads them instead of decoding: about 10x faster. Entries are keyed by the source file's
    path, size and modification time, the decode size and the probed length, decord's version and
    :data:`FRAME_CACHE_FORMAT`, so an edited or re-generated video, another decoder or changed
    decoding code reads afresh; stale entries are never read (delete the folder freely).

    ``flow=(video_root, flow_root)`` makes a flow-stream dataset (tran2018's R(2+1)D-Flow): the
    same clips of the same videos, read from the optical flow stored beside them
    (``replicate.data.flow``: ``<flow_root>/<path relative to video_root>.npz``, uint8
    ``(T-1, H, W, 2)``). Frame indices are the RGB clip's; flow index ``t`` is the flow from frame
    ``t`` to ``t + 1`` (the last one repeats at the end of the video). Flow stored at another size
    than ``decode_size`` is resized, its vectors scaled with it. Transforms get uint8
    ``(T, H, W, 2)``; use ``flow=True`` in the flip and ``replicate.data.flow.FLOW_PIXELS`` as
    mean/std to feed the network flow in pixels. A video without a flow file is skipped and
    reported like a broken one.

    ``segments=S`` (> 1, train mode): TSN's sampling (T3D+TSN, diba2017 Table 10): the video is cut into S
    equal segments and one clip starts at a random frame of each (a clip may run past its segment; past the
    video's end it loops); an item's ``clip`` is ``(S, C, T, H, W)``, the S clips under one crop and flip (the
    transform sees them as one clip). The network averages its S outputs (segment consensus).
    """

    max_fallbacks = 5  # other videos tried after a decode failure before giving up (train mode)

    def __init__(
        self,
        video_list: Iterable[VideoSample],
        clip_len: int,
        stride: int = 1,
        mode: Literal["train", "test"] = "train",
        num_clips: int | Literal["all"] = 10,
        transform: Callable[[np.ndarray, Rng], torch.Tensor] | None = None,
        decode_size: int | tuple[int, int] | None = None,
        seed: int = 0,
        probe_cache: str | os.PathLike | None = None,
        progress: bool = True,
        cache_frames: bool = False,
        cache_limit_bytes: int = 8 << 30,
        flow: tuple[str | os.PathLike, str | os.PathLike] | None = None,
        frame_cache_dir: str | os.PathLike | None = None,
        segments: int = 1,
    ):
        if mode not in DATASET_MODES:
            raise ValueError(f"unknown dataset mode {mode!r}; valid modes: {', '.join(DATASET_MODES)}")
        _check_positive(clip_len=clip_len, stride=stride)
        if mode == "test" and num_clips != "all" and not (isinstance(num_clips, int) and num_clips > 0):
            raise ValueError(f"num_clips must be a positive integer or 'all', got {num_clips!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if isinstance(decode_size, (tuple, list)) and len(decode_size) == 2:
            _check_positive(decode_height=decode_size[0], decode_width=decode_size[1])
            decode_size = (int(decode_size[0]), int(decode_size[1]))
        elif decode_size is not None and not (isinstance(decode_size, int) and decode_size > 0):
            raise ValueError(f"decode_size must be a positive int (short side) or (height, width), got {decode_size!r}")
        _check_positive(segments=segments)
        self.clip_len, self.stride, self.mode, self.num_clips = clip_len, stride, mode, num_clips
        self.segments = segments
        self.decode_size, self.seed = decode_size, seed
        self.transform = transform if transform is not None else ToTensorCTHW(0.0, 1.0)

        samples = list(video_list)
        if not samples:
            raise DatasetError("the video list is empty")
        self.videos, self.broken = probe_videos(samples, probe_cache, progress)
        self.flow_roots = (Path(flow[0]), Path(flow[1])) if flow is not None else None
        if self.flow_roots is not None:
            self._flow_files = {}
            readable = []
            for sample, num_frames in self.videos:
                try:
                    path = flow_path(sample.path, *self.flow_roots)
                except ValueError as exc:
                    raise DatasetError(str(exc)) from None
                if path.is_file():
                    self._flow_files[str(sample.path)] = path
                    readable.append((sample, num_frames))
                else:
                    self.broken.append((sample, f"no optical flow file {path} (generate it with: python -m "
                                                f"replicate.data.flow --videos {self.flow_roots[0]} --out {self.flow_roots[1]})"))
            self.videos = readable
        if self.broken:
            paths = ", ".join(str(sample.path) for sample, _ in self.broken[:5])
            more = " ..." if len(self.broken) > 5 else ""
            log.warning(
                "skipped %d of %d videos that could not be read: %s%s",
                len(self.broken), len(samples), paths, more,
            )
        if not self.videos:
            sample, reason = self.broken[0]
            raise DatasetError(f"none of the {len(samples)} videos could be read (first: {sample.path}: {reason})")
        self.video_ids = [sample.video_id for sample, _ in self.videos]
        self.labels = [-1 if sample.label is None else sample.label for sample, _ in self.videos]
        self._items = self._test_items() if mode == "test" else None

        # Shared memory: DataLoader workers (forked or spawned) and the main process see the
        # same epoch (so set_epoch also reaches persistent workers) and the same failure record.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._failed_items = torch.zeros(len(self), dtype=torch.bool).share_memory_()
        self._failed_videos = torch.zeros(len(self.videos), dtype=torch.bool).share_memory_()
        # decode size per video for an int short side, filled on first use (0 = not known yet)
        self._decode_hw = (
            torch.zeros(len(self.videos), 2, dtype=torch.int32).share_memory_() if isinstance(decode_size, int) else None
        )
        self._frames: list[np.ndarray | VideoReadError] | None = None
        self.frame_cache_dir = Path(frame_cache_dir) if frame_cache_dir is not None else None
        if cache_frames:
            self._cache_all_frames(cache_limit_bytes, progress)

    def _cache_all_frames(self, limit: int, progress: bool) -> None:
        sizes = [self._size_for_decoder(v) for v in range(len(self.videos))]
        channels = 3 if self.flow_roots is None else 2
        # native size (decode_size None) is not known without decoding: estimate from the first video
        native = open_video(self.videos[0][0].path)[0].shape[:2] if sizes[0] == (-1, -1) else None
        need = sum(n * channels * (h * w if native is None else native[0] * native[1]) for (_, n), (h, w) in zip(self.videos, sizes))
        if need > limit:
            log.warning("cache_frames: the %d videos would take %.1f GiB of memory (limit %.1f GiB); "
                        "decoding clips on the fly instead", len(self.videos), need / 2**30, limit / 2**30)
            return

        def decode(video: int) -> np.ndarray | VideoReadError:
            try:
                return self._read_whole_cached(video, sizes[video])
            except VideoReadError as exc:  # raised again, like a live decode failure, when a clip asks for it
                return exc

        # decord and zlib work outside the GIL: threads use every core
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            frames = list(tqdm(pool.map(decode, range(len(self.videos))), total=len(self.videos),
                               desc="decoding videos into memory", unit="video", file=sys.stderr,
                               disable=not progress or len(self.videos) < _PROGRESS_MIN_VIDEOS))
        self._frames = frames

    def _test_items(self) -> np.ndarray:
        """``(num_items, 3)`` rows ``(video_index, clip_index, start)`` for test mode."""
        sampling, count = ("all", None) if self.num_clips == "all" else ("uniform", self.num_clips)
        rows = [
            (video, clip, start)
            for video, (_, num_frames) in enumerate(self.videos)
            for clip, start in enumerate(clip_starts(num_frames, self.clip_len, self.stride, sampling, count))
        ]
        return np.asarray(rows, dtype=np.int64).reshape(-1, 3)

    def __len__(self) -> int:
        return len(self.videos) if self._items is None else len(self._items)

    @property
    def epoch(self) -> int:
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random clips train mode returns (call before each epoch)."""
        if epoch < 0:
            raise ValueError(f"epoch must be non-negative, got {epoch}")
        self._epoch[0] = epoch

    @property
    def num_failed_items(self) -> int:
        """Items whose clip failed to decode (train: replaced by another video; test: None)."""
        return int(self._failed_items.sum())

    @property
    def decode_failures(self) -> list[VideoSample]:
        """Videos that opened at probe time but failed while decoding a clip."""
        return [self.videos[i][0] for i in torch.nonzero(self._failed_videos).flatten().tolist()]

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        if self._items is None:
            return self._train_item(index)
        return self._test_item(index)

    def _train_item(self, index: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        video = index
        for _ in range(self.max_fallbacks + 1):
            num_frames = self.videos[video][1]
            try:
                if self.segments > 1:
                    return self._load_segments(video, num_frames, rng)
                start = clip_starts(num_frames, self.clip_len, self.stride, "random", rng=rng)[0]
                return self._load(video, 0, start, rng)
            except VideoReadError as exc:
                self._failed_items[index] = True
                self._note_failure(video, exc, "using another video's clip instead")
                video = randint(rng, 0, len(self.videos))
        raise RuntimeError(
            f"item {index}: {self.max_fallbacks + 1} videos in a row failed to decode; "
            "the data is probably damaged (see the warnings above and dataset.decode_failures)"
        )

    def _test_item(self, index: int) -> dict[str, Any] | None:
        video, clip, start = (int(value) for value in self._items[index])
        try:
            # test transforms are deterministic; the generator only keeps custom ones reproducible
            return self._load(video, clip, start, np.random.default_rng([self.seed, index]))
        except VideoReadError as exc:
            self._failed_items[index] = True
            self._note_failure(video, exc, "skipping its clips that fail")
            return None

    def _note_failure(self, video: int, exc: VideoReadError, action: str) -> None:
        # the shared flag makes this once per video across workers (a rare race may log twice)
        if not self._failed_videos[video]:
            self._failed_videos[video] = True
            log.warning("%s; %s (reported once per video, see dataset.decode_failures)", exc, action)

    def _size_for_decoder(self, video: int) -> tuple[int, int]:
        """``(height, width)`` to hand to decord; ``(-1, -1)`` decodes at the native size."""
        if self.decode_size is None:
            return -1, -1
        if self._decode_hw is None:
            return self.decode_size
        if not self._decode_hw[video, 0]:
            height, width = _header_size(self.videos[video][0].path)
            self._decode_hw[video] = torch.tensor(short_side_size(height, width, self.decode_size))
        return int(self._decode_hw[video, 0]), int(self._decode_hw[video, 1])

    def _read_whole(self, video: int, size: tuple[int, int]) -> np.ndarray:
        """Every frame (RGB) or flow field of ``video``, uint8 ``(T, H, W, C)``."""
        sample, num_frames = self.videos[video]
        if self.flow_roots is not None:
            return self._read_flow(video, size)
        reader = open_video(sample.path, width=size[1], height=size[0])
        reader._replicate_path = str(sample.path)
        return read_frames(reader, range(min(num_frames, len(reader))))

    def _read_whole_cached(self, video: int, size: tuple[int, int]) -> np.ndarray:
        """:meth:`_read_whole` through ``frame_cache_dir`` (when set): load the stored frames, or read
        and store them. A failure is not stored: a broken video fails again, as fast, next time."""
        if self.frame_cache_dir is None:
            return self._read_whole(video, size)
        sample, num_frames = self.videos[video]
        source = self._flow_files[str(sample.path)] if self.flow_roots is not None else Path(sample.path)
        stat = source.stat()
        key = hashlib.sha1(json.dumps([str(source.resolve()), stat.st_size, stat.st_mtime_ns, list(size), num_frames,
                                       "flow" if self.flow_roots is not None else "rgb", FRAME_CACHE_FORMAT,
                                       decoder_version()]).encode()).hexdigest()
        path = self.frame_cache_dir / key[:2] / f"{key}.npy"
        if path.is_file():
            try:
                with _STORED_ARRAY_LOCK:
                    stored = np.load(path, mmap_mode="r")  # parses the header; the frames stay on disk
                return np.array(stored)  # the read itself, outside the lock
            except (OSError, ValueError) as exc:  # damaged (disk full?): read the video again, below
                log.warning("frame cache entry %s is unreadable (%s); decoding %s again", path, exc, source)
        frames = self._read_whole(video, size)
        path.parent.mkdir(parents=True, exist_ok=True)
        # written under a unique name, then renamed: a killed run or a concurrent one never leaves a torn entry
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.save(fh, frames)
            os.replace(tmp, path)
        except OSError as exc:  # a full or read-only disk costs speed, never the run
            tmp.unlink(missing_ok=True)
            log.warning("cannot store decoded frames in %s (%s); continuing without the frame cache", path.parent, exc)
            self.frame_cache_dir = None  # one warning, not one per video
        return frames

    def _read_flow(self, video: int, size: tuple[int, int]) -> np.ndarray:
        sample = self.videos[video][0]
        path = self._flow_files[str(sample.path)]
        try:
            with _STORED_ARRAY_LOCK:  # numpy reads an .npz member's header and inflates it in one call
                fields = load_flow(path)
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise VideoReadError(path, f"cannot read the optical flow ({str(exc).splitlines()[0][:200]})") from None
        return resize_flow(fields, size) if size != (-1, -1) else fields

    def frames_at(self, video: int, indices: np.ndarray) -> np.ndarray:
        """uint8 ``(len(indices), H, W, C)``: the frames (RGB) or flow fields (``flow``) of ``video`` at
        ``indices``, untransformed. Raises :class:`VideoReadError` when they cannot be read."""
        sample = self.videos[video][0]
        if self._frames is not None or self.flow_roots is not None:
            whole = self._frames[video] if self._frames is not None else self._read_flow(video, self._size_for_decoder(video))
            if isinstance(whole, VideoReadError):
                raise whole
            # RGB: a shorter decode than the header said loops (as clip_indices does);
            # flow: a T-frame video has T-1 fields, the last one repeats
            frames = whole[np.minimum(indices, len(whole) - 1) if self.flow_roots is not None else indices % len(whole)]
        else:
            height, width = self._size_for_decoder(video)
            reader = open_video(sample.path, width=width, height=height)
            reader._replicate_path = str(sample.path)  # read_frames names the file in its errors
            # one get_batch call for the whole clip: decord seeks once and decodes forward
            frames = read_frames(reader, indices)
        return frames

    def _load_segments(self, video: int, num_frames: int, rng: np.random.Generator) -> dict[str, Any]:
        """A training item of ``segments`` clips (see the class docstring), one transform for all of them."""
        indices = np.concatenate([clip_indices(start, self.clip_len, self.stride, num_frames)
                                  for start in segment_starts(num_frames, self.segments, rng)])
        clip = self.transform(self.frames_at(video, indices), rng)  # (C, S * T, H, W)
        clip = clip.view(clip.shape[0], self.segments, self.clip_len, *clip.shape[2:]).transpose(0, 1)
        return {"clip": clip.contiguous(), "label": self.labels[video], "video_index": video, "clip_index": 0}

    def _load(self, video: int, clip_index: int, start: int, rng: np.random.Generator) -> dict[str, Any]:
        frames = self.frames_at(video, clip_indices(start, self.clip_len, self.stride, self.videos[video][1]))
        return {
            "clip": self.transform(frames, rng),
            "label": self.labels[video],
            "video_index": video,
            "clip_index": clip_index,
        }


def segment_starts(num_frames: int, segments: int, rng: Rng) -> list[int]:
    """One random start frame inside each of ``segments`` equal parts of a video (TSN's sparse sampling);
    a video shorter than ``segments`` frames repeats frames."""
    bounds = [k * num_frames // segments for k in range(segments + 1)]
    return [lo + randint(rng, 0, max(hi - lo, 1)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def collate_skip_none(batch: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """``default_collate`` without the ``None`` items of failed test clips.

    Returns ``None`` when every item of the batch failed; evaluation loops skip such batches
    (``if batch is None: continue``), and ``dataset.num_failed_items`` says how many clips
    were dropped in total.
    """
    items = [item for item in batch if item is not None]
    return default_collate(items) if items else None


def average_clip_scores(
    scores: torch.Tensor | np.ndarray, video_index: torch.Tensor | np.ndarray | Sequence[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Average clip scores per video: the video-level (video@1) protocol of tran2018 and diba2017/2018.

    ``scores`` is ``(N_items, C)`` (softmax probabilities or logits, as the protocol averages),
    ``video_index`` the items' ``video_index``. Returns ``(video_scores (V, C), video_order (V,))``:
    row ``i`` is the mean over the clips of video ``video_order[i]``, videos in increasing index.
    """
    scores = torch.as_tensor(scores)
    index = torch.as_tensor(video_index, dtype=torch.long)
    if scores.ndim != 2 or index.ndim != 1 or len(index) != len(scores):
        raise ValueError(
            f"need scores (N, C) and video_index (N,), got {tuple(scores.shape)} and {tuple(index.shape)}"
        )
    if not scores.is_floating_point():
        scores = scores.float()
    order, inverse, counts = torch.unique(index, return_inverse=True, return_counts=True)
    sums = torch.zeros(len(order), scores.shape[1], dtype=scores.dtype).index_add_(0, inverse, scores)
    return sums / counts.unsqueeze(1).to(scores.dtype), order
