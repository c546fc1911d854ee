"""Adapters read tiny fixture trees written in each dataset's real annotation format.

Fixtures use real class names, real file-name patterns and the real quirks (CRLF UCF lists,
the HandstandPushups/HandStandPushups mismatch, HMDB trailing blanks and '#' file names,
quoted Kinetics labels, youtube ids starting with '-', missing Kinetics videos). Every video
is a real (6-frame, 32x32) H.264 file from ``write_video`` with its own content.
"""
from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest

from replicate.data.adapters import ADAPTERS, generic_list, hmdb51, kinetics, load_video_list, ucf101
from replicate.data.samples import DatasetError
from replicate.data.video import read_frames, write_video

_shade = itertools.count(10, 7)


def make_video(path: Path) -> Path:
    """A tiny real video whose frames differ from every other fixture video's."""
    value = next(_shade) % 250
    frames = np.full((6, 32, 32, 3), value, np.uint8)
    frames[:, :, :, 1] = np.arange(6, dtype=np.uint8)[:, None, None] * 20  # frames differ in time too
    return write_video(path, frames)


def write_lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


# --------------------------------------------------------------------------- UCF101

UCF_CLASSES = ["ApplyEyeMakeup", "Archery", "HandstandPushups", "YoYo"]
UCF_TRAIN = [
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", 1),
    ("Archery/v_Archery_g08_c02.avi", 2),
    ("HandstandPushups/v_HandStandPushups_g08_c01.avi", 3),
    ("YoYo/v_YoYo_g08_c03.avi", 4),  # transcoded: only the .mp4 exists
    ("YoYo/v_YoYo_g09_c01.avi", 4),  # missing on disk
]
UCF_TEST = [
    "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
    "HandstandPushups/v_HandStandPushups_g01_c01.avi",
    "YoYo/v_YoYo_g01_c02.avi",
]


def make_ucf(tmp: Path) -> tuple[Path, Path]:
    """``UCF-101/`` and ``ucfTrainTestlist/`` as the official archives unpack, CRLF lists and all."""
    root, ann = tmp / "UCF-101", tmp / "ucfTrainTestlist"
    write_lines(ann / "classInd.txt", [f"{i} {c}" for i, c in enumerate(UCF_CLASSES, 1)], "\r\n")
    write_lines(ann / "trainlist01.txt", [f"{p} {label} " for p, label in UCF_TRAIN] + ["  "], "\r\n")
    write_lines(ann / "testlist01.txt", UCF_TEST, "\r\n")
    for rel, _ in UCF_TRAIN[:3]:
        make_video(root / rel)
    make_video(root / "YoYo/v_YoYo_g08_c03.mp4")
    for rel in UCF_TEST:
        make_video(root / rel)
    return root, ann


def test_ucf101_train_list(tmp_path: Path) -> None:
    root, ann = make_ucf(tmp_path)
    videos = ucf101(root, ann, split=1, subset="train")
    assert videos.name == "ucf101/split1/train"
    assert videos.classes == UCF_CLASSES
    assert [s.video_id for s in videos] == [
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01",
        "Archery/v_Archery_g08_c02",
        "HandstandPushups/v_HandStandPushups_g08_c01",
        "YoYo/v_YoYo_g08_c03",
    ]
    assert videos.labels() == [0, 1, 2, 3]
    assert videos.missing == ["YoYo/v_YoYo_g09_c01"]
    assert videos[3].path == root / "YoYo/v_YoYo_g08_c03.mp4"  # extension fallback
    assert all(s.path.is_file() for s in videos)
    assert read_frames(videos[2].path, [0, 5]).shape == (2, 32, 32, 3)  # paths are decodable videos


def test_ucf101_test_list_labels_come_from_folders(tmp_path: Path) -> None:
    root, ann = make_ucf(tmp_path)
    videos = ucf101(root, ann, split=1, subset="test")
    assert videos.name == "ucf101/split1/test"
    # v_HandStandPushups_* (capital S) lives in HandstandPushups: label 2, from the folder
    assert videos.labels() == [0, 2, 3]
    assert videos[1].video_id == "HandstandPushups/v_HandStandPushups_g01_c01"
    assert videos.missing == []


