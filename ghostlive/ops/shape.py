"""Shape adaptation for mesh swaps: the source's face proportions inside the target's outline and pose.

A mesh warp onto the target's own landmarks keeps the target's geometry: eye spacing, nose length, mouth
width and where they sit inside the outline all stay the target's, and an identity judge sees them. Here the
source mesh is brought into the target's pose (a 3D similarity fit of the two outlines, depth included), and
each feature (each eye, brow, the nose, the lips) is moved and scaled as a whole toward where the source has it
(translation and size from a few stable points, so lids closing or a mouth opening are not transferred). The
rest of the mesh follows smoothly (harmonic interpolation over the mesh graph) with the outline held fixed, so
nothing outside the face outline moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from ghostlive.models.facemesh import Topology
from ghostlive.types import Points

NOSE = (1, 2, 4, 5, 19, 45, 48, 64, 94, 97, 98, 99, 115, 129, 131, 141, 195, 197, 220, 237, 240, 275, 278, 294)
NOSE += (326, 327, 328, 344, 358, 360, 370, 440, 457, 460)
"""Mesh vertices of the nose (tip, wings, nostrils and the lower bridge)."""
ANCHORS = {
    "right_eye": (33, 133),
    "left_eye": (263, 362),
    "right_brow": None,
    "left_brow": None,
    "nose": (1, 2, 98, 327),
    "lips": (61, 291),
}
"""Per feature, the points that fix its position and size (None: all of its points)."""
EYE_SHIFT = 0.0
"""Share of the two eyes' common shift that is transferred (their spacing and size always are): moving both
eyes up or down changes the eyes-to-mouth length, which a pose judge reads as a pitch of the head, and moves
the gaze (see docs/classic-quality-log.md for what transferring it gains and costs)."""
TURN_RANGE = (20.0, 40.0)
"""Relative head turn out of the image plane (degrees) from which the adaptation fades out, and where it
stops: a face seen from the side gives no reliable proportions for its far half."""
FOLDS_MAX = 3
"""Most triangles the adapted mesh may turn over; beyond that the move is halved (up to four times)."""
FEATURES = ("right_eye", "left_eye", "right_brow", "left_brow", "nose", "lips")


@dataclass(frozen=True)
class _Features:
    """The features' vertices, as arrays for vectorised maths (built once per topology)."""

    members: tuple[np.ndarray, ...]
    anchor_mean: np.ndarray
    """G×468 weights averaging each feature's anchor points."""
    group: np.ndarray
    """Per vertex, the index of its feature in :data:`FEATURES` (−1: none)."""
    fixed: np.ndarray
    """Vertices whose move is given (outline and features); the rest is interpolated."""


_FEATURES: dict[int, _Features] = {}


def _features(topo: Topology) -> _Features:
    if id(topo) not in _FEATURES:
        n = len(topo.mirror)
        lips = np.union1d(topo.regions["lips"], topo.regions["mouth"])
        members = (*(np.asarray(topo.regions[k]) for k in FEATURES[:4]), np.array(NOSE), lips)
        weights = np.zeros((len(FEATURES), n))
        group = np.full(n, -1)
        for i, (name, m) in enumerate(zip(FEATURES, members, strict=True)):
            anchor = m if ANCHORS[name] is None else np.array(ANCHORS[name])
            weights[i, anchor] = 1.0 / len(anchor)
            group[m] = i
        fixed = group >= 0
        fixed[topo.oval] = True
        _FEATURES[id(topo)] = _Features(members, weights, group, fixed)
    return _FEATURES[id(topo)]


