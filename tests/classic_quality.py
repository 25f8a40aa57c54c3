"""Artefact measures for a face swap on the portrait pairs of :mod:`ghostlive.pairs` (issue 14's targets).

Each is measured on the target face as ghostlive's own mesh finds it in the target photo, so a swap that moves
the face cannot hide from it:

- eye and mouth colour: median Lab colour of the core (eroded by ``CORE`` px) of each eye opening and of the
  inner mouth in the result, against the same region in the target and in the source (its own landmarks); the
  distance to the nearer input. The core and the median: the classic swapper moves the eyes by a pixel or two
  toward the source's proportions, which must not count the lids now inside the target's outline as eye;
- grey: the largest channel difference inside the face outline, for targets that are grey;
- near-black: the share of the face (inside the outline) darker than ``BLACK`` luma, result minus target;
- identity: dlib's judge (tests/identity.py) says the result is nearer the source than the target;
- pose: the angle between the head poses the built-in mesh reads on the target and on the result
  (:func:`ghostlive.eval.geometry.pose_error`, as ``ghostlive eval`` reports it), and its two parts: with the
  result's image positions and the target's depth (where the swap put the features: its geometry), and with the
  target's positions and the result's depth (what the mesh model infers from the swapped pixels).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ghostlive.eval.geometry import face_frame, mesh3d, pose_error
from ghostlive.faces import FaceAnalyzer
from ghostlive.models.facemesh import topology
from ghostlive.types import Face

from .identity import descriptor

BLACK = 20
"""Luma below which a face pixel counts as near-black."""
OPENINGS = ("right_eye", "left_eye", "mouth")
CORE = 2
"""Pixels an opening is eroded by before its colour is taken."""
POSE_PARTS = ("pose", "pose_geometry", "pose_depth")
MIN_PIXELS = 12
"""Openings smaller than this (closed eyes, closed mouths) have no colour to compare."""


@dataclass(frozen=True)
class PairScore:
    name: str
    colour: float
    """Worst opening's Lab distance to the nearer input (0 if no opening is open)."""
    grey: float | None
    """Largest channel difference inside the face (grey targets only)."""
    black_excess: float
    """Near-black share of the face in the result minus that of the target."""
    identity: bool | None
    """dlib: result nearer the source than the target (None: dlib finds no face in an input)."""
    pose: tuple[float, float, float] = (np.nan, np.nan, np.nan)
    """Head pose difference to the target (degrees): whole, geometry part, inferred-depth part (see
    :func:`pose_parts`; NaN when the mesh finds no face in the result)."""


@lru_cache(maxsize=1)
def _analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


@lru_cache(maxsize=1)
def _eval_analyzer() -> FaceAnalyzer:
    return FaceAnalyzer(tile_levels=0)  # as ``ghostlive eval`` sees faces (one pass finds the largest)


def _face(image: np.ndarray) -> Face:
    return max(_analyzer().analyze(image), key=lambda f: f.detection.area)


def _region(shape: tuple[int, ...], polygon: np.ndarray, erode: int = 1) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.rint(polygon).astype(np.int32)], 1)
    return cv2.erode(m, np.ones((3, 3), np.uint8), iterations=erode).astype(bool) if erode else m.astype(bool)