def test_ucf101_missing_paths(tmp_path: Path) -> None:
    root, ann = make_ucf(tmp_path)
    with pytest.raises(DatasetError, match=r"UCF101 videos not found.*nowhere.*UCF101\.rar.*the root argument"):
        ucf101(tmp_path / "nowhere", ann)
    with pytest.raises(DatasetError, match=r"annotations not found.*classInd\.txt.*unzip.*the annotations argument"):
        ucf101(root, tmp_path / "no_lists")
    with pytest.raises(DatasetError, match=r"annotations not found: \S*trainlist02\.txt"):
        ucf101(root, ann, split=2)
    with pytest.raises(DatasetError, match=r"subset.*train, test.*'val'"):
        ucf101(root, ann, subset="val")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Archery/v_Archery_g08_c02.avi two", r"trainlist01\.txt:2: label 'two' is not an integer"),
        ("Archery/v_Archery_g08_c02.avi 99", r"trainlist01\.txt:2: label 99 is outside classInd's 1\.\.4"),
        ("Archery/v_Archery_g08_c02.avi 1", r"trainlist01\.txt:2: label 1 \(ApplyEyeMakeup\) disagrees with the folder 'Archery'"),
        ("Archery/v_Archery_g08_c02.avi 2 extra", r"trainlist01\.txt:2: expected 'Class/"),
        ("v_Archery_g08_c02.avi 2", r"trainlist01\.txt:2: expected 'Class/"),
        ("Surfing/v_Surfing_g08_c01.avi 2", r"trainlist01\.txt:2: folder 'Surfing' is not a class"),
    ],
)
def test_ucf101_malformed_lines(tmp_path: Path, line: str, message: str) -> None:
    root, ann = make_ucf(tmp_path)
    write_lines(ann / "trainlist01.txt", ["ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1", line], "\r\n")
    with pytest.raises(DatasetError, match=message):
        ucf101(root, ann)


def test_ucf101_bad_class_index_and_empty_root(tmp_path: Path) -> None:
    root, ann = make_ucf(tmp_path)
    write_lines(tmp_path / "bad" / "classInd.txt", ["1 ApplyEyeMakeup", "3 Archery"])
    write_lines(tmp_path / "bad" / "trainlist01.txt", [])
    with pytest.raises(DatasetError, match=r"classInd\.txt: class indices must run 1\.\.2"):
        ucf101(root, tmp_path / "bad")
    # a root that exists but holds none of the listed videos is a misconfiguration, not an empty split
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"none of the 5 videos .*trainlist01\.txt.*v_ApplyEyeMakeup_g08_c01\.avi"):
        ucf101(tmp_path / "empty", ann)


# --------------------------------------------------------------------------- HMDB51

# (class, video file, flag in split 1); '#' names and underscores in class names are real HMDB
HMDB_SPLIT1 = {
    "brush_hair": [
        ("April_09_brush_hair_u_nm_np1_ba_goo_0.avi", 1),
        ("April_09_brush_hair_u_nm_np1_ba_goo_1.avi", 2),
        ("Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi", 0),
    ],
    "clap": [
        ("#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi", 1),
        ("#20_Rhythm_clap_u_nm_np1_fr_goo_1.avi", 2),
    ],
    "shoot_ball": [
        ("3Pointer_shoot_ball_f_cm_np1_ba_med_0.avi", 1),  # transcoded to .mp4
        ("3Pointer_shoot_ball_f_cm_np1_ba_med_1.avi", 1),  # missing on disk
        ("Basketball_Shot_shoot_ball_u_cm_np1_fr_goo_0.avi", 2),
    ],
}


def make_hmdb(tmp: Path) -> tuple[Path, Path]:
    """``hmdb51/<class>/`` videos and ``testTrainMulti_7030_splits/`` with the real trailing blanks."""
    root, splits = tmp / "hmdb51", tmp / "testTrainMulti_7030_splits"
    for cls, videos in HMDB_SPLIT1.items():
        write_lines(splits / f"{cls}_test_split1.txt", [f"{name} {flag} " for name, flag in videos])
        # split 2 exists with other flags: it must not leak into split 1
        write_lines(splits / f"{cls}_test_split2.txt", [f"{name} {(flag % 2) + 1} " for name, flag in videos])
        for name, _ in videos:
            if name.startswith("3Pointer_shoot_ball_f_cm_np1_ba_med_1"):
                continue
            target = root / cls / name
            make_video(target.with_suffix(".mp4") if name.startswith("3Pointer") else target)
    return root, splits


