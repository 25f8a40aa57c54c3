"""An evaluation run: making the outputs with ghostlive's swappers (or taking another program's), scoring each,
and keeping every finished pair on disk so that Ctrl-C loses nothing and a rerun resumes. A failure to write the
run's own files (disk full, read-only) is an OutputError that ends the run, never a pair's result."""

from __future__ import annotations

import errno
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive.errors import (
    BackendUnavailableError,
    ConfigError,
    GhostliveError,
    ModelError,
    NoFaceError,
    OutputError,
)
from ghostlive.eval.pairs import STATIC_EVERY, TEMPORAL_FRAMES, Media, Task, read_frames
from ghostlive.eval.scoring import Scorer, Seen
from ghostlive.jobs import Job, PairSpec, SwapSettings, run_video
from ghostlive.media.image import read_image, write_image
from ghostlive.media.paths import atomic_write_bytes, writable_folder
from ghostlive.pipeline.offline import MIN_FREE
from ghostlive.types import Frame

log = logging.getLogger(__name__)


DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
"""Errors of the disk or folder written to, not of what was written."""


def _disk_failure(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an error it was raised from (also ``from None``) is one of :data:`DISK_ERRNOS`."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class Evaluation:
    """Makes and scores the outputs of ``tasks``; finished pairs are kept in ``out/pairs/``."""

    def __init__(self, out: Path, scorer: Scorer, settings: SwapSettings | None = None) -> None:
        self.out = out
        self.scorer = scorer
        self.settings = settings or SwapSettings(faces="largest", tiles=2)
        self._seen: dict[Path, Seen] = {}
        self._jobs: dict[tuple[str, Path], Job] = {}
        self._warned: set[Path] = set()
        """Inputs whose problem was already logged (each bad file is named once)."""

    def record_path(self, task: Task) -> Path:
        return self.out / "pairs" / task.label / f"{task.name}.json"

    def finished(self, task: Task) -> dict[str, Any] | None:
        """The stored record of ``task`` when its inputs have not changed since (and its output is there)."""
        path = self.record_path(task)
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        if record.get("status") == "ok" and not task.result.is_file():
            return None
        return record if record.get("stamp") == self._stamp(task) else None

    def _stamp(self, task: Task) -> list[list[int]]:
        files = [task.source.path, task.target.path] + ([task.result] if task.swapper is None else [])
        return [[f.stat().st_size, f.stat().st_mtime_ns] for f in files]

    def run(self, tasks: list[Task], advance: Callable[[Task, dict[str, Any]], None]) -> Iterator[dict[str, Any]]:
        """Yield each task's record, resuming finished ones. A KeyboardInterrupt (or an error that ends the run)
        leaves every finished pair, and no output made for the pair it stopped without that pair's record."""
        for task in tasks:
            record = self.finished(task)
            if record is None:
                kept = False
                try:
                    record = self._score(task)
                    self._keep(task, record)
                    kept = True
                finally:
                    if not kept:
                        _discard(task)
            advance(task, record)
            yield record

    def _keep(self, task: Task, record: dict[str, Any]) -> None:
        path = self.record_path(task)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps(record, indent=1).encode())
        except OSError as exc:
            raise OutputError(f"cannot write the pair's record ({exc.strerror or exc})", path) from None

    def earlier(self, labels: set[str]) -> list[dict[str, Any]]:
        """Finished records of other labels kept in this report folder by earlier runs (so that a
        ``--results`` run beside a swapper run reports both columns)."""
        folder = self.out / "pairs"
        if not folder.is_dir():
            return []
        paths = sorted(p for d in folder.iterdir() if d.is_dir() and d.name not in labels for p in d.glob("*.json"))
        return [json.loads(p.read_text()) for p in paths]

    def _see(self, media: Media, image: Frame | None = None) -> Seen:
        if media.path not in self._seen:
            self._seen[media.path] = self.scorer.see(read_image(media.path).bgr if image is None else image)
        return self._seen[media.path]

    def gallery_entry(self, media: Media) -> dict[str, list[float]]:
        """The judges' identity vectors of an input (a video: its first sampled frame with a face)."""
        try:
            if media.kind == "image":
                return self._see(media).descriptors
            if media.path not in self._seen:
                frames = read_frames(media.path, TEMPORAL_FRAMES)[::STATIC_EVERY]
                views = (self.scorer.see(f, turned=False) for f in frames)
                self._seen[media.path] = next((v for v in views if v.face is not None), Seen(None))
            return self._seen[media.path].descriptors
        except (GhostliveError, ValueError) as exc:
            self._seen[media.path] = Seen(None)
            self._warn(media.path, f"{_naming(exc, media.path)} (left out of ID retrieval)")
            return {}

    def _warn(self, bad: Path | None, message: str) -> None:
        """A warning, or only an info line when it names a bad input (``bad``) that a warning named already."""
        log.log(logging.INFO if bad is not None and bad in self._warned else logging.WARNING, "%s", message)
        if bad is not None:
            self._warned.add(bad)

    def _job(self, task: Task) -> Job:
        key = (task.label, task.source.path)
        if key not in self._jobs:
            settings = SwapSettings(**{**self.settings.__dict__, "swapper": task.swapper})
            self._jobs[key] = Job(settings, [PairSpec(str(task.source.path))])
        return self._jobs[key]

    def _score(self, task: Task) -> dict[str, Any]:
        record: dict[str, Any] = {
            "label": task.label,
            "pair": task.name,
            "swapper": task.swapper or "",
            "source": str(task.source.path),
            "target": str(task.target.path),
            "output": str(task.result),
            "kind": task.target.kind,
            "stamp": self._stamp(task),
        }
        try:
            if task.swapper is not None:
                self._make(task)
            metrics, descriptors, view = self._measure(task)
            record |= {"status": "ok", "metrics": metrics, "descriptors": descriptors, "view": view}
        except (ModelError, BackendUnavailableError, ConfigError):
            raise  # the swapper cannot run at all: not a problem of this pair
        except (GhostliveError, ValueError) as exc:
            if isinstance(exc, OutputError) and (_disk_failure(exc) or not self._has_room()):
                raise  # eval's own files cannot be written (full, read-only): not a problem of this pair
            # (a folder that takes files: this pair's output failed, e.g. streams its container cannot hold)
            bad = getattr(exc, "path", None)  # a bad input: named once, not once per pair
            self._warn(bad if bad in (task.source.path, task.target.path) else None, f"{task.key}: {exc}")
            record |= {"status": f"failed: {exc}", "metrics": {}, "descriptors": {}}
        return record

    def _has_room(self) -> bool:
        """Whether the report folder still takes a file and has room (:data:`MIN_FREE`)."""
        try:
            writable_folder(self.out, "report folder")
            st = os.statvfs(self.out) if hasattr(os, "statvfs") else None
        except OSError:  # OutputError too
            return False
        return st is None or st.f_bavail * st.f_frsize >= MIN_FREE

    def _make(self, task: Task) -> None:
        job = self._job(task)  # first: a swapper whose model is missing leaves no empty folder behind
        try:
            task.result.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder ({exc.strerror or exc})", task.result.parent) from None
        if task.target.kind == "video":
            run_video(job, str(task.target.path), task.result)
            return
        image = read_image(task.target.path)
        result = job.swap_image(image)
        if not result.swapped:
            raise NoFaceError(f"{task.swapper} swapped no face", task.target.path)
        write_image(task.result, result.frame)

    def _measure(self, task: Task) -> tuple[dict[str, Any], dict[str, list[float]], dict[str, Any]]:
        """Metrics, the output's identity vectors, and the view the report shows (frame index, face boxes)."""
        source_img = read_image(task.source.path).bgr
        source = self._see(task.source, source_img)
        view: dict[str, Any] = {"frame": 0, "source": _box(source)}
        if task.target.kind == "image":
            target_img = read_image(task.target.path).bgr
            output_img = _same_size(read_image(task.result).bgr, target_img)
            target = self._see(task.target)
            metrics, seen = self.scorer.image(source_img, source, target_img, target, output_img)
            return metrics, seen.descriptors, view | {"target": _box(target)}
        target_frames = read_frames(task.target.path, TEMPORAL_FRAMES)
        outputs = read_frames(task.result, TEMPORAL_FRAMES)
        output = [_same_size(o, t) for o, t in zip(outputs, target_frames, strict=False)]
        per_frame, descriptors = [], []
        for i in range(0, len(output), STATIC_EVERY):
            target = self.scorer.see(target_frames[i], turned=False)
            if target.face is None:
                continue
            if not per_frame:
                view |= {"frame": i, "target": _box(target)}
            m, seen = self.scorer.image(source_img, source, target_frames[i], target, output[i], turned=False)
            per_frame.append(m)
            descriptors.append(seen.descriptors)
        metrics = _average(per_frame) | self.scorer.video(target_frames[: len(output)], output)
        judges = {j for d in descriptors for j in d}
        mean = {j: np.mean([d[j] for d in descriptors if j in d], axis=0).tolist() for j in judges}
        return metrics, mean, view


