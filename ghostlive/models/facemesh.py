"""468-point face mesh (MediaPipe FaceMesh converted to ONNX) and its topology.

The model sees a 192×192 crop, RGB in [0, 1], rotated so the eyes are level and scaled to 1.5× the face; it
returns 468 (x, y, z) points in crop pixels and a face-presence logit. The crop must show the face upright: one
turned over or sideways gets a mesh fitted as if it were upright (eyes on the mouth), often with a high presence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ghostlive.engines.base import Runner
from ghostlive.models.common import check_io, run_on_roi
from ghostlive.ops.align import transform_points
from ghostlive.types import LEFT_EYE, RIGHT_EYE, Affine, Array, Detection, Face, Points
from ghostlive.types import five_points as five_points  # re-exported: the mesh-derived alignment points

INPUT_SIZE = 192
ROI_SCALE = 1.5
SURE = 15.0
"""Presence logit from which a mesh pass's orientation is trusted as it is. Below it :meth:`FaceMesh.landmarks`
also tries the ROI turned a quarter, a half and three quarters, and keeps the surest: on the sample portraits
turned in 15° steps a wrongly oriented crop scored at most 12.7, a rightly oriented one 15-34 (a profile 4-13)."""
TURNED = 8.0
"""Presence logit a turned ROI must reach to replace the detector's orientation: the upside-down and sideways
sample faces score 10-30 turned the right way; a hand that the detector took for a face scored 2 sideways (and
passed after refinement), so without this bar trying four orientations would let more non-faces through."""
NOSTRILS = (2, 20, 60, 64, 75, 79, 94, 97, 98, 99, 125, 141, 166, 238, 239, 240, 241, 242)
NOSTRILS += (250, 290, 294, 305, 309, 326, 327, 328, 354, 370, 392, 458, 459, 460, 461, 462)
"""Mesh vertices around the nostrils (dark, so kept out of skin statistics)."""
_FEATURE_SETS = (
    "FACEMESH_LEFT_EYE",
    "FACEMESH_RIGHT_EYE",
    "FACEMESH_LEFT_EYEBROW",
    "FACEMESH_RIGHT_EYEBROW",
    "FACEMESH_LIPS",
)


@dataclass(frozen=True)
class Topology:
    """Index sets of the 468-point mesh."""

    triangles: np.ndarray
    """T×3 vertex indices of the surface triangles."""
    oval: np.ndarray
    """Face outline, as an ordered loop of vertex indices."""
    regions: dict[str, np.ndarray]
    """Ordered loops for inner mouth, outer lips, each eye and each brow."""
    mirror: np.ndarray
    """468 vertex indices: each vertex's left-right partner (itself on the midline)."""
    skin: np.ndarray
    """T booleans: triangles on bare skin (touching no eye, brow, lip or nostril vertex)."""
    side: np.ndarray
    """T values: −1 for triangles on the subject's right half, +1 on the left, 0 on the midline."""
    mirror_triangle: np.ndarray
    """T indices: each triangle's mirror image among the triangles (−1 for the few the tesselation splits
    along the other diagonal on the other side)."""


def _loop(edges: list[list[int]]) -> np.ndarray:
    """Order the edges of one closed contour into a vertex loop."""
    nxt: dict[int, list[int]] = {}
    for a, b in edges:
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    start = edges[0][0]
    loop, prev, cur = [start], -1, start
    while True:
        cand = [v for v in nxt[cur] if v != prev]
        if not cand or cand[0] == start:
            break
        prev, cur = cur, cand[0]
        loop.append(cur)
    return np.array(loop, np.int32)


def _inner_lip_loop(lips: list[list[int]]) -> np.ndarray:
    """The inner lip contour: the lip loop that encloses the smaller area on the canonical layout."""
    inner = {13, 14, 78, 308, 82, 312, 87, 317, 80, 310, 88, 318, 81, 311, 178, 402, 95, 324, 191, 415}
    return _loop([e for e in lips if e[0] in inner and e[1] in inner])


def _outer_lip_loop(lips: list[list[int]]) -> np.ndarray:
    """The outer lip contour: the lip loop that shares no vertex with the inner one."""
    inner = set(_inner_lip_loop(lips).tolist())
    return _loop([e for e in lips if e[0] not in inner and e[1] not in inner])


@lru_cache(maxsize=1)
def topology() -> Topology:
    """The mesh topology shipped with the built-in models."""
    data = json.loads(resources.files("ghostlive.assets").joinpath("facemesh_topology.json").read_text())
    edges = {tuple(sorted(e)) for e in data["FACEMESH_TESSELATION"]}
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = sorted({tuple(sorted((a, b, c))) for a, b in edges for c in adj[a] & adj[b]})
    regions = {
        "mouth": _inner_lip_loop(data["FACEMESH_LIPS"]),
        "lips": _outer_lip_loop(data["FACEMESH_LIPS"]),
        "right_eye": _loop(data["FACEMESH_RIGHT_EYE"]),
        "left_eye": _loop(data["FACEMESH_LEFT_EYE"]),
        "right_brow": np.array(sorted({v for e in data["FACEMESH_RIGHT_EYEBROW"] for v in e}), np.int32),
        "left_brow": np.array(sorted({v for e in data["FACEMESH_LEFT_EYEBROW"] for v in e}), np.int32),
    }
    triangles = np.array(tris, np.int32)
    features = {v for k in _FEATURE_SETS for e in data[k] for v in e} | set(NOSTRILS)
    skin = ~np.isin(triangles, sorted(features)).any(1)
    mirror = np.array(data["FACEMESH_MIRROR"], np.int32)
    index = {tuple(t): i for i, t in enumerate(triangles.tolist())}
    mirror_tri = np.array([index.get(tuple(sorted(mirror[t].tolist())), -1) for t in triangles], np.int32)
    vertex_side = np.sign(_hops(adj, RIGHT_EYE[0]) - _hops(adj, LEFT_EYE[0])) * (mirror != np.arange(len(mirror)))
    tri_side = np.sign(vertex_side[triangles].sum(1)) * (np.abs(vertex_side[triangles]).max(1) > 0)
    side = np.where((vertex_side[triangles] * tri_side[:, None] >= 0).all(1), tri_side, 0).astype(np.int8)
    return Topology(triangles, _loop(data["FACEMESH_FACE_OVAL"]), regions, mirror, skin, side, mirror_tri)


