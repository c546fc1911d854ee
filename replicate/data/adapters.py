"""Dataset adapters: read real datasets' official annotation files, unchanged, into a VideoList.

Every adapter returns a :class:`~replicate.data.samples.VideoList` whose samples keep the
annotation order, whose integer labels are 0-based indices into ``classes``, and whose
``missing`` names (by ``video_id``) the entries the annotations list but the disk lacks; those
are left out of ``samples``. A listed file that is absent but present under the same name with
another extension from ``VIDEO_EXTENSIONS`` (a user transcoded ``.avi`` to ``.mp4``) is used.
If *none* of the listed videos is found the adapter raises instead: a wrong ``root`` is far
likelier than an empty download, and an empty list would only fail later and less clearly.

Formats read
------------
UCF101 -- ``ucfTrainTestlist/`` from UCF101TrainTestSplits-RecognitionTask.zip
    ``classInd.txt``     ``1 ApplyEyeMakeup``                                 (1-based)
    ``trainlist0N.txt``  ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``    (1-based label)
    ``testlist0N.txt``   ``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi``      (no label)
    Lines end in CRLF. Test labels come from the folder looked up in classInd, and train labels
    are checked against their folder: file names cannot be trusted, because the folder
    ``HandstandPushups`` holds ``v_HandStandPushups_g01_c01.avi``.
HMDB51 -- ``testTrainMulti_7030_splits/`` from test_train_splits.rar
    ``<class>_test_split<N>.txt``, one line per video of the class: ``<file>.avi <flag> ``
    with flag 1 = train, 2 = test, 0 = unused in split N (note the trailing blank). Class
    names contain underscores (``brush_hair``) and some video names start with ``#``, so
    ``#`` is not a comment marker in these files. Videos live in ``root/<class>/<file>``.
Kinetics -- ``train.csv`` / ``validate.csv`` / ``test.csv`` (Kinetics-400, same for 600/700)
    header ``label,youtube_id,time_start,time_end,split``; labels may be quoted and contain
    spaces; the 2017 test.csv has no label column and later ones may leave it empty (label
    None). youtube ids may start with ``-``. Files are ``<id>_<start:06d>_<end:06d>.mp4`` in
    ``root/``, ``root/<subset>/``, ``root/<label>/`` or ``root/<subset>/<label>/``, where
    ``<label>`` may have its spaces replaced by ``_`` (mmaction2's rename script does that).
    Real copies always lack some videos (deleted from YouTube); they go to ``missing``.
Generic list
    ``relative/path.mp4 3`` or ``relative/path.mp4`` (unlabelled) per line; blank lines and
    ``#`` comment lines skipped. Paths may contain spaces: the last token is a label only if
    it is an integer.

Errors (missing root, missing annotation file, malformed line, unknown label) raise
:class:`~replicate.data.samples.DatasetError` naming the file (and line) and saying what to
put where. ``where`` (every adapter) maps an argument name to where the caller sets it
(``real_data.ucf101.root in params.yaml``), so the message names the caller's own key.
"""
from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from replicate.data.samples import DatasetError, VideoList, VideoSample
from replicate.data.video import VIDEO_EXTENSIONS

PathLike = str | os.PathLike

_UCF_PAGE = "https://www.crcv.ucf.edu/data/UCF101.php"
_HMDB_PAGE = "https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/"
_KINETICS_PAGE = "https://github.com/cvdfoundation/kinetics-dataset"

_SPORTS1M_PAGE = "https://github.com/gtoderici/sports-1m-dataset"

