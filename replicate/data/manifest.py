"""Manifests of real data trees: what the ``paper`` profile's data and flow stages write.

A manifest lists every file of a tree with its size (cheap: one ``stat`` per file, no reading),
and the sha256 of small annotation files. DVC hashes the manifest, not the terabytes, so a stage
that depends on it reruns when a file is added, removed or replaced by one of another size, and
not when nothing changed.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path


def tree_sizes(root: Path, suffixes: Iterable[str] | None = None) -> dict[str, int]:
    """``{relative posix path: size in bytes}`` of every file under ``root`` (with one of ``suffixes``,
    lower-case, when given), sorted by path."""
    wanted = tuple(s.lower() for s in suffixes) if suffixes is not None else None
    out = {}
    for folder, _, files in os.walk(root, followlinks=True):
        for name in files:
            if wanted is None or name.lower().endswith(wanted):
                path = Path(folder) / name
                out[path.relative_to(root).as_posix()] = path.stat().st_size
    return dict(sorted(out.items()))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(path: Path, manifest: dict) -> str:
    """Write ``manifest`` as json at ``path`` (folders made); returns the sha256 of what was written."""
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return hashlib.sha256(text.encode()).hexdigest()