def similarity_3d(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Scale, rotation and shift of the least-squares similarity taking ``src`` (N×3) onto ``dst`` (Umeyama)."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.ones(3)
    d[2] = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag(d) @ vt
    scale = float((sv * d).sum() / max((a * a).sum(), 1e-12))
    return scale, rot, md - scale * rot @ ms


@lru_cache(maxsize=4)
def _influence(triangles_key: bytes, n: int, fixed_key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Free and fixed vertex indices and the dense matrix giving the free values from the fixed ones
    (−L_ff⁻¹ L_fc of the mesh graph's Laplacian), computed once per mesh and fixed set."""
    triangles = np.frombuffer(triangles_key, np.int32).reshape(-1, 3)
    fixed = np.frombuffer(fixed_key, bool)
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    edges = np.unique(np.sort(edges, 1), axis=0)
    adj = scipy.sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    lap = (scipy.sparse.diags(np.asarray(adj.sum(1)).ravel()) - adj).tocsr()
    free, held = np.flatnonzero(~fixed), np.flatnonzero(fixed)
    solve = scipy.sparse.linalg.factorized(lap[free][:, free].tocsc())
    coupling = lap[free][:, held].toarray()
    return free, held, -np.column_stack([solve(c) for c in coupling.T])  # type: ignore[operator]


def harmonic_fill(triangles: np.ndarray, values: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """``values`` (N×2) kept where ``fixed`` and filled elsewhere by harmonic interpolation over the mesh graph
    (each free vertex the average of its neighbours)."""
    tri = np.ascontiguousarray(triangles, np.int32)
    free, held, influence = _influence(tri.tobytes(), len(values), np.ascontiguousarray(fixed).tobytes())
    out = np.array(values, np.float64)
    out[free] = influence @ out[held]
    return out


def adapt_shape(
    src: Points,
    src_depth: np.ndarray,
    dst: Points,
    dst_depth: np.ndarray,
    topo: Topology,
    amount: float,
    pinned: tuple[str, ...] = (),
    held: dict[str, float] | None = None,
) -> np.ndarray:
    """``dst`` (the target's 468 landmarks) with its features moved ``amount`` (0…1) of the way toward the
    source's proportions; the outline and the ``pinned`` features (names as in :data:`ANCHORS`) stay put, and
    heads turned far apart (:data:`TURN_RANGE`) are left as they are. ``held`` (feature → 0…1) keeps that share
    of a feature where the target has it, continuously (1 holds it like ``pinned`` does; the other features
    move as if it moved)."""
    d = np.asarray(dst, np.float64)
    if amount <= 0.0:
        return d.copy()
    s3 = np.column_stack([np.asarray(src, np.float64), -np.asarray(src_depth, np.float64)])
    d3 = np.column_stack([d, -np.asarray(dst_depth, np.float64)])
    scale, rot, shift = similarity_3d(s3[topo.oval], d3[topo.oval])
    turn = np.degrees(np.arccos(min(max(float(rot[2, 2]), -1.0), 1.0)))  # out of the image plane (roll is harmless)
    amount *= min(max((TURN_RANGE[1] - turn) / (TURN_RANGE[1] - TURN_RANGE[0]), 0.0), 1.0)
    if amount <= 0.0:
        return d.copy()
    aligned = (scale * s3 @ rot.T + shift)[:, :2]
    feats = _features(topo)
    w = feats.anchor_mean
    ca, cd = w @ aligned, w @ d
    ra = np.sqrt(np.maximum(w @ (aligned * aligned).sum(1) - (ca * ca).sum(1), 0.0))
    rd = np.sqrt(np.maximum(w @ (d * d).sum(1) - (cd * cd).sum(1), 1e-12))
    k = np.clip(ra / rd, 0.7, 1.4)
    active = np.array([name not in pinned for name in FEATURES])
    g = feats.group
    sel = (g >= 0) & active[np.maximum(g, 0)]
    gs = g[sel]
    disp = np.zeros_like(d)
    disp[sel] = ca[gs] + k[gs, None] * (d[sel] - cd[gs]) - d[sel]
    if active[0] and active[1]:  # the eyes keep their midpoint but for EYE_SHIFT of its move
        right, left = feats.members[0], feats.members[1]
        common = 0.5 * (disp[right].mean(0) + disp[left].mean(0))
        disp[right] -= (1.0 - EYE_SHIFT) * common
        disp[left] -= (1.0 - EYE_SHIFT) * common
    if held:
        keep = np.array([float(held.get(name, 0.0)) for name in FEATURES])
        disp[sel] *= 1.0 - np.clip(keep[gs], 0.0, 1.0)[:, None]
    disp[topo.oval] = 0.0
    move = amount * harmonic_fill(topo.triangles, disp, feats.fixed)
    before = _areas(d, topo.triangles)
    solid = np.abs(before) > 0.05 * np.median(np.abs(before))
    for _ in range(4):  # no folding the mesh over (a thin triangle or two at a lid corner may flip harmlessly)
        if (np.sign(_areas(d + move, topo.triangles)) != np.sign(before))[solid].sum() <= FOLDS_MAX:
            break
        move *= 0.5
    return d + move


def _areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle."""
    x, y = points[:, 0], points[:, 1]
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    return (x[b] - x[a]) * (y[c] - y[a]) - (y[b] - y[a]) * (x[c] - x[a])
