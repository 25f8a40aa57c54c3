"""Texture matching: a sharp, clean source face pasted into a blurred or grainy target head looks stuck on.

The target's blur is measured at its edges, where it does not depend on what the face shows: re-blurring an edge
by σ0 lowers its gradient by a ratio R that only depends on the edge's own blur, σ = σ0 / √(R² − 1) (Zhuo & Sim,
"Defocus map estimation from a single image", 2011), the median over the strongest edges on the skin. When the
target is clearly softer than the warped source, the source is blurred by the difference (never sharpened). The
grain is measured as the noise of the finest scale (Immerkær, "Fast noise variance estimation", 1996: a Laplacian
difference robust to the face's own structure, here with a median); when the target is clearly noisier than the
swapped face, luma noise makes up the difference, drawn from one fixed pattern anchored to the frame, so a video's
frames do not boil. Sharp, clean targets (every repository portrait) are left exactly as they were.

In a video the measures wobble from frame to frame (a gentle sway moves Grace Hopper's noise by half a level), so
a track keeps a running average of each (:class:`Texture`, updated whenever the measures are taken again), and the
amount added rises gradually from none at the threshold (:data:`SOFT_RAMP`, :data:`GRAIN_RAMP`): a target hovering
at a threshold gets a small, steady effect, not one switched on and off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
SOFT_RAMP = 1.0
"""The blur added rises from none at a target blur of :data:`SOFT_MIN` to the full difference this σ (px) above."""
SOFTEN_MIN = 0.25
"""The least blur (σ, px) worth adding to the source; less is not visible (a 0.8 px edge would become 0.84)."""
GRAIN_MIN = 3.0
"""The target's noise must exceed the swapped face's by this many levels (σ of luma) and be twice it: the
repository's portraits measure 0.4 to 4.2 (a small JPEG face), sharp sources warped onto them up to 11."""
GRAIN_RAMP = 1.0
"""The grain added rises from none at the :data:`GRAIN_MIN` margin to the full difference this many levels above."""
GRAIN_LEAST = 0.25
"""The least grain (σ, levels) worth adding; less is not visible."""
SMOOTHING = 0.2
"""Weight of a new measure in a track's running average (measured every :data:`ghostlive.tracking.REUSE_FRAMES`
frames: it follows a change in about 1.5 s at 30 fps)."""
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
    if int(inside[::2, ::2].sum()) < _EDGE_PX:  # a face of a few pixels: too little skin to tell
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


@dataclass(frozen=True)
class Texture:
    """One texture measure of a face (blur or grain): the target's, the warped source's or swapped face's (None:
    not taken, the target being clean), each a track's running average; and the ``amount`` they call for."""

    target: float
    own: float | None = None
    amount: float = 0.0


def _average(held: float | None, new: float, unknown: bool = False) -> float:
    """``new`` folded into the running average ``held`` (None: the first); ``unknown``: ``new`` says nothing."""
    if held is None:
        return new
    return held if unknown else held + SMOOTHING * (new - held)


def _ramp(margin: float, width: float) -> float:
    return min(max(margin / width, 0.0), 1.0)


def matching_blur(
    target: np.ndarray, source: Callable[[], np.ndarray], weight: np.ndarray, held: Texture | None = None
) -> Texture:
    """The σ (px) by which to blur the warped source's luma (``source()``, asked for only when the target is soft)
    to match a clearly softer ``target`` (both host H×W float32 over the same ROI; ``weight``: the skin both
    show), rising from 0 at :data:`SOFT_MIN`; ``held``: the track's measures so far."""
    new = blur_scale(target, weight)
    t = _average(held.target if held else None, new, unknown=new == 0.0)
    if t < SOFT_MIN:
        return Texture(t, held.own if held else None)
    s = _average(held.own if held else None, blur_scale(source(), weight))
    add = float(np.sqrt(max(t * t - s * s, 0.0))) * _ramp(t - SOFT_MIN, SOFT_RAMP)
    return Texture(t, s, add if add >= SOFTEN_MIN else 0.0)


def matching_grain(
    target: np.ndarray, face: Callable[[], np.ndarray], weight: np.ndarray, held: Texture | None = None
) -> Texture:
    """The σ (levels of luma) of the noise to add to the swapped face (``face()``: its luma, asked for only when
    the target is grainy) to match a clearly noisier ``target`` (both host H×W float32 over the ROI), rising
    from 0 at the :data:`GRAIN_MIN` margin; ``held``: the track's measures so far."""
    new = noise_level(target, weight)
    t = _average(held.target if held else None, new, unknown=new == 0.0)
    if t < GRAIN_MIN:
        return Texture(t, held.own if held else None)
    f = _average(held.own if held else None, noise_level(face(), weight))
    grain = float(np.sqrt(max(t * t - f * f, 0.0))) * _ramp(t - max(f + GRAIN_MIN, 2.0 * f), GRAIN_RAMP)
    return Texture(t, f, grain if grain >= GRAIN_LEAST else 0.0)


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
