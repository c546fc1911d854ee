"""Clip sampling, ClipDataset and clip transforms on tiny real mp4s.

Every test video is flat grey with brightness ``4 * t + 2`` in frame ``t``, so the frame
numbers a clip was read from can be recovered from the decoded pixels (H.264 at crf 10 keeps
flat frames within +-1 grey level).
"""
from __future__ import annotations

import ast
import logging
import shutil
import threading
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from replicate.data import clips as clips_module
from replicate.data import transforms as T
from replicate.data.clips import (
    ClipDataset,
    average_clip_scores,
    clip_indices,
    clip_starts,
    collate_skip_none,
    probe_videos,
)
from replicate.data.flow import flow_path, save_flow
from replicate.data.samples import VideoSample
from replicate.data.video import VideoReadError, write_video

LENGTHS = {"long": 40, "mid": 24, "short": 10}
H, W = 64, 96


def _frame_numbers(clip: torch.Tensor) -> list[int]:
    """Frame numbers of an untransformed (C, T, H, W) clip in [0, 1]."""
    grey = torch.round(clip.mean(dim=(0, 2, 3)) * 255)
    return (grey // 4).long().tolist()


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    for name, length in LENGTHS.items():
        frames = np.zeros((length, H, W, 3), np.uint8)
        frames[:] = (4 * np.arange(length) + 2).astype(np.uint8)[:, None, None, None]
        write_video(root / f"{name}.mp4", frames)
    (root / "empty.mp4").write_bytes(b"")
    good = (root / "long.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(good[: len(good) // 2])
    return root


def _samples(video_dir, names):
    return [VideoSample(video_dir / f"{name}.mp4", label=i, video_id=name) for i, name in enumerate(names)]


@pytest.fixture
def good(video_dir):
    return _samples(video_dir, LENGTHS)


# --------------------------------------------------------------------------- clip positions


def test_random_starts_stay_in_bounds_and_reach_both_ends():
    rng = np.random.default_rng(0)
    starts = {clip_starts(40, 8, 2, "random", rng=rng)[0] for _ in range(500)}
    assert min(starts) == 0 and max(starts) == 40 - 15  # span (8 - 1) * 2 + 1 = 15
    assert clip_starts(10, 8, 2, "random", rng=rng) == [0]  # shorter than a span: loop from 0
    torch_rng = torch.Generator().manual_seed(0)
    assert 0 <= clip_starts(40, 8, 2, "random", rng=torch_rng)[0] <= 25
    with pytest.raises(ValueError, match="needs rng"):
        clip_starts(40, 8, 1, "random")


def test_uniform_starts_cover_the_video():
    starts = clip_starts(100, 16, 1, "uniform", 10)
    assert len(starts) == 10 and starts == sorted(starts)
    assert starts[0] == 0 and starts[-1] == 100 - 16
    assert clip_starts(100, 16, 1, "uniform", 1) == [42]  # the centre clip
    assert clip_starts(10, 16, 1, "uniform", 10) == [0] * 10  # short video: one looped clip, N times


def test_all_starts_are_consecutive_non_overlapping_clips():
    assert clip_starts(64, 16, 1, "all") == [0, 16, 32, 48]
    assert clip_starts(70, 16, 1, "all") == [0, 16, 32, 48]  # 6 trailing frames do not fill a clip
    assert clip_starts(100, 16, 2, "all") == [0, 32, 64]  # grid continues: 64 + 15 * 2 < 100
    assert clip_starts(5, 16, 1, "all") == [0]  # at least one


def test_unknown_mode_and_bad_arguments():
    with pytest.raises(ValueError, match="random, uniform, all"):
        clip_starts(40, 8, 1, "dense")
    with pytest.raises(ValueError, match="num_clips"):
        clip_starts(40, 8, 1, "uniform")
    with pytest.raises(ValueError, match="stride"):
        clip_starts(40, 8, 0, "all")


def test_clip_indices_stride_and_wraparound():
    assert clip_indices(3, 4, 2, 40).tolist() == [3, 5, 7, 9]
    assert clip_indices(0, 8, 2, 10).tolist() == [0, 2, 4, 6, 8, 0, 2, 4]
    with pytest.raises(ValueError, match="outside"):
        clip_indices(10, 4, 1, 10)


# --------------------------------------------------------------------------- probing


def test_probe_sorts_out_broken_files_and_caches(video_dir, good, tmp_path, monkeypatch):
    broken_samples = _samples(video_dir, ["empty", "truncated", "missing"])
    readable, broken = probe_videos(good + broken_samples, cache=tmp_path / "probe.json")
    assert [(s.video_id, n) for s, n in readable] == list(LENGTHS.items())
    reasons = {s.video_id: reason for s, reason in broken}
    assert "empty" in reasons["empty"] and "does not exist" in reasons["missing"]
    # a half file loses the index for these tiny videos; if it ever opened, decoding would catch it
    assert "truncated" in reasons or any(s.video_id == "truncated" for s, _ in readable)

    def no_reopen(*args, **kwargs):
        raise AssertionError("cached probe results were not used")

    monkeypatch.setattr(clips_module, "open_video", no_reopen)
    assert probe_videos(good + broken_samples, cache=tmp_path / "probe.json") == (readable, broken)
    monkeypatch.undo()
    copy = tmp_path / "copy.mp4"
    shutil.copy(video_dir / "mid.mp4", copy)
    sample = VideoSample(copy, 0, "copy")
    assert probe_videos([sample], cache=tmp_path / "probe.json")[0] == [(sample, 24)]
    shutil.copy(video_dir / "short.mp4", copy)  # replaced file: new size, so probed again
    assert probe_videos([sample], cache=tmp_path / "probe.json")[0] == [(sample, 10)]


# --------------------------------------------------------------------------- dataset


def test_train_clips_are_read_at_start_plus_stride(good):
    dataset = ClipDataset(good, clip_len=8, stride=2, mode="train", seed=3)
    assert len(dataset) == 3
    for index in range(3):
        item = dataset[index]
        n = LENGTHS[dataset.video_ids[item["video_index"]]]
        frames = _frame_numbers(item["clip"])
        start = frames[0]
        assert frames == clip_indices(start, 8, 2, n).tolist()
        assert item["clip"].shape == (3, 8, H, W) and item["clip"].dtype == torch.float32
        assert item["label"] == index and item["clip_index"] == 0
    assert _frame_numbers(dataset[2]["clip"]) == [0, 2, 4, 6, 8, 0, 2, 4]  # the 10-frame video loops


def test_train_randomness_depends_on_seed_epoch_index_only(good):
    transform = T.train_transform(32, scale_jitter=(40, 56))

    def make(seed):
        return ClipDataset(good, clip_len=4, stride=1, transform=transform, seed=seed)

    first, again = make(0), make(0)
    for epoch in (0, 5):
        first.set_epoch(epoch)
        again.set_epoch(epoch)
        for index in range(len(first)):
            assert torch.equal(first[index]["clip"], again[index]["clip"])
    untransformed = ClipDataset(good[:1], clip_len=4, stride=1, seed=0)
    starts = set()
    for epoch in range(8):
        untransformed.set_epoch(epoch)
        starts.add(_frame_numbers(untransformed[0]["clip"])[0])
    assert len(starts) > 1  # a new clip every epoch
    other_seed = make(1)
    assert any(not torch.equal(first[i]["clip"], other_seed[i]["clip"]) for i in range(len(first)))


def test_test_mode_uniform_clips(good):
    dataset = ClipDataset(good, clip_len=8, stride=1, mode="test", num_clips=3)
    assert len(dataset) == 9
    items = [dataset[i] for i in range(len(dataset))]
    assert [it["video_index"] for it in items] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [it["clip_index"] for it in items] == [0, 1, 2] * 3
    for it in items:
        n = LENGTHS[dataset.video_ids[it["video_index"]]]
        start = clip_starts(n, 8, 1, "uniform", 3)[it["clip_index"]]
        assert _frame_numbers(it["clip"]) == clip_indices(start, 8, 1, n).tolist()
    assert torch.equal(dataset[4]["clip"], items[4]["clip"])  # deterministic


def test_test_mode_all_clips(good):
    dataset = ClipDataset(good, clip_len=8, stride=1, mode="test", num_clips="all")
    assert len(dataset) == 40 // 8 + 24 // 8 + 1
    starts = [_frame_numbers(dataset[i]["clip"])[0] for i in range(5)]
    assert starts == [0, 8, 16, 24, 32]


def test_decode_size(good):
    fixed = ClipDataset(good[:1], clip_len=4, mode="test", num_clips=1, decode_size=(40, 60))
    assert fixed[0]["clip"].shape == (3, 4, 40, 60)
    short = ClipDataset(good[:1], clip_len=4, mode="test", num_clips=1, decode_size=40)
    assert short[0]["clip"].shape == (3, 4, 40, 60)  # 64x96 with short side 40
    assert _frame_numbers(short[0]["clip"]) == _frame_numbers(fixed[0]["clip"])
    with pytest.raises(ValueError, match="decode_size"):
        ClipDataset(good, clip_len=4, decode_size=(40, 60, 3))


def test_bad_arguments_name_the_valid_choices(good):
    with pytest.raises(ValueError, match="train, test"):
        ClipDataset(good, clip_len=8, mode="val")
    with pytest.raises(ValueError, match="num_clips"):
        ClipDataset(good, clip_len=8, mode="test", num_clips=0)


def test_broken_videos_are_skipped_and_reported_once(video_dir, good, caplog):
    names = ["long", "empty", "mid", "missing", "truncated", "short"]
    with caplog.at_level(logging.WARNING, logger="replicate.data.clips"):
        dataset = ClipDataset(_samples(video_dir, names), clip_len=8, mode="test", num_clips=2)
        batches = list(DataLoader(dataset, batch_size=4, collate_fn=collate_skip_none))
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1
    broken_ids = {s.video_id for s, _ in dataset.broken}
    assert {"empty", "missing"} <= broken_ids
    assert skipped[0].startswith(f"skipped {len(dataset.broken)} of 6 videos that could not be read: ")
    assert str(video_dir / "empty.mp4") in skipped[0]
    # the truncated file is either excluded at probe time or its failing clips are dropped
    decoded = sum(len(b["video_index"]) for b in batches if b is not None)
    assert decoded + dataset.num_failed_items == len(dataset)
    assert {"long", "mid", "short"} <= set(dataset.video_ids) <= {"long", "mid", "short", "truncated"}


@pytest.fixture
def failing_decode(monkeypatch):
    """Make every clip of a video whose id starts with 'bad' fail to decode (file opens fine)."""
    calls = []
    real = clips_module.read_frames

    def read_frames(reader, indices):
        calls.append(reader._replicate_path)
        if "/bad" in reader._replicate_path:
            raise VideoReadError(reader._replicate_path, "decoding failed, file is probably truncated")
        return real(reader, indices)

    monkeypatch.setattr(clips_module, "read_frames", read_frames)
    return calls


def test_decode_failure_train_mode_falls_back_deterministically(video_dir, tmp_path, good, failing_decode, caplog):
    shutil.copy(video_dir / "long.mp4", tmp_path / "bad.mp4")
    samples = good + [VideoSample(tmp_path / "bad.mp4", 7, "bad")]
    dataset = ClipDataset(samples, clip_len=8, stride=1)
    with caplog.at_level(logging.WARNING, logger="replicate.data.clips"):
        first, second = dataset[3], dataset[3]
    assert first["video_index"] != 3 and first["video_index"] == second["video_index"]
    assert torch.equal(first["clip"], second["clip"])
    assert first["label"] == dataset.labels[first["video_index"]]
    assert len([r for r in caplog.records if "bad.mp4" in r.getMessage()]) == 1
    assert dataset.num_failed_items == 1 and [s.video_id for s in dataset.decode_failures] == ["bad"]


def test_decode_failure_never_loops_forever(tmp_path, video_dir, failing_decode):
    shutil.copy(video_dir / "long.mp4", tmp_path / "bad.mp4")
    dataset = ClipDataset([VideoSample(tmp_path / "bad.mp4", 0, "bad")], clip_len=8)
    with pytest.raises(RuntimeError, match="in a row failed to decode"):
        dataset[0]
    assert len(failing_decode) == ClipDataset.max_fallbacks + 1


def test_decode_failure_test_mode_yields_none(video_dir, tmp_path, good, failing_decode):
    shutil.copy(video_dir / "long.mp4", tmp_path / "bad.mp4")
    samples = good + [VideoSample(tmp_path / "bad.mp4", 7, "bad")]
    dataset = ClipDataset(samples, clip_len=8, mode="test", num_clips=2)
    batches = list(DataLoader(dataset, batch_size=2, collate_fn=collate_skip_none))
    assert batches[-1] is None  # the bad video's two clips formed the last batch
    assert sum(len(b["video_index"]) for b in batches if b is not None) == 6
    assert dataset.num_failed_items == 2


def test_dataloader_with_two_workers_matches_in_process(good):
    dataset = ClipDataset(good, clip_len=8, stride=2, transform=T.train_transform(32, short_side=40), seed=1)
    dataset.set_epoch(2)
    batches = {}
    for workers in (0, 2):
        loader = DataLoader(dataset, batch_size=2, num_workers=workers)
        batches[workers] = list(loader)
    for a, b in zip(batches[0], batches[2], strict=True):
        assert torch.equal(a["clip"], b["clip"]) and torch.equal(a["video_index"], b["video_index"])
    assert batches[2][0]["clip"].shape == (2, 3, 8, 32, 32)


# --------------------------------------------------------------------------- transforms


def _position_clip(t=4, h=20, w=30) -> np.ndarray:
    """uint8 (T, H, W, 3): channel 0 = row, 1 = column, 2 = frame number."""
    clip = np.zeros((t, h, w, 3), np.uint8)
    clip[..., 0] = np.arange(h)[None, :, None]
    clip[..., 1] = np.arange(w)[None, None, :]
    clip[..., 2] = np.arange(t)[:, None, None]
    return clip


def test_random_crop_is_the_same_for_every_frame():
    clip = _position_clip()
    for seed in range(5):
        out = T.RandomCrop((8, 10))(clip, np.random.default_rng(seed))
        assert out.shape == (4, 8, 10, 3)
        assert (out[:, 0, 0, :2] == out[0, 0, 0, :2]).all()  # same corner in all frames
        assert out[:, 0, 0, 2].tolist() == [0, 1, 2, 3]
    center = T.CenterCrop(10)(clip)
    assert center[0, 0, 0, :2].tolist() == [5, 10]
    with pytest.raises(ValueError, match="does not fit"):
        T.RandomCrop(32)(clip, np.random.default_rng(0))


def test_flip_mirrors_every_frame_and_negates_flow_x():
    clip = _position_clip()
    flipped = T.RandomHorizontalFlip(p=1.0)(clip, np.random.default_rng(0))
    assert flipped[:, :, :, 1].tolist() == torch.from_numpy(clip[:, :, ::-1, 1].copy()).tolist()
    assert torch.equal(T.RandomHorizontalFlip(p=0.0)(clip, np.random.default_rng(0)), torch.from_numpy(clip))
    flow = np.random.default_rng(1).integers(0, 256, (3, 6, 8, 2), dtype=np.uint8)
    out = T.RandomHorizontalFlip(p=1.0, flow=True)(flow, torch.Generator().manual_seed(0))
    assert out[..., 0].tolist() == (255 - flow[:, :, ::-1, 0]).tolist()
    assert out[..., 1].tolist() == flow[:, :, ::-1, 1].tolist()
    float_flow = torch.randn(3, 6, 8, 2)
    out = T.RandomHorizontalFlip(p=1.0, flow=True)(float_flow, np.random.default_rng(0))
    assert torch.equal(out[..., 0], -float_flow.flip(2)[..., 0])


def test_to_tensor_normalises_to_cthw():
    clip = np.random.default_rng(0).integers(0, 256, (4, 6, 8, 3), dtype=np.uint8)
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    out = T.ToTensorCTHW(mean, std)(clip)
    assert out.shape == (3, 4, 6, 8) and out.dtype == torch.float32 and out.is_contiguous()
    expected = (torch.from_numpy(clip).permute(3, 0, 1, 2) / 255 - torch.tensor(mean)[:, None, None, None])
    expected /= torch.tensor(std)[:, None, None, None]
    assert torch.allclose(out, expected, atol=1e-6)
    flow = clip[..., :2]
    assert T.ToTensorCTHW((0.5, 0.5), (0.5, 0.5))(flow).shape == (2, 4, 6, 8)
    with pytest.raises(ValueError, match="3 values but the clip has 2 channels"):
        T.ToTensorCTHW(mean, std)(flow)


def test_train_and_test_transform_builders():
    clip = np.random.default_rng(0).integers(0, 256, (4, 128, 170, 3), dtype=np.uint8)
    train = T.train_transform(112, short_side=(128, 171))
    a, b = train(clip, np.random.default_rng(5)), train(clip, np.random.default_rng(5))
    assert a.shape == (3, 4, 112, 112) and torch.equal(a, b)
    test = T.test_transform(112, short_side=128)
    assert torch.equal(test(clip), test(clip)) and test(clip).shape == (3, 4, 112, 112)
    jitter = T.ScaleJitter(40, 48)
    shorts = {jitter(clip, np.random.default_rng(s)).shape[1] for s in range(30)}
    assert min(shorts) >= 40 and max(shorts) <= 48 and len(shorts) > 1
    with pytest.raises(ValueError, match="not both"):
        T.train_transform(112, short_side=128, scale_jitter=(128, 160))


# --------------------------------------------------------------------------- evaluation


def test_average_clip_scores():
    scores = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 3.0]])
    video_scores, order = average_clip_scores(scores, [2, 0, 2, 0])
    assert order.tolist() == [0, 2]
    assert video_scores.tolist() == [[1.5, 2.0], [1.0, 0.5]]
    with pytest.raises(ValueError, match="video_index"):
        average_clip_scores(scores, [0, 1])