def test_hmdb51_train_and_test(tmp_path: Path) -> None:
    root, splits = make_hmdb(tmp_path)
    train = hmdb51(root, splits, split=1, subset="train")
    assert train.name == "hmdb51/split1/train"
    assert train.classes == ["brush_hair", "clap", "shoot_ball"]
    assert [s.video_id for s in train] == [
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0",
        "clap/#20_Rhythm_clap_u_nm_np1_fr_goo_0",
        "shoot_ball/3Pointer_shoot_ball_f_cm_np1_ba_med_0",
    ]
    assert train.labels() == [0, 1, 2]
    assert train[2].path == root / "shoot_ball/3Pointer_shoot_ball_f_cm_np1_ba_med_0.mp4"
    assert train.missing == ["shoot_ball/3Pointer_shoot_ball_f_cm_np1_ba_med_1"]

    test = hmdb51(root, splits, split=1, subset="test")
    assert test.labels() == [0, 1, 2]
    assert [s.path.name for s in test] == [
        "April_09_brush_hair_u_nm_np1_ba_goo_1.avi",
        "#20_Rhythm_clap_u_nm_np1_fr_goo_1.avi",
        "Basketball_Shot_shoot_ball_u_cm_np1_fr_goo_0.avi",
    ]
    # flag 0 (unused) is in neither subset, nor counted as missing
    listed = {s.video_id for s in train} | {s.video_id for s in test} | set(train.missing) | set(test.missing)
    assert "brush_hair/Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0" not in listed


def test_hmdb51_split2_is_its_own(tmp_path: Path) -> None:
    root, splits = make_hmdb(tmp_path)
    train2 = hmdb51(root, splits, split=2, subset="train")
    # flags 2 and 0 of split 1 became train (1) in split 2; the one listed missing file is now test
    assert len(train2) == 4 and train2.missing == []


def test_hmdb51_errors(tmp_path: Path) -> None:
    root, splits = make_hmdb(tmp_path)
    with pytest.raises(DatasetError, match=r"HMDB51 videos not found.*hmdb51_org\.rar.*the root argument"):
        hmdb51(tmp_path / "nowhere", splits)
    with pytest.raises(DatasetError, match=r"HMDB51 split files not found.*test_train_splits\.rar.*brush_hair_test_split1\.txt"):
        hmdb51(root, tmp_path / "no_splits")
    with pytest.raises(DatasetError, match=r"no \S*\*_test_split3\.txt.*the splits_dir argument"):
        hmdb51(root, splits, split=3)
    with pytest.raises(DatasetError, match=r"subset must be one of train, test"):
        hmdb51(root, splits, subset="validation")
    write_lines(splits / "clap_test_split1.txt", ["#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi 1 ", "#20_Rhythm_clap_u_nm_np1_fr_goo_1.avi 3 "])
    with pytest.raises(DatasetError, match=r"clap_test_split1\.txt:2: expected '<video>\.avi <0\|1\|2>'"):
        hmdb51(root, splits)


# --------------------------------------------------------------------------- Kinetics

KINETICS_CSV = [
    "label,youtube_id,time_start,time_end,split",
    "abseiling,--07WQ2iBlw,1,11,train",
    '"passing American football (in game)",-0XSyw3WM2Q,30,40,train',
    "zumba,zzz_hAnBkzE,0,10,train",  # missing on disk, like every real copy has
    "abseiling,0wR5jVB-WPk,417,427,val",
    '"passing American football (in game)",aBcD3fG-hI8,5,15,val',
]


def _kinetics_dest(root: Path, layout: str, label: str, split: str) -> Path:
    return {
        "flat": root,
        "subset": root / split,
        "label": root / label,
        "label_underscores": root / label.replace(" ", "_"),
        "subset_label": root / split / label,
    }[layout]


def make_kinetics(tmp: Path, layout: str) -> tuple[Path, Path]:
    root, csv_path = tmp / "k400", tmp / "annotations" / "kinetics400.csv"
    write_lines(csv_path, KINETICS_CSV, "\r\n")
    for row in KINETICS_CSV[1:]:
        label, yid, start, end, split = next(csv.reader([row]))
        if yid == "zzz_hAnBkzE":
            continue
        make_video(_kinetics_dest(root, layout, label, split) / f"{yid}_{int(start):06d}_{int(end):06d}.mp4")
    return root, csv_path


