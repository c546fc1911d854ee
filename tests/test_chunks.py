"""feichtenhofer2016's temporal sampling (replicate/data/chunks.py): chunks tau apart, short videos, flow windows."""
from __future__ import annotations

import numpy as np
import pytest

from replicate.data import chunks as C


def test_chunks_are_tau_apart_and_every_start_is_reachable():
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(400):
        frames = C.chunk_frames(100, 5, 15, rng=rng)
        assert np.all(np.diff(frames) == 15) and frames[0] >= 0 and frames[-1] <= 99
        starts.add(int(frames[0]))
    assert starts == set(range(0, 100 - 61 + 1))  # span (5 - 1) * 15 + 1 = 61
    assert list(C.chunk_frames(100, 5, 15)) == [19, 34, 49, 64, 79]  # no rng: centred
    with pytest.raises(ValueError, match="outside"):
        C.chunk_frames(100, 5, 15, start=40)


def test_short_videos_get_a_smaller_tau_then_symmetric_padding():
    assert C.fitted_tau(41, 11, 15) == 4 and list(C.chunk_frames(41, 11, 15, start=0)) == list(range(0, 41, 4))
    assert C.fitted_tau(20, 1, 15) == 15  # one chunk: any tau
    # 7 frames, 11 chunks: tau 1, centred, first and last frames repeated on both sides
    assert list(C.chunk_frames(7, 11, 5)) == [0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 6]


def test_flow_windows_are_t_minus_5_to_t_plus_4_clamped():
    assert list(C.flow_fields(20, 49)) == list(range(15, 25))
    assert list(C.flow_fields(2, 49)) == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert list(C.flow_fields(47, 48)) == [42, 43, 44, 45, 46, 47, 47, 47, 47, 47]


def test_25_test_frames_span_the_video_and_tau_draws_stay_in_range():
    frames = C.test_frames(250)
    assert len(frames) == 25 and frames[0] == 0 and frames[-1] == 249 and np.all(np.diff(frames) > 0)
    assert list(C.test_frames(3, 5)) == [0, 0, 1, 2, 2]
    rng = np.random.default_rng(0)
    draws = {C.draw_tau(rng, *C.TAU_RANGES["st_resnet"]) for _ in range(500)}
    assert draws == set(range(5, 16))
    with pytest.raises(ValueError, match="tau range"):
        C.draw_tau(rng, 0, 3)
