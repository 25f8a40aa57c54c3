"""Blend masks built from face landmarks."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

import cv2
import numpy as np

from ghostlive.ops.filters import gaussian_blur
from ghostlive.ops.raster import polygon_fill
from ghostlive.types import Array, Points, Roi
from ghostlive.xp import array_module, host_fast_path, ndimage_module


def offset_polygon(polygon: Points, distance: float) -> Points:
    """Move each vertex of a star-shaped polygon ``distance`` px toward (negative: away from) its centroid."""
    p = np.asarray(polygon, np.float64)
    c = p.mean(0)
    v = p - c
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (c + v * np.clip(1.0 - distance / np.maximum(n, 1e-6), 0.0, None)).astype(np.float32)


def fill_polygons(shape: tuple[int, int], roi: Roi, polygons: Iterable[Points], xp: ModuleType = np) -> Array:
    """Rasterise ``polygons`` (frame coordinates) into an ``roi``-sized float32 0–1 mask on ``xp`` (OpenCV
    with anti-aliased edges on the host fast path, :func:`ghostlive.ops.raster.polygon_fill` elsewhere)."""
    if not host_fast_path(xp):
        # OpenCV's fills (anti-aliased or not) reach about half a pixel beyond the outline; so does this one
        return polygon_fill(shape, roi, [offset_polygon(p, -0.5) for p in polygons], xp)
    x0, y0 = roi[0], roi[1]
    out = np.zeros(shape, np.float32)
    pts = [np.rint((np.asarray(p, np.float64) - (x0, y0)) * 16).astype(np.int32) for p in polygons]
    if pts:
        cv2.fillPoly(out, pts, 1.0, lineType=cv2.LINE_AA, shift=4)
    return out


def soft_limit(sigma: float, knee: float, cap: float) -> float:
    """``sigma`` itself up to ``knee``, then rising ever more slowly toward ``cap`` (strictly increasing, with
    a smooth bend): a softness setting keeps softening an edge over its whole range but never past ``cap``."""
    if sigma <= knee or cap <= knee:
        return min(sigma, max(cap, knee))
    span = cap - knee
    x = (sigma - knee) / span
    return knee + span * x / (1.0 + x)


FEATHER_KNEE, FEATHER_CAP = 0.1, 1.0 / 6.0
"""An outline's edge σ is itself up to ``FEATHER_KNEE`` and at most ``FEATHER_CAP`` of its half size (half the
smaller side of its bounding box; see :func:`soft_limit`): the 3σ pull-in then leaves at least half of it, so
the mask still reaches 1 in the middle."""


def outline_feather(outline: Points, feather: float) -> float:
    """The edge σ (px) :func:`feathered_mask` uses for ``outline``: ``feather`` limited by its size."""
    half = 0.5 * float(np.ptp(np.asarray(outline, np.float64).reshape(-1, 2), axis=0).min())
    return soft_limit(feather, FEATHER_KNEE * half, FEATHER_CAP * half)


def feathered_mask(
    roi: Roi,
    outline: Points,
    holes: Iterable[Points] = (),
    *,
    feather: float,
    hole_feather: float | None = None,
    like: Array | None = None,
) -> Array:
    """A soft mask over ``roi``: 1 well inside ``outline`` and 0 in ``holes`` (regions kept from the target).

    The outline edge is a Gaussian of σ = ``feather`` px, pulled in by 3σ so the mask is exactly zero on and
    outside ``outline``. Holes get their own edge (σ = ``hole_feather``, default feather/2), pushed out by 3σ
    so the mask is exactly zero inside each hole. Both σ are limited by :func:`outline_feather`, so the
    pull-in never empties the outline (a large feather is a wide soft edge, not an empty mask). Returned on
    the array module of ``like``.
    """
    x0, y0, x1, y1 = roi
    shape = (y1 - y0, x1 - x0)
    xp = array_module(like) if like is not None else np
    limit = outline_feather(outline, feather)
    hole_feather = None if hole_feather is None else min(hole_feather, limit)
    feather = limit
    outer = fill_polygons(shape, roi, [offset_polygon(outline, 3.0 * feather + 1.0)], xp)
    soft = xp.clip(gaussian_blur(outer, feather), 0.0, 1.0)
    # exactly 0 outside the outline, whatever σ: OpenCV's fill is > 0 only where the outline covers part of a
    # pixel; centre sampling (undilated) is a subset of that
    inside = _covered(shape, roi, [outline], xp)
    soft = xp.where(inside > 0, soft, 0.0)
    hole_list = list(holes)
    if hole_list:
        hf = feather / 2.0 if hole_feather is None else hole_feather
        inner = fill_polygons(shape, roi, [offset_polygon(h, -(3.0 * hf + 1.0)) for h in hole_list], xp)
        soft = soft * (1.0 - xp.clip(gaussian_blur(inner, hf), 0.0, 1.0))
        # exactly 0 inside each hole: a blurred 1 is not always exactly 1 (OpenCV 5's blur leaves 1 - 6e-8)
        exact = _covered(shape, roi, hole_list, xp)
        soft = xp.where(exact > 0, 0.0, soft)
    return soft


def _covered(shape: tuple[int, int], roi: Roi, polygons: list[Points], xp: ModuleType) -> Array:
    """Pixels that ``polygons`` cover at least partly (the host's anti-aliased fill), or by centre (elsewhere)."""
    return fill_polygons(shape, roi, polygons) if host_fast_path(xp) else polygon_fill(shape, roi, polygons, xp)


# GHOST's adaptive mask (106-point landmarks) -------------------------------------------------------------
_GHOST_BROWS = ((43, 48, 49, 51, 50), (102, 103, 104, 105, 101))
_GHOST_EYES = ((35, 41, 40, 42, 39), (89, 95, 94, 96, 93))


def ghost_mask_params(swap106: Points, target106: Points) -> tuple[int, tuple[float, float], float]:
    """GHOST's (erode (negative = dilate) px, blur σ (x, y), brow factor) from the jaw contour offset."""
    s, t = np.asarray(swap106, np.float64), np.asarray(target106, np.float64)
    right = float(sum(s[i, 0] - t[i, 0] for i in (1, 2, 13)))
    left = float(sum(t[i, 0] - s[i, 0] for i in (17, 18, 29)))
    offset = max(right, left)
    if offset > 6:
        return 15, (15.0, 10.0), 2.7
    if offset > 3:
        return 10, (10.0, 8.0), 2.0
    if offset < -3:
        return -5, (5.0, 10.0), 0.5
    return 5, (5.0, 5.0), 2.0


def ghost_hull(swap106: Points, factor: float) -> np.ndarray:
    """GHOST's mask outline: the convex hull (int32 points) of the 106 landmarks truncated to whole pixels,
    with the brows pushed away from the upper eyelids by ``factor``·0.5·(brow − eye) and truncated again, as
    GHOST computes it in int32 arrays."""
    pts = np.trunc(np.asarray(swap106, np.float64))
    for brows, eyes in zip(_GHOST_BROWS, _GHOST_EYES, strict=True):
        b, e = list(brows), list(eyes)
        pts[b] = np.trunc(pts[b] + factor * 0.5 * (pts[b] - pts[e]))
    return cv2.convexHull(pts.astype(np.int32))


def ghost_mask(
    swap106: Points, size: int, params: tuple[int, tuple[float, float], float], xp: ModuleType = np
) -> Array:
    """GHOST's paste mask in crop space (float32 0–1 on ``xp``): convex hull of the swapped face's 106
    landmarks with the brows pushed up (:func:`ghost_hull`), eroded or dilated with a square kernel, a border
    of 2σy cleared, Gaussian-blurred. On the host this is GHOST's own sequence on a 0/255 uint8 image
    (OpenCV picks a 3σ kernel radius for 8-bit images, and rounds the blur to whole levels), then /255; on
    a device the same in float with a 3σ radius (within half a level of the host)."""
    erode, (sx, sy), factor = params
    hull = ghost_hull(swap106, factor)
    k = abs(erode)
    border = int(2 * sy)
    if host_fast_path(xp):
        mask = np.zeros((size, size), np.uint8)
        cv2.fillConvexPoly(mask, hull, 255)
        kernel = np.ones((k, k), np.uint8)
        mask = cv2.erode(mask, kernel) if erode > 0 else cv2.dilate(mask, kernel)
        if border > 0:
            mask[:border], mask[-border:], mask[:, :border], mask[:, -border:] = 0, 0, 0, 0
        blurred = cv2.GaussianBlur(mask, (0, 0), sigmaX=float(sx), sigmaY=float(sy))
        return blurred.astype(np.float32) / np.float32(255.0)
    mask = fill_polygons((size, size), (0, 0, size, size), [hull.reshape(-1, 2).astype(np.float32)], xp)
    ndi = ndimage_module(xp)
    morph = ndi.minimum_filter if erode > 0 else ndi.maximum_filter
    mask = morph(mask, size=(k, k), mode="nearest") if k > 1 else mask
    if border > 0:
        mask[:border], mask[-border:], mask[:, :border], mask[:, -border:] = 0, 0, 0, 0
    return xp.clip(gaussian_blur(mask, (sx, sy), truncate=3.0), 0.0, 1.0)
