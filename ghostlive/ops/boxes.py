"""Face boxes (x1, y1, x2, y2) in pixels: sizes, shared areas, distances, as the face tracker compares them."""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]

OVERLAP = 0.3
"""Two boxes sharing more than this share of the smaller one sit on one face (:func:`overlapping`)."""


def face_box(landmarks: np.ndarray) -> Box:
    """The box around a face's landmarks."""
    lo, hi = landmarks.min(0), landmarks.max(0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def face_size(box: Box) -> float:
    """The larger side of a box (at least 1)."""
    return max(box[2] - box[0], box[3] - box[1], 1.0)


def area(box: Box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def shared(a: Box, b: Box) -> float:
    """The area two boxes share."""
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)


def grown(box: Box, share: float) -> Box:
    """``box`` grown by ``share`` of its size on each side."""
    mx, my = share * (box[2] - box[0]), share * (box[3] - box[1])
    return box[0] - mx, box[1] - my, box[2] + mx, box[3] + my


def distance(a: Box, b: Box) -> float:
    """Between the centres of two boxes."""
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))


def overlapping(a: Box, b: Box) -> bool:
    """Whether two face boxes sit on one face: they share more than :data:`OVERLAP` of the smaller box (which
    includes every pair with an IoU of 0.5 or more)."""
    return shared(a, b) > OVERLAP * max(min(area(a), area(b)), 1.0)
