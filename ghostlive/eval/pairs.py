"""What an evaluation run scores: the input files, the (source, target, output) tasks, and video frames."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterable
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
    tag: str = ""
    """Its part of pair, output and record names: the stem, or the file name where another input of its
    folder shares the stem (see :func:`tags`)."""

    def __post_init__(self) -> None:
        if not self.tag:
            object.__setattr__(self, "tag", self.path.stem)

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
    def name(self) -> str:
        """SOURCE_to_TARGET: the stem of its output and record files (unique in a run)."""
        return f"{self.source.tag}_to_{self.target.tag}"

    @property
    def key(self) -> str:
        return f"{self.label}/{self.name}"


def tags(paths: Iterable[Path]) -> dict[Path, str]:
    """Each file's part of pair names: its stem, or its file name (``face.jpg``) where another of ``paths``
    shares the stem, case aside; ``~2``, ``~3`` … are added should a name still repeat."""
    files = list(dict.fromkeys(paths))
    stems = Counter(p.stem.casefold() for p in files)
    used: set[str] = set()
    out = {}
    for p in files:
        out[p] = unique_name(p.stem if stems[p.stem.casefold()] == 1 else p.name, used)
    return out


def unique_name(base: str, used: set[str]) -> str:
    """``base``, or ``base~2``, ``base~3``… : the first not in ``used`` (compared case-insensitively, as file
    systems may), which it joins."""
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        name = f"{base}~{n}"
    used.add(name.casefold())
    return name


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
    names = tags(m.path for m in items)
    return [Media(m.path, m.kind, names[m.path]) for m in items]


def swap_tasks(sources: list[Media], targets: list[Media], swappers: list[str], out: Path) -> list[Task]:
    """Every source onto every other target with each swapper; outputs go to ``out/outputs/SWAPPER/``."""
    tasks = []
    for name in swappers:
        for s in sources:
            for t in targets:
                if s.path.resolve() == t.path.resolve() or s.stem == t.stem:
                    continue  # the same photo (or the same name: the same person) on both sides
                suffix = ".mp4" if t.kind == "video" else ".png"
                tasks.append(Task(name, s, t, out / "outputs" / name / f"{s.tag}_to_{t.tag}{suffix}", name))
    if not tasks:
        stems = sorted({m.stem for m in [*sources, *targets]})
        raise InvalidInputError(
            f"no pairs to score: every source and target is named {' or '.join(map(repr, stems))}, and files "
            "that share a name count as the same person (never swapped onto each other); add other people's "
            "photos to the targets"
        )
    _refuse_repeats(tasks)
    return tasks


def _refuse_repeats(tasks: list[Task]) -> None:
    """Two pairs whose names meet (a stem holding ``_to_``: ``a_to_b`` + ``c`` and ``a`` + ``b_to_c``) would
    overwrite each other's files."""
    seen: dict[str, Task] = {}
    for t in tasks:
        other = seen.setdefault(f"{t.label}/{t.name}".casefold(), t)
        if other is not t:
            raise InvalidInputError(
                f"pairs {other.source.path.name} → {other.target.path.name} and {t.source.path.name} → "
                f"{t.target.path.name} would both be named {t.name}; rename one of these files"
            )


def result_tasks(results: Path, sources: list[Media], targets: list[Media], label: str) -> list[Task]:
    """Outputs of another program: ``pairs.csv`` (source,target,result) or files named SOURCE_to_TARGET.EXT,
    where SOURCE and TARGET are stems, or file names where stems are shared (``face.jpg_to_photo.png.png``)."""
    rows: list[tuple[str, str, Path]] = []
    table = results / "pairs.csv"
    if table.is_file():
        with table.open(newline="") as f:
            for row in csv.DictReader(f):
                rows.append((Path(row["source"]).name, Path(row["target"]).name, results / row["result"]))
    else:
        for f in sorted(results.iterdir()):
            src, sep, tgt = f.stem.partition("_to_")
            if sep and media_kind(f):
                rows.append((src, tgt, f))
    tasks: dict[tuple[Path, Path], Task] = {}
    for src, tgt, path in rows:
        s, why_s = _find(sources, src, "source")
        t, why_t = _find(targets, tgt, "target")
        if s is None or t is None or not path.is_file():
            why = "; ".join(w for w in (why_s, why_t) if w) or "no such file"
            log.warning("skipped %s: %s", path, why)
            continue
        if (s.path, t.path) in tasks:
            log.warning("skipped %s: %s is the result for %s → %s", path, tasks[s.path, t.path].result, src, tgt)
            continue
        tasks[s.path, t.path] = Task(label, s, t, path, None)
    if not tasks:
        raise InvalidInputError("holds no SOURCE_to_TARGET.EXT results (or a pairs.csv) for these inputs", results)
    return list(tasks.values())


def _find(media: list[Media], name: str, role: str) -> tuple[Media | None, str]:
    """The input that ``name`` (a file name, a tag or a stem) means, or None and why not."""
    found = [m for m in media if name in (m.path.name, m.tag)] or [m for m in media if m.stem == Path(name).stem]
    if len(found) == 1:
        return found[0], ""
    folder = media[0].path.parent if media else Path()
    if not found:
        return None, f"no {role} {name!r} in {folder}"
    names = ", ".join(m.path.name for m in found)
    return None, f"{role} {name!r} could be any of {names} in {folder}; name the file with its extension"


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
