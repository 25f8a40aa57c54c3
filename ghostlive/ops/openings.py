"""Eye openings and the inner mouth: what a mesh swap shows where the mesh has holes.

The face mesh has no triangles inside the eyes or the open mouth. Those openings show the target's own
pixels exactly as they are (never colour-transferred), or with ``--keep none`` the source's eyes (both or
neither: :data:`SOURCE_OPEN`), with soft edges: a closed or squinting target eye keeps its lids and lashes and gets
a softer edge still. Pixels along the edge of an opening that no triangle covers are filled from the surrounding
swapped skin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ghostlive.ops.filters import expand, gaussian_blur, warp_affine
from ghostlive.ops.mask import offset_polygon
from ghostlive.ops.raster import polygon_fill
from ghostlive.types import Array, Points, Roi
from ghostlive.xp import array_module

EYES = {
    "right": (33, 133, ((159, 145), (160, 144), (158, 153))),
    "left": (263, 362, ((386, 374), (387, 373), (385, 380))),
}
"""Mesh indices per eye: the two corners and three upper/lower lid pairs."""
OPEN_RANGE = (0.21, 0.26)
"""Lid gap over eye width from which an eye counts as closed (0) to fully open (1)."""
SOURCE_OPEN = 0.30
"""Lid gap over eye width both of a source's eyes need for ``--keep none`` to show them: the outline of an eye
narrowed by a smile holds lids rather than eye (Grace Hopper's portrait, 0.26 and 0.27: inside it 85 % of the
pixels darker than L* 35, no white), which stretched to an open target's opening reads as a dark red eye. The
astronaut's eyes measure 0.33 and 0.34."""

SourceWarp = Callable[[Roi], tuple[Array, Array]]
"""Renders the source's own eye over a frame ROI: (warped pixels, covered 0/1)."""


@dataclass(frozen=True)
class Opening:
    """One hole of the mesh: its outline (frame pixels), edge softness σ (px), and what fills it."""

    polygon: Points
    softness: float
    fill_sigma: float
    source: SourceWarp | None = None
    """None: the target's own pixels; otherwise the source's, rendered by this function."""


def lid_gap(landmarks: Points, side: str) -> float:
    """The subject's ``side`` eye's mean lid gap over its width."""
    a, b, pairs = EYES[side]
    lm = np.asarray(landmarks, np.float64)
    return float(np.mean([np.linalg.norm(lm[u] - lm[d]) for u, d in pairs]) / max(np.linalg.norm(lm[a] - lm[b]), 1e-6))


def eye_openness(landmarks: Points, side: str) -> float:
    """How open the subject's ``side`` eye is: 0 closed (or squinting) … 1 open (see :data:`OPEN_RANGE`)."""
    lo, hi = OPEN_RANGE
    return float(np.clip((lid_gap(landmarks, side) - lo) / (hi - lo), 0.0, 1.0))


def eye_width(landmarks: Points, side: str) -> float:
    a, b, _ = EYES[side]
    return float(np.linalg.norm(np.asarray(landmarks[a], np.float64) - landmarks[b]))


def _box(polygon: Points, pad: float, roi: Roi) -> Roi | None:
    lo = np.floor(np.asarray(polygon).min(0) - pad).astype(int)
    hi = np.ceil(np.asarray(polygon).max(0) + pad).astype(int) + 1
    x0, y0 = max(int(lo[0]), roi[0]), max(int(lo[1]), roi[1])
    x1, y1 = min(int(hi[0]), roi[2]), min(int(hi[1]), roi[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def compose_openings(face: Array, target: Array, covered: Array, roi: Roi, openings: list[Opening]) -> Array:
    """``face`` (the swapped ROI, float H×W×3, modified in place and returned) with each opening filled:
    out = k·content + (1 − k)·skin, k the opening's coverage blurred by its softness, content the target's
    ``target`` pixels (or the source's), skin ``face`` where ``covered`` and filled from it elsewhere."""
    xp = array_module(face)
    for op in openings:
        pad = 3.0 * max(op.softness, op.fill_sigma) + 2.0
        box = _box(op.polygon, pad, roi)
        if box is None:
            continue
        bx0, by0, bx1, by1 = box
        sl = (slice(by0 - roi[1], by1 - roi[1]), slice(bx0 - roi[0], bx1 - roi[0]))
        skin, cov = face[sl], covered[sl].astype(xp.float32)
        cov3 = expand(cov)
        num = gaussian_blur(skin * cov3, op.fill_sigma)
        den = gaussian_blur(cov, op.fill_sigma)
        skin = xp.where(cov3 > 0, skin, num / expand(xp.maximum(den, 1e-4)))
        content = target[sl]
        if op.source is not None:
            eye, eye_cov = op.source(box)
            content = xp.where(eye_cov[..., None] > 0, eye, content)
        # pushed out by one σ: the opening itself stays (nearly) whole, its soft edge falls on the lids and lips;
        # drawn by pixel centres on every path (the blur makes up for the lack of anti-aliasing)
        hole = polygon_fill((by1 - by0, bx1 - bx0), box, [offset_polygon(op.polygon, -op.softness)], xp)
        k = expand(xp.clip(gaussian_blur(hole, op.softness), 0.0, 1.0))
        face[sl] = k * content + (1.0 - k) * skin
    return face


def eye_fan(loop: np.ndarray) -> np.ndarray:
    """Triangles filling an eye's contour loop (a fan from its first vertex)."""
    return np.array([(loop[0], loop[i], loop[i + 1]) for i in range(1, len(loop) - 1)], np.int32)


MovedTarget = Callable[[np.ndarray], SourceWarp | None]
"""Given an opening's contour loop (mesh indices), what renders the target's own pixels there after the mesh
moved (None: it did not move)."""


def target_warp(region: Array, roi: Roi, before: Points, after: Points, tol: float = 0.05) -> MovedTarget:
    """For openings whose contour moved from ``before`` to ``after`` (frame coordinates, 468 points): the
    target's ``region`` (the frame's ROI pixels) carried along by the contour's shift and scale (exact for
    :func:`ghostlive.ops.shape.adapt_shape`, which moves and scales each eye as a whole)."""

    def make(loop: np.ndarray) -> SourceWarp | None:
        a, b = np.asarray(before, np.float64)[loop], np.asarray(after, np.float64)[loop]
        if np.abs(b - a).max(initial=0.0) <= tol:
            return None
        # the move is a shift and a uniform scale (no rotation), so means and spreads fix it
        ca, cb = a.mean(0), b.mean(0)
        k = float(np.sqrt(((b - cb) ** 2).sum() / max(((a - ca) ** 2).sum(), 1e-12)))
        off = cb - k * ca + (k - 1.0) * np.asarray(roi[:2], np.float64)  # in ROI pixels
        m = np.array([[k, 0.0, off[0]], [0.0, k, off[1]]])

        def render(box: Roi) -> tuple[Array, Array]:
            shift = m.copy()
            shift[:, 2] -= (box[0] - roi[0], box[1] - roi[1])
            size = (box[2] - box[0], box[3] - box[1])
            warped = warp_affine(region, shift, size, border="replicate")
            return warped, array_module(region).ones(warped.shape[:2], bool)

        return render

    return make
