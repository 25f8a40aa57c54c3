"""Mask providers that need no model: face-mesh regions kept from the target, and a padded face box.

Every provider is called as ``provider(frame, face, roi)`` and returns an roi-sized float32 mask in [0, 1]
(1: the swap may show, 0: the target stays), on the frame's array module.
"""

from __future__ import annotations

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.models.facemesh import topology
from ghostlive.ops.filters import gaussian_blur
from ghostlive.ops.mask import feathered_mask, fill_polygons, offset_polygon, soft_limit
from ghostlive.ops.regions import face_width
from ghostlive.types import Array, Face, Roi
from ghostlive.xp import array_module

REGION_LOOPS: dict[str, tuple[str, ...]] = {
    "mouth": ("mouth",),
    "lips": ("lips",),
    "eyes": ("right_eye", "left_eye"),
}
"""Face-mesh regions a ``--mask`` name keeps from the target: ``mouth`` is inside the inner lips, ``lips``
inside the outer lips (mouth included), ``eyes`` between the lids."""
MESH_MASKS: tuple[str, ...] = tuple(REGION_LOOPS)
DEFAULT_FEATHER: dict[str, float] = {
    "mouth": 0.02,
    "lips": 0.015,
    "eyes": 0.01,
    "box": 0.05,
    "occlusion": 0.02,
    "parser": 0.01,
}
"""σ of each mask's soft edge: a fraction of the face width (mesh regions, box) or of the model crop
(occlusion, parser)."""


REGION_KNEE, REGION_CAP = 0.2, 0.4
"""A region's edge σ is the asked one up to ``REGION_KNEE`` of the region's half length (half the longer side
of its bounding box; an eye's width) and never above ``REGION_CAP`` of it (see
:func:`ghostlive.ops.mask.soft_limit`): the soft edge reaches about five σ, so it stays around the region
(within about two of its half lengths) whatever the setting."""


def region_feather(loops: list[np.ndarray], feather: float) -> float:
    """The edge σ (px) :func:`region_cover` uses for a region made of ``loops``: ``feather`` limited by its size."""
    half = 0.5 * max(float(np.ptp(loop, axis=0).max()) for loop in loops)
    return soft_limit(feather, REGION_KNEE * half, REGION_CAP * half)


def region_cover(face: Face, region: str, roi: Roi, feather: float, like: Array | None = None) -> Array:
    """How much of each roi pixel belongs to ``region`` (a :data:`REGION_LOOPS` name): 1 on and inside its
    outline, falling off outside it as a Gaussian edge of σ = ``feather`` px (0: the hard outline), limited by
    :func:`region_feather` so the edge stays around the region."""
    x0, y0, x1, y1 = roi
    shape = (y1 - y0, x1 - x0)
    xp = array_module(like) if like is not None else np
    topo = topology()
    loops = [np.asarray(face.landmarks, np.float32)[topo.regions[r]] for r in REGION_LOOPS[region]]
    exact = fill_polygons(shape, roi, loops, xp)
    if feather <= 0:
        return exact
    feather = region_feather(loops, feather)
    grown = fill_polygons(shape, roi, [offset_polygon(p, -2.0 * feather) for p in loops], xp)
    return xp.maximum(xp.clip(gaussian_blur(grown, feather), 0.0, 1.0), exact)


class RegionMask:
    """Keeps a face-mesh region (mouth, lips, eyes) of the target: 0 over it, 1 away from it."""

    def __init__(self, region: str, feather: float | None = None) -> None:
        if region not in REGION_LOOPS:
            raise ConfigError(f"unknown mesh region {region!r}; choose from {', '.join(REGION_LOOPS)}")
        self.name = region
        self.feather = DEFAULT_FEATHER[region] if feather is None else feather

    def __call__(self, frame: Array, face: Face, roi: Roi) -> Array:
        sigma = self.feather * face_width(face.landmarks)
        return 1.0 - region_cover(face, self.name, roi, sigma, like=frame)


class BoxMask:
    """1 well inside the face box grown by ``padding`` (fractions of its width and height: top, right,
    bottom, left; negative cuts in), falling to exactly 0 at its edge over a soft band."""

    name = "box"

    def __init__(self, padding: tuple[float, float, float, float] = (0.1, 0.1, 0.1, 0.1), feather: float | None = None):
        self.padding = padding
        self.feather = DEFAULT_FEATHER["box"] if feather is None else feather

    def outline(self, face: Face) -> np.ndarray:
        """The padded box as a 4-point polygon (frame coordinates)."""
        x0, y0, x1, y1 = face.box
        w, h = x1 - x0, y1 - y0
        top, right, bottom, left = self.padding
        x0, x1, y0, y1 = x0 - left * w, x1 + right * w, y0 - top * h, y1 + bottom * h
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)

    def __call__(self, frame: Array, face: Face, roi: Roi) -> Array:
        sigma = max(self.feather * face_width(face.landmarks), 0.5)
        return feathered_mask(roi, self.outline(face), feather=sigma, like=frame)
