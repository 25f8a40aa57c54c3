"""Self-occlusion for mesh warps: which source triangles are seen edge-on or from behind, and what to show there.

A source face turned away from the camera shows its far side foreshortened or not at all; warping those
triangles onto a target that shows that side would stretch a few pixels into streaks. Each such triangle is
sampled instead from its mirror image on the visible side (the face mesh is left-right symmetric), or, where
that one is hidden too, left to the target's own skin. A source turned the other way from the target is
matched by its mirror image as a whole (what the target shows of each side, the source shows best of the other).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ghostlive.models.facemesh import Topology
from ghostlive.ops.color import masked_average
from ghostlive.ops.filters import low_pass
from ghostlive.ops.mesh import points_roi
from ghostlive.ops.raster import triangle_ids
from ghostlive.types import Array, Points
from ghostlive.xp import array_module

STRETCH_MAX = 0.3
"""A source triangle whose share of the face area is below this fraction of the target triangle's share (or
that winds the other way round: seen from behind) would be stretched more than threefold: it is replaced."""
MIRROR_MIN = 0.5
"""Its mirror image is used when that one's share is at least this fraction of the target triangle's."""
TURNED = 0.5
"""A source half whose visible area, relative to the other half's and to the target's, is below this ratio
(a head turned by more than about 35° relative to the target) is taken from its mirror image as a whole."""
VISIBLE_MIN = 0.5
"""A source triangle less visible than this (hidden behind the nose, say) is replaced too."""
RASTER_WIDTH = 320.0
"""Width of the raster :func:`visibility` counts on."""
SEAM = 0.5
"""Width (σ, as a fraction of the fill's σ) of the blend between the target's skin and the swapped face."""
MIN_AREA = 8.0
"""Triangles smaller than this (px² on that raster) are too small to judge."""
FLIP_MIN = 0.1
"""A source and a target turned opposite ways, each by at least this much (see :func:`head_turn`; 0.1 is about 7°
of yaw), take the whole face from the source's mirror image: its view of each side is then the one nearer the
target's (the nose side, cheek and lid seen as the target shows them)."""
FLIP_HOLD = 0.7
"""Once taken from its mirror image (on the track's previous frame), a source stays so until either turn falls
below this share of :data:`FLIP_MIN`: a head hovering at the threshold does not flip back and forth."""
_TURN = (1, [234, 454], [33, 263])
"""Mesh indices of the nose tip, the two cheeks and the two outer eye corners (subject's right, left)."""


@dataclass(frozen=True)
class SourcePlan:
    """Per target triangle: the source vertices it samples (T×3) and whether it is left to the target."""

    src_triangles: np.ndarray
    hidden: np.ndarray
    mirrored: np.ndarray
    flipped: bool = False
    """The face as a whole is sampled from the source's mirror image (:data:`FLIP_MIN`)."""

    @property
    def other_side(self) -> np.ndarray:
        """Triangles sampled from the other side than the face as a whole (lit differently from the rest)."""
        return self.mirrored ^ self.flipped


def _areas(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    p = points[tris]
    u, v = p[:, 1, :2] - p[:, 0, :2], p[:, 2, :2] - p[:, 0, :2]
    return 0.5 * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def visibility(points: Points, depth: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per triangle, the share of its area that no nearer triangle of the same mesh hides, counted on a
    raster of the mesh scaled to :data:`RASTER_WIDTH` px (1 for triangles too small to count even there)."""
    p = np.asarray(points, np.float64)
    scale = RASTER_WIDTH / max(float(np.ptp(p[:, 0])), 1.0)
    p = (p - p.min(0)) * scale
    roi = points_roi(p, (1 << 30, 1 << 30), margin=1)
    if roi is None:
        return np.ones(len(triangles))
    # array maths on the host whatever the frame path, so that the CPU and GPU paths make the same plan
    order = np.argsort(-np.asarray(depth)[triangles].mean(1), kind="stable")
    ids = triangle_ids(p, triangles, roi, order)
    seen = np.bincount(ids[ids >= 0], minlength=len(triangles)).astype(np.float64)
    area = np.abs(_areas(p, triangles))
    return np.where(area >= MIN_AREA, np.clip(seen / np.maximum(area, 1e-9), 0.0, 1.0), 1.0)


def plan_source(
    src: Points, dst: Points, topo: Topology, visible: np.ndarray | None = None, was_flipped: bool = False
) -> SourcePlan:
    """Which source triangle each target triangle samples: itself, its mirror, or none (hidden).

    A source triangle is replaced when it is seen from behind, mostly hidden behind nearer parts of the
    source face (``visible``, from :func:`visibility`, below :data:`VISIBLE_MIN`), on a half of the face that
    is turned away as a whole (:data:`TURNED`), or, for bare skin, stretched (:data:`STRETCH_MAX`; eyes,
    lips and nostrils also change size with expression and between faces, where neither side helps). It takes
    its mirror image where that one is seen well; otherwise only bare-skin triangles are left to the target.
    A source turned the other way (:data:`FLIP_MIN`; :data:`FLIP_HOLD` when ``was_flipped`` on the previous
    frame) is planned the same way from its mirror image, each triangle falling back to its own side.
    """
    triangles = topo.triangles
    s, d = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    a_s, a_d = _areas(s, triangles), _areas(d, triangles)
    orient = np.sign(a_d)
    total_s = max(float(np.abs(a_s).sum()), 1e-9)
    share_d = np.abs(a_d) / max(float(np.abs(a_d).sum()), 1e-9)
    seen = np.ones(len(triangles)) if visible is None else np.asarray(visible)
    mirrored_tris = topo.mirror[triangles]
    # per target triangle, each way of sampling it: its own source triangle, or its mirror image (which winds
    # the other way round): share of the source face seen facing the camera, and share not hidden
    own = (triangles, a_s * orient / total_s, seen)
    mirror_seen = np.where(topo.mirror_triangle >= 0, seen[np.maximum(topo.mirror_triangle, 0)], 1.0)
    mirror = (mirrored_tris, -_areas(s, mirrored_tris) * orient / total_s, mirror_seen)
    flipped = _opposite(s, d, FLIP_MIN * (FLIP_HOLD if was_flipped else 1.0))
    (first, facing, first_seen), (other, other_facing, other_seen) = (mirror, own) if flipped else (own, mirror)
    bad = (facing <= 0.0) | (first_seen < VISIBLE_MIN) | (topo.skin & (facing < STRETCH_MAX * share_d))
    bad |= topo.side == _far_side(facing, np.abs(a_d), topo.side)
    usable = (other_facing >= MIRROR_MIN * share_d) & (other_seen >= VISIBLE_MIN)
    use_other = bad & usable
    src_tris = np.where(use_other[:, None], other, first).astype(np.int32)
    return SourcePlan(src_tris, bad & ~usable & topo.skin, use_other ^ flipped, flipped)


def head_turn(points: np.ndarray) -> float:
    """How far a face is turned (image plane, toward the subject's left > 0): the nose tip's offset from the
    middle of the two cheeks along the eye line, over the cheeks' distance (about 0.013 per degree of yaw)."""
    tip, (right_cheek, left_cheek), (right_eye, left_eye) = points[_TURN[0]], points[_TURN[1]], points[_TURN[2]]
    axis = (left_eye - right_eye) / max(float(np.linalg.norm(left_eye - right_eye)), 1e-9)
    span = max(float(np.linalg.norm(left_cheek - right_cheek)), 1e-9)
    return float((tip - 0.5 * (right_cheek + left_cheek)) @ axis) / span


def _opposite(src: np.ndarray, dst: np.ndarray, least: float) -> bool:
    """Whether source and target are turned opposite ways, each by at least ``least`` (see :func:`head_turn`)."""
    turn_s, turn_d = head_turn(src), head_turn(dst)
    return turn_s * turn_d < 0.0 and min(abs(turn_s), abs(turn_d)) >= least


def _far_side(src_area: np.ndarray, dst_area: np.ndarray, side: np.ndarray) -> int:
    """−1 or +1 when that half of the source face is turned away from the camera, more than the target's: its
    visible area over the other half's is below :data:`TURNED`, in the source and relative to the target; else 0."""
    s = [float(np.clip(src_area[side == k], 0.0, None).sum()) + 1e-9 for k in (-1, 1)]
    d = [float(dst_area[side == k].sum()) + 1e-9 for k in (-1, 1)]
    for k, (near, far) in ((-1, (1, 0)), (1, (0, 1))):
        if s[far] / s[near] < TURNED and (s[far] / s[near]) / (d[far] / d[near]) < TURNED:
            return k
    return 0


def fill_hidden(face: Array, target: Array, covered: Array, hidden: Array, sigma: float) -> Array:
    """``face`` with the ``hidden`` pixels (H×W bool) taken from the ``target``'s own skin, re-lit to the
    swapped face around them: target × (face's local average / target's local average) over ``covered``
    pixels (σ = ``sigma`` px), so its texture shows in the colour and lighting of the swap; the seam is soft
    (σ·:data:`SEAM` each way). Only the window around the hidden pixels (3σ) is computed; ``face`` is modified
    in place and returned."""
    xp = array_module(face)
    rows, cols = (xp.flatnonzero(hidden.any(axis=k)) for k in (1, 0))
    if len(rows) == 0:
        return face
    pad = int(3.0 * sigma) + 1
    h, w = hidden.shape
    y0, y1 = max(int(rows[0]) - pad, 0), min(int(rows[-1]) + pad + 1, h)
    x0, x1 = max(int(cols[0]) - pad, 0), min(int(cols[-1]) + pad + 1, w)
    win = (slice(y0, y1), slice(x0, x1))
    f, t = face[win], target[win]
    (face_avg, target_avg), _ = masked_average([f, t], covered[win].astype(xp.float32), sigma)
    relit = xp.clip(t * xp.clip((face_avg + 1.0) / (target_avg + 1.0), 0.25, 4.0), 0.0, 255.0)
    # a soft seam across the hidden area's edge: the two sides' shading rarely agrees exactly at a face's
    # turned-away edge, and a narrow seam shows as a hard jagged line
    soft = xp.clip(low_pass(hidden[win].astype(xp.float32), sigma * SEAM), 0.0, 1.0)[..., None]
    face[win] = soft * relit + (1.0 - soft) * f
    return face
