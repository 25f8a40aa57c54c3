"""Scores one output against its source and target with every judge available."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghostlive.engines.ort import open_onnx
from ghostlive.errors import NoFaceError
from ghostlive.eval import geometry
from ghostlive.eval.artefacts import artefacts
from ghostlive.eval.judges import (
    ARCFACE_SAME,
    DLIB_SAME,
    ArcFaceJudge,
    DlibJudge,
    dlib_available,
    identity_verdict,
)
from ghostlive.eval.temporal import temporal
from ghostlive.faces import FaceAnalyzer, asset_path
from ghostlive.models.iris import IrisLandmarks
from ghostlive.types import Face, Frame

log = logging.getLogger(__name__)


@dataclass
class Seen:
    """What the judges see in one image: the largest mesh face and each judge's view of it."""

    face: Face | None
    descriptors: dict[str, list[float]] = field(default_factory=dict)
    """Judge name → identity vector."""
    dlib68: np.ndarray | None = None


def _box(face: Face) -> tuple[float, float, float, float]:
    return face.box


class Scorer:
    """The judges of a run: the built-in mesh and iris models always; dlib and ArcFace when installed."""

    def __init__(self, *, use_dlib: bool = True, use_arcface: bool = True, analyzer: FaceAnalyzer | None = None):
        self.analyzer = analyzer or FaceAnalyzer(tile_levels=0)  # judges look at the largest face: one pass finds it
        self.iris = IrisLandmarks(open_onnx(asset_path("iris_landmark.onnx")))
        self.dlib = DlibJudge() if use_dlib and dlib_available() else None
        self.arcface = ArcFaceJudge.installed() if use_arcface else None
        if use_dlib and self.dlib is None:
            log.warning("dlib judge off: install the eval extra (pip install 'ghostlive[eval]')")

    @property
    def judges(self) -> list[str]:
        return ["mesh", *(["dlib", "dlib68"] if self.dlib else []), *(["arcface"] if self.arcface else [])]

    def see(self, image: Frame, *, identity: bool = True, turned: bool = True) -> Seen:
        """Find the largest face and let each judge describe it (``turned``: a photo, searched turned when no
        face is upright, as the swap does; False for a video's frames)."""
        faces = self.analyzer.analyze(image, turned=turned)
        face = max(faces, key=lambda f: f.detection.area) if faces else None
        seen = Seen(face)
        if face is None:
            return seen
        if self.dlib is not None:
            d, seen.dlib68 = self.dlib.look(image, _box(face))
            if d is not None and identity:
                seen.descriptors["dlib"] = [float(x) for x in d]
        if self.arcface is not None and identity:
            seen.descriptors["arcface"] = [float(x) for x in self.arcface.describe(image, face)]
        return seen

    def identity(self, source: Seen, target: Seen, output: Seen) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for judge, same in (("dlib", DLIB_SAME), ("arcface", ARCFACE_SAME)):
            o = output.descriptors.get(judge)
            s, t = source.descriptors.get(judge), target.descriptors.get(judge)
            if o is None or s is None or t is None:
                continue
            dist = DlibJudge.distance if judge == "dlib" else ArcFaceJudge.distance
            ds, dt = dist(np.array(o), np.array(s)), dist(np.array(o), np.array(t))
            out[f"id_{judge}_source"], out[f"id_{judge}_target"] = ds, dt
            out[f"verdict_{judge}"] = identity_verdict(ds, dt, same)
        return out

    def image(
        self,
        source_img: Frame,
        source: Seen,
        target_img: Frame,
        target: Seen,
        output_img: Frame,
        *,
        turned: bool = True,
    ) -> tuple[dict[str, Any], Seen]:
        """All per-image metrics of one output (``turned``: see :meth:`see`); returns them and what the judges saw
        in the output."""
        if target.face is None:
            raise NoFaceError("no face in the target")
        output = self.see(output_img, turned=turned)
        metrics: dict[str, Any] = {}
        src = (source_img, source.face.landmarks) if source.face is not None else None
        out_lm = output.face.landmarks if output.face is not None else None
        metrics |= artefacts(target_img, output_img, target.face.landmarks, src, out_lm)
        if output.face is None:
            metrics["output_face"] = "none"
            return metrics, output
        metrics |= self.identity(source, target, output)
        metrics |= geometry.mesh_geometry(target_img, target.face, output_img, output.face, self.iris)
        if target.dlib68 is not None and output.dlib68 is not None:
            metrics |= {f"{k}_dlib68": v for k, v in geometry.dlib_geometry(target.dlib68, output.dlib68).items()}
        return metrics, output

    def video(self, target_frames: list[Frame], output_frames: list[Frame]) -> dict[str, float]:
        """Temporal metrics over consecutive frames of a target video and its swap."""
        tl = [self._landmarks(f) for f in target_frames]
        ol = [self._landmarks(f) for f in output_frames]
        return temporal(target_frames, output_frames, tl, ol)

    def _landmarks(self, frame: Frame) -> np.ndarray | None:
        faces = self.analyzer.analyze(frame, turned=False)  # a video's frames: never searched turned
        return max(faces, key=lambda f: f.detection.area).landmarks if faces else None
