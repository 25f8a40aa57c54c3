"""Identity and landmark judges that do not share a model with ghostlive's swappers.

- ``dlib``: dlib's 128-d face descriptor (ResNet, LFW-trained; same person below distance 0.6) and its 68-point
  shape predictor, from the ``eval`` extra (``dlib-bin`` + ``face_recognition_models``). The model files are
  loaded by path: ``import face_recognition_models`` fails on ``pkg_resources``. The 68-point model was trained
  on iBUG 300-W, whose licence excludes commercial use; numbers it judges are marked ``dlib68``.
- ``arcface``: insightface ArcFace R50 (``w600k_r50.onnx``) when installed; the same family of identity model
  as GHOST and inswapper use, so it is flagged as such for them.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.types import Face, Frame, Points

log = logging.getLogger(__name__)
DLIB_SAME = 0.6
"""dlib's own threshold: descriptors closer than this are the same person."""
ARCFACE_SAME = 0.6
"""Cosine distance (1 − cos) below which ArcFace calls two faces the same person (a common cut-off)."""
DLIB68_LICENCE = "dlib 68-point model: trained on iBUG 300-W, licence excludes commercial use"
SAME_FAMILY = {"ghost-1", "ghost-2", "ghost-3", "inswapper"}
"""Swappers that take their identity from an ArcFace model: the ArcFace judge is not independent of them."""


def dlib_available() -> bool:
    """True when the ``eval`` extra's dlib and face_recognition_models are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("dlib", "face_recognition_models"))


def _model_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the dlib judge needs the eval extra; run: pip install 'ghostlive[eval]'")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@lru_cache(maxsize=1)
def _dlib() -> tuple[Any, Any, Any, Any]:
    if not dlib_available():
        raise ConfigError("the dlib judge needs the eval extra; run: pip install 'ghostlive[eval]'")
    import dlib

    base = _model_dir()
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(base / "shape_predictor_5_face_landmarks.dat")),
        dlib.shape_predictor(str(base / "shape_predictor_68_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(base / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def _box_near(boxes: list[Any], hint: tuple[float, float, float, float] | None) -> Any | None:
    """The dlib box whose centre is nearest the hint box's centre (inside it), or the largest box."""
    if not boxes:
        return None
    if hint is None:
        return max(boxes, key=lambda r: r.area())
    cx, cy = (hint[0] + hint[2]) / 2, (hint[1] + hint[3]) / 2
    inside = [b for b in boxes if hint[0] <= b.center().x <= hint[2] and hint[1] <= b.center().y <= hint[3]]
    return min(inside, key=lambda b: (b.center().x - cx) ** 2 + (b.center().y - cy) ** 2) if inside else None


class DlibJudge:
    """dlib's detector, descriptor and 68 landmarks for one face of an image (the one near a hint box).

    With a hint, dlib searches only a crop around it, magnified so the face is about :data:`FACE_PX` wide
    (small faces are found, large images cost little); dlib still places its own box and points."""

    name = "dlib"
    FACE_PX = 160

    def __init__(self) -> None:
        self.models = _dlib()

    def look(
        self, image: Frame, hint: tuple[float, float, float, float] | None = None
    ) -> tuple[np.ndarray | None, Points | None]:
        """(128-d descriptor, 68 points in image pixels) of the face near ``hint``; (None, None) when dlib finds
        no face there."""
        rgb, box, scale, origin = self._find(image, hint)
        if box is None:
            return None, None
        descriptor = np.array(self.models[3].compute_face_descriptor(rgb, self.models[1](rgb, box)), np.float32)
        parts = self.models[2](rgb, box).parts()
        points = np.array([[p.x, p.y] for p in parts], np.float32) / scale + origin
        return descriptor, points.astype(np.float32)

    def describe(self, image: Frame, hint: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
        """The 128-d descriptor of the face near ``hint`` (None when dlib finds no face)."""
        return self.look(image, hint)[0]

    def _find(self, image: Frame, hint: tuple[float, float, float, float] | None) -> tuple[Any, Any, float, Any]:
        origin, scale = np.zeros(2, np.float32), 1.0
        if hint is not None:
            side = max(hint[2] - hint[0], hint[3] - hint[1], 1.0)
            h, w = image.shape[:2]
            x0, y0 = max(int(hint[0] - side), 0), max(int(hint[1] - side), 0)
            x1, y1 = min(int(hint[2] + side), w), min(int(hint[3] + side), h)
            image, origin = image[y0:y1, x0:x1], np.float32([x0, y0])
            scale = self.FACE_PX / side
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        boxes = list(self.models[0](rgb, 0 if hint is not None else 1))
        if hint is not None:
            hint = tuple((np.float32(hint) - np.tile(origin, 2)) * scale)  # type: ignore[assignment]
        return rgb, _box_near(boxes, hint), scale, origin

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        """Euclidean descriptor distance (< :data:`DLIB_SAME` is the same person)."""
        return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


class ArcFaceJudge:
    """insightface ArcFace R50 on the mesh's five points (only when ``w600k_r50.onnx`` is installed)."""

    name = "arcface"

    def __init__(self, path: str) -> None:
        from ghostlive.engines.ort import open_onnx
        from ghostlive.models.insightface import InsightArcFace

        self.model = InsightArcFace(open_onnx(path))

    @classmethod
    def installed(cls) -> ArcFaceJudge | None:
        """The judge, or None when the model is not installed (with the reason logged)."""
        from ghostlive.hub import ModelStore

        store = ModelStore()
        if not store.has("w600k_r50.onnx"):
            log.info("ArcFace judge off: w600k_r50.onnx is not installed (ghostlive models download w600k)")
            return None
        return cls(str(store.path("w600k_r50.onnx")))

    def describe(self, image: Frame, face: Face) -> np.ndarray:
        """The unit-length 512-d embedding of ``face``."""
        from ghostlive.ops.align import norm_crop

        crop, _ = norm_crop(image, face.keypoints5, 112, "arcface")
        v = self.model.embed(crop)
        return v / max(float(np.linalg.norm(v)), 1e-12)

    @staticmethod
    def distance(a: np.ndarray, b: np.ndarray) -> float:
        """Cosine distance 1 − cos (< :data:`ARCFACE_SAME` is the same person)."""
        return float(1.0 - np.dot(a, b))


def identity_verdict(to_source: float, to_target: float, same: float) -> str:
    """'source' or 'target' (whichever the output is nearer, if it counts as the same person), else 'neither'."""
    best, label = min((to_source, "source"), (to_target, "target"))
    return label if best < same else "neither"


def retrieval_top1(outputs: dict[str, np.ndarray], gallery: dict[str, np.ndarray], truth: dict[str, str]) -> dict:
    """For each output key, whether its nearest gallery identity (Euclidean) is its true source."""
    names = list(gallery)
    g = np.stack([gallery[n] for n in names])
    hits = {}
    for key, v in outputs.items():
        nearest = names[int(np.argmin(np.linalg.norm(g - v, axis=1)))]
        hits[key] = nearest == truth[key]
    return hits