def test_sizes_decord_cannot_resize_to_are_decoded_native_then_resized(tmp_path):
    # decord fails to resize a 96-pixel-wide video to width 48 while decoding (replicate.data.video,
    # _DECORD_RESIZE_BUG); such videos must still be read at the asked size, with the right frames
    frames = np.zeros((12, 64, 96, 3), np.uint8)
    frames[:] = (4 * np.arange(12) + 2).astype(np.uint8)[:, None, None, None]
    write_video(tmp_path / "v.mp4", frames)
    sample = [VideoSample(tmp_path / "v.mp4", 0, "v")]
    for cache in (False, True):
        dataset = ClipDataset(sample, clip_len=4, mode="test", num_clips=2, decode_size=(32, 48), cache_frames=cache)
        assert not dataset.broken
        for i in range(2):
            clip = dataset[i]["clip"]
            numbers = _frame_numbers(clip)
            assert clip.shape == (3, 4, 32, 48) and numbers == list(range(numbers[0], numbers[0] + 4))


# --------------------------------------------------------------------------- frame cache


@pytest.mark.parametrize("mode", ["train", "test"])
def test_cached_frames_give_the_same_items_as_decoding(good, mode):
    kwargs = dict(clip_len=8, stride=2, mode=mode, num_clips=3, decode_size=(24, 32), seed=4,
                  transform=T.train_transform(20) if mode == "train" else T.test_transform(20))
    live, cached = ClipDataset(good, **kwargs), ClipDataset(good, cache_frames=True, **kwargs)
    assert cached._frames is not None and live._frames is None
    for epoch in (0, 1):
        live.set_epoch(epoch), cached.set_epoch(epoch)
        for i in range(len(live)):
            a, b = live[i], cached[i]
            assert torch.equal(a["clip"], b["clip"]) and a["video_index"] == b["video_index"]


