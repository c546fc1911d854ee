"""The one record every dataset adapter produces: a video on disk, its label, its id.

Real adapters (UCF101, HMDB51, Kinetics-400, generic lists) and the synthetic stand-ins all
end in a :class:`VideoList`, so the clip pipeline never needs to know where videos came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError


class DatasetError(UsageError, RuntimeError):
    """A dataset root or annotation file is missing or malformed. The message says what to put where."""


@dataclass(frozen=True)
class VideoSample:
    path: Path
    label: int | None  # None for unlabelled clips (and UCF101 test lists before the class lookup)
    video_id: str  # unique within a VideoList; clip scores are averaged per video_id


@dataclass
class VideoList:
    """An ordered list of videos plus the class names their integer labels index."""

    samples: list[VideoSample]
    classes: list[str] = field(default_factory=list)
    name: str = ""
    missing: list[str] = field(default_factory=list)  # listed in the annotations but absent on disk

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> VideoSample:
        return self.samples[i]

    def __iter__(self):
        return iter(self.samples)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def labels(self) -> list[int | None]:
        return [s.label for s in self.samples]

    def restrict(self, classes: list[str]) -> "VideoList":
        """Only the videos of ``classes``, relabelled 0..len(classes)-1 in that order."""
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise DatasetError(f"{self.name}: classes {unknown} are not among its {len(self.classes)} classes")
        old = {c: i for i, c in enumerate(self.classes)}
        new = {old[c]: i for i, c in enumerate(classes)}
        kept = [VideoSample(s.path, new[s.label], s.video_id) for s in self.samples if s.label in new]
        missing = list(self.missing)  # names only; a missing file's class is not known here
        return VideoList(kept, list(classes), f"{self.name}[{len(classes)} classes]", missing)

    def fraction(self, share: float) -> "VideoList":
        """A share of the videos, the same share of every class, evenly spread over each class's videos in list
        order (``share=0.5``: every other one; diba2017's "half of the Kinetics dataset"); unlabelled videos
        count as one class. Deterministic: the same list gives the same half."""
        if not 0 < share <= 1:
            raise DatasetError(f"{self.name}: a share of the videos must be in (0, 1], got {share!r}")
        seen: dict[int | None, int] = {}
        kept = []
        for sample in self.samples:
            i = seen.get(sample.label, 0)
            seen[sample.label] = i + 1
            if int((i + 1) * share) > int(i * share):  # the i-th video of its class crosses a multiple of 1/share
                kept.append(sample)
        return VideoList(kept, list(self.classes), f"{self.name}[{share:g} of each class]", list(self.missing))
