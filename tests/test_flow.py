"""Optical flow: accuracy on known motion, quantization, the resumable tree, loading, figure."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from replicate.data import flow as F
from replicate.data.video import write_video

TRUE_DX, TRUE_DY = 2, -1
H, W, T = 64, 86, 8
SQ, X0, Y0 = 24, 20, 30  # square side and its top-left corner in frame 0


def _translating_square(h: int = H, w: int = W, t: int = T) -> np.ndarray:
    """Textured square moving (TRUE_DX, TRUE_DY) px per frame over a smooth gradient: uint8 (t, h, w, 3)."""
    rng = np.random.default_rng(0)
    # blurred noise: texture Farneback's polynomial fit can lock on to, with no aperture problem
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (SQ, SQ)).astype(np.float32), (0, 0), 1.5)
    texture = 40 + 175 * (texture - texture.min()) / np.ptp(texture)
    yy, xx = np.mgrid[0:h, 0:w]
    background = 60 + 0.4 * xx + 0.3 * yy
    frames = []
    for k in range(t):
        img = background.copy()
        x, y = X0 + TRUE_DX * k, Y0 + TRUE_DY * k
        img[y:y + SQ, x:x + SQ] = texture
        frames.append(np.repeat(img[..., None], 3, axis=2))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def test_farneback_recovers_known_translation():
    flow = F.compute_flow(_translating_square())
    assert flow.shape == (T - 1, H, W, 2) and flow.dtype == np.float32
    for k in range(T - 1):
        x, y = X0 + TRUE_DX * k, Y0 + TRUE_DY * k
        inside = flow[k, y + 4:y + SQ - 4, x + 4:x + SQ - 4].reshape(-1, 2)  # away from the edges
        median = np.median(inside, axis=0)
        assert abs(median[0] - TRUE_DX) <= 0.5 and abs(median[1] - TRUE_DY) <= 0.5, (k, median)


def test_compute_flow_rejects_bad_input_and_unknown_method():
    frames = _translating_square(t=2)
    with pytest.raises(ValueError, match="farneback.*tvl1"):
        F.compute_flow(frames, method="lucas-kanade")
    with pytest.raises(ValueError, match="at least 2 frames"):
        F.compute_flow(frames[:1])


def test_quantize_round_trip_and_clipping():
    flow = np.random.default_rng(1).uniform(-F.BOUND, F.BOUND, (3, 5, 7, 2)).astype(np.float32)
    q = F.quantize_flow(flow)
    assert q.dtype == np.uint8
    assert np.abs(F.dequantize_flow(q) - flow).max() <= 40 / 255 / 2 + 1e-5
    edges = F.quantize_flow(np.array([-100.0, -20.0, 0.0, 20.0, 35.0]))
    assert edges.tolist() == [0, 0, 128, 255, 255]  # zero flow is 127.5, stored as 128
    assert F.dequantize_flow(edges)[[0, -1]].tolist() == [-20.0, 20.0]


def test_tvl1_without_contrib_raises_clear_error():
    if hasattr(cv2, "optflow"):
        pytest.skip("opencv-contrib is installed: TV-L1 is available")
    with pytest.raises(RuntimeError, match="pip install opencv-contrib-python-headless"):
        F.compute_flow(_translating_square(t=2), method="tvl1")


def test_flow_path_mirrors_tree(tmp_path):
    assert F.flow_path(tmp_path / "v" / "a" / "b.mp4", tmp_path / "v", tmp_path / "f") == tmp_path / "f" / "a" / "b.npz"
    with pytest.raises(ValueError, match="not under"):
        F.flow_path(tmp_path / "elsewhere.mp4", tmp_path / "v", tmp_path / "f")


@pytest.fixture
def video_tree(tmp_path):
    videos = tmp_path / "videos"
    frames = _translating_square(t=6)
    write_video(videos / "class_a" / "good1.mp4", frames)
    good2 = write_video(videos / "class_b" / "good2.mp4", frames[::-1].copy())
    (videos / "class_a" / "empty.mp4").write_bytes(b"")
    data = good2.read_bytes()
    (videos / "class_b" / "truncated.mp4").write_bytes(data[: len(data) // 2])
    return videos, tmp_path / "flow"


def test_compute_flow_tree_writes_good_skips_broken_and_resumes(video_tree, capsys):
    videos, out = video_tree
    counts = F.compute_flow_tree(videos, out)
    assert (counts["computed"], counts["up_to_date"], counts["broken"]) == (2, 0, 2)
    assert sorted(counts["broken_files"]) == ["class_a/empty.mp4", "class_b/truncated.mp4"]
    assert "2 computed, 0 up to date, 2 broken" in capsys.readouterr().out

    for rel in ("class_a/good1.npz", "class_b/good2.npz"):
        flow = F.load_flow(out / rel)
        assert flow.shape == (5, H, W, 2) and flow.dtype == np.uint8
        with np.load(out / rel) as data:
            assert str(data["method"]) == "farneback" and float(data["bound"]) == F.BOUND
    assert not (out / "class_a" / "empty.npz").exists() and not (out / "class_b" / "truncated.npz").exists()
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["good1.npz", "good2.npz"]  # no temp files

    again = F.compute_flow_tree(videos, out)
    assert (again["computed"], again["up_to_date"], again["broken"]) == (0, 2, 2)


def test_compute_flow_tree_workers_match_serial(video_tree, tmp_path):
    videos, out = video_tree
    F.compute_flow_tree(videos, out)
    parallel = F.compute_flow_tree(videos, tmp_path / "flow_parallel", workers=2)
    assert parallel["computed"] == 2 and parallel["broken_files"] == ["class_a/empty.mp4", "class_b/truncated.mp4"]
    for rel in ("class_a/good1.npz", "class_b/good2.npz"):
        assert np.array_equal(F.load_flow(out / rel), F.load_flow(tmp_path / "flow_parallel" / rel))


def test_cli_runs_tree_and_writes_figure(video_tree, tmp_path):
    videos, out = video_tree
    counts = F.main(["--videos", str(videos), "--out", str(out), "--figure", str(tmp_path / "fig.png")])
    assert counts["computed"] == 2
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_stack_flow_shape_order_and_clamping():
    t, h, w = 4, 3, 5
    # flow frame k holds dx = k and dy = -k everywhere, so every channel is identifiable
    flow = np.stack([np.stack([np.full((h, w), k), np.full((h, w), -k)], axis=-1) for k in range(t)])
    q = F.quantize_flow(flow.astype(np.float32))
    stack = F.stack_flow(q, start=0, L=10)
    assert stack.shape == (20, h, w) and stack.dtype == np.float32
    step = 2 * F.BOUND / 255
    expected_k = [0, 1, 2, 3, 3, 3, 3, 3, 3, 3]  # past the end: clamped to the last flow frame
    np.testing.assert_allclose(stack[0::2, 0, 0], expected_k, atol=step / 2 + 1e-5)  # x_0, x_1, ...
    np.testing.assert_allclose(stack[1::2, 0, 0], [-k for k in expected_k], atol=step / 2 + 1e-5)  # y_0, y_1, ...
    strided = F.stack_flow(q, start=1, L=2, stride=2)
    np.testing.assert_allclose(strided[:, 0, 0], [1, -1, 3, -3], atol=step / 2 + 1e-5)


def test_flow_clip_shape_and_channels():
    flow = F.quantize_flow(np.tile(np.array([3.0, -2.0], dtype=np.float32), (7, 4, 6, 1)))
    clip = F.flow_clip(flow, [0, 2, 4, 6, 7])  # 7 is the last RGB frame: clamped to flow frame 6
    assert clip.shape == (2, 5, 4, 6) and clip.dtype == np.float32
    np.testing.assert_allclose(clip[0], 3.0, atol=0.08)
    np.testing.assert_allclose(clip[1], -2.0, atol=0.08)
    with pytest.raises(ValueError, match=">= 0"):
        F.flow_clip(flow, [-1, 0])


def test_load_flow_missing_file_names_file_and_command(tmp_path):
    missing = tmp_path / "nope" / "v.npz"
    with pytest.raises(FileNotFoundError) as err:
        F.load_flow(missing)
    assert str(missing) in str(err.value) and "python -m replicate.data.flow" in str(err.value)


def test_plot_frames_and_flow_returns_figure(tmp_path):
    from matplotlib.figure import Figure

    frames = _translating_square()
    flow = F.quantize_flow(F.compute_flow(frames))
    fig = F.plot_frames_and_flow(frames, flow, n=4, title="square")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * 4 + 1  # 4 frames, 4 flow panels, the colour wheel
    fig.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 0
    # fewer flow frames than panels asked for: one column per flow frame; float flow accepted
    assert len(F.plot_frames_and_flow(frames[:3], F.compute_flow(frames[:3]), n=6).axes) == 2 * 2 + 1


def test_resize_flow_scales_the_vectors_with_the_fields():
    q = F.quantize_flow(np.tile(np.array([4.0, -2.0], dtype=np.float32), (3, 20, 40, 1)))
    small = F.resize_flow(q, (10, 10))  # x shrinks 4x, y 2x
    assert small.shape == (3, 10, 10, 2) and small.dtype == np.uint8
    back = F.dequantize_flow(small)
    np.testing.assert_allclose(back[..., 0], 1.0, atol=0.1)
    np.testing.assert_allclose(back[..., 1], -1.0, atol=0.1)
    assert F.resize_flow(q, (20, 40)) is q


# --------------------------------------------------------------------------- the flow stream's dataset


@pytest.mark.parametrize("cache", [False, True])
def test_flow_stream_clips_are_the_stored_flow_of_the_rgb_clip(video_tree, cache, caplog):
    from replicate.data import transforms as T
    from replicate.data.clips import ClipDataset
    from replicate.data.samples import VideoSample

    videos, flow_root = video_tree
    F.compute_flow_tree(videos, flow_root, workers=1)
    samples = [VideoSample(videos / "class_a" / "good1.mp4", 0, "g1"), VideoSample(videos / "class_b" / "good2.mp4", 1, "g2"),
               VideoSample(videos / "class_a" / "nothing.mp4", 0, "gone")]
    write_video(videos / "class_a" / "nothing.mp4", _translating_square(t=6))  # after the flow: it has none
    ds = ClipDataset(samples, clip_len=4, mode="test", num_clips=2, flow=(videos, flow_root), cache_frames=cache,
                     transform=T.test_transform(32, mean=F.FLOW_PIXELS[0], std=F.FLOW_PIXELS[1]))
    assert [s.video_id for s, _ in ds.broken] == ["gone"] and "no optical flow file" in ds.broken[0][1]
    item = ds[0]
    assert item["clip"].shape == (2, 4, 32, 32)  # (dx, dy) x T x crop x crop: the flow stream's input
    stored = F.load_flow(flow_root / "class_a" / "good1.npz")
    start = (H - 32) // 2, (W - 32) // 2
    expected = F.flow_clip(stored, [0, 1, 2, 3])[:, :, start[0]:start[0] + 32, start[1]:start[1] + 32]
    np.testing.assert_allclose(item["clip"].numpy(), expected, atol=1e-4)  # in pixels
    last = ds[1]  # the second clip ends on the last frame: the last flow field repeats
    assert last["clip"].shape == (2, 4, 32, 32)


def test_flow_stream_train_flip_negates_dx(video_tree):
    from replicate.data import transforms as T
    from replicate.data.clips import ClipDataset
    from replicate.data.samples import VideoSample

    videos, flow_root = video_tree
    F.compute_flow_tree(videos, flow_root, workers=1)
    ds = ClipDataset([VideoSample(videos / "class_a" / "good1.mp4", 0, "g1")], clip_len=4, flow=(videos, flow_root),
                     transform=T.train_transform(32, flip=True, flow=True, mean=F.FLOW_PIXELS[0], std=F.FLOW_PIXELS[1]))
    means = set()
    for epoch in range(8):
        ds.set_epoch(epoch)
        means.add(round(float(ds[0]["clip"][0].mean()), 2))
    assert any(m > 0.2 for m in means) and any(m < -0.2 for m in means)  # the square moves +x; mirrored it moves -x
