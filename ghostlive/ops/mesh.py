"""Piecewise-affine warping over a triangle mesh."""

from __future__ import annotations

import cv2
import numpy as np

from ghostlive.ops.filters import remap
from ghostlive.ops.raster import triangle_ids
from ghostlive.types import Array, Points, Roi
from ghostlive.xp import array_module, host_fast_path, to_device


def points_roi(points: Points, frame_shape: tuple[int, ...], margin: int = 2) -> Roi | None:
    """The integer bounding box of ``points`` plus ``margin``, clipped to the frame; None when empty."""
    h, w = frame_shape[:2]
    lo = np.floor(np.asarray(points).min(0)).astype(int) - margin
    hi = np.ceil(np.asarray(points).max(0)).astype(int) + margin + 1
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), w), min(int(hi[1]), h)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def triangle_index_map(
    points: Points, triangles: np.ndarray, roi: Roi, depth: np.ndarray | None = None, xp: object = np
) -> Array:
    """For every pixel of ``roi``, the index of the triangle covering it (−1 where none), on ``xp``.

    With ``depth`` (per vertex, larger = farther), far triangles are drawn first so that where the mesh folds
    over itself the nearest surface wins. The host fast path draws with OpenCV; elsewhere
    :func:`ghostlive.ops.raster.triangle_ids` does the same as array maths.
    """
    x0, y0, x1, y1 = roi
    order = np.arange(len(triangles))
    if depth is not None:
        order = np.argsort(-np.asarray(depth)[triangles].mean(1), kind="stable")
    if not host_fast_path(xp):  # type: ignore[arg-type]
        return triangle_ids(points, triangles, roi, order, xp)  # type: ignore[arg-type]
    ids = np.full((y1 - y0, x1 - x0), -1, np.int32)
    shifted = np.rint((np.asarray(points, np.float64) - (x0, y0)) * 16).astype(np.int32)
    polys = shifted[triangles[order]]  # T×3×2, gathered once: the loop below only draws
    fill = cv2.fillConvexPoly
    for t, poly in zip(order.tolist(), polys, strict=True):
        fill(ids, poly, t, cv2.LINE_8, 4)
    return ids


def triangle_affines(
    dst: Points, src: Points, triangles: np.ndarray, src_triangles: np.ndarray | None = None
) -> np.ndarray:
    """T×2×3 affines mapping each triangle of ``dst`` onto the same triangle of ``src`` (or onto
    ``src_triangles``, row by row; degenerate ones by least squares).

    Proper triangles in closed form (edge vectors and a 2×2 inverse per triangle, all triangles at once):
    the same affines as solving each 3×3 system, for a tenth of the time."""
    d = np.asarray(dst, np.float64)[triangles]  # T×3×2
    s = np.asarray(src, np.float64)[triangles if src_triangles is None else src_triangles]
    e1, e2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]  # twice the signed area
    area2 = np.abs(det)
    ok = area2 > 1e-6 * max(float(area2.max(initial=0.0)), 1e-12)
    inv = np.stack([np.stack([e2[:, 1], -e2[:, 0]], -1), np.stack([-e1[:, 1], e1[:, 0]], -1)], 1)  # T×2×2
    inv /= np.where(ok, det, 1.0)[:, None, None]
    lin = np.stack([s[:, 1] - s[:, 0], s[:, 2] - s[:, 0]], -1) @ inv  # T×2×2: source edges × dst⁻¹
    out = np.concatenate([lin, (s[:, 0] - np.einsum("tij,tj->ti", lin, d[:, 0]))[..., None]], axis=2)
    if not ok.all():
        bad = ~ok
        dh = np.concatenate([d[bad], np.ones((int(bad.sum()), 3, 1))], axis=2)
        out[bad] = np.transpose(np.linalg.pinv(dh) @ s[bad], (0, 2, 1))
    return out


def piecewise_affine(
    source: Array,
    src_points: Points,
    dst_points: Points,
    triangles: np.ndarray,
    roi: Roi,
    *,
    depth: np.ndarray | None = None,
) -> tuple[Array, Array]:
    """Warp ``source`` so that its mesh ``src_points`` lands on ``dst_points``, rendered over ``roi`` of the
    destination. Returns the warped ROI (float32, same channels as ``source``) and a coverage mask (1 where a
    triangle covers the pixel), on the array module of ``source``."""
    warped, ids = warp_mesh(source, src_points, dst_points, triangles, roi, depth=depth)
    return warped, (ids >= 0).astype(warped.dtype)


def warp_mesh(
    source: Array,
    src_points: Points,
    dst_points: Points,
    triangles: np.ndarray,
    roi: Roi,
    *,
    depth: np.ndarray | None = None,
    src_triangles: np.ndarray | None = None,
    hidden: np.ndarray | None = None,
) -> tuple[Array, Array]:
    """:func:`piecewise_affine` returning the triangle index map instead of the coverage (−1: uncovered).

    ``src_triangles`` (T×3, default ``triangles``) says which source vertices each destination triangle samples
    from (a mirrored triangle, for instance); pixels of triangles flagged in ``hidden`` (T booleans) get −2.
    """
    x0, y0, x1, y1 = roi
    xp = array_module(source)
    ids = triangle_index_map(dst_points, triangles, roi, depth, xp)
    if hidden is not None and np.any(hidden):
        ids = xp.where(to_device(np.asarray(hidden), xp)[xp.maximum(ids, 0)] & (ids >= 0), -2, ids)
    src_tris = triangles if src_triangles is None else src_triangles
    aff = triangle_affines(dst_points, src_points, triangles, src_tris).astype(np.float32)
    coef = to_device(np.ascontiguousarray(aff.reshape(-1, 6).T), xp)  # 6×T: one gather per coefficient
    k = xp.maximum(ids, 0)
    xs = xp.arange(x0, x1, dtype=xp.float32)[None, :]
    ys = xp.arange(y0, y1, dtype=xp.float32)[:, None]
    map_x = coef[0][k] * xs
    map_x += coef[1][k] * ys
    map_x += coef[2][k]
    map_y = coef[3][k] * xs
    map_y += coef[4][k] * ys
    map_y += coef[5][k]
    return remap(source.astype(xp.float32, copy=False), map_x, map_y, border="replicate"), ids
