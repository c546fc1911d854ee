"""Still images in the ImageFolder layout (``<root>/<class>/<image>``): ImageNet, or its stand-in.

:class:`ImageDataset` gives items shaped like :class:`~replicate.data.clips.ClipDataset`'s
(``clip``, ``label``, ``video_index``, ``clip_index``), so the training loop and the evaluator
take it unchanged: an image is a video of one frame, scored by one "clip" (top-1 / top-5 are
then video@1 / video@5). The clip transforms of :mod:`replicate.data.transforms` crop, flip and
normalise it as a one-frame clip; the item is the frame itself, ``(3, H, W)``, the input of a 2D
network. Like a ClipDataset, a training item's randomness depends only on ``(seed, epoch, index)``.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .samples import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def image_folder_files(root: Path, classes: list[str] | None = None) -> tuple[list[Path], list[int], list[str]]:
    """``(paths, labels, classes)`` of an ImageFolder tree, classes sorted by folder name (torchvision's
    order) unless ``classes`` fixes it (the training set's, for a validation set missing one)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"image folder {root} does not exist")
    found = sorted(d.name for d in root.iterdir() if d.is_dir())
    classes = found if classes is None else list(classes)
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise DatasetError(f"{root} has class folders the training set lacks: {', '.join(unknown[:5])}")
    paths, labels = [], []
    for label, name in enumerate(classes):
        folder = root / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(label)
    if not paths:
        raise DatasetError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {root}/<class>/: is it an ImageFolder tree?")
    return paths, labels, classes


class ImageDataset(Dataset):
    """The images under ``root``, one item each; ``transform(frames, rng)`` takes uint8 ``(1, H, W, 3)``.

    ``cache=True`` keeps every decoded image in memory (the ``mini`` stand-in: 2,400 images of
    64x64, 30 MB); ImageNet is read from disk each time. An image that cannot be read raises
    :class:`DatasetError` naming the file.
    """

    def __init__(self, root: str | Path, transform: Callable[[np.ndarray, np.random.Generator], torch.Tensor],
                 seed: int = 0, classes: list[str] | None = None, cache: bool = False):
        self.root = Path(root)
        self.paths, self.labels, self.classes = image_folder_files(self.root, classes)
        self.video_ids = [str(p.relative_to(self.root)) for p in self.paths]
        self.transform, self.seed, self.epoch = transform, seed, 0
        self._cache: list[np.ndarray | None] | None = [None] * len(self.paths) if cache else None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.paths)

    def _read(self, index: int) -> np.ndarray:
        if self._cache is not None and self._cache[index] is not None:
            return self._cache[index]
        import cv2  # lazy: only image pretraining reads images

        image = cv2.imread(str(self.paths[index]), cv2.IMREAD_COLOR)
        if image is None:
            raise DatasetError(f"cannot read image {self.paths[index]}: delete or replace the file")
        image = np.ascontiguousarray(image[..., ::-1])  # BGR -> RGB
        if self._cache is not None:
            self._cache[index] = image
        return image

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        clip = self.transform(self._read(index)[None], rng)  # (3, 1, H, W)
        return {"clip": clip[:, 0], "label": self.labels[index], "video_index": index, "clip_index": 0}
