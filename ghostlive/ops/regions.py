"""Face regions as pixel masks, from 468-point face-mesh landmarks (the judges' shared vocabulary)."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from ghostlive.models.facemesh import topology
from ghostlive.types import Points

BoolMask = NDArray[np.bool_]
REGIONS: tuple[str, ...] = ("face", "right_eye", "left_eye", "mouth")
"""``face`` is inside the mesh outline; eyes are between the lids; ``mouth`` is inside the inner lips."""


def polygon(landmarks: Points, region: str) -> np.ndarray:
    """The ordered outline (N×2, float) of ``region``."""
    topo = topology()
    index = topo.oval if region == "face" else topo.regions[region]
    return np.asarray(landmarks, np.float64)[index]


def fill(shape: tuple[int, ...], outline: np.ndarray) -> BoolMask:
    """Pixels whose centre lies inside ``outline`` (H×W bool)."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.rint(outline * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def region_mask(shape: tuple[int, ...], landmarks: Points, region: str) -> BoolMask:
    """Pixels of ``region`` (see :data:`REGIONS`) in an image of ``shape``."""
    return fill(shape, polygon(landmarks, region))


def face_width(landmarks: Points) -> float:
    """Width of the face outline in pixels (the scale every size-free measure divides by)."""
    oval = polygon(landmarks, "face")
    return float(np.linalg.norm(oval.max(0) - oval.min(0)) / np.sqrt(2.0))


def grow(mask: BoolMask, px: float) -> BoolMask:
    """``mask`` dilated (px > 0) or eroded (px < 0) by a disc of radius ``|px|``."""
    r = round(abs(px))
    if r == 0:
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    op = cv2.dilate if px > 0 else cv2.erode
    return op(mask.astype(np.uint8), disc).astype(bool)


def boundary_band(shape: tuple[int, ...], landmarks: Points, fraction: float) -> BoolMask:
    """Pixels within ``fraction`` × face width of the face outline, on both sides."""
    face = region_mask(shape, landmarks, "face")
    r = fraction * face_width(landmarks)
    return grow(face, r) & ~grow(face, -r)
