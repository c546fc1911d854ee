"""Clip loading throughput: raw decord vs ``ClipDataset`` with the training transforms.

Measures, in one run and on the same videos, clips per second of

* raw decord: open the file and ``get_batch`` one clip's frame indices (plus ``asnumpy``),
  nothing else -- the floor any loader built on decord pays;
* ``ClipDataset`` in train mode with the tran2018 training chain (resize to 128x171 while
  decoding, random 112x112 crop, horizontal flip, normalisation), iterated through a
  ``DataLoader`` with ``num_workers=0`` and ``num_workers=2``;
* the same with ``cache_frames=True`` (every video decoded once, up front, into memory; the
  mini profile's setting): the steady-state rate per epoch, with the one-off decoding time
  printed beside it;
* that one-off cost with ``frame_cache_dir`` (decoded frames kept on disk, the study's setting):
  the first dataset decodes and stores, the next one (the next run) loads; the ratio is the
  loading speed-up over decoding.

Without ``--videos`` it writes 24 synthetic 64-frame videos at 128x170 (H.264 needs even
sizes; decoding resizes them to 128x171) into a temp folder and reuses them on later runs.

    python bench/bench_loader.py --clip-len 16 --stride 2 --repeats 3
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import decord
import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from replicate.data.clips import ClipDataset, clip_indices, clip_starts, probe_videos  # noqa: E402
from replicate.data.samples import VideoSample  # noqa: E402
from replicate.errors import MissingInputError, cli  # noqa: E402
from replicate.data.transforms import train_transform  # noqa: E402
from replicate.data.video import VIDEO_EXTENSIONS, write_video  # noqa: E402

NUM_VIDEOS, NUM_FRAMES, HEIGHT, WIDTH = 24, 64, 128, 170


def synthetic_videos(folder: Path) -> list[Path]:
    """Textured frames drifting 2 px per frame plus mild noise: a bitrate between flat and noise."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"video_{i:02d}.mp4" for i in range(NUM_VIDEOS)]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"writing {len(missing)} videos to {folder}", file=sys.stderr)
    for path in missing:
        rng = np.random.default_rng(int(path.stem.split("_")[1]))
        coarse = rng.integers(0, 256, (HEIGHT // 8 + 1, (WIDTH + 2 * NUM_FRAMES) // 8 + 1, 3), dtype=np.uint8)
        texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:HEIGHT]
        frames = np.stack([texture[:, 2 * t : 2 * t + WIDTH] for t in range(NUM_FRAMES)])
        noise = rng.integers(-8, 9, frames.shape)
        write_video(path, np.clip(frames.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return paths


def bench_raw(videos: list[tuple[VideoSample, int]], clip_len: int, stride: int, repeats: int, seed: int) -> float:
    """Clips/s of decord alone: open + one get_batch per clip, nothing else.

    Reads the clips ClipDataset(seed=seed) reads in epochs 0..repeats-1 (its start is the first
    draw of the item's generator): with one keyframe per video, decoding cost grows with the
    start, so both sides must decode the same frames to be comparable.
    """
    start_time = time.perf_counter()
    for epoch in range(repeats):
        for index, (sample, num_frames) in enumerate(videos):
            rng = np.random.default_rng([seed, epoch, index])
            start = clip_starts(num_frames, clip_len, stride, "random", rng=rng)[0]
            reader = decord.VideoReader(str(sample.path), num_threads=1)
            reader.get_batch(clip_indices(start, clip_len, stride, num_frames).tolist()).asnumpy()
    return repeats * len(videos) / (time.perf_counter() - start_time)


def bench_dataset(dataset: ClipDataset, workers: int, repeats: int, batch_size: int) -> float:
    """Clips/s of the DataLoader over ``repeats`` epochs, worker start-up included."""
    # persistent workers: start-up is paid once, as in a training loop over many epochs
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, persistent_workers=workers > 0)
    clips = 0
    start_time = time.perf_counter()
    for epoch in range(repeats):
        dataset.set_epoch(epoch)
        for batch in loader:
            clips += len(batch["label"])
    return clips / (time.perf_counter() - start_time)


@cli
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, help="folder of videos to use instead of the synthetic ones")
    parser.add_argument("--clip-len", type=int, default=16)
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="passes (epochs) over the videos per measurement")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    # one intra-op thread, as DataLoader workers use and as the raw decord baseline decodes:
    # per-clip tensors are too small to gain from threads, and on a busy machine every
    # multi-threaded op can stall for a scheduler slice waiting on its second thread
    torch.set_num_threads(1)

    if args.videos is not None:
        if not args.videos.is_dir():
            raise MissingInputError(f"--videos {args.videos} is not a folder of videos")
        paths = sorted(p for p in args.videos.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS)
    else:
        paths = synthetic_videos(Path(tempfile.gettempdir()) / "replicate_bench_videos")
    samples = [VideoSample(p, 0, p.stem) for p in paths]
    videos, broken = probe_videos(samples)
    if not videos:
        sys.exit(f"no readable videos among {len(samples)} in {paths[0].parent if paths else args.videos}")

    dataset = ClipDataset(
        [sample for sample, _ in videos],
        clip_len=args.clip_len,
        stride=args.stride,
        mode="train",
        transform=train_transform(112),  # crop 112, flip, normalise; the resize happens in the decoder
        decode_size=(128, 171),
        progress=False,
    )
    bench_raw(videos, args.clip_len, args.stride, 1, dataset.seed)  # warm the page cache: run order must not matter

    rows = [("raw decord: open + get_batch", bench_raw(videos, args.clip_len, args.stride, args.repeats, dataset.seed))]
    for workers in (0, 2):
        rows.append((f"ClipDataset train, workers={workers}", bench_dataset(dataset, workers, args.repeats, args.batch_size)))
    start_time = time.perf_counter()
    cached = ClipDataset([sample for sample, _ in videos], clip_len=args.clip_len, stride=args.stride, mode="train",
                         transform=train_transform(112), decode_size=(128, 171), progress=False, cache_frames=True)
    cache_seconds = time.perf_counter() - start_time
    rows.append(("ClipDataset train, cache_frames, w=0", bench_dataset(cached, 0, args.repeats, args.batch_size)))
    disk_seconds = []
    with tempfile.TemporaryDirectory() as store:
        for _ in ("decode and store", "load"):
            start_time = time.perf_counter()
            ClipDataset([sample for sample, _ in videos], clip_len=args.clip_len, stride=args.stride, mode="train",
                        transform=train_transform(112), decode_size=(128, 171), progress=False, cache_frames=True,
                        frame_cache_dir=store)
            disk_seconds.append(time.perf_counter() - start_time)

    print(
        f"{len(videos)} videos ({len(broken)} unreadable), clip_len={args.clip_len}, stride={args.stride}, "
        f"repeats={args.repeats}, batch={args.batch_size}, torch threads={torch.get_num_threads()}"
    )
    print(f"{'loader':36s} {'clips/s':>8s} {'ms/clip':>8s} {'vs raw':>7s}")
    raw_rate = rows[0][1]
    for name, rate in rows:
        print(f"{name:36s} {rate:8.1f} {1000 / rate:8.1f} {rate / raw_rate:7.2f}")
    print(f"(cache_frames decoded the {len(videos)} videos once in {cache_seconds:.2f} s, "
          f"{1000 * cache_seconds / len(videos):.0f} ms per video, before the first epoch)")
    print(f"(frame_cache_dir: the first dataset decoded and stored them in {disk_seconds[0]:.2f} s, the next one loaded "
          f"them in {disk_seconds[1]:.2f} s: {cache_seconds / disk_seconds[1]:.1f}x faster than decoding)")


if __name__ == "__main__":
    main()