def _hops(adj: dict[int, set[int]], start: int) -> np.ndarray:
    """Edge count from ``start`` to every vertex (breadth first)."""
    dist = np.full(len(adj), -1, np.int64)
    dist[start], frontier, level = 0, [start], 0
    while frontier:
        level += 1
        frontier = sorted({v for u in frontier for v in adj[u] if dist[v] < 0})
        dist[frontier] = level
    return dist


def roi_affine(center: np.ndarray, size: float, angle: float) -> Affine:
    """Affine from 192×192 crop pixels to frame pixels for a square ROI rotated by ``angle`` (radians)."""
    s = size / INPUT_SIZE
    c, si = np.cos(angle) * s, np.sin(angle) * s
    rot = np.array([[c, -si], [si, c]])
    t = np.asarray(center, np.float64) - rot @ np.array([INPUT_SIZE / 2, INPUT_SIZE / 2])
    return np.hstack([rot, t[:, None]])


def roi_from_detection(det: Detection, turns: int = 0) -> Affine:
    """MediaPipe's landmark ROI for a detection: box centre, 1.5× the longer side, eyes level, then turned by
    ``turns`` quarter turns. The detector's eye keypoints set the roll only up to a quarter or half turn: BlazeFace
    places its six keypoints as on an upright face (on one upside down, the "eyes" are the mouth corners and the
    "mouth" is between the eyes), so :meth:`FaceMesh.landmarks` decides the orientation from the mesh's presence."""
    x1, y1, x2, y2 = det.box
    right_eye, left_eye = det.keypoints[0], det.keypoints[1]
    angle = float(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])) + turns * np.pi / 2
    return roi_affine(np.array([(x1 + x2) / 2, (y1 + y2) / 2]), ROI_SCALE * max(x2 - x1, y2 - y1), angle)


def roi_from_landmarks(landmarks: Points) -> Affine:
    """The ROI for the next mesh pass (refinement or tracking) from a previous mesh."""
    lm = np.asarray(landmarks, np.float64)
    angle = float(np.arctan2(lm[263, 1] - lm[33, 1], lm[263, 0] - lm[33, 0]))
    c, s = np.cos(-angle), np.sin(-angle)
    centre0 = lm.mean(0)
    rotated = (lm - centre0) @ np.array([[c, s], [-s, c]])  # rotate points so the eyes are level
    lo, hi = rotated.min(0), rotated.max(0)
    mid = (lo + hi) / 2
    centre = centre0 + mid @ np.array([[c, -s], [s, c]])
    return roi_affine(centre, ROI_SCALE * float(max(hi - lo)), angle)


def _probability(logit: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60))))


class FaceMesh:
    """Runs the 468-point mesh on a rotation-normalised crop."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 2, "face mesh (landmarks, presence)")
        self.runner = runner

    def run(self, image: Array, crop_to_frame: Affine) -> tuple[Points, np.ndarray, float]:
        """Landmarks (468×2, frame pixels), depth (468) and presence probability for one ROI of a host or
        device image (the crop is cut where the image lives; only the points come back to the host)."""
        xy, z, logit = self._pass(image, crop_to_frame)
        return xy, z, _probability(logit)

    def _pass(self, image: Array, crop_to_frame: Affine) -> tuple[Points, np.ndarray, float]:
        """:meth:`run` with the presence as the model's logit."""
        a, b = run_on_roi(self.runner, image, crop_to_frame, INPUT_SIZE)
        pts, logit = (a, b) if a.size > b.size else (b, a)
        pts = pts.reshape(468, 3).astype(np.float64)
        scale = float(np.sqrt(abs(np.linalg.det(crop_to_frame[:, :2]))))
        xy = transform_points(pts[:, :2], crop_to_frame)
        return xy, (pts[:, 2] * scale).astype(np.float32), float(logit.reshape(-1)[0])

    def landmarks(self, image: Array, det: Detection, *, refine: int = 1, any_roll: bool = True) -> Face:
        """A :class:`Face` for ``det``: one pass on the detection ROI (``any_roll``, a photo: in the orientation
        the mesh is surest of, see :data:`SURE`; a video's or camera's frames keep the detector's, since an unsure
        face there would cost three more passes on every frame it is seen), then ``refine`` passes on the mesh
        ROI."""
        xy, z, logit = self._pass(image, roi_from_detection(det))
        for turns in (2, 1, 3) if logit < SURE and any_roll else ():  # upside down or sideways, or just unsure
            other = self._pass(image, roi_from_detection(det, turns))
            if other[2] > max(logit, TURNED):
                xy, z, logit = other
            if logit >= SURE:
                break
        presence = _probability(logit)
        for _ in range(refine):
            xy, z, presence = self.run(image, roi_from_landmarks(xy))
        return Face(detection=det, landmarks=xy, depth=z, presence=presence)
