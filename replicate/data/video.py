"""Video files: the one place that encodes (PyAV/libx264) and decodes (decord) mp4s.

Every reader in the package goes through :func:`open_video`, so a broken file (0 bytes,
truncated, not a video, missing) always surfaces as :class:`VideoReadError` with the path in
the message, never as a decord traceback or a hang. Callers that iterate over datasets skip
and count these (see ``replicate.data.clips``).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov")
# decord fails on some output sizes when it resizes while decoding: from a 64x96 video, widths 48
# and 24 fail at any height while 49, 44 and 32 work ("DECORDArrayCopyFromTo: The size must exactly
# match": its scaled frame buffer comes out padded). Such a batch is decoded at the native size and
# resized afterwards (antialiased, as transforms.Resize), so these videos are read, not lost as "truncated".
_DECORD_RESIZE_BUG = "DECORDArrayCopyFromTo"


class VideoReadError(RuntimeError):
    """A video could not be opened or decoded. ``path`` names the file."""

    def __init__(self, path: os.PathLike | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read video {self.path}: {reason}")


def _decord():
    import decord

    # decord (via ffmpeg) prints every broken file to stderr; we report them ourselves.
    try:
        decord.logging.set_level(decord.logging.QUIET)
    except AttributeError:  # older decord without the logging module
        pass
    return decord


def decoder_version() -> str:
    """decord's version: part of the key of anything that stores decoded frames (the frame cache)."""
    return _decord().__version__


def open_video(path: os.PathLike | str, width: int = -1, height: int = -1):
    """Open ``path`` with decord, optionally resizing on decode. Raises :class:`VideoReadError`."""
    path = Path(path)
    if not path.is_file():
        raise VideoReadError(path, "file does not exist")
    if path.stat().st_size == 0:
        raise VideoReadError(path, "file is empty (0 bytes)")
    decord = _decord()
    try:
        reader = decord.VideoReader(str(path), width=width, height=height, num_threads=1)
    except Exception as exc:  # decord raises RuntimeError/DECORDError with ffmpeg's text
        raise VideoReadError(path, f"decoder could not open it ({str(exc).splitlines()[0][:200]})") from None
    if len(reader) == 0:
        raise VideoReadError(path, "container holds no video frames")
    reader._replicate_path, reader._replicate_size = str(path), (height, width)
    return reader


def num_frames(path: os.PathLike | str) -> int:
    return len(open_video(path))


def read_frames(path_or_reader, indices, width: int = -1, height: int = -1) -> np.ndarray:
    """Decode the frames at ``indices`` as uint8 ``(T, H, W, 3)`` RGB.

    ``path_or_reader`` may be an already opened decord reader (to decode several clips from
    one open file) or a path.
    """
    if isinstance(path_or_reader, (str, os.PathLike)):
        reader = open_video(path_or_reader, width, height)
        path = Path(path_or_reader)
    else:
        reader = path_or_reader
        path = Path(getattr(reader, "_replicate_path", "<open reader>"))
    indices = [int(i) for i in indices]
    n = len(reader)
    if indices and (min(indices) < 0 or max(indices) >= n):
        raise VideoReadError(path, f"frame index out of range: asked for {min(indices)}..{max(indices)}, video has {n} frames")
    try:
        return reader.get_batch(indices).asnumpy()
    except Exception as exc:  # truncated stream: the index says frames exist, the bytes do not
        size = getattr(reader, "_replicate_size", (-1, -1))
        if _DECORD_RESIZE_BUG in str(exc) and size != (-1, -1) and path.is_file():
            return _decode_native_then_resize(path, indices, size)
        raise VideoReadError(path, f"decoding failed, file is probably truncated ({str(exc).splitlines()[0][:200]})") from None


def _decode_native_then_resize(path: Path, indices: list[int], size: tuple[int, int]) -> np.ndarray:
    """The frames at ``indices`` decoded at the native size, then resized to ``size`` = (h, w);
    for the sizes decord cannot resize to itself (``_DECORD_RESIZE_BUG``)."""
    from .transforms import Resize  # lazy: torch, only for this rare path

    height, width = size
    native = read_frames(open_video(path), indices)
    if height <= 0 or width <= 0:  # decord's -1: keep that side's native length
        height, width = (native.shape[1] if height <= 0 else height), (native.shape[2] if width <= 0 else width)
    return Resize((height, width))(native).numpy()


def read_all_frames(path: os.PathLike | str, width: int = -1, height: int = -1) -> np.ndarray:
    reader = open_video(path, width, height)
    return read_frames(reader, range(len(reader)))


def write_video(path: os.PathLike | str, frames: np.ndarray, fps: int = 25, crf: int = 10, keyframe_interval: int = 8) -> Path:
    """Encode uint8 ``(T, H, W, 3)`` RGB frames as H.264 mp4 (yuv420p, moov atom first).

    H and W must be even (yuv420p). ``crf`` 10 is visually lossless: the synthetic data's
    motion cues should not be destroyed by compression, while the files stay real mp4s that
    decode like any dataset's. ``keyframe_interval`` 8: a random clip decodes at most 7 frames
    before its first one (x264's default 250 made random clip access ~2x slower, for 3% fewer bytes).
    """
    import av

    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs even frame sizes, got {h}x{w}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")  # never leave a half-written file under the real name
    container = av.open(str(tmp), "w", format="mp4", options={"movflags": "faststart"})
    try:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        # Same frames must give the same bytes (same seed -> same dataset). x264 with lookahead /
        # mb-tree / B-frames was measured to vary between two encodes of the same frames;
        # zerolatency turns those off and is byte-identical (tests/test_synthetic.py).
        stream.options = {"crf": str(crf), "preset": "veryfast", "tune": "zerolatency", "threads": "1",
                          "g": str(keyframe_interval)}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    os.replace(tmp, path)
    return path
