"""Geometry agreement of an output with its target: head pose, expression and eyes.

Judges: the built-in 468-point face mesh (with its relative depth) and iris model, and, when the ``eval``
extra is installed, dlib's 68-point shape predictor (see :mod:`ghostlive.eval.judges`). The mesh also drives
the classic swapper, so its numbers can flatter it; dlib's cannot. Sizes are percent of the target's
inter-ocular distance (eye centre to eye centre), angles are degrees.
"""

from __future__ import annotations

import numpy as np

from ghostlive.models.iris import IrisLandmarks
from ghostlive.types import Face, Frame, Points

SYMMETRIC_PAIRS = ((33, 263), (133, 362), (61, 291), (234, 454), (127, 356), (93, 323), (132, 361), (58, 288))
"""Mesh points mirrored across the face's midline (subject's right, left): they fix the face's x axis."""
EYE_POINTS = (33, 133, 263, 362)
MOUTH_CORNERS = (61, 291)
LIDS = {"right": (159, 145, 33, 133), "left": (386, 374, 362, 263)}
"""Upper lid, lower lid, and the two corners of each eye."""
LIPS_INNER = (13, 14)
DLIB_EYES = {"right": range(36, 42), "left": range(42, 48)}


def mesh3d(face: Face) -> np.ndarray:
    """468×3 mesh points (x, y right/down in pixels, z toward the camera in pixels)."""
    return np.column_stack([np.asarray(face.landmarks, np.float64), -np.asarray(face.depth, np.float64)])


def face_frame(points3d: np.ndarray) -> np.ndarray:
    """Rotation (columns: the face's x to its left, y down, z toward the camera) from the mesh's mirror pairs."""
    p = np.asarray(points3d, np.float64)
    x = np.mean([p[b] - p[a] for a, b in SYMMETRIC_PAIRS], axis=0)
    x /= np.linalg.norm(x)
    down = p[list(MOUTH_CORNERS)].mean(0) - p[list(EYE_POINTS)].mean(0)
    y = down - x * (down @ x)
    y /= np.linalg.norm(y)
    return np.column_stack([x, y, np.cross(x, y)])


def euler(rotation: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of a face rotation (yaw about y, pitch about x, roll about z)."""
    r = rotation
    yaw = np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
    roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
    return np.array([yaw, pitch, roll])


def pose(face: Face) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of a face, against the mesh's frontal face frame."""
    return euler(face_frame(mesh3d(face)))


def pose_error(target: Face, output: Face) -> dict[str, float]:
    """Absolute yaw/pitch/roll differences (degrees) and the angle of the rotation between the two faces."""
    ra, rb = face_frame(mesh3d(target)), face_frame(mesh3d(output))
    d = np.abs((pose(output) - pose(target) + 180.0) % 360.0 - 180.0)
    angle = np.degrees(np.arccos(np.clip((np.trace(ra.T @ rb) - 1.0) / 2.0, -1.0, 1.0)))
    return {"yaw": float(d[0]), "pitch": float(d[1]), "roll": float(d[2]), "pose": float(angle)}


def interocular(points: Points, eyes: dict[str, range] | None = None) -> float:
    """Distance between the two eye centres (mesh corners, or dlib's eye points with ``eyes``)."""
    p = np.asarray(points, np.float64)
    if eyes is not None:
        return float(np.linalg.norm(p[list(eyes["right"])].mean(0) - p[list(eyes["left"])].mean(0)))
    return float(np.linalg.norm(p[[33, 133]].mean(0) - p[[362, 263]].mean(0)))


def similarity_residual(target: Points, output: Points) -> float:
    """RMS distance of ``output`` to ``target`` after the best similarity fit (rotation, scale, shift) of
    output onto target, in target pixels: what pose and framing cannot explain, i.e. expression and shape."""
    a = np.asarray(target, np.float64)
    b = np.asarray(output, np.float64)
    ca, cb = a - a.mean(0), b - b.mean(0)
    u, s, vt = np.linalg.svd(cb.T @ ca)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1.0, d]) @ vt
    scale = (s * [1.0, d]).sum() / max((cb**2).sum(), 1e-12)
    return float(np.sqrt((((scale * cb @ rot) - ca) ** 2).sum(1).mean()))


