"""An identity judge independent of ghostlive: dlib's 128-d face descriptor (dlib-bin + face_recognition_models).

The model files are loaded by path (``import face_recognition_models`` itself fails on ``pkg_resources``).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np


@lru_cache(maxsize=1)
def _models() -> tuple[object, object, object]:
    import dlib

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (pip install face_recognition_models)")
    base = Path(next(iter(spec.submodule_search_locations))) / "models"
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(base / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(base / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def descriptor(bgr: np.ndarray) -> np.ndarray:
    """dlib's descriptor of the largest face dlib itself finds in ``bgr``."""
    detector, predictor, recogniser = _models()
    rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    boxes = detector(rgb, 1)  # type: ignore[operator]
    if not boxes:
        raise AssertionError("dlib finds no face")
    box = max(boxes, key=lambda r: r.area())
    return np.array(recogniser.compute_face_descriptor(rgb, predictor(rgb, box)))  # type: ignore[attr-defined]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """dlib's identity distance (< 0.6 is dlib's 'same person')."""
    return float(np.linalg.norm(descriptor(a) - descriptor(b)))
