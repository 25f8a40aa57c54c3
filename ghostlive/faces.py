"""FaceAnalyzer: detection, dense landmarks, identity descriptors and target-face selection."""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from dataclasses import replace
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
from ghostlive.registry import Registry
from ghostlive.selection import Selected, StreamMemory, TargetSelection, select_faces
from ghostlive.turned import with_turned
from ghostlive.types import Detection, Embedding, Face, Frame
from ghostlive.xp import to_host

log = logging.getLogger(__name__)
__all__ = ["Selected", "StreamMemory", "TargetSelection", "select_faces"]  # face selection: ghostlive.selection
DetectorKind = Literal["auto", "blazeface", "full", "short", "both", "scrfd"]


def x86_asset(name: str, machine: str | None = None) -> str:
    """The built-in model file to open for ``name`` on this CPU (``machine``: another's, for tests): on x86-64 its
    ``_x86`` twin where one ships. ONNX Runtime runs convolutions there in a blocked (NCHWc) layout that PRelu,
    Min, Mul and Pad break with a layout reorder each way; the twins express those as convolutions (see
    :mod:`ghostlive.export.prelu` and :mod:`ghostlive.export.channel_pad`): face mesh 1.06 → 0.81 ms, BlazeFace
    full range 2.17 → 1.87 ms, landmarks the same to 0.01 px. Elsewhere the plain files (without the blocked layout
    the extra convolutions cost more than they save)."""
    twin = name.removesuffix(".onnx") + "_x86.onnx"
    x86 = (machine or platform.machine()).lower() in {"x86_64", "amd64"}
    return twin if x86 and resources.files("ghostlive.assets").joinpath(twin).is_file() else name


def _blazeface(*models: tuple[str, object]) -> Callable[[int, float], list[BlazeFace]]:
    def make(threads: int, min_score: float) -> list[BlazeFace]:
        runners = [(open_onnx(asset_path(x86_asset(f)), threads=threads), cfg) for f, cfg in models]
        return [BlazeFace(runner, cfg, min_score=min_score) for runner, cfg in runners]

    return make


_FULL = ("blazeface_full_range.onnx", FULL_RANGE)
_SHORT = ("blazeface_short_range.onnx", SHORT_RANGE)
DETECTOR_REGISTRY: Registry[list[BlazeFace]] = Registry("detector")
"""Face detectors by name: ``factory(threads, min_score)`` gives the BlazeFace passes (none for scrfd, which
:func:`ghostlive.jobs.make_analyzer` opens from the model store and hands to FaceAnalyzer)."""
DETECTOR_REGISTRY.register("blazeface", _blazeface(_FULL), help="built-in BlazeFace full range (same as full)")
DETECTOR_REGISTRY.register("full", _blazeface(_FULL), help="built-in BlazeFace full range")
DETECTOR_REGISTRY.register("short", _blazeface(_SHORT), help="built-in BlazeFace short range (faces near the camera)")
DETECTOR_REGISTRY.register("both", _blazeface(_FULL, _SHORT), help="both BlazeFace models, merged")
DETECTOR_REGISTRY.register("scrfd", lambda threads, min_score: [], help="installed insightface SCRFD (scrfd, det_10g)")
DETECTORS: tuple[str, ...] = ("auto", *DETECTOR_REGISTRY.names())
LANDMARKERS: Registry[FaceMesh] = Registry("landmarker")
"""Dense landmark models by name: ``factory(threads)``; every stage reads the 468-point mesh topology."""
LANDMARKERS.register(
    "facemesh",
    lambda threads: FaceMesh(open_onnx(asset_path(x86_asset("facemesh_468.onnx")), threads=threads)),
    help="built-in MediaPipe face mesh, 468 points",
)
"""auto: SCRFD when it is installed (see :func:`ghostlive.jobs.make_analyzer`), else full; blazeface/full/short/
both: the built-in BlazeFace models; scrfd: an installed insightface SCRFD model."""


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
    """Finds faces with the built-in BlazeFace + face-mesh models (ONNX Runtime).

    Small faces: ``tile_levels=0`` gives one whole-frame detector pass; otherwise :meth:`detect` adds tiles
    chosen from the image size (see :func:`tiles`) to find faces down to ``min_face`` px.
    """

    def __init__(
        self,
        detector: DetectorKind = "full",
        *,
        min_score: float = 0.5,
        min_presence: float = 0.5,
        refine: int = 1,
        tile_levels: int = 1,
        min_face: int = 20,
        threads: int = 0,
        scrfd: SCRFD | None = None,
        landmarker: str = "facemesh",
    ) -> None:
        if detector not in DETECTORS:
            raise ConfigError(f"unknown detector {detector!r}; choose from {', '.join(DETECTORS)}")
        if detector == "scrfd" and scrfd is None:
            raise ConfigError("the scrfd detector needs an installed SCRFD model; run: ghostlive models download scrfd")
        self.scrfd = scrfd if detector == "scrfd" else None
        """SCRFD, when it is the detector: faces then carry its five keypoints (what GHOST/inswapper align on)."""
        self.detectors = DETECTOR_REGISTRY.create("full" if detector == "auto" else detector, threads, min_score)
        self.mesh = LANDMARKERS.create(landmarker, threads)
        self.min_presence = min_presence
        self.refine = refine
        self.min_face = min_face if tile_levels else 0
        """Smallest face (px) that tiled detection looks for; 0: one whole-frame pass only."""

    def detect(self, image: Frame, *, tiled: bool = True) -> list[Detection]:
        """Face boxes and keypoints, merged across detectors and tiles (unless ``tiled`` is False: one
        whole-frame pass, which finds faces down to about 1/10 of the longer image side), left to right."""
        if self.scrfd is not None:
            return sorted(self.scrfd.detect(image), key=lambda d: (d.box[0] + d.box[2], d.box[1] + d.box[3]))
        found = [d.detect_rows(image) for d in self.detectors]
        input_size = min(d.config.input_size for d in self.detectors)
        for x0, y0, side in tiles(image.shape[:2], self.min_face if tiled else 0, input_size=input_size):
            for d in self.detectors:
                rows, scores = d.detect_rows(image[y0 : y0 + side, x0 : x0 + side])
                keep = _inside_tile(rows, side, x0, y0, image.shape[:2])
                keep &= rows[:, 2] - rows[:, 0] <= TILE_FACE_MAX * side  # larger faces: coarser passes' job
                found.append((rows[keep] + np.tile([x0, y0], 8), scores[keep]))
        rows = np.concatenate([r for r, _ in found])
        scores = np.concatenate([s for _, s in found])
        dets = [rows_to_detection(r, s) for r, s in weighted_nms(rows, scores)]
        return sorted(dets, key=lambda d: (d.box[0] + d.box[2], d.box[1] + d.box[3]))

    def landmarks(self, image: Frame, detections: list[Detection], *, any_roll: bool = True) -> list[Face]:
        """Dense landmarks for each detection; detections the mesh rejects are dropped. ``any_roll``: a photo's
        faces, fitted at any roll (see :meth:`ghostlive.models.facemesh.FaceMesh.landmarks`); False for the
        frames of a video or camera."""
        faces = [self.mesh.landmarks(image, d, refine=self.refine, any_roll=any_roll) for d in detections]
        faces = [replace(f, kps5=f.detection.keypoints) if len(f.detection.keypoints) == 5 else f for f in faces]
        return [f for f in faces if f.presence >= self.min_presence]

    def analyze(self, image: Frame, *, turned: bool = True) -> list[Face]:
        """All faces in ``image`` with landmarks, ordered left to right; ``turned`` (a photo): also those found
        with the image turned when no face is upright (see :func:`ghostlive.turned.with_turned`)."""
        faces = self.landmarks(image, self.detect(image))
        return with_turned(self, image, faces) if turned else faces


