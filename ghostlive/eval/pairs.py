"""What an evaluation run scores: the input files, the (source, target, output) tasks, and video frames."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from ghostlive.errors import InputNotFoundError, InvalidInputError
from ghostlive.jobs import IMAGE_SUFFIXES
from ghostlive.media.video import VIDEO_SUFFIXES, VideoItem, VideoSource
from ghostlive.types import Frame

log = logging.getLogger(__name__)

TEMPORAL_FRAMES = 30
"""Consecutive frames (from the start) read from a video pair for the temporal metrics."""
STATIC_EVERY = 10
"""Every this many of those frames is also scored like a photo; the per-image metrics are averaged."""


@dataclass(frozen=True)
class Media:
    """One input file."""

    path: Path
    kind: str  # "image" or "video"

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Task:
    """One output to score: ``result`` exists already (``--results``) or is made by ``swapper``."""

    label: str
    source: Media
    target: Media
    result: Path
    swapper: str | None

    @property
    def key(self) -> str:
        return f"{self.label}/{self.source.stem}_to_{self.target.stem}"


def media_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else None


def list_media(folder: str | Path, videos: bool = True) -> list[Media]:
    """The photos (and videos) of ``folder``, sorted by name."""
    p = Path(folder)
    if p.is_file():
        raise InvalidInputError("is a file; give the folder it is in (every photo and video there is used)", p)
    if not p.is_dir():
        raise InputNotFoundError("no such folder", p)
    items = [Media(f, k) for f in sorted(p.iterdir()) if f.is_file() and (k := media_kind(f))]
    items = [m for m in items if videos or m.kind == "image"]
    if not items:
        raise InvalidInputError("contains no photos" + (" or videos" if videos else ""), p)
    return items


def swap_tasks(sources: list[Media], targets: list[Media], swappers: list[str], out: Path) -> list[Task]:
    """Every source onto every other target with each swapper; outputs go to ``out/outputs/SWAPPER/``."""
    tasks = []
    for name in swappers:
        for s in sources:
            for t in targets:
                if s.path.resolve() == t.path.resolve() or s.stem == t.stem:
                    continue  # the same photo (or the same name: the same person) on both sides
                suffix = ".mp4" if t.kind == "video" else ".png"
                tasks.append(Task(name, s, t, out / "outputs" / name / f"{s.stem}_to_{t.stem}{suffix}", name))
    return tasks


def result_tasks(results: Path, sources: list[Media], targets: list[Media], label: str) -> list[Task]:
    """Outputs of another program: ``pairs.csv`` (source,target,result) or files named SOURCE_to_TARGET.EXT."""
    by_src, by_tgt = {m.stem: m for m in sources}, {m.stem: m for m in targets}
    rows: list[tuple[str, str, Path]] = []
    table = results / "pairs.csv"
    if table.is_file():
        with table.open(newline="") as f:
            for row in csv.DictReader(f):
                rows.append((Path(row["source"]).stem, Path(row["target"]).stem, results / row["result"]))
    else:
        for f in sorted(results.iterdir()):
            src, sep, tgt = f.stem.partition("_to_")
            if sep and media_kind(f):
                rows.append((src, tgt, f))
    tasks = []
    for src, tgt, path in rows:
        if src not in by_src or tgt not in by_tgt:
            log.warning("skipped %s: no source %r or target %r in the given folders", path, src, tgt)
            continue
        tasks.append(Task(label, by_src[src], by_tgt[tgt], path, None))
    if not tasks:
        raise InvalidInputError("holds no SOURCE_to_TARGET.EXT results (or a pairs.csv) for these inputs", results)
    return tasks


def read_frames(path: Path, count: int) -> list[Frame]:
    """The first ``count`` frames of a video (upright BGR)."""
    frames: list[Frame] = []
    with VideoSource(path) as video:
        for item in video.items():
            if isinstance(item, VideoItem):
                frames.append(item.image)
                if len(frames) >= count:
                    break
    return frames