# Help per missing input. ``{root}``, ``{annotations}`` ...: where the caller sets that argument
# (``where=`` of each adapter; replicate.config passes ``real_data.<role>.<key> in params.yaml``).
_UCF_ROOT_HELP = (
    f"Download UCF101.rar from {_UCF_PAGE}, unrar it (it creates UCF-101/) and point {{root}} at "
    "that folder, so that <root>/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi exists (.mp4 copies with the same names are fine)."
)
_UCF_ANN_HELP = (
    "Download UCF101TrainTestSplits-RecognitionTask.zip (the 'UCFTrainTestlist' zip) from the "
    f"UCF101 page {_UCF_PAGE} and unzip it so that {{dir}}/classInd.txt and trainlist01.txt ... "
    "testlist03.txt exist, or point {annotations} at that folder."
)
_HMDB_ROOT_HELP = (
    f"Download hmdb51_org.rar from {_HMDB_PAGE}, unrar it and then unrar each of the 51 class "
    "archives inside, and point {root} at the result, so that "
    "<root>/brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi exists."
)
_HMDB_SPLITS_HELP = (
    f"Download test_train_splits.rar from {_HMDB_PAGE} and unrar it (it creates "
    "testTrainMulti_7030_splits/) so that {dir}/brush_hair_test_split1.txt ... exist, or point "
    "{splits_dir} at that folder."
)
#: per dataset in the Kinetics layout (Kinetics-400/600/700, and Sports-1M written in it)
_KINETICS_LAYOUT_HELP = {
    "kinetics": {
        "name": "Kinetics",
        "root": "Put the videos, named <youtube_id>_<time_start:06d>_<time_end:06d>.mp4, in <root>/, "
                "<root>/<subset>/, <root>/<label>/ or <root>/<subset>/<label>/ (e.g. as extracted from the "
                f"archives listed at {_KINETICS_PAGE}) and point {{root}} at that folder.",
        "annotations": "Download the Kinetics annotation csvs (train.csv, validate.csv, test.csv; links at "
                       f"{_KINETICS_PAGE}) and point {{annotations_csv}} at the csv of the subset you want.",
    },
    "sports1m": {
        "name": "Sports-1M",
        "root": "Download the Sports-1M videos listed in the official json lists "
                f"({_SPORTS1M_PAGE}: sports1m_train.json, sports1m_test.json), cut them into files named "
                "<youtube_id>_<time_start:06d>_<time_end:06d>.mp4 in <root>/ or <root>/<subset>/, and point {root} "
                "at that folder.",
        "annotations": "Write Sports-1M's official json lists "
                       f"({_SPORTS1M_PAGE}) as csvs in the Kinetics layout "
                       "(label,youtube_id,time_start,time_end,split; one row per downloaded video, its first label) "
                       "and point {annotations_csv} at the csv of the subset you want.",
    },
}
_LIST_HELP = (
    "Write one 'relative/path.mp4 label' (or just 'relative/path.mp4') per line, paths relative "
    "to root (default: the list file's folder), and point {list_file} at that file."
)


def _help(template: str, where: Mapping[str, str] | None, **extra: object) -> str:
    """``template`` with each ``{argument}`` replaced by where the caller sets it (``where``), or
    by ``the <argument> argument`` for a direct call."""
    keys = {name: f"the {name} argument" for name in re.findall(r"{(\w+)}", template)}
    keys.update({k: v for k, v in (where or {}).items() if k in keys})
    keys.update({k: str(v) for k, v in extra.items()})
    return template.format(**keys)


_HMDB_SPLIT_FILE = re.compile(r"^(?P<cls>.+)_test_split(?P<split>\d+)\.txt$")
_HMDB_FLAGS = {"train": "1", "test": "2"}
_INT = re.compile(r"[+-]?\d+")
# Kinetics' validation split is "val" in the csv's split column and the cvdf archives, but
# "validate" in the csv's file name; users write either.
_VAL_SPELLINGS = ("val", "validate", "validation")
_KINETICS_COLUMNS = ("youtube_id", "time_start", "time_end", "split")


# --------------------------------------------------------------------------- shared helpers


def _strip_video_ext(name: str) -> str:
    """``name`` without a video extension; other suffixes stay (``Dr. No`` is not ``Dr``)."""
    base, ext = os.path.splitext(name)
    return base if ext.lower() in VIDEO_EXTENSIONS else name