@pytest.mark.parametrize("layout", ["flat", "subset", "label", "label_underscores", "subset_label"])
def test_kinetics_layouts(tmp_path: Path, layout: str) -> None:
    root, csv_path = make_kinetics(tmp_path, layout)
    train = kinetics(root, csv_path, subset="train")
    assert train.name == "kinetics/train"
    assert train.classes == ["abseiling", "passing American football (in game)", "zumba"]
    assert [s.video_id for s in train] == ["--07WQ2iBlw_000001_000011", "-0XSyw3WM2Q_000030_000040"]
    assert train.labels() == [0, 1]
    assert train.missing == ["zzz_hAnBkzE_000000_000010"]
    assert all(s.path.is_file() for s in train)


def test_kinetics_val_spellings_share_classes(tmp_path: Path) -> None:
    root, csv_path = make_kinetics(tmp_path, "subset_label")
    val = kinetics(root, csv_path, subset="val")
    assert kinetics(root, csv_path, subset="validate").samples == val.samples
    assert val.name == "kinetics/val"
    assert val.labels() == [0, 1]  # same indices as train: classes come from the whole csv
    assert [s.path.parent.name for s in val] == ["abseiling", "passing American football (in game)"]
    # the cvdf archives unpack validation into root/val/; "validate" is the csv's own spelling
    (root / "val").rename(root / "validate")
    assert len(kinetics(root, csv_path, subset="val")) == 2


def test_kinetics_test_csv_without_labels(tmp_path: Path) -> None:
    root = tmp_path / "k400" / "test"
    csv_path = write_lines(
        tmp_path / "test.csv",
        ["youtube_id,time_start,time_end,split", "-3B32lodo2M,0,10,test", "4IxZ5nlm9xM,12,22,test"],
    )
    make_video(root / "-3B32lodo2M_000000_000010.mp4")
    videos = kinetics(tmp_path / "k400", csv_path, subset="test")
    assert videos.labels() == [None] and videos.classes == []
    assert videos.missing == ["4IxZ5nlm9xM_000012_000022"]
    # empty label cells (later releases) are unlabelled too; given classes keep train's indices
    csv_path = write_lines(tmp_path / "test2.csv", ["label,youtube_id,time_start,time_end,split", ",-3B32lodo2M,0,10,test"])
    videos = kinetics(tmp_path / "k400", csv_path, subset="test", classes=["abseiling", "zumba"])
    assert videos.labels() == [None] and videos.classes == ["abseiling", "zumba"]


def test_kinetics_errors(tmp_path: Path) -> None:
    root, csv_path = make_kinetics(tmp_path, "flat")
    with pytest.raises(DatasetError, match=r"Kinetics annotations not found.*train\.csv.*the annotations_csv argument"):
        kinetics(root, tmp_path / "train.csv")
    with pytest.raises(DatasetError, match=r"Kinetics videos not found.*<youtube_id>_<time_start:06d>.*the root argument"):
        kinetics(tmp_path / "nowhere", csv_path)
    with pytest.raises(DatasetError, match=r"subset must be train, val"):
        kinetics(root, csv_path, subset="holdout")
    with pytest.raises(DatasetError, match=r"is not among the 1 given classes"):
        kinetics(root, csv_path, classes=["abseiling"])
    test_only = write_lines(tmp_path / "test.csv", ["youtube_id,time_start,time_end,split", "-3B32lodo2M,0,10,test"])
    with pytest.raises(DatasetError, match=r"no rows with split 'train' \(splits present: \['test'\]\)"):
        kinetics(root, test_only)
    bad_header = write_lines(tmp_path / "bad.csv", ["label,youtube_id,start,end", "abseiling,--07WQ2iBlw,1,11"])
    with pytest.raises(DatasetError, match=r"header lacks time_start, time_end, split"):
        kinetics(root, bad_header)
    bad_time = write_lines(tmp_path / "bad_time.csv", [KINETICS_CSV[0], KINETICS_CSV[1], "abseiling,x1,1.5,11,train"])
    with pytest.raises(DatasetError, match=r"bad_time\.csv:3: time_start must be whole seconds, got '1\.5'"):
        kinetics(root, bad_time)


# --------------------------------------------------------------------------- generic list


