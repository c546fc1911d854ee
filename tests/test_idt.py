"""The IDT stand-in of feichtenhofer2016 Table 4 (replicate/idt.py): maps, tracking, descriptors, Fisher vectors, SVM."""
from __future__ import annotations

import numpy as np
import pytest

from replicate import idt


def test_orientation_maps_bin_by_angle_weight_by_magnitude_and_keep_still_flow_apart():
    dx = np.array([[[2.0, 0.0, -1.0, 0.1]]])
    dy = np.array([[[0.0, 3.0, 0.0, 0.0]]])
    m = idt.orientation_maps(dx, dy)  # (1, 8, 1, 4)
    assert m.shape == (1, 8, 1, 4)
    assert m[0, 0, 0, 0] == 2.0 and m[0, 2, 0, 1] == 3.0 and m[0, 4, 0, 2] == 1.0  # 0, 90, 180 degrees
    assert np.allclose(m.sum(1)[0, 0], [2.0, 3.0, 1.0, 0.1])
    hof = idt.orientation_maps(dx, dy, still=idt.HOF_STILL)
    assert hof.shape[1] == 9 and hof[0, 8, 0, 3] == 1.0 and hof[0, :8, 0, 3].sum() == 0  # 0.1 px: "no motion"


def test_box_sums_are_window_sums_below_and_right_of_each_pixel():
    x = np.random.default_rng(0).random((2, 3, 9, 11)).astype(np.float32)
    b = idt.box_sums(x, 4, 3)
    for y, xx in [(0, 0), (4, 5), (8, 10), (7, 9)]:
        assert np.allclose(b[..., y, xx], x[..., y:y + 3, xx:xx + 4].sum((-1, -2)), atol=1e-5)


def test_points_follow_the_flow():
    flow = np.zeros((6, 20, 30, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1.0, 0.5
    path = idt.track(flow, 1, np.array([[3.0, 4.0], [10.0, 10.0]]), 4)
    assert path.shape == (5, 2, 2)
    assert np.allclose(path[-1], [[7.0, 6.0], [14.0, 12.0]])


def _moving_square(frames: int = 20, h: int = 32, w: int = 40):
    video = np.zeros((frames, h, w, 3), np.uint8)
    flow = np.zeros((frames - 1, h, w, 2), np.float32)
    for t in range(frames):
        video[t, 10:18, 5 + t:13 + t] = 255
        if t < frames - 1:
            flow[t, 10:18, 5 + t:13 + t, 0] = 1.0  # one pixel right per frame, where the square is
    return video, flow


def test_descriptors_have_idt_sizes_and_static_trajectories_are_dropped():
    video, flow = _moving_square()
    d = idt.video_descriptors(video, flow, grid=4, length=6, starts_every=3, patch=8, cells=(2, 2, 3))
    assert {k: v.shape[1] for k, v in d.items()} == {"hog": 96, "hof": 108, "mbhx": 96, "mbhy": 96}
    n = len(d["hog"])
    assert 0 < n < 10 * 8 * 4  # only the points on the square move
    assert all(len(v) == n for v in d.values())
    assert np.allclose((d["hof"] ** 2).sum(1), 1.0, atol=1e-4)  # RootSIFT: squares sum to 1 (L1 before the root)
    still = idt.video_descriptors(video, np.zeros_like(flow), grid=4, length=6, starts_every=3, patch=8)
    assert all(len(v) == 0 for v in still.values())
    with pytest.raises(ValueError, match="time cells"):
        idt.video_descriptors(video, flow, grid=4, length=7, starts_every=3, patch=8)


def test_gmm_finds_separated_clusters_and_fisher_vectors_are_normalised():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-5, 1, (300, 3)), rng.normal(5, 1, (300, 3))])
    gmm = idt.DiagonalGMM(x, 2, seed=1)
    assert np.allclose(np.sort(gmm.means[:, 0]), [-5, 5], atol=0.3) and np.allclose(gmm.weights, 0.5, atol=0.05)
    fv = idt.fisher_vector(x[:50], gmm)
    assert fv.shape == (2 * 2 * 3,) and np.isclose(np.linalg.norm(fv), 1.0)
    assert not idt.fisher_vector(np.zeros((0, 3)), gmm).any()
    pca = idt.PCA(x, 1)
    assert abs(abs(pca.components[0] @ np.ones(3) / np.sqrt(3)) - 1) < 0.05  # the cluster axis