def _naming(exc: Exception, path: Path) -> str:
    """``exc``'s message, led by ``path`` unless it names it already."""
    return str(exc) if getattr(exc, "path", None) == path else f"{path}: {exc}"


def _discard(task: Task) -> None:
    """Remove the output made for ``task`` (and its folder, when that is left empty): it has no record."""
    if task.swapper is None:
        return  # another program's result: never ours to remove
    task.result.unlink(missing_ok=True)
    for folder in (task.result.parent, task.result.parent.parent):
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (or already gone)


def _box(seen: Seen) -> list[float] | None:
    return [float(v) for v in seen.face.box] if seen.face is not None else None


def _same_size(output: Frame, target: Frame) -> Frame:
    if output.shape[:2] == target.shape[:2]:
        return output
    import cv2

    log.info("resizing an output of %s to its target's %s", output.shape[:2], target.shape[:2])
    return cv2.resize(output, (target.shape[1], target.shape[0]), interpolation=cv2.INTER_AREA)


def _average(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of each numeric metric over frames; the most common value of each text one."""
    keys = {k for r in rows for k in r}
    out: dict[str, Any] = {}
    for k in sorted(keys):
        values = [r[k] for r in rows if k in r]
        if all(isinstance(v, float | int) for v in values):
            out[k] = float(np.nanmean(values)) if not all(np.isnan(values)) else float("nan")
        else:
            out[k] = Counter(values).most_common(1)[0][0]
    return out