def test_cached_frames_keep_decode_failures(video_dir, tmp_path, good, failing_decode, caplog):
    shutil.copy(video_dir / "long.mp4", tmp_path / "bad.mp4")
    samples = good + [VideoSample(tmp_path / "bad.mp4", 7, "bad")]
    dataset = ClipDataset(samples, clip_len=8, mode="test", num_clips=2, cache_frames=True)
    calls = len(failing_decode)
    batches = list(DataLoader(dataset, batch_size=2, collate_fn=collate_skip_none))
    assert len(failing_decode) == calls  # no decoding after construction
    assert batches[-1] is None and dataset.num_failed_items == 2
    assert [s.video_id for s in dataset.decode_failures] == ["bad"]


def test_frame_cache_dir_lets_the_next_dataset_load_instead_of_decode(video_dir, tmp_path, good, monkeypatch, caplog):
    store = tmp_path / "frames"
    kwargs = dict(clip_len=8, mode="test", num_clips=2, decode_size=(24, 32), cache_frames=True, frame_cache_dir=store)
    first = ClipDataset(good, **kwargs)
    entries = sorted(store.rglob("*.npy"))
    assert len(entries) == len(good) and not list(store.rglob("*.tmp"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded a video whose frames are in the frame cache")

    monkeypatch.setattr(clips_module, "read_frames", no_decoding)
    second = ClipDataset(good, **kwargs)
    for i in range(len(first)):
        assert torch.equal(first[i]["clip"], second[i]["clip"])
    monkeypatch.undo()

    # another decode size is another entry; a damaged entry is decoded again, with a warning
    ClipDataset(good, **{**kwargs, "decode_size": (32, 32)})
    assert len(list(store.rglob("*.npy"))) == 2 * len(good)
    entries[0].write_bytes(b"torn")
    with caplog.at_level(logging.WARNING, logger="replicate.data.clips"):
        third = ClipDataset(good, **kwargs)
    assert any("unreadable" in r.getMessage() for r in caplog.records)
    for i in range(len(first)):
        assert torch.equal(first[i]["clip"], third[i]["clip"])

    # a video rewritten in place (new content, new modification time) is not served from the old entry
    edited = tmp_path / "edited.mp4"
    shutil.copy(video_dir / "long.mp4", edited)
    sample = [VideoSample(edited, 0, "edited")]
    before = ClipDataset(sample, **kwargs)[0]["clip"]
    frames = np.full((LENGTHS["long"], H, W, 3), 200, np.uint8)
    write_video(edited, frames)
    after = ClipDataset(sample, **kwargs)[0]["clip"]
    assert not torch.equal(before, after) and abs(float(after.mean()) - 200 / 255) < 0.02


@pytest.mark.parametrize("stored", ["frame cache", "flow"])
def test_decoding_threads_never_parse_array_headers_at_once(stored, video_dir, tmp_path, good, monkeypatch):
    # CPython 3.11's ast converter shares one recursion counter between threads, and numpy parses every
    # .npy header (an .npz member's too) with ast.literal_eval: two parses at once once failed CI with
    # "SystemError: AST constructor recursion depth mismatch". A slow literal_eval makes any overlap seen.
    kwargs = dict(clip_len=8, mode="test", num_clips=2, decode_size=(24, 32), cache_frames=True)
    if stored == "flow":
        for sample, length in zip(good, LENGTHS.values()):
            save_flow(flow_path(sample.path, video_dir, tmp_path / "flow"), np.full((length - 1, H, W, 2), 128, np.uint8), "farneback")
        kwargs["flow"] = (video_dir, tmp_path / "flow")
    else:
        kwargs["frame_cache_dir"] = tmp_path / "frames"
        ClipDataset(good, **kwargs)
    parsing, overlaps, guard = [], [], threading.Lock()
    literal_eval = ast.literal_eval

    def slow_literal_eval(text):
        with guard:
            parsing.append(threading.get_ident())
            overlaps.append(len(parsing) > 1)
        time.sleep(0.05)
        try:
            return literal_eval(text)
        finally:
            with guard:
                parsing.remove(threading.get_ident())

    monkeypatch.setattr(ast, "literal_eval", slow_literal_eval)
    monkeypatch.setattr(clips_module.os, "cpu_count", lambda: len(good))
    ClipDataset(good, **kwargs)
    assert len(overlaps) >= len(good) and not any(overlaps)

def test_cache_over_the_memory_limit_decodes_on_the_fly(good, caplog):
    with caplog.at_level(logging.WARNING, logger="replicate.data.clips"):
        dataset = ClipDataset(good, clip_len=8, cache_frames=True, cache_limit_bytes=1000)
    assert dataset._frames is None
    assert any("would take" in r.getMessage() and "decoding clips on the fly" in r.getMessage() for r in caplog.records)
    assert dataset[0]["clip"].shape[1] == 8
