"""Face alignment geometry: templates, similarity fits, crop warps and their inverses."""

from __future__ import annotations

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.ops.filters import warp_affine
from ghostlive.types import Affine, Array, Points

ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    np.float64,
)
"""insightface's five-point template for 112×112 ArcFace crops."""

GHOST_FRONTAL_112 = np.array(
    [[39.7300, 51.1380], [72.2700, 51.1380], [56.0000, 68.4930], [42.4630, 87.0100], [69.5370, 87.0100]],
    np.float64,
)
"""GHOST's frontal template at 112 px (doubled for its 224 crops)."""

FFHQ_512 = np.array(
    [
        [0.37691676, 0.46864664],
        [0.62285697, 0.46912813],
        [0.50123859, 0.61331904],
        [0.39308822, 0.72541100],
        [0.61150205, 0.72490465],
    ],
    np.float64,
)
"""The FFHQ whole-face template, as a fraction of the crop (face restorers, parsers and occluders)."""

# GHOST's five pose templates at 112 px (insightface 0.2.1 face_align, which GHOST pins): left profile, left,
# frontal, right, right profile. insightface keeps them in float32; so does estimate_norm below.
GHOST_TEMPLATES_112 = np.array(
    [
        [[51.6420, 50.1150], [57.6170, 49.9900], [35.7400, 69.0070], [51.1570, 89.0500], [57.0250, 89.7020]],
        [[45.0310, 50.1180], [65.5680, 50.8720], [39.6770, 68.1110], [45.1770, 86.1900], [64.2460, 86.7580]],
        GHOST_FRONTAL_112.tolist(),
        [[46.8450, 50.8720], [67.3820, 50.1180], [72.7370, 68.1110], [48.1670, 86.7580], [67.2360, 86.1900]],
        [[54.7960, 49.9900], [60.7710, 50.1150], [76.6730, 69.0070], [55.3880, 89.7020], [61.2570, 89.0500]],
    ],
    np.float64,
)


def template(kind: str, size: int) -> Points:
    """A five-point template scaled to a ``size`` crop: ``arcface`` (112 base), ``ghost`` (frontal, 112 base),
    ``inswapper`` (the ArcFace 112 template shifted 8 px right at 128, scaled by size/128), or ``ffhq``
    (:data:`FFHQ_512`, scaled to ``size``)."""
    if kind == "ffhq":
        return (FFHQ_512 * size).astype(np.float32)
    if kind == "arcface":
        return (ARCFACE_112 * size / 112.0).astype(np.float32)
    if kind == "ghost":
        return (GHOST_FRONTAL_112 * size / 112.0).astype(np.float32)
    if kind == "inswapper":
        ratio = size / 128.0  # insightface: the 112 template, unscaled at 128, shifted 8 px right
        return ((ARCFACE_112 + np.array([8.0, 0.0])) * ratio).astype(np.float32)
    raise ConfigError(f"unknown template {kind!r}; expected arcface, ghost, inswapper or ffhq")


def similarity_transform(src: Points, dst: Points) -> Affine:
    """The least-squares similarity (rotation, uniform scale, translation) taking ``src`` points onto ``dst``
    (Umeyama's closed form, reflection excluded). Returns a 2×3 matrix."""
    s = np.asarray(src, np.float64)
    d = np.asarray(dst, np.float64)
    if s.shape != d.shape or s.ndim != 2 or s.shape[1] != 2 or len(s) < 2:
        raise ValueError(f"need two matching N×2 point sets with N ≥ 2, got {s.shape} and {d.shape}")
    ms, md = s.mean(0), d.mean(0)
    sc, dc = s - ms, d - md
    cov = dc.T @ sc / len(s)
    u, sig, vt = np.linalg.svd(cov)
    e = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        e[1, 1] = -1
    rot = u @ e @ vt
    var = (sc**2).sum() / len(s)
    scale = float((sig * np.diag(e)).sum() / var) if var > 0 else 1.0
    t = md - scale * rot @ ms
    return np.hstack([scale * rot, t[:, None]])


def transform_points(points: Points, m: Affine) -> Points:
    """Apply a 2×3 affine to N×2 points."""
    p = np.asarray(points, np.float64)
    return (p @ m[:, :2].T + m[:, 2]).astype(np.float32)


def invert_affine(m: Affine) -> Affine:
    """The inverse of a 2×3 affine."""
    a = np.linalg.inv(m[:, :2])
    return np.hstack([a, -a @ m[:, 2:3]])


def reprojection_error(src: Points, dst: Points, m: Affine) -> float:
    """Summed distance between ``dst`` and ``src`` mapped by ``m``."""
    return float(np.linalg.norm(transform_points(src, m) - np.asarray(dst), axis=1).sum())


def estimate_norm(keypoints5: Points, size: int, kind: str = "arcface") -> Affine:
    """Frame→crop similarity for a ``size`` crop of ``kind`` (arcface, ghost, inswapper).

    For ``ghost`` the five pose templates are tried and the one with the lowest reprojection error wins, as
    GHOST does.
    """
    if kind == "ghost":
        candidates = GHOST_TEMPLATES_112.astype(np.float32) * np.float32(size / 112.0)
        fits = [similarity_transform(keypoints5, t) for t in candidates]
        errors = [reprojection_error(keypoints5, t, m) for t, m in zip(candidates, fits, strict=True)]
        return fits[int(np.argmin(errors))]
    return similarity_transform(keypoints5, template(kind, size))


def norm_crop(image: Array, keypoints5: Points, size: int, kind: str = "arcface") -> tuple[Array, Affine]:
    """The aligned ``size``×``size`` crop (bilinear, black border) and the frame→crop matrix."""
    m = estimate_norm(keypoints5, size, kind)
    return warp_affine(image, m, (size, size), border="constant"), m
