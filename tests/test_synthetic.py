"""The synthetic stand-ins: determinism, the twin property, the official formats they are written in."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from replicate import config
from replicate.data import standins
from replicate.data.clips import ClipDataset
from replicate.data.samples import DatasetError
from replicate.data.synthetic import (
    MOTIONS, REVERSED, TWINS, ActionClass, Actor, Nuisance, VideoSpec, motion_tracks, render_image, render_video,
)
from replicate.data.video import read_all_frames

VS = VideoSpec(height=64, width=86, frames=(24, 32))
SIZES = {
    "ucf101": {"classes": 4, "groups": 6, "test_groups": 2, "clips_per_group": 1},
    "hmdb51": {"classes": 4, "videos_per_class": 5, "train": 3, "test": 2},
    "kinetics": {"classes": 4, "train_per_class": 3, "val_per_class": 1, "missing": 1},
    "unlabelled": {"videos": 3},
    "images": {"train_per_class": 1, "val_per_class": 1},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("data") / "smoke"
    manifest = standins.build_all(root, SIZES, {"height": 64, "width": 86, "frames": [24, 32]}, seed=3, workers=2)
    return root, manifest


def _params(root: Path) -> dict:
    return {"profile": "smoke", "seed": 3, "data_dir": str(root.parent), "profiles": {"smoke": {}}}


def test_render_is_deterministic_and_seed_dependent():
    cls = ActionClass(Actor("star", "red", "stripes"), "orbit_forward")
    a, b = render_video(cls, (1, 2), VS, Nuisance()), render_video(cls, (1, 2), VS, Nuisance())
    c = render_video(cls, (1, 3), VS, Nuisance())
    assert a.dtype == np.uint8 and a.shape[1:] == (64, 86, 3) and 24 <= len(a) <= 32
    assert np.array_equal(a, b)
    assert len(a) != len(c) or not np.array_equal(a, c)


@pytest.mark.parametrize("forward", list(TWINS))
def test_twin_is_its_partner_played_backwards(forward):
    """The defining property: a twin's tracks are exactly its partner's, reversed in time."""
    fwd = motion_tracks(forward, 40, VS, np.random.default_rng(7), 1.0, 8.0)
    rev = motion_tracks(TWINS[forward], 40, VS, np.random.default_rng(7), 1.0, 8.0)
    for f, r in zip(fwd, rev):
        for attr in ("x", "y", "angle", "scale", "alpha"):
            assert np.allclose(getattr(f, attr)[::-1], getattr(r, attr))
    # and the motion actually moves something (no degenerate program)
    moved = max(np.ptp(getattr(f, a)) for f in fwd for a in ("x", "y", "angle", "scale", "alpha"))
    assert moved > 0.3


def test_every_motion_renders_inside_the_frame():
    for motion in MOTIONS:
        for tr in motion_tracks(motion, 32, VS, np.random.default_rng(0), 1.3, 9.0):
            assert tr.x.min() > -5 and tr.x.max() < VS.width + 5, motion
            assert tr.y.min() > -5 and tr.y.max() < VS.height + 5, motion


def test_unknown_names_are_clear_errors():
    with pytest.raises(KeyError, match="known"):
        motion_tracks("moonwalk", 10, VS, np.random.default_rng(0), 1.0, 8.0)
    with pytest.raises(KeyError, match="roles with classes"):
        standins.class_table("imagenet", 0)


def test_class_tables_pair_twins_with_the_same_actor():
    for role in ("ucf101", "hmdb51", "kinetics"):
        table = standins.class_table(role, 0)
        by_key = {(c.actor, c.motion) for c in table}
        for c in table:
            if c.twin_motion:
                assert (c.actor, c.twin_motion) in by_key, (role, c)
        names = [standins.ucf_name(c) for c in table]
        assert len(set(names)) == len(names), f"{role}: duplicate class names"
    assert len(standins.class_table("kinetics", 0)) == 40


def test_image_render():
    img = render_image("hexagon", 5, VS, Nuisance())
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8 and img.std() > 5


def test_same_seed_same_dataset(built, tmp_path):
    """Same seed -> same labels, splits and decoded frames (issue acceptance)."""
    root, manifest = built
    again = tmp_path / "smoke"
    sizes = {"ucf101": SIZES["ucf101"]}
    standins.build_all(again, sizes, {"height": 64, "width": 86, "frames": [24, 32]}, seed=3, workers=1, roles=("ucf101",))
    for f in sorted((root / "ucf101/ucfTrainTestlist").iterdir()):
        assert f.read_bytes() == (again / "ucf101/ucfTrainTestlist" / f.name).read_bytes()
    videos = sorted((root / "ucf101/videos").rglob("*.mp4"))
    assert len(videos) == 4 * 6
    for v in videos[:: len(videos) // 4]:
        assert np.array_equal(read_all_frames(v), read_all_frames(again / "ucf101/videos" / v.relative_to(root / "ucf101/videos")))
    other = tmp_path / "other"
    standins.build_all(other, sizes, {"height": 64, "width": 86, "frames": [24, 32]}, seed=4, workers=1, roles=("ucf101",))
    digests = lambda d: {hashlib.md5(p.read_bytes()).hexdigest() for p in d.rglob("*.mp4")}  # noqa: E731
    assert digests(root / "ucf101/videos") == digests(again / "ucf101/videos")  # byte-identical files
    assert not digests(root / "ucf101/videos") & digests(other / "ucf101/videos")  # another seed: other videos


def test_ucf101_standin_splits_hold_out_groups(built):
    root, _ = built
    params = _params(root)
    for split in (1, 2, 3):
        train = config.video_list("ucf101", split, "train", params=params)
        test = config.video_list("ucf101", split, "test", params=params)
        assert len(train) == 4 * 4 and len(test) == 4 * 2
        groups = lambda vl: {s.video_id.split("_g")[1][:2] for s in vl}  # noqa: E731
        assert not groups(train) & groups(test)
        assert groups(test) == {f"{g:02d}" for g in range(2 * split - 1, 2 * split + 1)}
        assert sorted({s.label for s in test}) == [0, 1, 2, 3]


def test_hmdb51_standin_marks(built):
    root, _ = built
    params = _params(root)
    for split in (1, 2, 3):
        train = config.video_list("hmdb51", split, "train", params=params)
        test = config.video_list("hmdb51", split, "test", params=params)
        assert len(train) == 4 * 3 and len(test) == 4 * 2
        assert not {s.video_id for s in train} & {s.video_id for s in test}


def test_kinetics_standin_has_missing_and_broken_files_like_a_real_copy(built):
    root, manifest = built
    params = _params(root)
    train = config.video_list("kinetics", 1, "train", params=params)
    val = config.video_list("kinetics", 1, "val", params=params)
    assert len(train) + len(train.missing) == 4 * 3 and len(train.missing) == 1
    assert len(val) == 4 and train.classes == val.classes
    ds = ClipDataset(train, clip_len=4, stride=1, mode="train", progress=False)
    assert len(ds.broken) == 2  # one 0-byte file, one truncated file
    assert {c["name"] for c in manifest["roles"]["kinetics"]["classes"]} == set(train.classes)


def test_unlabelled_and_images(built):
    root, _ = built
    params = _params(root)
    clips = config.video_list("unlabelled", params=params)
    assert len(clips) == 3 and all(s.label is None for s in clips)
    images = config.image_folder("train", params=params)
    assert len(list(images.glob("*/*.png"))) == 16


def test_missing_synthetic_data_says_how_to_make_it(tmp_path):
    params = {"profile": "smoke", "data_dir": str(tmp_path), "profiles": {"smoke": {}}}
    with pytest.raises(DatasetError, match="dvc repro"):
        config.video_list("ucf101", params=params)


def test_paper_profile_without_real_data_is_a_clear_error():
    params = {"profile": "paper", "profiles": {"paper": {}}, "real_data": {}}
    with pytest.raises(DatasetError, match="real_data.ucf101"):
        config.video_list("ucf101", params=params)
    params["real_data"] = {"ucf101": {"format": "ucf101", "root": "/nonexistent/UCF-101", "annotations": "/nonexistent/list"}}
    with pytest.raises(DatasetError, match="/nonexistent"):
        config.video_list("ucf101", params=params)


def test_reversed_registry_is_consistent():
    assert set(REVERSED) == set(TWINS.values()) and not set(REVERSED) & set(TWINS)


def test_build_cli_writes_data_card_and_figures(tmp_path):
    from replicate.data import build

    out, results = tmp_path / "data" / "smoke", tmp_path / "results"
    assert build.main(["--profile", "smoke", "--out", str(out), "--results", str(results), "--workers", "1"]) == 0
    card = (results / "dataset_card.md").read_text()
    assert "| `ucf101` | UCF101 |" in card and "time-reversed twin" in card
    for role in ("ucf101", "hmdb51", "kinetics"):
        assert (results / f"{role}_samples.png").stat().st_size > 10_000
    assert (out / "manifest.json").is_file()


def test_build_cli_on_paper_profile_reports_what_is_missing(tmp_path, capsys):
    import yaml

    from replicate.data import build

    params = config.load_params()
    params["profile"] = "paper"
    params["real_data"]["ucf101"]["root"] = str(tmp_path / "nowhere/UCF-101")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(SystemExit) as exit_:
        build.main(["--params", str(path), "--results", str(tmp_path / "results"), "--out", str(tmp_path / "data")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: UCF101 videos not found: " + str(tmp_path / "nowhere/UCF-101"))
    assert "point real_data.ucf101.root in params.yaml at" in err and "crcv.ucf.edu" in err
    assert not (tmp_path / "results").exists() and not (tmp_path / "data").exists()  # nothing written


def test_class_subset_keeps_whole_twin_pairs(built):
    root, manifest = built
    params = _params(root)
    table = manifest["roles"]["kinetics"]["classes"]
    for subset in ("train", "val"):
        sub = config.video_list("kinetics", 1, subset, params=params, num_classes=2)
        # the first two classes of the generation order (a motion and its twin), not of the sorted names
        assert sub.classes == [c["name"] for c in table[:2]]
        assert table[0]["twin"] == table[1]["motion"]
        assert {s.label for s in sub} == {0, 1}
