"""Artefacts a person sees at once, as numbers: pure functions of (target image, output image, face landmarks).

Every function takes BGR uint8 images of the same size and the target face's 468-point mesh (frame pixels);
the output is judged at the target's geometry, so no detector runs here. Each returns one float (NaN when the
measure does not apply, e.g. colour in a grey target when the target is in colour), and :data:`LIMITS` says
when a value is flagged. The README's "Evaluation" section defines each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import cv2
import numpy as np

from ghostlive.errors import InvalidInputError
from ghostlive.ops.regions import boundary_band, face_width, region_mask
from ghostlive.types import Frame, Points

SEAM_FACE_WIDTH = 256.0
"""Seam strength is measured with the face resampled to this width, so it does not depend on resolution."""
GREY_SPREAD = 3.0
"""A target is grey when 99 % of its pixels have channels within this many levels of each other."""
MIN_PIXELS = 12
"""Regions with fewer pixels (closed mouth, tiny eyes) are not judged."""


@dataclass(frozen=True)
class Limit:
    """When a metric is flagged: ``value > limit``."""

    limit: float
    unit: str
    definition: str


LIMITS: dict[str, Limit] = {
    "colour_in_grey": Limit(4.0, "levels", "mean channel spread (max−min of B,G,R) inside the face, grey targets"),
    "eye_colour": Limit(18.0, "ΔE", "Lab distance of the output's eye colour to the nearer of source and target"),
    "mouth_colour": Limit(18.0, "ΔE", "Lab distance of the inner-mouth colour to the nearer of source and target"),
    "clipped": Limit(1.0, "% face", "face pixels clipped to black/white beyond the target's own share"),
    "seam": Limit(12.0, "levels/px", "95th percentile gradient of output−target on the face outline band"),
    "outside_change": Limit(1.0, "%", "pixels well outside the face (> 25 % face width) changed by > 12 levels"),
}


def _same_size(target: Frame, output: Frame) -> None:
    if target.shape != output.shape:
        raise InvalidInputError(f"target {target.shape} and output {output.shape} differ in size")


def _diff(target: Frame, output: Frame) -> np.ndarray:
    _same_size(target, output)
    return output.astype(np.float32) - target.astype(np.float32)


def is_grey(image: Frame) -> bool:
    """True when the image carries no colour (allowing JPEG chroma noise)."""
    channels = cv2.split(image)
    spread = cv2.absdiff(reduce(cv2.max, channels), reduce(cv2.min, channels))
    return float(np.percentile(spread, 99)) <= GREY_SPREAD


def colour_in_grey(target: Frame, output: Frame, landmarks: Points) -> float:
    """Mean channel spread inside the face of the output minus the target's (levels); NaN for colour targets."""
    if not is_grey(target):
        return float("nan")
    face = region_mask(target.shape, landmarks, "face")
    if face.sum() < MIN_PIXELS:
        return float("nan")

    def spread(im: Frame) -> float:
        px = im[face].astype(np.float32)
        return float((px.max(1) - px.min(1)).mean())

    return max(spread(output) - spread(target), 0.0)


def region_lab(image: Frame, landmarks: Points, region: str) -> np.ndarray | None:
    """Median Lab colour (L 0–100, a/b ±127) of ``region``; None when the region is too small."""
    mask = region_mask(image.shape, landmarks, region)
    if mask.sum() < MIN_PIXELS:
        return None
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))  # only the region's pixels are converted
    crop = image[y : y + h, x : x + w].astype(np.float32) / 255.0
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2Lab)
    return np.median(lab[mask[y : y + h, x : x + w]], axis=0)


def colour_far_from_inputs(
    output: Frame, output_landmarks: Points, inputs: Sequence[tuple[Frame, Points]], regions: Sequence[str]
) -> float:
    """For each region, the Lab distance (ΔE76) of the output's colour to the nearest input's colour of the same
    region; the largest over ``regions``. NaN when no region can be judged."""
    worst = float("nan")
    for region in regions:
        out = region_lab(output, output_landmarks, region)
        refs = [c for im, lm in inputs if (c := region_lab(im, lm, region)) is not None]
        if out is None or not refs:
            continue
        d = min(float(np.linalg.norm(out - r)) for r in refs)
        worst = d if np.isnan(worst) else max(worst, d)
    return worst


