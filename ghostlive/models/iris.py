"""Iris and eye-contour landmarks (MediaPipe iris model converted to ONNX).

The model sees a 64×64 RGB [0, 1] crop of one eye, 2.3× the corner-to-corner width, corners level; it was
trained on right eyes, so left-eye crops are mirrored before and the points mirrored back after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ghostlive.engines.base import Runner
from ghostlive.models.common import check_io, run_on_roi
from ghostlive.ops.align import transform_points
from ghostlive.types import Affine, Array, Face, Points

INPUT_SIZE = 64
ROI_SCALE = 2.3
EYE_CORNERS = {"right": (33, 133), "left": (362, 263)}
"""Mesh indices of each eye's corners, image-left corner first."""


@dataclass(frozen=True)
class Eye:
    """One eye in frame pixels: the iris (centre first, then 4 points on its rim) and 71 contour points."""

    iris: Points
    contour: Points

    @property
    def centre(self) -> np.ndarray:
        return self.iris[0]

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.iris[1:] - self.iris[0], axis=1).mean())


def eye_roi(landmarks: Points, side: str, mirror: bool) -> Affine:
    """Affine from 64×64 crop pixels to frame pixels for one eye."""
    a, b = (np.asarray(landmarks[i], np.float64) for i in EYE_CORNERS[side])
    centre = (a + b) / 2
    size = ROI_SCALE * float(np.linalg.norm(b - a))
    angle = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
    s = size / INPUT_SIZE
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * s
    if mirror:
        rot = rot @ np.diag([-1.0, 1.0])
    t = centre - rot @ np.array([INPUT_SIZE / 2, INPUT_SIZE / 2])
    return np.hstack([rot, t[:, None]])


class IrisLandmarks:
    """Runs the iris model on both eyes of a face."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 2, "iris (eye contour, iris)")
        self.runner = runner

    def eye(self, image: Array, face: Face, side: str) -> Eye:
        """The iris and contour of the subject's ``side`` ('right' or 'left') eye."""
        crop_to_frame = eye_roi(face.landmarks, side, mirror=side == "left")
        a, b = (o.reshape(-1, 3)[:, :2] for o in run_on_roi(self.runner, image, crop_to_frame, INPUT_SIZE))
        contour, iris = (a, b) if len(a) > len(b) else (b, a)
        return Eye(iris=transform_points(iris, crop_to_frame), contour=transform_points(contour, crop_to_frame))

    def eyes(self, image: Array, face: Face) -> dict[str, Eye]:
        return {side: self.eye(image, face, side) for side in EYE_CORNERS}
