"""FaceAnalyzer: detection, dense landmarks, identity descriptors and target-face selection."""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from typing import Literal, Protocol

import cv2
import numpy as np

from ghostlive.engines.ort import open_onnx
from ghostlive.errors import ConfigError
from ghostlive.models.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFace, rows_to_detection, weighted_nms
from ghostlive.models.facemesh import FaceMesh
from ghostlive.models.scrfd import SCRFD
from ghostlive.ops.align import norm_crop
from ghostlive.ops.lbp import lbp_descriptor
from ghostlive.types import Detection, Embedding, Face, Frame, TargetMode
from ghostlive.xp import to_host

DetectorKind = Literal["auto", "full", "short", "both", "scrfd"]
DETECTORS: tuple[str, ...] = ("auto", "full", "short", "both", "scrfd")
"""auto: SCRFD for the neural swappers when it is installed (see :mod:`ghostlive.jobs`), else full;
full/short/both: the built-in BlazeFace models; scrfd: an installed insightface SCRFD model."""


def asset_path(name: str) -> str:
    """Filesystem path of a built-in asset."""
    return str(resources.files("ghostlive.assets").joinpath(name))


class Embedder(Protocol):
    """Turns a face into an identity vector (unit length); similarity is the dot product."""

    name: str
    default_threshold: float

    def embed(self, image: Frame, face: Face) -> Embedding: ...


class LbpEmbedder:
    """The built-in descriptor (see :mod:`ghostlive.ops.lbp`) on a 112 px ArcFace-aligned crop, averaged with
    its mirror image so that a mirrored photo of a person matches as well as the original."""

    name = "lbp"
    default_threshold = 0.88

    def embed(self, image: Frame, face: Face) -> Embedding:
        crop, _ = norm_crop(image, face.keypoints5, 112, "arcface")
        gray = cv2.cvtColor(to_host(crop), cv2.COLOR_BGR2GRAY)
        both = lbp_descriptor(gray) + lbp_descriptor(np.ascontiguousarray(gray[:, ::-1]))
        return (both / max(float(np.linalg.norm(both)), 1e-12)).astype(np.float32)


class FaceAnalyzer:
    """Finds faces with the built-in BlazeFace + face-mesh models (ONNX Runtime)."""

    def __init__(
        self,
        detector: DetectorKind = "full",
        *,
        min_score: float = 0.5,
        min_presence: float = 0.5,
        refine: int = 1,
        tile_levels: int = 2,
        threads: int = 0,
        scrfd: SCRFD | None = None,
    ) -> None:
        if detector not in DETECTORS:
            raise ConfigError(f"detector must be one of {', '.join(DETECTORS)}, got {detector!r}")
        if detector == "scrfd" and scrfd is None:
            raise ConfigError("the scrfd detector needs an installed SCRFD model; run: ghostlive models download scrfd")
        self.scrfd = scrfd if detector == "scrfd" else None
        """SCRFD, when it is the detector: faces then carry its five keypoints (what GHOST/inswapper align on)."""
        self.detectors: list[BlazeFace] = []
        if detector in ("auto", "full", "both"):
            runner = open_onnx(asset_path("blazeface_full_range.onnx"), threads=threads)
            self.detectors.append(BlazeFace(runner, FULL_RANGE, min_score=min_score))
        if detector in ("short", "both"):
            runner = open_onnx(asset_path("blazeface_short_range.onnx"), threads=threads)
            self.detectors.append(BlazeFace(runner, SHORT_RANGE, min_score=min_score))
        self.mesh = FaceMesh(open_onnx(asset_path("facemesh_468.onnx"), threads=threads))
        self.min_presence = min_presence
        self.refine = refine
        self.tile_levels = tile_levels

    def detect(self, image: Frame) -> list[Detection]:
        """Face boxes and keypoints, merged across detectors and tiles (SCRFD: one 640 px pass, as insightface
        runs it), left to right."""
        if self.scrfd is not None:
            return sorted(self.scrfd.detect(image), key=lambda d: (d.box[0] + d.box[2], d.box[1] + d.box[3]))
        found = [d.detect_rows(image) for d in self.detectors]
        for x0, y0, side in tiles(image.shape[:2], self.tile_levels):
            for d in self.detectors:
                rows, scores = d.detect_rows(image[y0 : y0 + side, x0 : x0 + side])
                keep = _inside_tile(rows, side, x0, y0, image.shape[:2])
                found.append((rows[keep] + np.tile([x0, y0], 8), scores[keep]))
        rows = np.concatenate([r for r, _ in found])
        scores = np.concatenate([s for _, s in found])
        dets = [rows_to_detection(r, s) for r, s in weighted_nms(rows, scores)]
        return sorted(dets, key=lambda d: (d.box[0] + d.box[2], d.box[1] + d.box[3]))

    def landmarks(self, image: Frame, detections: list[Detection]) -> list[Face]:
        """Dense landmarks for each detection; detections the mesh rejects are dropped."""
        faces = [self.mesh.landmarks(image, d, refine=self.refine) for d in detections]
        faces = [replace(f, kps5=f.detection.keypoints) if len(f.detection.keypoints) == 5 else f for f in faces]
        return [f for f in faces if f.presence >= self.min_presence]

    def analyze(self, image: Frame) -> list[Face]:
        """All faces in ``image`` with landmarks, ordered left to right."""
        return self.landmarks(image, self.detect(image))


