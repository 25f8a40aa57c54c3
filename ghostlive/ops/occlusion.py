"""Self-occlusion for mesh warps: which source triangles are seen edge-on or from behind, and what to show there.

A source face turned away from the camera shows its far side foreshortened or not at all; warping those
triangles onto a target that shows that side would stretch a few pixels into streaks. Each such triangle is
sampled instead from its mirror image on the visible side (the face mesh is left-right symmetric), or, where
that one is hidden too, left to the target's own skin. A source turned the other way from the target is
matched by its mirror image as a whole (what the target shows of each side, the source shows best of the other).
A strongly turned source has its silhouette inside the face (nose profile, chin): where the mesh overhangs it,
triangles sample the background instead of skin (:func:`foreign_triangles`); they are replaced the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ghostlive.models.facemesh import Topology
from ghostlive.ops.color import masked_average
from ghostlive.ops.filters import expand, low_pass
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
BAND = 0.06
"""Width (fraction of the face width) of the strip inside the source mesh's silhouette tested for background."""
RING = 0.1
"""Width of the strip outside the silhouette whose colour stands for the background, and the distance from the
silhouette beyond which skin stands for the face (fractions of the face width; also the σ of both local means)."""
FOREIGN_SHARE = 0.5
"""A triangle is background when at least this share of its silhouette-strip pixels look like the background."""
INNER_HOPS = 3
"""Only triangles at least this many mesh edges inside the face outline are tested: a frontal face's silhouette
is its outline, where the target's feathered mask fades the paste out anyway; a turned face's silhouette runs
through the middle of the face (nose, lips, chin), which the target shows whole."""
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


