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


# --------------------------------------------------------------------------- ChunkDataset


class _Store:
    """A frame store as ChunkDataset uses a ClipDataset: ``videos``, ``broken``, ``frames_at``. Every pixel says
    where it came from: RGB channel 0 = frame index, 1 = column; flow u = 100 + column (a rightward flow that
    grows to the right), v = field index."""

    def __init__(self, kind: str, lengths: dict[str, int], height: int = 12, width: int = 16):
        from replicate.data.samples import VideoSample

        self.kind, self.h, self.w = kind, height, width
        self.videos = [(VideoSample(path=f"/v/{vid}.avi", label=i, video_id=vid), n)
                       for i, (vid, n) in enumerate(lengths.items())]
        self.broken = []
        self.calls = []

    def frames_at(self, video: int, indices: np.ndarray) -> np.ndarray:
        self.calls.append((video, np.asarray(indices).copy()))
        idx = np.asarray(indices, dtype=np.uint8)[:, None, None]
        cols = np.broadcast_to(np.arange(self.w, dtype=np.uint8)[None, None, :], (len(indices), self.h, self.w))
        if self.kind == "rgb":
            return np.stack([np.broadcast_to(idx, cols.shape), cols, np.zeros_like(cols)], -1).copy()
        return np.stack([100 + cols, np.broadcast_to(idx, cols.shape)], -1).astype(np.uint8)


def _pixels(x):
    """Flow channels of a ChunkDataset item back in stored bytes (it feeds pixels: (q / 255 - 0.5) * 40)."""
    return x / 40.0 * 255 + 127.5


def test_a_training_item_shares_one_crop_and_flip_between_chunks_and_streams():
    rgb, flow = _Store("rgb", {"a": 60, "b": 40}), _Store("flow", {"a": 60, "b": 40})
    ds = C.ChunkDataset(rgb, flow, "train", chunks=5, tau_range=(5, 15), crop=8, flip=True, seed=3)
    flips = set()
    for index in range(2):
        for epoch in range(6):
            ds.set_epoch(epoch)
            item = ds[index]
            x = item["clip"]
            assert x.shape == (3 + 20, 5, 8, 8) and item["label"] == index
            video, _, frames = ds.chunk_frames_of(index)
            tau = np.diff(frames)
            assert len(set(tau)) == 1 and 5 <= tau[0] <= 15  # one tau per item, in range
            # RGB: the chunk frames; flow: the fields t-5 .. t+4 of each chunk, interleaved u1, v1, .., u10, v10
            rgb_frames = rgb.calls[-1][1]
            assert list(rgb_frames) == list(frames)
            fields = _pixels(x[3 + 1::2].float())[:, :, 0, 0].round().numpy()  # v channels, (10, 5)
            for i, t in enumerate(frames):
                assert list(fields[:, i]) == list(C.flow_fields(int(t), (60, 40)[video] - 1)), (t, fields[:, i])
            # the same columns in both streams (same crop, same flip), in every chunk
            rgb_cols = _rgb_columns(x[:3])
            u = _pixels(x[3::2].float())[0, 0, 0].round().numpy()  # u of field 1, chunk 0, row 0
            flipped = rgb_cols[0] > rgb_cols[-1]
            flips.add(bool(flipped))
            if flipped:  # mirroring negates horizontal motion: the stored byte becomes 255 - byte
                assert list(255 - u) == [100 + c for c in rgb_cols]
            else:
                assert list(u) == [100 + c for c in rgb_cols]
            assert all(np.array_equal(_rgb_columns(x[:3, k:k + 1]), rgb_cols) for k in range(5))
    assert flips == {True, False}
    ds.set_epoch(2)
    assert torch_equal(ds[0]["clip"], ds[0]["clip"])  # a function of (seed, epoch, index)


def _rgb_columns(x):
    """The source columns of an RGB item (channel 1 held the column, normalised by the Kinetics mean/std)."""
    from replicate.data.transforms import KINETICS_MEAN, KINETICS_STD

    values = (x[1, 0, 0].float() * KINETICS_STD[1] + KINETICS_MEAN[1]) * 255
    return np.rint(values.numpy()).astype(int)


def torch_equal(a, b):
    import torch

    return torch.equal(a, b)


def test_test_items_are_25_uniform_frames_and_their_mirror_images():
    rgb, flow = _Store("rgb", {"a": 60, "b": 40}), _Store("flow", {"a": 60, "b": 40})
    ds = C.ChunkDataset(rgb, None, "test", test_count=25, test_flips=True, test_crop=None)
    assert len(ds) == 4 and [ds[i]["clip_index"] for i in range(4)] == [0, 1, 0, 1]
    plain, mirrored = ds[2]["clip"], ds[3]["clip"]
    assert plain.shape == (3, 25, 12, 16)  # the whole frame: fully convolutional
    assert list(rgb.calls[-1][1]) == list(C.test_frames(40))
    assert list(_rgb_columns(plain)) == list(range(16)) and list(_rgb_columns(mirrored)) == list(range(15, -1, -1))
    motion = C.ChunkDataset(None, flow, "test", test_count=5, test_flips=False, test_crop=8)
    assert len(motion) == 2 and motion[0]["clip"].shape == (20, 5, 8, 8)


def test_a_video_missing_from_one_stream_is_left_out_and_bad_settings_fail_early():
    rgb, flow = _Store("rgb", {"a": 60, "b": 40}), _Store("flow", {"b": 40})
    ds = C.ChunkDataset(rgb, flow, "test", test_count=5)
    assert ds.video_ids == ["b"] and ds.labels == [1]
    with pytest.raises(ValueError, match="tau range"):
        C.ChunkDataset(rgb, flow, "train", chunks=5, tau_range=(15, 5))
    with pytest.raises(ValueError, match="RGB and/or a flow"):
        C.ChunkDataset(None, None)


def test_a_video_that_fails_to_decode_is_replaced_in_training_and_dropped_in_testing():
    from replicate.data.video import VideoReadError

    class Broken(_Store):
        def frames_at(self, video, indices):
            if self.videos[video][0].video_id == "a":
                raise VideoReadError("/v/a.avi", "damaged")
            return super().frames_at(video, indices)

    rgb = Broken("rgb", {"a": 60, "b": 40})
    train = C.ChunkDataset(rgb, None, "train", chunks=3, tau_range=(2, 4), crop=8, seed=0)
    item = train[0]  # video a fails: another video's chunks, still video a's label slot
    assert item["clip"].shape == (3, 3, 8, 8) and train.num_failed_items == 1
    test = C.ChunkDataset(Broken("rgb", {"a": 60, "b": 40}), None, "test", test_count=5, test_flips=False)
    assert test[0] is None and test[1] is not None and test.num_failed_items == 1