def eye_colour(output: Frame, output_landmarks: Points, inputs: Sequence[tuple[Frame, Points]]) -> float:
    """Eye colour far from both inputs: :func:`colour_far_from_inputs` over the two eyes (ΔE)."""
    return colour_far_from_inputs(output, output_landmarks, inputs, ("right_eye", "left_eye"))


def mouth_colour(output: Frame, output_landmarks: Points, inputs: Sequence[tuple[Frame, Points]]) -> float:
    """Inner-mouth colour far from both inputs (ΔE); NaN when the mouth is closed."""
    return colour_far_from_inputs(output, output_landmarks, inputs, ("mouth",))


def clipped(target: Frame, output: Frame, landmarks: Points) -> float:
    """Percent of face pixels whose luminance is clipped (≤ 3 or ≥ 252) in the output beyond the target's."""
    face = region_mask(target.shape, landmarks, "face")
    if face.sum() < MIN_PIXELS:
        return float("nan")

    def share(im: Frame) -> float:
        y = cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)[face]
        return float(((y <= 3) | (y >= 252)).mean()) * 100.0

    return max(share(output) - share(target), 0.0)


def seam(target: Frame, output: Frame, landmarks: Points) -> float:
    """Seam strength: the 95th percentile of the gradient magnitude of (output − target), over the three
    channels, on a band of ±6 % of the face width around the face outline, with the face resampled to
    :data:`SEAM_FACE_WIDTH` px (levels per px). A feathered paste changes gradually; a hard edge jumps."""
    _same_size(target, output)
    scale = SEAM_FACE_WIDTH / max(face_width(landmarks), 1.0)
    lm = np.asarray(landmarks, np.float64)
    pad = 0.15 * face_width(landmarks)
    x0, y0 = np.maximum(np.floor(lm.min(0) - pad), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(lm.max(0) + pad), target.shape[1::-1]).astype(int)
    crop = _diff(target[y0:y1, x0:x1], output[y0:y1, x0:x1])  # only the face's surroundings
    size = (max(round(crop.shape[1] * scale), 1), max(round(crop.shape[0] * scale), 1))
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    gx = cv2.Sobel(crop, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(crop, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    magnitude = np.sqrt((gx**2 + gy**2).sum(axis=2))
    band = boundary_band(magnitude.shape, (lm - (x0, y0)) * scale, 0.06)
    if band.sum() < MIN_PIXELS:
        return float("nan")
    return float(np.percentile(magnitude[band], 95))


def outside_change(target: Frame, output: Frame, landmarks: Points) -> float:
    """Percent of the pixels farther than 25 % of the face width outside the face outline that changed by more
    than 12 levels in some channel (a swap should leave the rest of the picture alone).

    "Farther" is the Euclidean distance to the nearest face pixel, from an exact distance transform: linear in
    the image size, where dilating the face by a disc took ~40 s on a 12 MP photo and minutes on 48 MP."""
    _same_size(target, output)
    face = region_mask(target.shape, landmarks, "face")
    distance = cv2.distanceTransform((~face).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = distance > 0.25 * face_width(landmarks)
    if np.count_nonzero(outside) < MIN_PIXELS:
        return float("nan")
    changed = reduce(cv2.max, cv2.split(cv2.absdiff(target, output))) > 12
    return float(np.count_nonzero(changed & outside) / np.count_nonzero(outside)) * 100.0


def artefacts(
    target: Frame,
    output: Frame,
    landmarks: Points,
    source: tuple[Frame, Points] | None = None,
    output_landmarks: Points | None = None,
) -> dict[str, float]:
    """Every artefact metric of one output (keys of :data:`LIMITS`). ``landmarks`` is the target face;
    ``output_landmarks`` (default: the target's) places the output's eyes and mouth; ``source`` (image and its
    face landmarks) is the other input whose eye and mouth colours count as plausible."""
    out_lm = landmarks if output_landmarks is None else output_landmarks
    inputs = [(target, landmarks), *([source] if source is not None else [])]
    return {
        "colour_in_grey": colour_in_grey(target, output, landmarks),
        "eye_colour": eye_colour(output, out_lm, inputs),
        "mouth_colour": mouth_colour(output, out_lm, inputs),
        "clipped": clipped(target, output, landmarks),
        "seam": seam(target, output, landmarks),
        "outside_change": outside_change(target, output, landmarks),
    }


def flagged(values: dict[str, float]) -> dict[str, bool]:
    """Which artefact values exceed their :data:`LIMITS` (NaN is never flagged)."""
    return {k: bool(v > LIMITS[k].limit) for k, v in values.items() if k in LIMITS}