def _require_file(path: Path, what: str, help_text: str) -> None:
    if not path.is_file():
        raise DatasetError(f"{what} not found: {path}. {help_text}")


def _require_dir(path: Path, what: str, help_text: str) -> None:
    if not path.is_dir():
        raise DatasetError(f"{what} not found: {path}. {help_text}")


def _numbered_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, stripped line)`` for the non-blank lines of ``path``.

    ``splitlines`` handles the CRLF ends of the UCF101 lists; ``utf-8-sig`` drops a BOM that
    Windows editors add to hand-made lists.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text ({exc}); is it the right annotation file?") from None
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


class _FileIndex:
    """Finds listed videos through cached folder listings.

    One ``scandir`` per folder replaces several ``stat`` calls per entry: a Kinetics csv lists
    ~250k rows, each with a few candidate folders and extensions.
    """

    def __init__(self) -> None:
        self._folders: dict[Path, frozenset[str]] = {}

    def _names(self, folder: Path) -> frozenset[str]:
        if folder not in self._folders:
            try:
                with os.scandir(folder) as entries:
                    self._folders[folder] = frozenset(e.name for e in entries if e.is_file())
            except (FileNotFoundError, NotADirectoryError):
                self._folders[folder] = frozenset()
        return self._folders[folder]

    def find(self, folders: Sequence[Path], filename: str) -> Path | None:
        """The first ``folder/filename`` that exists, else one with the same stem and another video extension."""
        stem = _strip_video_ext(filename)
        candidates = [filename, *(stem + ext for ext in VIDEO_EXTENSIONS)]
        for folder in folders:
            names = self._names(folder)
            for name in candidates:
                if name in names:
                    return folder / name
        return None


class _Collector:
    """Accumulates samples and missing entries from one annotation file set, in listing order."""

    def __init__(self, root: Path, root_help: str) -> None:
        self.root, self.root_help = root, root_help
        self.index = _FileIndex()
        self.samples: list[VideoSample] = []
        self.missing: list[str] = []
        self.first_missing: Path | None = None
        self.seen: dict[str, tuple[int | None, Path, int]] = {}

    def add(self, folders: Sequence[Path], filename: str, label: int | None, video_id: str, source: Path, line: int) -> None:
        if video_id in self.seen:
            first_label, first_source, first_line = self.seen[video_id]
            if first_label != label:
                raise DatasetError(
                    f"{source}:{line}: {video_id} is listed with label {label}, but {first_source}:{first_line} "
                    f"lists it with label {first_label}; fix one of the two lines."
                )
            return  # the same video twice with the same label: scoring it twice would only skew averages
        self.seen[video_id] = (label, source, line)
        path = self.index.find(folders, filename)
        if path is None:
            self.missing.append(video_id)
            if self.first_missing is None:
                self.first_missing = folders[0] / filename
        else:
            self.samples.append(VideoSample(path=path, label=label, video_id=video_id))

    def result(self, name: str, classes: list[str], annotations: Path) -> VideoList:
        if self.missing and not self.samples:
            raise DatasetError(
                f"none of the {len(self.missing)} videos listed in {annotations} is under {self.root} "
                f"(the first should be {self.first_missing}). {self.root_help}"
            )
        return VideoList(samples=self.samples, classes=classes, name=name, missing=self.missing)


def _check_subset(subset: str, allowed: Sequence[str], dataset: str) -> None:
    if subset not in allowed:
        raise DatasetError(f"{dataset} subset must be one of {', '.join(allowed)}, got {subset!r}.")


# --------------------------------------------------------------------------- UCF101