def test_linear_svm_separates_separable_classes():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 4
    y = np.repeat(np.arange(3), 20)
    x = centres[y] + rng.normal(0, 0.5, (60, 3))
    w, b = idt.linear_svm(x, y, 3, c=10.0)
    assert ((x @ w.T + b).argmax(1) == y).all()


def test_fisher_vector_and_densities_equal_the_textbook_formulas():
    """The matrix-product forms (no (N, K, D) array) against Perronnin et al.'s formulas written out."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4))
    gmm = idt.DiagonalGMM(x, 3, seed=0)
    d = x[:, None, :] - gmm.means[None]
    direct = np.log(gmm.weights)[None] - 0.5 * (np.log(2 * np.pi * gmm.vars).sum(1)[None] + (d ** 2 / gmm.vars[None]).sum(2))
    assert np.allclose(gmm.log_densities(x), direct)
    q, z = gmm.posteriors(x), d / np.sqrt(gmm.vars)[None]
    g_mu = (q[:, :, None] * z).sum(0) / (len(x) * np.sqrt(gmm.weights)[:, None])
    g_var = (q[:, :, None] * (z ** 2 - 1)).sum(0) / (len(x) * np.sqrt(2 * gmm.weights)[:, None])
    fv = np.concatenate([g_mu.ravel(), g_var.ravel()])
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    assert np.allclose(idt.fisher_vector(x, gmm), fv / np.linalg.norm(fv), atol=1e-6)


def test_run_fits_on_the_training_videos_and_scores_every_test_video(tmp_path, monkeypatch):
    """The whole stand-in at smoke: descriptors of every video, PCA, GMM, Fisher vectors, SVM, stored as a run."""
    from replicate import config, runs

    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path)
    m = idt.run("feichtenhofer2016", "ucf101", 1, "smoke", progress=False)
    test = config.video_list("ucf101", 1, config.test_subset("ucf101"), "smoke")
    assert m["num_test_videos"] == len(test) and len(m["video_correct"]) == len(test)
    assert 0.0 <= m["video@1"] <= m["video@5"] <= 1.0
    s = m["settings"]
    assert m["fisher_dims"] == sum(2 * s["gmm_components"] * round(d * s["pca"]) for d in (96, 108, 96, 96))  # HOG, HOF, MBHx, MBHy
    scores = runs.load_video_scores("feichtenhofer2016", "idt_ucf101_split1", "smoke", 0)
    assert scores["scores"].shape == (len(test), test.num_classes)
    # a split the profile leaves out writes a marker, not a result
    assert "skipped" in idt.run("feichtenhofer2016", "ucf101", 2, "smoke", progress=False)


def test_trajectories_longer_than_the_videos_fail_in_one_line(tmp_path, monkeypatch, capsys):
    """Smoke videos have 24-32 frames: 40-frame trajectories find none, and the CLI says which setting to change."""
    from replicate import config, runs

    monkeypatch.setattr(runs, "RUNS_DIR", tmp_path)
    params = config.load_params()
    params["profiles"]["smoke"]["idt"].update(length=39, starts_every=39)
    monkeypatch.setattr(config, "load_params", lambda *a, **k: params)
    with pytest.raises(SystemExit) as exit_:
        idt.main(["feichtenhofer2016", "hmdb51", "1", "--profile", "smoke"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]  # after the progress bar
    assert last.startswith("error: 0 hog trajectories") and last.endswith("profiles.smoke.idt")
