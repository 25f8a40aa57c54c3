"""Texture matching: a sharp, clean source face pasted into a blurred or grainy target head looks stuck on.

The target's blur is measured at its edges, where it does not depend on what the face shows: re-blurring an edge
by σ0 lowers its gradient by a ratio R that only depends on the edge's own blur, σ = σ0 / √(R² − 1) (Zhuo & Sim,
"Defocus map estimation from a single image", 2011), the median over the strongest edges on the skin. When the
target is clearly softer than the warped source, the source is blurred by the difference (never sharpened). The
grain is measured as the noise of the finest scale (Immerkær, "Fast noise variance estimation", 1996: a Laplacian
difference robust to the face's own structure, here with a median); when the target is clearly noisier than the
swapped face, luma noise makes up the difference, drawn from one fixed pattern anchored to the frame, so a video's
frames do not boil. Sharp, clean targets (every repository portrait) are left exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import ModuleType

import cv2
import numpy as np

from ghostlive.ops.filters import expand, gaussian_blur
from ghostlive.types import Array
from ghostlive.xp import array_module, to_device

REBLUR = 1.0
"""σ0 (px) of the re-blur that probes an edge's own blur."""
EDGE_SHARE = 0.1
"""The strongest tenth of the skin's gradients count as edges."""
SOFT_MIN = 2.0
"""A target whose edges are blurred by less than this σ (px) counts as sharp: the repository's portraits measure
0.6 to 1.8, Grace Hopper's blurred by σ = 2 px 2.0, by 6 px 6.4."""
SOFTEN_MIN = 1.0
"""The least blur (σ, px) worth adding to the source; less is not visible."""
GRAIN_MIN = 3.0
"""The target's noise must exceed the swapped face's by this many levels (σ of luma) and be twice it: the
repository's portraits measure 0.4 to 4.2 (a small JPEG face), sharp sources warped onto them up to 11."""
_TILE = 256
_EDGE_PX = 30
_NOISE_PX = 25
_LAPLACE = np.float32([[1, -2, 1], [-2, 4, -2], [1, -2, 1]])


def _inner(weight: np.ndarray, radius: int) -> np.ndarray:
    """``weight`` > 0 eroded by ``radius`` px (no measure straddles the edge of the warped source)."""
    k = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.erode((weight > 0).astype(np.uint8), k) > 0


def _gradient(lum: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(lum, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lum, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy) / 8.0


def blur_scale(lum: np.ndarray, weight: np.ndarray) -> float:
    """The blur σ (px) of the edges of ``lum`` (host H×W float32 luma) inside ``weight`` (H×W, > 0 counts);
    0 where too few edges show to tell."""
    inside = _inner(weight, 3)
    if not inside.any():
        return 0.0
    g = _gradient(lum)
    g0 = _gradient(cv2.GaussianBlur(lum, (0, 0), REBLUR))
    edges = inside & (g >= np.quantile(g[::2, ::2][inside[::2, ::2]], 1.0 - EDGE_SHARE)) & (g > 2.0)
    if int(edges.sum()) < _EDGE_PX:
        return 0.0
    r = g[edges] / np.maximum(g0[edges], 1e-3)
    return float(np.median(REBLUR / np.sqrt(np.maximum(r * r - 1.0, 1e-3))))


def noise_level(lum: np.ndarray, weight: np.ndarray) -> float:
    """The σ (levels) of the finest-scale noise of ``lum`` (host H×W float32 luma) inside ``weight``; 0 where
    too few pixels."""
    inside = _inner(weight, 1)[::2, ::2]  # every fourth pixel: a fair sample, a quarter of the median's cost
    if int(inside.sum()) < _NOISE_PX:
        return 0.0
    r = cv2.filter2D(lum, -1, _LAPLACE)[::2, ::2]
    return float(np.median(np.abs(r[inside])) / (0.6745 * 6.0))


def matching_blur(target: np.ndarray, source: Callable[[], np.ndarray], weight: np.ndarray) -> float:
    """The σ (px) by which to blur the warped source's luma (``source()``, asked for only when the target is soft)
    to match a clearly softer ``target`` (both host H×W float32 over the same ROI; ``weight``: the skin both
    show), else 0."""
    t = blur_scale(target, weight)
    if t < SOFT_MIN:
        return 0.0
    add = float(np.sqrt(max(t * t - blur_scale(source(), weight) ** 2, 0.0)))
    return add if add >= SOFTEN_MIN else 0.0


def matching_grain(target: np.ndarray, face: Callable[[], np.ndarray], weight: np.ndarray) -> float:
    """The σ (levels of luma) of the noise to add to the swapped face (``face()``: its luma, asked for only when
    the target is grainy) to match a clearly noisier ``target``, else 0 (both host H×W float32 over the ROI)."""
    t = noise_level(target, weight)
    if t < GRAIN_MIN:
        return 0.0
    f = noise_level(face(), weight)
    if t - f < GRAIN_MIN or t < 2.0 * f:
        return 0.0
    return float(np.sqrt(t * t - f * f))


def soften(image: Array, covered: Array, sigma: float) -> Array:
    """``image`` (H×W×3 float) Gaussian-blurred by ``sigma`` inside ``covered``, from covered pixels only (the
    uncovered rest, no source there, does not bleed in); unchanged elsewhere."""
    xp = array_module(image)
    cov = covered.astype(xp.float32)
    num = gaussian_blur(image * expand(cov), sigma)
    den = expand(xp.maximum(gaussian_blur(cov, sigma), 1e-4))
    return xp.where(expand(cov) > 0, num / den, image)


@lru_cache(maxsize=2)
def _tile(xp: ModuleType) -> Array:
    """The fixed noise pattern (unit σ), the same on every run."""
    return to_device(np.random.default_rng(0x6E015E).standard_normal((_TILE, _TILE)).astype(np.float32), xp)


def add_grain(image: Array, where: Array, sigma: float, origin: tuple[int, int]) -> Array:
    """``image`` (H×W×3 float, the ROI whose top-left frame pixel is ``origin`` = (x, y)) with luma noise of σ
    ``sigma`` added where ``where`` is true, clipped to 0..255. The noise is a fixed pattern tiled over the frame:
    the same pixel gets the same value in every frame."""
    xp = array_module(image)
    h, w = image.shape[:2]
    ys = (xp.arange(h) + origin[1]) % _TILE
    xs = (xp.arange(w) + origin[0]) % _TILE
    noise = _tile(xp)[ys[:, None], xs[None, :]] * xp.float32(sigma) * where.astype(xp.float32)
    return xp.clip(image + expand(noise), 0.0, 255.0)
