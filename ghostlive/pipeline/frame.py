"""One frame through the whole swap: the unit that photo, video and live modes share."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from ghostlive.errors import GhostliveError, NoFaceError
from ghostlive.faces import Embedder, FaceAnalyzer, LbpEmbedder, TargetSelection, select_faces
from ghostlive.masking.combine import claim_stage_times
from ghostlive.ops.blend import composite
from ghostlive.swappers.base import Swapper
from ghostlive.types import Array, Face, Frame
from ghostlive.xp import resolve_device, to_device, to_host

log = logging.getLogger(__name__)
T = TypeVar("T")

STAGES: tuple[str, ...] = ("detect", "landmarks", "select", "swap", "blend")


@dataclass
class StageTimes:
    """Milliseconds spent in each stage for one frame."""

    ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds of the calling thread per stage (model pools not included): unlike wall time, barely
    changed by other programs sharing the machine."""

    @property
    def total(self) -> float:
        return sum(self.ms.values())


@dataclass(frozen=True)
class FrameResult:
    """The swapped frame, every face found, the faces that were swapped, and per-stage times."""

    frame: Frame
    faces: list[Face]
    swapped: list[Face]
    times: StageTimes
    best_similarity: tuple[float, ...] = ()


class Clock:
    """Adds the time since the last lap to a stage of ``times``."""

    def __init__(self, times: StageTimes) -> None:
        self.times = times
        self.t = time.perf_counter()
        self.cpu = time.thread_time()

    def lap(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.times.ms[stage] += (now - self.t) * 1000.0
        self.times.cpu_ms[stage] = self.times.cpu_ms.get(stage, 0.0) + (cpu - self.cpu) * 1000.0
        self.t, self.cpu = now, cpu


class FrameDevice:
    """Where frames are swapped: ``cpu`` (numpy, OpenCV fast paths) or ``cuda`` (cupy: each frame is
    uploaded once, detection, landmarks, alignment, the swap model, masks, colour transfer and paste-back run
    on the GPU, and the result is downloaded once; only model outputs of a few KB, such as boxes and landmark
    points, come back to the host). ``auto`` picks cuda when CuPy can use a GPU.

    A GPU run that fails with an unexpected error (not a ghostlive error such as a missing face) is redone on
    the CPU, and the rest of the run stays there, with one warning: the GPU path cannot take a session down.
    """

    def __init__(self, device: str = "cpu") -> None:
        self.xp = resolve_device(device)
        self.fell_back: str | None = None

    @property
    def name(self) -> str:
        return "cpu" if self.xp is np else "cuda"

    def upload(self, image: Array) -> Array:
        return to_device(image, self.xp)

    def apply(self, value: Any, fn: Callable[[Any], T]) -> T:
        """``fn`` on ``value`` moved to this device. An unexpected failure on the GPU (upload included) redoes
        ``fn`` on the host value and moves this device to the CPU for good, with one warning."""
        if self.xp is np:
            return fn(value)
        try:
            return fn(self.upload(value))
        except GhostliveError:
            raise
        except Exception as exc:  # noqa: BLE001 - any GPU failure: redo on the CPU, say so once
            self.fell_back = f"{type(exc).__name__}: {exc}"
            log.warning("the GPU frame path failed (%s); continuing on the CPU", self.fell_back)
            self.xp = np
            return fn(value)

    def run(self, frame: Frame, fn: Callable[[Array], FrameResult]) -> FrameResult:
        """``fn`` on ``frame`` moved to this device; the result frame comes back as a host array."""

        def swap_and_download(f: Array) -> FrameResult:
            result = fn(f)
            return replace(result, frame=to_host(result.frame))

        return self.apply(frame, swap_and_download)


class FramePipeline:
    """Swaps the current source face onto the selected faces of each frame."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        swapper: Swapper,
        selection: TargetSelection | None = None,
        embedder: Embedder | None = None,
        device: FrameDevice | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.swapper = swapper
        self.selection = selection or TargetSelection()
        self.embedder = embedder or LbpEmbedder()
        self.device = device or FrameDevice()
        self.source: Any = None
        self.source_face: Face | None = None

    def find_face(self, image: Frame, index: int | None = None, label: str = "the image") -> Face:
        """The largest face of ``image`` (or the ``index``-th from the left); NoFaceError if there is none."""
        faces = self.analyzer.analyze(image)
        if not faces:
            raise NoFaceError(f"no face found in {label}")
        if index is None:
            return max(faces, key=lambda f: f.detection.area)
        if not 0 <= index < len(faces):
            raise NoFaceError(f"{label} has {len(faces)} face(s); face index {index} does not exist")
        return faces[index]

    def set_source(self, image: Frame, index: int | None = None, label: str = "the source image") -> Face:
        """Choose the identity to paste: the largest face of ``image`` unless ``index`` says otherwise."""
        face = self.find_face(image, index, label)
        self.source = self.device.apply(image, lambda img: self.swapper.prepare_source(img, face))
        self.source_face = face
        return face

    def process(self, frame: Frame) -> FrameResult:
        """Detect, select and swap faces in ``frame``; the input frame is not modified."""
        if self.source is None:
            raise NoFaceError("no source face has been set")
        return self.device.run(frame, self._process)

    def _process(self, frame: Array) -> FrameResult:
        times = StageTimes()
        clock = Clock(times)
        detections = self.analyzer.detect(frame)
        clock.lap("detect")
        faces = self.analyzer.landmarks(frame, detections)
        clock.lap("landmarks")
        chosen = select_faces(frame, faces, self.selection, self.embedder)
        clock.lap("select")
        pastes = [self.swapper.render(frame, f, self.source) for f in chosen.faces]
        clock.lap("swap")
        claim_stage_times(self.swapper, times.ms)
        out = composite(frame, pastes)
        clock.lap("blend")
        return FrameResult(out, faces, chosen.faces, times, chosen.best_similarity)