DETECTABLE = 20 / 192
"""Smallest face BlazeFace finds reliably, as a fraction of its input side (20 px of 192: score > 0.9 on the
sample portraits; 14-16 px is the edge)."""
TILE_FACE_MAX = 0.35
"""Tiles report only faces up to this fraction of their side (every face that size lies whole in one tile of
the level; larger ones are found, unmagnified, by the coarser levels and the whole-frame pass)."""
MAX_TILES = 256
"""Most tiles (one detector pass each) one detection may use; finer levels beyond it are left out."""


def tiles(
    shape: tuple[int, int],
    min_face: int,
    *,
    input_size: int = 192,
    max_tiles: int = MAX_TILES,
    overlap: float = 0.25,
) -> list[tuple[int, int, int]]:
    """Square tiles (x0, y0, side) so that faces down to ``min_face`` px are found, chosen from the image size.

    Levels start with tiles as large as the shorter side and halve down to the side at which a ``min_face`` face
    fills ``DETECTABLE`` of the detector's input (never below the input size: smaller tiles would only be
    enlarged). A level is used only when it magnifies the frame at least 1.5× over the whole-frame pass.
    Neighbouring tiles overlap by ``overlap`` of their side, so every face up to that fraction of a level's side
    lies wholly inside one of its tiles. At most ``max_tiles`` tiles: the finest levels go first.
    """
    if min_face <= 0:
        return []
    h, w = shape
    finest = max(min_face / DETECTABLE, float(input_size))
    out: list[tuple[int, int, int]] = []
    side = coarser = min(h, w)
    while True:
        if max(h, w) / side >= 1.5:
            level, full = _level(shape, side, overlap), side
            while len(out) + len(level) > max_tiles and side * 1.3 < coarser:  # over budget: the finest that fits
                side = int(side * 1.15) + 1
                level = _level(shape, side, overlap)
            if len(out) + len(level) > max_tiles:
                break
            out += level
            if side != full:
                break
        if side <= finest:
            break
        coarser, side = side, max(side // 2, int(np.ceil(finest)))
    if out and out[-1][2] > finest:
        log.debug("tiles for %d×%d: faces from %.0f px (budget %d tiles)", w, h, out[-1][2] * DETECTABLE, max_tiles)
    return out


def _level(shape: tuple[int, int], side: int, overlap: float) -> list[tuple[int, int, int]]:
    h, w = shape
    return [(x, y, side) for y in _starts(h, side, overlap) for x in _starts(w, side, overlap)]


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