def mesh_openings(points: Points) -> np.ndarray:
    """Mouth opening (inner lips over mouth width) and each eye's opening (lids over corner distance)."""
    p = np.asarray(points, np.float64)

    def ratio(a: int, b: int, c: int, d: int) -> float:
        return float(np.linalg.norm(p[a] - p[b]) / max(np.linalg.norm(p[c] - p[d]), 1e-6))

    return np.array([ratio(*LIPS_INNER, *MOUTH_CORNERS), ratio(*LIDS["right"]), ratio(*LIDS["left"])])


def dlib_openings(points: Points) -> np.ndarray:
    """The same ratios from dlib's 68 points (inner lips 62/66 over corners 48/54; lids 37–41/38–40, 43–47/44–46)."""
    p = np.asarray(points, np.float64)

    def eye(up: tuple[int, int], low: tuple[int, int], c: tuple[int, int]) -> float:
        opening = np.linalg.norm(p[list(up)].mean(0) - p[list(low)].mean(0))
        return float(opening / max(np.linalg.norm(p[c[0]] - p[c[1]]), 1e-6))

    mouth = float(np.linalg.norm(p[62] - p[66]) / max(np.linalg.norm(p[48] - p[54]), 1e-6))
    return np.array([mouth, eye((37, 38), (41, 40), (36, 39)), eye((43, 44), (47, 46), (42, 45))])


def expression_error(target: Points, output: Points, dlib: bool = False) -> dict[str, float]:
    """Expression agreement: landmark residual after a similarity fit (% inter-ocular) and the largest
    difference of the mouth/eye opening ratios (percentage points)."""
    iod = interocular(target, DLIB_EYES if dlib else None)
    openings = dlib_openings if dlib else mesh_openings
    return {
        "expression": 100.0 * similarity_residual(target, output) / max(iod, 1e-6),
        "openings": 100.0 * float(np.abs(openings(output) - openings(target)).max()),
    }


def eye_points(image: Frame, face: Face, iris: IrisLandmarks) -> np.ndarray:
    """Each eye's iris centre and its upper and lower lid points (6×2, frame pixels)."""
    lm = np.asarray(face.landmarks, np.float64)
    centres = [iris.eye(image, face, side).centre for side in ("right", "left")]
    lids = [lm[i] for side in ("right", "left") for i in LIDS[side][:2]]
    return np.vstack([np.asarray(centres, np.float64), np.asarray(lids)])


def eye_error(target_eyes: np.ndarray, output_eyes: np.ndarray, iod: float) -> float:
    """Mean distance of corresponding eye points (iris centres, lids), % of the inter-ocular distance."""
    d = np.linalg.norm(np.asarray(output_eyes) - np.asarray(target_eyes), axis=1).mean()
    return 100.0 * float(d) / max(iod, 1e-6)


def dlib_eye_error(target68: Points, output68: Points) -> float:
    """Eye landmark error with dlib's 12 eye points, % of dlib's inter-ocular distance."""
    idx = [*DLIB_EYES["right"], *DLIB_EYES["left"]]
    t, o = np.asarray(target68, np.float64)[idx], np.asarray(output68, np.float64)[idx]
    return eye_error(t, o, interocular(target68, DLIB_EYES))


def mesh_geometry(target_img: Frame, target: Face, output_img: Frame, output: Face, iris: IrisLandmarks) -> dict:
    """Every mesh-judged geometry number of one output."""
    out = pose_error(target, output)
    out |= expression_error(target.landmarks, output.landmarks)
    iod = interocular(target.landmarks)
    out["eyes"] = eye_error(eye_points(target_img, target, iris), eye_points(output_img, output, iris), iod)
    return out


def dlib_geometry(target68: Points, output68: Points) -> dict[str, float]:
    """Every dlib-judged geometry number of one output (dlib gives no 3D pose)."""
    return {**expression_error(target68, output68, dlib=True), "eyes": dlib_eye_error(target68, output68)}