def _ucf_class_index(path: Path) -> list[str]:
    """Class names from classInd.txt, position = label - 1. Indices must be exactly 1..N."""
    by_index: dict[int, str] = {}
    for n, line in _numbered_lines(path):
        parts = line.split()
        if len(parts) != 2 or not _INT.fullmatch(parts[0]):
            raise DatasetError(f"{path}:{n}: expected '<index> <ClassName>' like '1 ApplyEyeMakeup', got {line!r}.")
        index = int(parts[0])
        if index in by_index:
            raise DatasetError(f"{path}:{n}: class index {index} appears twice.")
        by_index[index] = parts[1]
    if sorted(by_index) != list(range(1, len(by_index) + 1)):
        raise DatasetError(f"{path}: class indices must run 1..{len(by_index)} without gaps, got {sorted(by_index)}.")
    names = [by_index[i] for i in range(1, len(by_index) + 1)]
    if len(set(names)) != len(names):
        raise DatasetError(f"{path}: a class name appears under two indices.")
    return names


def ucf101(root: PathLike, annotations: PathLike, split: int = 1, subset: str = "train",
           where: Mapping[str, str] | None = None) -> VideoList:
    """UCF101 split ``split`` (1-3), ``subset`` "train" or "test", from the official lists in ``annotations``."""
    root, annotations = Path(root), Path(annotations)
    _check_subset(subset, ("train", "test"), "UCF101")
    root_help = _help(_UCF_ROOT_HELP, where)
    _require_dir(root, "UCF101 videos", root_help)
    class_file = annotations / "classInd.txt"
    list_file = annotations / f"{subset}list{split:02d}.txt"
    for path in (class_file, list_file):
        _require_file(path, "UCF101 annotations", _help(_UCF_ANN_HELP, where, dir=annotations))
    classes = _ucf_class_index(class_file)
    label_of = {name: i for i, name in enumerate(classes)}

    out = _Collector(root, root_help)
    for n, line in _numbered_lines(list_file):
        parts = line.split()
        rel = parts[0]
        folder, _, filename = rel.partition("/")
        if len(parts) > 2 or not folder or not filename or "/" in filename:
            raise DatasetError(
                f"{list_file}:{n}: expected 'Class/v_Class_gXX_cYY.avi' optionally followed by a 1-based label, got {line!r}."
            )
        # The folder, not the file name, names the class (HandstandPushups/v_HandStandPushups_*).
        if folder not in label_of:
            raise DatasetError(f"{list_file}:{n}: folder {folder!r} is not a class in {class_file}.")
        label = label_of[folder]
        if len(parts) == 2:  # trainlists carry the label; it must agree with the folder
            if not _INT.fullmatch(parts[1]):
                raise DatasetError(f"{list_file}:{n}: label {parts[1]!r} is not an integer.")
            given = int(parts[1])
            if not 1 <= given <= len(classes):
                raise DatasetError(f"{list_file}:{n}: label {given} is outside classInd's 1..{len(classes)} ({class_file}).")
            if given - 1 != label:
                raise DatasetError(
                    f"{list_file}:{n}: label {given} ({classes[given - 1]}) disagrees with the folder {folder!r} "
                    f"(label {label + 1} in {class_file})."
                )
        out.add([root / folder], filename, label, _strip_video_ext(rel), list_file, n)
    return out.result(f"ucf101/split{split}/{subset}", classes, list_file)


# --------------------------------------------------------------------------- HMDB51


def hmdb51(root: PathLike, splits_dir: PathLike, split: int = 1, subset: str = "train",
           where: Mapping[str, str] | None = None) -> VideoList:
    """HMDB51 split ``split`` (1-3), ``subset`` "train" (flag 1) or "test" (flag 2)."""
    root, splits_dir = Path(root), Path(splits_dir)
    _check_subset(subset, tuple(_HMDB_FLAGS), "HMDB51")
    root_help = _help(_HMDB_ROOT_HELP, where)
    _require_dir(root, "HMDB51 videos", root_help)
    help_text = _help(_HMDB_SPLITS_HELP, where, dir=splits_dir)
    _require_dir(splits_dir, "HMDB51 split files", help_text)
    files: dict[str, Path] = {}
    for path in splits_dir.iterdir():
        match = _HMDB_SPLIT_FILE.match(path.name)
        if match and int(match["split"]) == split:
            files[match["cls"]] = path
    if not files:
        raise DatasetError(f"HMDB51 split files not found: no {splits_dir / f'*_test_split{split}.txt'}. {help_text}")
    classes = sorted(files)
    flag = _HMDB_FLAGS[subset]

    out = _Collector(root, root_help)
    for label, cls in enumerate(classes):
        for n, line in _numbered_lines(files[cls]):
            parts = line.rsplit(None, 1)  # last token is the flag; names have no spaces, but be safe
            if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
                raise DatasetError(f"{files[cls]}:{n}: expected '<video>.avi <0|1|2>', got {line!r}.")
            if parts[1] == flag:
                out.add([root / cls], parts[0], label, f"{cls}/{_strip_video_ext(parts[0])}", files[cls], n)
    return out.result(f"hmdb51/split{split}/{subset}", classes, splits_dir)