def test_generic_list(tmp_path: Path) -> None:
    make_video(tmp_path / "clips" / "my video 1.mp4")
    make_video(tmp_path / "clips" / "b.mp4")
    make_video(tmp_path / "clips" / "unlabelled clip.mp4")
    make_video(tmp_path / "clips" / "transcoded.mp4")
    list_file = write_lines(
        tmp_path / "val_list.txt",
        [
            "# path label",
            "clips/my video 1.mp4 2",
            "",
            "clips/b.mp4 0",
            "clips/unlabelled clip.mp4",
            "clips/transcoded.avi 1",
            "clips/gone.mp4 1",
        ],
        "\r\n",
    )
    videos = generic_list(list_file)
    assert videos.name == "list/val_list"
    assert [s.video_id for s in videos] == ["clips/my video 1", "clips/b", "clips/unlabelled clip", "clips/transcoded"]
    assert videos.labels() == [2, 0, None, 1]
    assert videos.classes == ["0", "1", "2"]
    assert videos.missing == ["clips/gone"]
    assert videos[3].path == tmp_path / "clips" / "transcoded.mp4"

    named = generic_list(list_file, root=tmp_path, classes=["archery", "bowling", "surfing"])
    assert named.classes == ["archery", "bowling", "surfing"] and named.labels() == [2, 0, None, 1]


def test_generic_list_errors(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mp4")
    with pytest.raises(DatasetError, match=r"video list not found.*nope\.txt"):
        generic_list(tmp_path / "nope.txt")
    list_file = write_lines(tmp_path / "l.txt", ["a.mp4 0", "a.mp4 0"])
    assert len(generic_list(list_file)) == 1  # a repeated line is one video, not two votes
    write_lines(list_file, ["a.mp4 0", "a.mp4 1"])
    with pytest.raises(DatasetError, match=r"l\.txt:2: a is listed with label 1, but \S*l\.txt:1 lists it with label 0"):
        generic_list(list_file)
    write_lines(list_file, ["a.mp4 0", "a.mp4 3"])
    with pytest.raises(DatasetError, match=r"l\.txt:2: label 3 is outside the 2 classes"):
        generic_list(list_file, classes=["x", "y"])
    write_lines(list_file, ["a.mp4 -1"])
    with pytest.raises(DatasetError, match=r"l\.txt:1: label -1 is negative"):
        generic_list(list_file)
    with pytest.raises(DatasetError, match=r"video list root not found.*nowhere"):
        generic_list(list_file, root=tmp_path / "nowhere")


# --------------------------------------------------------------------------- by name


def test_load_video_list_by_name(tmp_path: Path) -> None:
    root, ann = make_ucf(tmp_path)
    assert set(ADAPTERS) == {"ucf101", "hmdb51", "kinetics", "list"}
    videos = load_video_list("ucf101", root=root, annotations=ann, split=1, subset="test")
    assert videos.name == "ucf101/split1/test" and len(videos) == 3
    with pytest.raises(DatasetError, match=r"unknown dataset format 'ucf-101'.*ucf101, hmdb51, kinetics, list"):
        load_video_list("ucf-101", root=root)


def test_restrict_keeps_and_relabels_classes(tmp_path: Path) -> None:
    from replicate.data.samples import DatasetError, VideoList, VideoSample
    videos = VideoList([VideoSample(tmp_path / f"{i}.mp4", i % 3, str(i)) for i in range(9)], ["a", "b", "c"], "toy")
    sub = videos.restrict(["c", "a"])
    assert sub.classes == ["c", "a"] and len(sub) == 6
    assert {(s.video_id, s.label) for s in sub} == {("0", 1), ("3", 1), ("6", 1), ("2", 0), ("5", 0), ("8", 0)}
    with pytest.raises(DatasetError, match="not among"):
        videos.restrict(["a", "z"])


def test_errors_name_the_callers_key_and_the_datasets_own_help(tmp_path: Path) -> None:
    """``where`` puts the caller's key (params.yaml's) in the message; Sports-1M gets its own download help."""
    root, ann = make_ucf(tmp_path)
    with pytest.raises(DatasetError, match=r"point real_data\.ucf101\.root in params\.yaml at"):
        ucf101(tmp_path / "nowhere", ann, where={"root": "real_data.ucf101.root in params.yaml"})
    root, csv_path = make_kinetics(tmp_path / "k", "flat")
    with pytest.raises(DatasetError, match=r"Sports-1M videos not found.*sports-1m-dataset.*real_data\.sports1m\.root") as err:
        kinetics(tmp_path / "nowhere", csv_path, where={"root": "real_data.sports1m.root"}, dataset="sports1m")
    assert "cvdfoundation" not in str(err.value)  # not Kinetics' help
