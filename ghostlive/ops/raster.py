"""Polygon and triangle rasterisation as array maths, so masks and mesh maps can be drawn where the frame lives
(numpy or cupy) without a round trip through OpenCV on the host.

Pixel (x, y) is sampled at its centre, the integer coordinate (x, y), as OpenCV does. The host fast path keeps
using OpenCV (``ops.mask.fill_polygons``, ``ops.mesh.triangle_index_map``); tests check both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

import numpy as np

from ghostlive.types import Array, Points, Roi

CANDIDATE_BUDGET = 1 << 22
"""Most pixel candidates tested at once by :func:`triangle_ids` (bounds temporary memory)."""


def polygon_fill(shape: tuple[int, int], roi: Roi, polygons: Iterable[Points], xp: ModuleType = np) -> Array:
    """A ``shape`` float32 mask over ``roi`` with 1 at pixel centres inside any of ``polygons`` (frame
    coordinates, even-odd rule per polygon), 0 elsewhere."""
    h, w = shape
    out = xp.zeros((h, w), xp.float32)
    for poly in polygons:
        p = np.asarray(poly, np.float64) - (roi[0], roi[1])
        if len(p) < 3:
            continue
        bx0, by0 = max(int(np.ceil(p[:, 0].min())), 0), max(int(np.ceil(p[:, 1].min())), 0)
        bx1, by1 = min(int(np.floor(p[:, 0].max())) + 1, w), min(int(np.floor(p[:, 1].max())) + 1, h)
        if bx1 <= bx0 or by1 <= by0:
            continue
        a, b = p, np.roll(p, -1, axis=0)
        keep = a[:, 1] != b[:, 1]  # horizontal edges never cross a scanline
        a, b = a[keep], b[keep]
        ax, ay, bx, by = (xp.asarray(v.astype(np.float32))[:, None, None] for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
        ys = xp.arange(by0, by1, dtype=xp.float32)[None, :, None]
        xs = xp.arange(bx0, bx1, dtype=xp.float32)[None, None, :]
        spans = (ay > ys) != (by > ys)
        x_cross = ax + (ys - ay) * (bx - ax) / (by - ay)
        crossings = (spans & (xs < x_cross)).sum(0)
        inside = (crossings % 2).astype(xp.float32)
        out[by0:by1, bx0:bx1] = xp.maximum(out[by0:by1, bx0:bx1], inside)
    return out


def triangle_ids(points: Points, triangles: np.ndarray, roi: Roi, order: np.ndarray, xp: ModuleType = np) -> Array:
    """For every pixel of ``roi``, the index of the triangle covering its centre (−1 where none); where
    triangles overlap, the one latest in ``order`` wins (drawing order, far to near).

    Every triangle's bounding box is tested at once (in chunks of similar size), then candidates are sorted
    by pixel and drawing rank so the winner per pixel is the first of its run: no scatter or atomics needed.
    """
    x0, y0, x1, y1 = roi
    h, w = y1 - y0, x1 - x0
    n = len(triangles)
    tri = np.asarray(points, np.float64)[triangles] - (x0, y0)  # T×3×2
    lo = np.clip(np.ceil(tri.min(1)), 0, None).astype(np.int64)
    hi = np.minimum(np.floor(tri.max(1)).astype(np.int64), (w - 1, h - 1))
    ext = np.maximum(hi - lo + 1, 0)  # T×2 box width, height
    rank = np.empty(n, np.int64)
    rank[np.asarray(order)] = np.arange(n)
    live = np.flatnonzero((ext > 0).all(1))
    live = live[np.argsort(ext[live].prod(1), kind="stable")]
    keys, owners = [], []
    start = 0
    while start < len(live):
        # the longest run from ``start`` whose padded boxes stay within the budget (at least one triangle)
        rest = ext[live[start:]]
        cost = np.arange(1, len(rest) + 1) * np.maximum.accumulate(rest[:, 0]) * np.maximum.accumulate(rest[:, 1])
        stop = start + max(1, int(np.searchsorted(cost, CANDIDATE_BUDGET, side="right")))
        bw, bh = rest[: stop - start].max(0)
        idx = live[start:stop]
        k, t = _chunk_candidates(tri[idx], lo[idx], hi[idx], int(bw), int(bh), w, xp)
        keys.append(k * n + (n - 1 - xp.asarray(rank[idx])[t]))
        owners.append(xp.asarray(idx)[t])
        start = stop
    ids = xp.full(h * w, -1, xp.int32)
    if keys:
        key = xp.concatenate(keys)
        owner = xp.concatenate(owners)
        srt = xp.argsort(key)
        key, owner = key[srt], owner[srt]
        pix = key // n
        first = xp.ones(len(pix), bool)
        first[1:] = pix[1:] != pix[:-1]
        ids[pix[first]] = owner[first].astype(xp.int32)
    return ids.reshape(h, w)


def _chunk_candidates(
    tri: np.ndarray, lo: np.ndarray, hi: np.ndarray, bw: int, bh: int, width: int, xp: ModuleType
) -> tuple[Array, Array]:
    """Pixel index (row·width + col) and chunk-local triangle index of every pixel centre inside a triangle."""
    t = xp.asarray(tri.astype(np.float32))
    lo_d, hi_d = xp.asarray(lo), xp.asarray(hi)
    px = lo_d[:, 0, None, None] + xp.arange(bw)[None, None, :]
    py = lo_d[:, 1, None, None] + xp.arange(bh)[None, :, None]
    fx, fy = px.astype(xp.float32), py.astype(xp.float32)

    def edge(i: int, j: int) -> Array:
        ax, ay = t[:, i, 0, None, None], t[:, i, 1, None, None]
        bx, by = t[:, j, 0, None, None], t[:, j, 1, None, None]
        return (bx - ax) * (fy - ay) - (by - ay) * (fx - ax)

    e0, e1, e2 = edge(0, 1), edge(1, 2), edge(2, 0)
    inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
    inside &= (px <= hi_d[:, 0, None, None]) & (py <= hi_d[:, 1, None, None])
    ti, yy, xx = xp.nonzero(inside)
    pix = (lo_d[ti, 1] + yy) * width + (lo_d[ti, 0] + xx)
    return pix.astype(xp.int64), ti