def tiles(
    shape: tuple[int, int], levels: int, min_side: int = 384, overlap: float = 0.25
) -> list[tuple[int, int, int]]:
    """Square tiles (x0, y0, side) for finding faces too small for one whole-frame pass.

    Level 1 uses tiles as large as the shorter image side, each next level halves them; a level is used only
    when it magnifies the frame at least 1.5× and its tiles are at least ``min_side`` px.
    Neighbouring tiles overlap by ``overlap`` of their side.
    """
    h, w = shape
    out: list[tuple[int, int, int]] = []
    for level in range(levels):
        side = min(h, w) >> level
        if side < min_side:
            break
        if max(h, w) / side < 1.5:
            continue
        out += [(x, y, side) for y in _starts(h, side, overlap) for x in _starts(w, side, overlap)]
    return out


def _starts(length: int, side: int, overlap: float) -> list[int]:
    """Evenly spread tile starts covering ``length`` with tiles of ``side``, overlapping at least ``overlap``."""
    if length <= side:
        return [0]
    n = int(np.ceil((length - side) / (side * (1.0 - overlap)))) + 1
    return [round(i * (length - side) / (n - 1)) for i in range(n)]


def _inside_tile(rows: np.ndarray, side: int, x0: int, y0: int, shape: tuple[int, int]) -> np.ndarray:
    """Rows whose box does not touch a tile edge that lies inside the image (a face cut by the tile)."""
    h, w = shape
    margin = 2.0
    ok = np.ones(len(rows), bool)
    if x0 > 0:
        ok &= rows[:, 0] > margin
    if y0 > 0:
        ok &= rows[:, 1] > margin
    if x0 + side < w:
        ok &= rows[:, 2] < side - margin
    if y0 + side < h:
        ok &= rows[:, 3] < side - margin
    return ok


@dataclass(frozen=True)
class TargetSelection:
    """Which faces of a frame to swap."""

    mode: TargetMode = "all"
    index: int = 0
    references: tuple[Embedding, ...] = ()
    threshold: float | None = None
    """Minimum similarity for ``reference`` mode; None means the embedder's default."""


@dataclass(frozen=True)
class Selected:
    """The chosen faces and, in reference mode, the best similarity seen per reference."""

    faces: list[Face]
    best_similarity: tuple[float, ...] = ()


def select_faces(
    image: Frame, faces: list[Face], selection: TargetSelection, embedder: Embedder | None = None
) -> Selected:
    """Apply ``selection`` to ``faces`` (ordered left to right)."""
    if not faces:
        return Selected([])
    if selection.mode == "all":
        return Selected(list(faces))
    if selection.mode == "largest":
        return Selected([max(faces, key=lambda f: f.detection.area)])
    if selection.mode == "first":  # one picture: its best-detected face (video: see StreamSwapper)
        return Selected([max(faces, key=lambda f: f.score)])
    if selection.mode == "index":
        return Selected([faces[selection.index]] if 0 <= selection.index < len(faces) else [])
    if embedder is None or not selection.references:
        raise ConfigError("reference selection needs at least one reference face")
    threshold = embedder.default_threshold if selection.threshold is None else selection.threshold
    embeddings = np.stack([embedder.embed(image, f) for f in faces])
    chosen: list[Face] = []
    best: list[float] = []
    for ref in selection.references:
        sims = embeddings @ ref
        i = int(np.argmax(sims))
        best.append(float(sims[i]))
        if sims[i] >= threshold and all(faces[i] is not c for c in chosen):
            chosen.append(faces[i])
    return Selected(chosen, tuple(best))