# --------------------------------------------------------------------------- Kinetics


def _split_key(split: str) -> str:
    split = split.strip().lower()
    return "val" if split in _VAL_SPELLINGS else split


def _kinetics_time(value: str | None, path: Path, line: int, column: str) -> int:
    """Whole seconds; some re-exports write ``10.0`` for ``10``."""
    try:
        seconds = float(value or "")
    except ValueError:
        seconds = -1.0
    if seconds < 0 or not seconds.is_integer():
        raise DatasetError(f"{path}:{line}: {column} must be whole seconds, got {value!r}.")
    return int(seconds)


def csv_classes(annotations_csv: PathLike) -> list[str]:
    """The sorted labels of a Kinetics-layout csv: the class order :func:`kinetics` uses by default."""
    with Path(annotations_csv).open(encoding="utf-8-sig", newline="") as handle:
        return sorted({label for row in csv.DictReader(handle) if (label := (row.get("label") or "").strip())})


def kinetics(
    root: PathLike, annotations_csv: PathLike, subset: str = "train", classes: Sequence[str] | None = None,
    where: Mapping[str, str] | None = None, dataset: str = "kinetics",
) -> VideoList:
    """Kinetics rows of ``annotations_csv`` whose split is ``subset`` ("train", "val"/"validate", "test").

    ``classes`` defaults to the sorted labels of the whole csv; pass the training classes to
    index a label-less test csv, or a different csv, consistently. ``dataset``: ``kinetics`` or
    ``sports1m`` (Sports-1M written in this layout), whose download help the errors give.
    """
    root, csv_path = Path(root), Path(annotations_csv)
    wanted = _split_key(subset)
    if wanted not in ("train", "val", "test"):
        raise DatasetError(f"Kinetics subset must be train, val (or validate) or test, got {subset!r}.")
    if dataset not in _KINETICS_LAYOUT_HELP:
        raise DatasetError(f"unknown dataset {dataset!r} in the Kinetics layout; known: {', '.join(_KINETICS_LAYOUT_HELP)}.")
    root_help, ann_help = (_help(_KINETICS_LAYOUT_HELP[dataset][k], where) for k in ("root", "annotations"))
    name = _KINETICS_LAYOUT_HELP[dataset]["name"]
    _require_file(csv_path, f"{name} annotations", ann_help)
    _require_dir(root, f"{name} videos", root_help)

    # newline="" lets csv handle quoted fields and CRLF itself.
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        absent = [c for c in _KINETICS_COLUMNS if c not in (reader.fieldnames or [])]
        if absent:
            raise DatasetError(
                f"{csv_path}: header lacks {', '.join(absent)}; expected 'label,youtube_id,time_start,time_end,split' "
                f"(label optional), got {reader.fieldnames}. {ann_help}"
            )
        rows = []
        for row in reader:
            n = reader.line_num
            youtube_id = (row["youtube_id"] or "").strip()
            if not youtube_id:
                raise DatasetError(f"{csv_path}:{n}: empty youtube_id.")
            label = (row.get("label") or "").strip() or None
            start = _kinetics_time(row["time_start"], csv_path, n, "time_start")
            end = _kinetics_time(row["time_end"], csv_path, n, "time_end")
            rows.append((n, label, youtube_id, start, end, _split_key(row["split"] or "")))

    # Classes over every row, not just the subset's, so a csv holding several splits indexes them alike.
    classes = sorted({r[1] for r in rows if r[1] is not None}) if classes is None else list(classes)
    label_of = {name: i for i, name in enumerate(classes)}
    selected = [r for r in rows if r[5] == wanted]
    if not selected:
        present = sorted({r[5] for r in rows})
        raise DatasetError(f"{csv_path} has no rows with split {subset!r} (splits present: {present or 'none'}).")

    bases = [root, *(root / s for s in (_VAL_SPELLINGS if wanted == "val" else (wanted,)))]
    # Candidate folders per label, built once: Path arithmetic per row dominates 250k-row csvs.
    folders_of: dict[str | None, list[Path]] = {None: bases}
    out = _Collector(root, root_help)
    for n, label, youtube_id, start, end, _ in selected:
        index = None
        if label is not None:
            if label not in label_of:
                raise DatasetError(f"{csv_path}:{n}: label {label!r} is not among the {len(classes)} given classes.")
            index = label_of[label]
            if label not in folders_of:
                label_dirs = dict.fromkeys((label, label.replace(" ", "_")))  # dedup, keep order
                folders_of[label] = [base / d for base in bases for d in label_dirs] + bases
        folders = folders_of[label]
        video_id = f"{youtube_id}_{start:06d}_{end:06d}"
        out.add(folders, video_id + ".mp4", index, video_id, csv_path, n)
    return out.result(f"kinetics/{wanted}", classes, csv_path)