def foreign_triangles(image: np.ndarray, points: Points, depth: np.ndarray, topo: Topology) -> np.ndarray:
    """Per mesh triangle, whether it samples background rather than face: on a turned face the mesh overhangs
    its real silhouette (nose tip, lips, chin) by a few pixels. In the strip just inside the mesh's projected
    silhouette (:data:`BAND`), a pixel is background when its Lab colour is nearer the local mean of the pixels
    just outside the silhouette than that of the face's skin further in (:data:`RING`); a triangle at least
    :data:`INNER_HOPS` edges inside the outline with :data:`FOREIGN_SHARE` such pixels is foreign.

    ``image`` is a host BGR image around the face with room for the outside strip; ``points`` are in its
    coordinates."""
    triangles = topo.triangles
    h, w = image.shape[:2]
    oval = np.asarray(points)[topo.oval, :2]
    width = float(np.linalg.norm(oval.max(0) - oval.min(0)) / np.sqrt(2.0))
    order = np.argsort(-np.asarray(depth)[triangles].mean(1), kind="stable")
    ids = np.asarray(triangle_ids(points, triangles, (0, 0, w, h), order))
    covered = (ids >= 0).astype(np.uint8)
    contours, _ = cv2.findContours(covered, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = cv2.drawContours(np.zeros_like(covered), contours, -1, 1, -1)  # the silhouette, eyes and mouth in
    outside = cv2.distanceTransform(1 - filled, cv2.DIST_L2, 3)
    inside = cv2.distanceTransform(np.pad(filled, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    skin = (ids >= 0) & topo.skin[np.maximum(ids, 0)] & (inside > RING * width)
    lab = cv2.cvtColor(np.ascontiguousarray(image, np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    ring = ((filled == 0) & (outside <= RING * width)).astype(np.float32)
    (background,), _ = masked_average([lab], ring, RING * width)
    (face,), _ = masked_average([lab], skin.astype(np.float32), RING * width)
    near = np.linalg.norm(lab - background, axis=-1) < np.linalg.norm(lab - face, axis=-1)
    strip = (ids >= 0) & (inside <= BAND * width)
    counted = np.bincount(ids[strip], minlength=len(triangles))
    foreign = np.bincount(ids[strip & near], minlength=len(triangles))
    return (counted > 0) & (foreign >= FOREIGN_SHARE * counted) & (_outline_hops(topo) >= INNER_HOPS)


def _outline_hops(topo: Topology) -> np.ndarray:
    """Per triangle, the fewest mesh edges from any of its vertices to the face outline (breadth first)."""
    triangles = topo.triangles
    n = int(triangles.max()) + 1
    hops = np.full(n, -1, np.int64)
    hops[topo.oval] = 0
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    edges = np.concatenate([edges, edges[:, ::-1]])
    level = 0
    while (hops < 0).any():
        level += 1
        reached = edges[(hops[edges[:, 0]] == level - 1) & (hops[edges[:, 1]] < 0), 1]
        if len(reached) == 0:
            break
        hops[reached] = level
    return np.where(hops < 0, n, hops)[triangles].min(1)


def plan_source(
    src: Points,
    dst: Points,
    topo: Topology,
    visible: np.ndarray | None = None,
    was_flipped: bool = False,
    foreign: np.ndarray | None = None,
) -> SourcePlan:
    """Which source triangle each target triangle samples: itself, its mirror, or none (hidden).

    A source triangle is replaced when it is seen from behind, mostly hidden behind nearer parts of the
    source face (``visible``, from :func:`visibility`, below :data:`VISIBLE_MIN`), on a half of the face that
    is turned away as a whole (:data:`TURNED`), or, for bare skin, stretched (:data:`STRETCH_MAX`; eyes,
    lips and nostrils also change size with expression and between faces, where neither side helps). It takes
    its mirror image where that one is seen well; otherwise only bare-skin triangles are left to the target, and
    the others (brows, lids, lips) take their mirror image where it is seen and shows them larger than their own
    side (squeezed to a sliver at a profile's turned-away edge, their own would paste a dark hard-edged patch).
    A source turned the other way (:data:`FLIP_MIN`; :data:`FLIP_HOLD` when ``was_flipped`` on the previous
    frame) is planned the same way from its mirror image, each triangle falling back to its own side.
    Triangles flagged ``foreign`` (background texture, :func:`foreign_triangles`) count as not seen at all.
    """
    triangles = topo.triangles
    s, d = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    a_s, a_d = _areas(s, triangles), _areas(d, triangles)
    orient = np.sign(a_d)
    total_s = max(float(np.abs(a_s).sum()), 1e-9)
    share_d = np.abs(a_d) / max(float(np.abs(a_d).sum()), 1e-9)
    seen = np.ones(len(triangles)) if visible is None else np.asarray(visible)
    alien = np.zeros(len(triangles), bool) if foreign is None else np.asarray(foreign, bool)
    seen = np.where(alien, 0.0, seen)
    mirrored_tris = topo.mirror[triangles]
    # per target triangle, each way of sampling it: its own source triangle, or its mirror image (which winds
    # the other way round): share of the source face seen facing the camera, and share not hidden
    own = (triangles, a_s * orient / total_s, seen)
    has_mirror = topo.mirror_triangle >= 0
    mirror_seen = np.where(has_mirror, seen[np.maximum(topo.mirror_triangle, 0)], 1.0)
    mirror = (mirrored_tris, -_areas(s, mirrored_tris) * orient / total_s, mirror_seen)
    flipped = _opposite(s, d, FLIP_MIN * (FLIP_HOLD if was_flipped else 1.0))
    (first, facing, first_seen), (other, other_facing, other_seen) = (mirror, own) if flipped else (own, mirror)
    bad = (facing <= 0.0) | (first_seen < VISIBLE_MIN) | (topo.skin & (facing < STRETCH_MAX * share_d))
    bad |= topo.side == _far_side(facing, np.abs(a_d), topo.side)
    usable = (other_facing >= MIRROR_MIN * share_d) & (other_seen >= VISIBLE_MIN)
    # a brow, lid or lip squeezed on the half turned further away: its mirror if that one shows it larger
    away = topo.side == min((-1, 1), key=lambda k: float(np.clip(facing[topo.side == k], 0.0, None).sum()))
    better = away & ~topo.skin & (other_facing > facing) & (other_seen >= VISIBLE_MIN)
    use_other = bad & (usable | better)
    src_tris = np.where(use_other[:, None], other, first).astype(np.int32)
    # skin is left to the target's own; so is any triangle whose texture is background (lips, nostrils too)
    first_alien = alien[np.maximum(topo.mirror_triangle, 0)] & has_mirror if flipped else alien
    return SourcePlan(src_tris, bad & ~usable & (topo.skin | first_alien), use_other ^ flipped, flipped)


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
    soft = expand(xp.clip(low_pass(hidden[win].astype(xp.float32), sigma * SEAM), 0.0, 1.0))
    face[win] = soft * relit + (1.0 - soft) * f
    return face
