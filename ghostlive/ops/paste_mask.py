"""insightface's inswapper paste mask, built in frame pixels as ``INSwapper.get`` builds it."""

from __future__ import annotations

import cv2
import numpy as np

from ghostlive.ops.filters import gaussian_blur, warp_affine
from ghostlive.types import Affine, Array
from ghostlive.xp import array_module, host_fast_path, ndimage_module, to_host


def opencv_sigma(ksize: int) -> float:
    """The σ OpenCV derives from a kernel size when it is given σ = 0 (sizes above 7)."""
    return 0.3 * ((ksize - 1) * 0.5 - 1.0) + 0.8


def inswapper_mask(crop_size: int, crop_to_roi: Affine, roi_size: tuple[int, int], like: Array) -> Array:
    """The paste mask (float32 0–1, ``roi_size`` = (width, height), on the array module of ``like``) for a
    ``crop_size`` crop mapped into a frame region by ``crop_to_roi``, exactly as insightface computes it in
    the frame: the crop-sized square of 255 warped into the frame (bilinear, zero border); values above 20
    set to 255; s = int(√(h·w)) of the extent (max − min row and column) of the 255 pixels; eroded with a
    k×k kernel, k = max(s//10, 10); Gaussian blur of kernel 2·r+1, r = max(s//20, 5), with OpenCV's σ for that
    kernel; /255. The region must hold a zero pixel between the warped square and each edge that lies inside
    the frame (as :func:`ghostlive.ops.blend.place` makes it), so nothing differs from the
    full-frame computation."""
    xp = array_module(like)
    white = xp.full((crop_size, crop_size), 255.0, xp.float32)
    mask = warp_affine(white, crop_to_roi, roi_size, border="constant")
    mask = xp.where(mask > 20, xp.float32(255.0), mask)
    full = to_host(mask == 255)
    rows, cols = np.nonzero(full.any(1))[0], np.nonzero(full.any(0))[0]
    if len(rows) == 0:
        return xp.zeros((roi_size[1], roi_size[0]), xp.float32)
    size = int(np.sqrt(float(rows[-1] - rows[0]) * float(cols[-1] - cols[0])))
    k = max(size // 10, 10)
    if host_fast_path(xp):
        mask = cv2.erode(mask, np.ones((k, k), np.uint8))
    else:  # OpenCV's erosion ignores pixels outside the image; replicating the edge gives the same minimum
        mask = ndimage_module(xp).minimum_filter(mask, size=(k, k), mode="nearest")
    r = max(size // 20, 5)
    sigma = opencv_sigma(2 * r + 1)
    return gaussian_blur(mask, sigma, truncate=r / sigma) / xp.float32(255.0)
