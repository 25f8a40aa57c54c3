"""Resampling and filtering primitives over numpy or cupy.

Each function takes host (numpy) or device (cupy) arrays and returns the same kind. The device path, the
``backend="ndimage"`` host path and :func:`ghostlive.xp.portable` mode use (cupyx.)scipy.ndimage and array
maths; the default host path uses OpenCV, which is several times faster on a CPU. Tests check that the paths
agree.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType
from typing import Literal

import cv2
import numpy as np

from ghostlive.types import Affine, Array
from ghostlive.xp import array_module, host_fast_path, ndimage_module, to_device

Border = Literal["constant", "replicate"]
Backend = Literal["auto", "opencv", "ndimage"]
Interpolation = Literal["linear", "area"]

_CV_BORDER = {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}
_ND_MODE = {"constant": "grid-constant", "replicate": "nearest"}


def _use_opencv(xp: object, backend: Backend) -> bool:
    return host_fast_path(xp) and backend != "ndimage"  # type: ignore[arg-type]


def _inverse(m: Affine) -> np.ndarray:
    a = np.linalg.inv(np.asarray(m, np.float64)[:, :2])
    return np.hstack([a, -a @ np.asarray(m, np.float64)[:, 2:3]])


def warp_affine(
    image: Array, m: Affine, size: tuple[int, int], *, border: Border = "constant", backend: Backend = "auto"
) -> Array:
    """Warp ``image`` (H×W or H×W×C) by the 2×3 matrix ``m`` (source → destination pixel coordinates) into a
    ``size`` = (width, height) output, bilinear."""
    xp = array_module(image)
    w, h = size
    if _use_opencv(xp, backend):
        return cv2.warpAffine(
            image, np.asarray(m, np.float64), (w, h), flags=cv2.INTER_LINEAR, borderMode=_CV_BORDER[border]
        )
    inv = _inverse(m)
    rows, cols = xp.meshgrid(xp.arange(h, dtype=xp.float32), xp.arange(w, dtype=xp.float32), indexing="ij")
    src_x = inv[0, 0] * cols + inv[0, 1] * rows + inv[0, 2]
    src_y = inv[1, 0] * cols + inv[1, 1] * rows + inv[1, 2]
    return remap(image, src_x, src_y, border=border, backend="ndimage")


def remap(image: Array, map_x: Array, map_y: Array, *, border: Border = "constant", backend: Backend = "auto") -> Array:
    """Sample ``image`` at (map_x, map_y) for every output pixel, bilinear (cv2.remap semantics)."""
    xp = array_module(image, map_x)
    if _use_opencv(xp, backend):
        return cv2.remap(
            image, map_x.astype(np.float32), map_y.astype(np.float32), cv2.INTER_LINEAR, borderMode=_CV_BORDER[border]
        )
    ndi = ndimage_module(xp)
    coords = xp.stack([map_y, map_x])
    src = image.astype(xp.float32)
    mode = _ND_MODE[border]
    if image.ndim == 2:
        out = ndi.map_coordinates(src, coords, order=1, mode=mode, cval=0.0)
    else:
        out = xp.stack(
            [ndi.map_coordinates(src[..., c], coords, order=1, mode=mode, cval=0.0) for c in range(image.shape[2])],
            axis=-1,
        )
    return _cast_like(out, image)


def gaussian_blur(
    image: Array, sigma: float | tuple[float, float], *, truncate: float = 3.0, backend: Backend = "auto"
) -> Array:
    """Gaussian blur over the two spatial axes (``sigma``: one value, or (σx, σy)), kernel radius
    ``int(truncate·σ + 0.5)``, mirrored borders (cv2.BORDER_REFLECT_101). Values farther than the radius from
    any non-zero pixel stay exactly zero."""
    sx, sy = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
    if sx <= 0 or sy <= 0:
        return image
    xp = array_module(image)
    if _use_opencv(xp, backend):
        k = (2 * int(truncate * sx + 0.5) + 1, 2 * int(truncate * sy + 0.5) + 1)
        return cv2.GaussianBlur(image, k, sigmaX=sx, sigmaY=sy, borderType=cv2.BORDER_REFLECT_101)
    ndi = ndimage_module(xp)
    sig = (sy, sx) + (0.0,) * (image.ndim - 2)
    out = ndi.gaussian_filter(image.astype(xp.float32), sig, mode="mirror", truncate=truncate)
    return _cast_like(out, image)


def low_pass(image: Array, sigma: float) -> Array:
    """:func:`gaussian_blur` for a large ``sigma``, computed at 1/f of the resolution (f ≈ σ/3, area
    shrink, bilinear enlargement): the same smooth result for far fewer pixels."""
    f = int(sigma / 3.0)
    if f < 2:
        return gaussian_blur(image, sigma)
    h, w = image.shape[:2]
    small = resize(image, (-(-w // f), -(-h // f)), interpolation="area")
    return resize(gaussian_blur(small, sigma / f), (w, h))


def resize(
    image: Array,
    size: tuple[int, int],
    *,
    interpolation: Interpolation = "linear",
    backend: Backend = "auto",
) -> Array:
    """Resize to ``size`` = (width, height): bilinear with pixel-centre alignment (cv2.INTER_LINEAR), or
    ``area`` for shrinking (each output pixel the exact area-weighted mean of the input it covers, as
    cv2.INTER_AREA; enlarging with ``area`` falls back to bilinear)."""
    xp = array_module(image)
    w, h = size
    area = interpolation == "area" and w <= image.shape[1] and h <= image.shape[0]
    if _use_opencv(xp, backend):
        return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR)
    if area:
        wy, wx = _area_weights_on(xp, image.shape[0], h), _area_weights_on(xp, image.shape[1], w)
        src = image.astype(xp.float32)
        out = xp.tensordot(wy, src, axes=(1, 0))  # h×W(×C)
        out = xp.moveaxis(xp.tensordot(wx, out, axes=(1, 1)), 0, 1)  # h×w(×C)
        return _cast_like(out, image)
    sy, sx = image.shape[0] / h, image.shape[1] / w
    ys = (xp.arange(h, dtype=xp.float32) + 0.5) * sy - 0.5
    xs = (xp.arange(w, dtype=xp.float32) + 0.5) * sx - 0.5
    my, mx = xp.meshgrid(xp.clip(ys, 0, None), xp.clip(xs, 0, None), indexing="ij")
    return remap(image, mx, my, border="replicate", backend="ndimage")


@lru_cache(maxsize=32)
def _area_weights_on(xp: ModuleType, n_in: int, n_out: int) -> Array:
    """:func:`area_weights` kept on ``xp`` (uploaded once per frame size, not once per frame)."""
    return to_device(area_weights(n_in, n_out), xp)


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """n_out×n_in matrix whose row i holds the fraction of input pixel j inside output pixel i's footprint
    [i·s, (i+1)·s), s = n_in/n_out, normalised to sum 1 (area resampling along one axis)."""
    s = n_in / n_out
    lo = np.arange(n_out)[:, None] * s
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + s, j + 1) - np.maximum(lo, j), 0.0, None)
    return (overlap / overlap.sum(1, keepdims=True)).astype(np.float32)


def _cast_like(out: Array, like: Array) -> Array:
    xp = array_module(out)
    if like.dtype == xp.uint8:
        return xp.clip(xp.rint(out), 0, 255).astype(xp.uint8)
    return out.astype(like.dtype)


def split_channels(image: Array) -> list[Array]:
    """The channels of an H×W×C image as C contiguous H×W arrays. Arithmetic on planes is several times faster
    in numpy than on H×W×C arrays against H×W×1 ones (a broadcast operand makes numpy loop over only C values
    at a time), with the same results."""
    xp = array_module(image)
    return [xp.ascontiguousarray(image[..., c]) for c in range(image.shape[-1])]


def merge_channels(planes: list[Array]) -> Array:
    """H×W planes stacked into one H×W×C image (the inverse of :func:`split_channels`)."""
    xp = array_module(planes[0])
    if host_fast_path(xp):
        return cv2.merge(planes)
    return xp.stack(planes, axis=-1)


def expand(plane: Array, channels: int = 3) -> Array:
    """An H×W weight repeated over ``channels`` as an H×W×C image, for arithmetic with H×W×C images at
    same-shape speed (see :func:`split_channels`); on a GPU, a broadcast view."""
    xp = array_module(plane)
    if host_fast_path(xp):
        return cv2.merge([plane] * channels)
    return plane[..., None]


def clip_channels(image: Array, lo: Array, hi: Array) -> Array:
    """``image`` (H×W×3) clipped channel by channel to [lo[c], hi[c]]: ``np.clip`` with per-channel bounds, which
    broadcasts and runs several times slower than OpenCV's per-channel scalars (the same values)."""
    xp = array_module(image)
    if host_fast_path(xp) and image.shape[-1] == 3:
        low, high = ((*(float(v) for v in b), 0.0) for b in (lo, hi))
        return cv2.min(cv2.max(image, low), high)
    return xp.clip(image, lo, hi)


def rgb_input(image: Array, scale: float, offset: float = 0.0) -> Array:
    """A BGR uint8 image (H×W×3) as a 1×H×W×3 float32 RGB model input, ``value · scale + offset``: the same
    values as ``image[None, ..., ::-1].astype(float32) * scale + offset`` (float32 arithmetic), which numpy runs
    5× slower through the reversed, strided view (0.12 against 0.02 ms for a 192×192 crop)."""
    xp = array_module(image)
    if not host_fast_path(xp) or image.ndim != 3 or image.shape[-1] != 3:
        out = image[None, ..., ::-1].astype(xp.float32) * xp.float32(scale)
        return out + xp.float32(offset) if offset else out
    out = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32)
    np.multiply(out, np.float32(scale), out=out)
    if offset:
        np.add(out, np.float32(offset), out=out)
    return out[None]
