"""``ghostlive train prepare``: photos, folders and videos → aligned 256 px face crops, one folder per identity.

Each face is aligned exactly as GHOST aligns at inference (five-template 224 fit of the detector keypoints,
:func:`ghostlive.ops.align.norm_crop`) and resized to 256 (bilinear), the layout GHOST was trained on. Videos are
followed with ghostlive's tracker on every ``every``-th frame (one person per video: the largest face when the
tracked one is lost). Faces narrower than ``min_size`` px and near-duplicates of a crop already kept for the
same identity are skipped and counted. ``manifest.json`` records each crop (source, frame, eye corners in crop
pixels) and each finished source, so running the same command again resumes where it stopped. A source that cannot
be read is counted and skipped; a crop or manifest that cannot be written (disk full, read-only) stops the job with
an OutputError, and that source is not recorded as finished, so a rerun prepares it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ghostlive.errors import GhostliveError, InvalidInputError, OutputError
from ghostlive.faces import FaceAnalyzer
from ghostlive.jobs import IMAGE_SUFFIXES
from ghostlive.media.image import read_image, write_image
from ghostlive.media.paths import atomic_write_bytes, writable_folder
from ghostlive.media.video import VIDEO_SUFFIXES, VideoItem, VideoSource
from ghostlive.ops.align import norm_crop, transform_points
from ghostlive.ops.shots import grey_thumb
from ghostlive.tracking import FaceTracker, TrackerOptions, face_width
from ghostlive.types import Face, Frame

log = logging.getLogger(__name__)

CROP = 256
EYE_CORNERS = (33, 133, 362, 263)
"""Face-mesh indices of the eye corners (subject's right eye, then left), stored per crop in the manifest."""
MANIFEST = "manifest.json"


@dataclass
class PrepareOptions:
    min_size: int = 64
    """Faces narrower than this (px in the source) are skipped."""
    every: int = 5
    """Video: keep at most one crop per this many frames."""
    duplicate: float = 3.0
    """Mean absolute difference (grey levels, 32 px thumbnails) under which a crop counts as a near-duplicate."""


@dataclass
class Counts:
    kept: int = 0
    too_small: int = 0
    duplicate: int = 0
    no_face: int = 0
    unreadable: int = 0


@dataclass
class PrepareReport:
    counts: Counts = field(default_factory=Counts)
    identities: dict[str, int] = field(default_factory=dict)
    sources_done: int = 0
    sources_skipped: int = 0
    """Sources already finished by an earlier run (resumed)."""
    failed: list[tuple[str, Path, str]] = field(default_factory=list)
    """(identity, source, why) of each source that could not be read, in this run."""


Progress = Callable[[int, int, Counts], None]


def identities(sources: list[str]) -> list[tuple[str, Path]]:
    """(identity, media file) pairs: ``NAME=PATH`` names the identity; a folder of folders gives one identity per
    sub-folder, a folder of media files or a single file one identity named after it."""
    out: list[tuple[str, Path]] = []
    for spec in sources:
        name, sep, path = spec.partition("=")
        p = Path(path if sep else spec)
        if not p.exists():
            raise InvalidInputError("no such file or folder", p)
        if p.is_file():
            out.append((name if sep else p.stem, p))
            continue
        subdirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
        groups = [(d.name, d) for d in subdirs] if subdirs and not sep else [(name if sep else p.name, p)]
        for ident, folder in groups:
            out += [(ident, f) for f in sorted(folder.iterdir()) if f.is_file() and _is_media(f)]
    if not out:
        raise InvalidInputError("no photos or videos found", Path(sources[0]) if sources else Path("."))
    return out


def _is_media(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_SUFFIXES or p.suffix.lower() in VIDEO_SUFFIXES


def thumbnail(crop: Frame) -> np.ndarray:
    """The 32 px grey thumbnail near-duplicates are judged on (the same one cut detection uses)."""
    thumb = grey_thumb(crop, 32)
    assert thumb is not None  # an aligned crop is never empty
    return thumb


def align_face(image: Frame, face: Face) -> tuple[Frame, np.ndarray]:
    """GHOST's 224 crop of ``face`` resized to 256, and the four eye corners in crop pixels."""
    crop, m = norm_crop(image, face.keypoints5, 224, "ghost")
    crop = cv2.resize(crop, (CROP, CROP), interpolation=cv2.INTER_LINEAR)
    eyes = transform_points(face.landmarks[list(EYE_CORNERS)], m) * (CROP / 224.0)
    return crop, eyes


class Preparer:
    """Writes crops and the manifest into ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path, options: PrepareOptions | None = None, analyzer: FaceAnalyzer | None = None):
        self.root = Path(root)
        self.options = options or PrepareOptions()
        self.analyzer = analyzer or FaceAnalyzer(tile_levels=0)
        writable_folder(self.root, "dataset folder")  # a one-line OutputError before any work
        path = self.root / MANIFEST
        self.manifest = json.loads(path.read_text()) if path.exists() else {}
        self.manifest.setdefault("version", 1)
        self.manifest.setdefault("size", CROP)
        self.manifest.setdefault("alignment", "ghost five-template 224, resized to 256 (bilinear)")
        self.manifest.setdefault("images", {})
        self.manifest.setdefault("done", {})
        self._thumbs: dict[str, list[np.ndarray]] = {}

    def _save_manifest(self) -> None:
        path = self.root / MANIFEST
        try:
            atomic_write_bytes(path, json.dumps(self.manifest, indent=1, sort_keys=True).encode())
        except OSError as exc:
            raise OutputError(f"cannot write the dataset's manifest ({exc.strerror or exc})", path) from None

    def _thumbs_of(self, ident: str) -> list[np.ndarray]:
        if ident not in self._thumbs:
            files = [k for k in self.manifest["images"] if k.split("/")[0] == ident]
            self._thumbs[ident] = [thumbnail(read_image(self.root / k).bgr) for k in files if (self.root / k).exists()]
        return self._thumbs[ident]

    def _keep(self, ident: str, src: Path, index: int, image: Frame, face: Face, counts: Counts) -> None:
        if face_width(face) < self.options.min_size:
            counts.too_small += 1
            return
        crop, eyes = align_face(image, face)
        thumb = thumbnail(crop)
        thumbs = self._thumbs_of(ident)
        if any(float(np.abs(thumb - t).mean()) < self.options.duplicate for t in thumbs):
            counts.duplicate += 1
            return
        rel = f"{ident}/{src.stem}_{index:06d}.jpg"
        try:
            (self.root / ident).mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder ({exc.strerror or exc})", self.root / ident) from None
        write_image(self.root / rel, crop, quality=95)
        thumbs.append(thumb)
        self.manifest["images"][rel] = {"source": str(src), "frame": index, "eyes": np.round(eyes, 2).tolist()}
        counts.kept += 1

    def _forget(self, ident: str, since: set[str]) -> None:
        """Drop the crops written after ``since`` (a source that did not finish): a rerun writes them again."""
        for rel in [k for k in self.manifest["images"] if k not in since]:
            del self.manifest["images"][rel]
            with suppress(OSError):  # the write failure is the error to report, not this
                (self.root / rel).unlink(missing_ok=True)
        self._thumbs.pop(ident, None)

    def _photo(self, ident: str, src: Path, counts: Counts, _tick: Callable[[], None]) -> None:
        image = read_image(src).bgr
        faces = self.analyzer.analyze(image)
        if not faces:
            counts.no_face += 1
            return
        self._keep(ident, src, 0, image, max(faces, key=lambda f: f.detection.area), counts)

    def _video(self, ident: str, src: Path, counts: Counts, tick: Callable[[], None]) -> None:
        tracker = FaceTracker(self.analyzer, TrackerOptions(smoothing=False, max_gap=0))
        chosen: int | None = None
        for item in _frames(src):
            if item.index % max(self.options.every, 1):
                continue
            tracks = tracker.update(item.image, item.time)
            if not tracks:
                counts.no_face += 1
            else:
                biggest = max(tracks, key=lambda t: face_width(t.raw))
                track = next((t for t in tracks if t.id == chosen), biggest)
                chosen = track.id
                self._keep(ident, src, item.index, item.image, track.raw, counts)
            tick()

    def run(self, sources: list[str], progress: Progress | None = None) -> PrepareReport:
        """Prepare every source not finished before; the manifest is saved after each one. ``progress(done, total,
        counts)`` is called after each source and, inside a video, after each frame looked at (``done`` then counts
        the sources finished before it), so an exception it raises stops a long video within a frame. A source
        that cannot be read is counted and skipped; an OutputError (a crop or the manifest cannot be written)
        ends the run, the unfinished source not recorded as done."""
        report = PrepareReport()
        todo = identities(sources)
        for i, (ident, src) in enumerate(todo):

            def tick(i: int = i) -> None:
                if progress:
                    progress(i, len(todo), report.counts)

            key = f"{ident}:{src.resolve()}"
            if key in self.manifest["done"]:
                report.sources_skipped += 1
                continue
            kept = set(self.manifest["images"])
            try:
                self._source(ident, src, key, report, tick)
            except OutputError:  # a failure to write, not a bad source: not done, prepared again by a rerun
                self.manifest["done"].pop(key, None)
                self._forget(ident, kept)
                raise
            report.sources_done += 1
            if progress:
                progress(i + 1, len(todo), report.counts)
        for rel in self.manifest["images"]:
            report.identities[rel.split("/")[0]] = report.identities.get(rel.split("/")[0], 0) + 1
        return report

    def _source(self, ident: str, src: Path, key: str, report: PrepareReport, tick: Callable[[], None]) -> None:
        """Prepare one source (counted as unreadable when it cannot be read), then record it as done."""
        before = Counts(**vars(report.counts))
        try:
            (self._video if src.suffix.lower() in VIDEO_SUFFIXES else self._photo)(ident, src, report.counts, tick)
        except OutputError:
            raise
        except GhostliveError as exc:
            log.warning("skipped %s: %s", src, exc)
            report.counts.unreadable += 1
            report.failed.append((ident, src, str(exc)))
        self.manifest["done"][key] = {k: v - getattr(before, k) for k, v in vars(report.counts).items()}
        self._save_manifest()


def _frames(path: Path) -> Iterator[VideoItem]:
    with VideoSource(path) as video:
        for item in video.items():
            if isinstance(item, VideoItem):
                yield item


def read_manifest(root: str | Path) -> dict:
    """The manifest of a prepared dataset; InvalidInputError when ``root`` is not one."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise InvalidInputError(
            f"not a prepared dataset (no {MANIFEST}); run: ghostlive train prepare SRC… -o DIR", root
        )
    data = json.loads(path.read_text())
    if not data.get("images"):
        raise InvalidInputError("the dataset holds no face crops", root)
    return data
