"""One frame through the whole swap: the unit that photo, video and live modes share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ghostlive.errors import NoFaceError
from ghostlive.faces import Embedder, FaceAnalyzer, LbpEmbedder, TargetSelection, select_faces
from ghostlive.ops.blend import composite
from ghostlive.swappers.base import Swapper
from ghostlive.types import Face, Frame

STAGES: tuple[str, ...] = ("detect", "landmarks", "select", "swap", "blend")


@dataclass
class StageTimes:
    """Milliseconds spent in each stage for one frame."""

    ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

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

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.times.ms[stage] += (now - self.t) * 1000.0
        self.t = now


class FramePipeline:
    """Swaps the current source face onto the selected faces of each frame."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        swapper: Swapper,
        selection: TargetSelection | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.swapper = swapper
        self.selection = selection or TargetSelection()
        self.embedder = embedder or LbpEmbedder()
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
        self.source = self.swapper.prepare_source(image, face)
        self.source_face = face
        return face

    def process(self, frame: Frame) -> FrameResult:
        """Detect, select and swap faces in ``frame``; the input frame is not modified."""
        if self.source is None:
            raise NoFaceError("no source face has been set")
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
        out = composite(frame, pastes)
        clock.lap("blend")
        return FrameResult(out, faces, chosen.faces, times, chosen.best_similarity)