def _lab(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    return np.median(lab[mask], axis=0)


def opening_colour(source: np.ndarray, target: np.ndarray, result: np.ndarray) -> float:
    """The worst opening's Lab distance between the result and the nearer of its two inputs."""
    topo = topology()
    s_face, t_face = _face(source), _face(target)
    worst = 0.0
    for name in OPENINGS:
        t_mask = _region(target.shape, t_face.landmarks[topo.regions[name]], CORE)
        if t_mask.sum() < MIN_PIXELS:
            continue
        out = _lab(result, t_mask)
        dists = [float(np.linalg.norm(out - _lab(target, t_mask)))]
        s_mask = _region(source.shape, s_face.landmarks[topo.regions[name]], CORE)
        if s_mask.sum() >= MIN_PIXELS:
            dists.append(float(np.linalg.norm(out - _lab(source, s_mask))))
        worst = max(worst, min(dists))
    return worst


def face_inside(image: np.ndarray) -> np.ndarray:
    return _region(image.shape, _face(image).landmarks[topology().oval], erode=0)


def channel_spread(image: np.ndarray, mask: np.ndarray) -> float:
    px = image[mask].astype(int)
    return float((px.max(1) - px.min(1)).max()) if len(px) else 0.0


def black_share(image: np.ndarray, mask: np.ndarray) -> float:
    return float((cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[mask] < BLACK).mean())


def nearer_source(source: np.ndarray, target: np.ndarray, result: np.ndarray) -> bool | None:
    try:
        s, t = descriptor(source), descriptor(target)
    except AssertionError:
        return None
    try:
        r = descriptor(result)
    except AssertionError:
        return False
    return bool(np.linalg.norm(r - s) < np.linalg.norm(r - t))


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    """Degrees of the rotation between the face frames of two 468×3 meshes."""
    cos = (np.trace(face_frame(a).T @ face_frame(b)) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def pose_parts(target: np.ndarray, result: np.ndarray) -> tuple[float, float, float]:
    """The mesh-judged pose difference of ``result`` to ``target`` (degrees) and its parts: the result's image
    positions with the target's depth, and the target's positions with the result's depth."""
    t_faces, r_faces = _eval_analyzer().analyze(target), _eval_analyzer().analyze(result)
    if not t_faces or not r_faces:
        return (np.nan, np.nan, np.nan)
    t_face, r_face = (max(f, key=lambda x: x.detection.area) for f in (t_faces, r_faces))
    t3, r3 = mesh3d(t_face), mesh3d(r_face)
    geometry = np.column_stack([r3[:, :2], t3[:, 2]])
    depth = np.column_stack([t3[:, :2], r3[:, 2]])
    return (pose_error(t_face, r_face)["pose"], _angle(t3, geometry), _angle(t3, depth))


def score(name: str, source: np.ndarray, target: np.ndarray, result: np.ndarray) -> PairScore:
    inside = face_inside(target)
    grey = channel_spread(target, inside) <= 3
    return PairScore(
        name,
        opening_colour(source, target, result),
        channel_spread(result, inside) if grey else None,
        black_share(result, inside) - black_share(target, inside),
        nearer_source(source, target, result),
        pose_parts(target, result),
    )


def score_folder(pairs_dir: Path, out_dir: Path) -> list[PairScore]:
    """Scores of every pair in ``pairs_dir/pairs.json`` whose result is ``out_dir/NAME.png``."""
    scores = []
    for e in json.loads((pairs_dir / "pairs.json").read_text())["pairs"]:
        src, tgt = (cv2.imread(str(pairs_dir / e[k]), cv2.IMREAD_COLOR) for k in ("source", "target"))
        scores.append(score(e["name"], src, tgt, cv2.imread(str(out_dir / f"{e['name']}.png"), cv2.IMREAD_COLOR)))
    return scores


def summary(scores: list[PairScore]) -> dict[str, float | str]:
    judged = [s.identity for s in scores if s.identity is not None]
    greys = [s.grey for s in scores if s.grey is not None]
    return {
        "pairs": len(scores),
        "colour_within_8": float(np.mean([s.colour <= 8.0 for s in scores])),
        "colour_median": float(np.median([s.colour for s in scores])),
        "colour_worst": float(max(s.colour for s in scores)),
        "grey_worst": float(max(greys)) if greys else 0.0,
        "black_excess_worst": float(max(s.black_excess for s in scores)),
        "identity_source": float(np.mean(judged)) if judged else 0.0,
        "identity_judged": f"{len(judged)}/{len(scores)}",
        **{f"{k}_median": float(np.nanmedian([s.pose[i] for s in scores])) for i, k in enumerate(POSE_PARTS)},
    }


def report(pairs_dir: Path, out_dir: Path) -> str:
    scores = score_folder(pairs_dir, out_dir)
    lines = [
        f"{s.name:32s} colour {s.colour:5.1f}  grey {s.grey}  black {s.black_excess:+.4f}  id {s.identity}  "
        + "  ".join(f"{k} {v:5.2f}" for k, v in zip(POSE_PARTS, s.pose, strict=True))
        for s in scores
    ]
    return "\n".join([*lines, json.dumps(summary(scores), indent=1)])