# --------------------------------------------------------------------------- generic list


def generic_list(list_file: PathLike, root: PathLike | None = None, classes: Sequence[str] | None = None,
                 where: Mapping[str, str] | None = None) -> VideoList:
    """A plain ``path [label]`` list; ``classes`` defaults to ``"0".."max label"``."""
    list_file = Path(list_file)
    list_help = _help(_LIST_HELP, where)
    _require_file(list_file, "video list", list_help)
    root = list_file.parent if root is None else Path(root)
    _require_dir(root, "video list root", list_help)

    entries: list[tuple[int, str, int | None]] = []
    for n, line in _numbered_lines(list_file):
        if line.startswith("#"):
            continue
        parts = line.rsplit(None, 1)
        if len(parts) == 2 and _INT.fullmatch(parts[1]):
            path, label = parts[0], int(parts[1])
            if label < 0:
                raise DatasetError(f"{list_file}:{n}: label {label} is negative; labels are 0-based class indices.")
        else:  # no trailing integer: the whole line is a path, spaces included
            path, label = line, None
        entries.append((n, path, label))

    labels = [label for _, _, label in entries if label is not None]
    classes = [str(i) for i in range(max(labels, default=-1) + 1)] if classes is None else list(classes)
    out = _Collector(root, list_help)
    for n, path, label in entries:
        if label is not None and label >= len(classes):
            raise DatasetError(f"{list_file}:{n}: label {label} is outside the {len(classes)} classes (0..{len(classes) - 1}).")
        rel = Path(path)
        out.add([root / rel.parent], rel.name, label, _strip_video_ext(rel.as_posix()), list_file, n)
    return out.result(f"list/{list_file.stem}", classes, list_file)


# --------------------------------------------------------------------------- by name

ADAPTERS: dict[str, Callable[..., VideoList]] = {
    "ucf101": ucf101,
    "hmdb51": hmdb51,
    "kinetics": kinetics,
    "list": generic_list,
}


def load_video_list(format: str, **kwargs) -> VideoList:
    """``ADAPTERS[format](**kwargs)``, e.g. ``load_video_list("ucf101", root=..., annotations=...)``."""
    if format not in ADAPTERS:
        raise DatasetError(f"unknown dataset format {format!r}; known formats: {', '.join(ADAPTERS)}.")
    return ADAPTERS[format](**kwargs)
