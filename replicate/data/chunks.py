"""Which frames ST-ResNet reads: chunks ``tau`` frames apart, each one RGB frame and a stack of flow fields.

feichtenhofer2016, section 3.4 and the authors' code (the inventory ``../shared/papers/notes/feichtenhofer2016.md``):

* training samples ``n`` chunks (1 for the separate streams, 5 for ST-ResNet, 11 for ST-ResNet*) spaced ``tau``
  frames apart, ``tau`` drawn in ``[5, 15]`` (ST-ResNet) or ``[1, 15]`` (ST-ResNet*), one draw per (sub-)batch
  (:func:`draw_tau`); the chunks start at a random frame;
* a video too short for ``(n - 1) tau + 1`` frames gets a smaller ``tau``; one shorter than ``n`` frames is
  padded symmetrically (the chunks are centred on it and repeat its first and last frames);
* a chunk at frame ``t`` is the RGB frame ``t`` and the flow fields ``t - L/2 .. t + L/2 - 1`` (L = 10: fields
  ``t-5 .. t+4``, code), clamped to the video's fields;
* testing reads 25 frames uniformly spaced over the video (:func:`test_frames`), fully convolutionally.

Everything here is index arithmetic on frame counts, so that the datasets that read the frames stay thin.
"""
from __future__ import annotations

import numpy as np

from ..errors import BadValueError

#: section 3.4 / Table 2: tau ranges of the multi-chunk stages
TAU_RANGES = {"st_resnet": (5, 15), "st_resnet_star": (1, 15)}
TEST_FRAMES = 25


def draw_tau(rng: np.random.Generator, low: int, high: int) -> int:
    """One ``tau`` in ``[low, high]`` (both included), for a whole (sub-)batch."""
    if not 1 <= low <= high:
        raise BadValueError(f"tau range must satisfy 1 <= low <= high, got [{low}, {high}]")
    return int(rng.integers(low, high + 1))


def fitted_tau(num_frames: int, chunks: int, tau: int) -> int:
    """``tau``, reduced until ``chunks`` chunks span at most ``num_frames`` frames (at least 1)."""
    if chunks < 1 or tau < 1 or num_frames < 1:
        raise BadValueError(f"need chunks, tau and num_frames >= 1, got {chunks}, {tau}, {num_frames}")
    if chunks == 1:
        return tau
    return max(1, min(tau, (num_frames - 1) // (chunks - 1)))


def chunk_frames(num_frames: int, chunks: int, tau: int, start: int | None = None,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """Frame index of each of ``chunks`` chunks: ``start + i * tau'`` with ``tau'`` = :func:`fitted_tau`.
    ``start`` given, or drawn from ``rng`` over every start that fits, or (neither) the centred one. A video
    shorter than ``chunks`` frames is padded symmetrically: centred, its first and last frames repeated."""
    step = fitted_tau(num_frames, chunks, tau)
    span = (chunks - 1) * step + 1
    if span > num_frames:  # fewer frames than chunks: tau' = 1, centred, ends repeated
        first = -((span - num_frames) // 2)
        return np.clip(first + step * np.arange(chunks), 0, num_frames - 1)
    last_start = num_frames - span
    if start is None:
        start = int(rng.integers(0, last_start + 1)) if rng is not None else last_start // 2
    if not 0 <= start <= last_start:
        raise BadValueError(f"start {start} is outside 0..{last_start} for {chunks} chunks {step} apart in {num_frames} frames")
    return start + step * np.arange(chunks)


def flow_fields(frame: int, num_fields: int, fields: int = 10) -> np.ndarray:
    """The ``fields`` flow fields of the chunk at ``frame``: ``frame - fields/2 .. frame + fields/2 - 1``
    (``t-5 .. t+4`` for 10, code), clamped to ``0 .. num_fields - 1`` (a T-frame video has T - 1 fields)."""
    if num_fields < 1:
        raise BadValueError("the video has no flow fields")
    return np.clip(frame - fields // 2 + np.arange(fields), 0, num_fields - 1)


def test_frames(num_frames: int, count: int = TEST_FRAMES) -> np.ndarray:
    """``count`` frames uniformly spaced over the video, first and last included (repeats when it is shorter)."""
    if num_frames < 1 or count < 1:
        raise BadValueError(f"need num_frames and count >= 1, got {num_frames}, {count}")
    return np.rint(np.linspace(0, num_frames - 1, count)).astype(np.int64)


test_frames.__test__ = False  # a function of the package, not a pytest test
