"""What a source face will give, said before it is swapped: a face turned far to the side, a small one, and a
photo too dark, overexposed, blurred or noisy over the face.

Each still swaps, so these are warnings, not errors: a turned face's hidden side is filled from its other side
or the target's own skin (``ghostlive.ops.occlusion``), and a small face has little detail to give a larger
target face (neural swappers enlarge it to their crop first). The photo's own faults carry over: the colour
transfer relights the face to the target's lighting, which lifts a dark face's noise and cannot bring back the
texture of clipped highlights, and blur and grain are pasted as they are.

The photo measures are taken over the face (:func:`face_quality`), so a dark background or a sharp one does not
count, and were calibrated on the repository's photos (the bundled samples, messi5.jpg's faces, the frames of
megamind_3s.mp4, none of which is warned about) against those photos darkened to 12 %, overexposed, blurred
(Gaussian σ = 4 px) and with noise (σ = 25 levels), all of which are.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ghostlive.ops.occlusion import head_turn
from ghostlive.ops.regions import face_width, grow, region_mask
from ghostlive.types import Face, Frame

TURNED = 0.45
"""A source face turned further than this (:func:`ghostlive.ops.occlusion.head_turn`, about 35° of yaw) shows
one side of the face mostly hidden from the camera."""
SMALL_PX = 64
"""A source face shorter than this (pixels from the top of the forehead to the chin, which a turn does not
shorten) has little detail to give."""
DARK = 40.0
"""A skin luma median (0–255) under this is a very dark face (the repository's photos: 59 or more; at 12 %
exposure: about 20)."""
CLIPPED = 0.5
"""A share of skin pixels with a channel at 250 or more above this is an overexposed face (Grace Hopper's lit
forehead: 0.12; overexposed: 0.96 or more)."""
SHARPNESS = 0.04
"""A face whose Laplacian variance over its luma variance (see :func:`face_quality`) is under this is heavily
blurred (the repository's photos: 0.10 or more; blurred with σ = 4 px: 0.02 or less)."""
NOISE = 10.0
"""A noise level (σ in levels, see :func:`face_quality`) over this is a very noisy face (the repository's photos:
6 or less; noise of σ = 25: about 16)."""
SHARPNESS_WIDTH = 96.0
"""Sharpness is measured with the face scaled down to this width (never up), so it does not depend on the photo's
size."""
_FOREHEAD, _CHIN = 10, 152
_NOISE_KERNEL = np.float32([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])


@dataclass(frozen=True)
class FaceQuality:
    """How a source photo shows its face (see :func:`face_quality`)."""

    brightness: float
    """Median luma (0–255) of the skin."""
    clipped: float
    """Share of skin pixels with a channel at 250 or more."""
    sharpness: float
    """Variance of the Laplacian of the face's luma over the variance of that luma, at a face width of
    :data:`SHARPNESS_WIDTH` px: size- and contrast-free."""
    noise: float
    """Noise σ in luma levels over the skin (Immerkær's estimator: the mean absolute response of a kernel that
    cancels smooth shading)."""


def face_quality(image: Frame, face: Face) -> FaceQuality:
    """Brightness, clipping, sharpness and noise of ``face`` in ``image`` (BGR or grey), over the face only: the
    skin for brightness, clipping and noise (inside the outline, away from the eyes and mouth), the whole face
    (features included) for sharpness."""
    width = face_width(face.landmarks)
    lo = np.maximum(np.floor(face.landmarks.min(0) - 0.1 * width), 0).astype(int)
    hi = np.ceil(face.landmarks.max(0) + 0.1 * width).astype(int)
    crop = image[lo[1] : hi[1], lo[0] : hi[0]]
    crop = crop if crop.ndim == 3 else crop[..., None]
    points = face.landmarks - lo
    outline = region_mask(crop.shape, points, "face")
    skin = grow(outline, -0.06 * width)
    for feature in ("right_eye", "left_eye", "mouth"):
        skin &= ~grow(region_mask(crop.shape, points, feature), 0.08 * width)
    if not skin.any():
        skin = outline
    grey = (cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.shape[2] == 3 else crop[..., 0]).astype(np.float32)
    inner = grow(skin, -2.0)
    texture = np.abs(cv2.filter2D(grey, -1, _NOISE_KERNEL))[inner if inner.any() else skin]
    scale = min(1.0, SHARPNESS_WIDTH / max(width, 1.0))
    small, inside = grey, outline
    if scale < 1.0:
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        inside = cv2.resize(outline.astype(np.uint8), small.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    inside = grow(inside, -2.0) if grow(inside, -2.0).any() else inside
    lap = cv2.Laplacian(small, cv2.CV_32F)[inside]
    return FaceQuality(
        brightness=float(np.median(grey[skin])),
        clipped=float((crop.max(-1)[skin] >= 250).mean()),
        sharpness=float(lap.var() / max(float(small[inside].var()), 1.0)),
        noise=float(np.sqrt(np.pi / 2.0) / 6.0 * texture.mean()),
    )


def source_advice(face: Face, image: Frame | None = None) -> list[str]:
    """One line for each reason why ``face`` will swap worse than a frontal, close-up, well-exposed and sharp
    source face would; the photo's own faults are judged when its ``image`` is given."""
    notes = []
    if abs(head_turn(face.landmarks)) > TURNED:
        notes.append(
            "the face is turned far to the side: the side hidden from the camera is filled in from its other side "
            "or from the target's own skin; a frontal photo swaps better"
        )
    height = float(np.linalg.norm(face.landmarks[_CHIN] - face.landmarks[_FOREHEAD]))
    if height < SMALL_PX:
        notes.append(
            f"the face is only {height:.0f} px tall: the swap has little detail where the target's face is larger; "
            "a closer or larger photo swaps better"
        )
    if image is not None:
        notes += _photo_advice(face_quality(image, face), small=height < SMALL_PX)
    return notes


def _photo_advice(q: FaceQuality, *, small: bool) -> list[str]:
    """``small``: a face under :data:`SMALL_PX`, whose own fine detail (pores, lashes, a few pixels each) reads as
    grain: its noise is not judged (the small-face note says what matters)."""
    notes = []
    if q.brightness < DARK:
        notes.append(
            f"the face is very dark (skin brightness {q.brightness:.0f} of 255): brightening it to the target's "
            "light brings out its noise and may leave it too dark; use a brighter photo"
        )
    if q.clipped > CLIPPED:
        notes.append(
            f"the face is overexposed ({100 * q.clipped:.0f} % of its skin is pure white): its colour and texture "
            "are lost there and cannot be matched to the target; use a photo with less light or exposure"
        )
    if q.sharpness < SHARPNESS:
        notes.append("the face is heavily blurred: the swapped face will be as blurred; use a sharper photo")
    if q.noise > NOISE and not small:
        notes.append(
            f"the face is very noisy (grain of about {q.noise:.0f} levels): the grain is pasted onto the target; "
            "use a cleaner photo (better light, a lower ISO)"
        )
    return notes
