"""Blend masks built from face landmarks."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from ghostlive.ops.filters import gaussian_blur
from ghostlive.ops.mesh import Roi
from ghostlive.types import Array, Points
from ghostlive.xp import array_module, to_device


def offset_polygon(polygon: Points, distance: float) -> Points:
    """Move each vertex of a star-shaped polygon ``distance`` px toward (negative: away from) its centroid."""
    p = np.asarray(polygon, np.float64)
    c = p.mean(0)
    v = p - c
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return (c + v * np.clip(1.0 - distance / np.maximum(n, 1e-6), 0.0, None)).astype(np.float32)


def fill_polygons(
    shape: tuple[int, int], roi: Roi, polygons: Iterable[Points], value: float = 1.0, base: np.ndarray | None = None
) -> np.ndarray:
    """Rasterise ``polygons`` (frame coordinates) into an ``roi``-sized float32 host mask."""
    x0, y0 = roi[0], roi[1]
    out = np.zeros(shape, np.float32) if base is None else base
    pts = [np.rint((np.asarray(p, np.float64) - (x0, y0)) * 16).astype(np.int32) for p in polygons]
    if pts:
        cv2.fillPoly(out, pts, float(value), lineType=cv2.LINE_AA, shift=4)
    return out


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
    so the mask is exactly zero inside each hole. Returned on the array module of ``like``.
    """
    x0, y0, x1, y1 = roi
    shape = (y1 - y0, x1 - x0)
    xp = array_module(like) if like is not None else np
    outer = fill_polygons(shape, roi, [offset_polygon(outline, 3.0 * feather + 1.0)])
    soft = xp.clip(gaussian_blur(to_device(outer, xp), feather), 0.0, 1.0)
    hole_list = list(holes)
    if hole_list:
        hf = feather / 2.0 if hole_feather is None else hole_feather
        inner = fill_polygons(shape, roi, [offset_polygon(h, -(3.0 * hf + 1.0)) for h in hole_list])
        soft = soft * (1.0 - xp.clip(gaussian_blur(to_device(inner, xp), hf), 0.0, 1.0))
    return soft
