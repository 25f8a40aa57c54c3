"""Swapped crops and how they reach the frame: a swapper's crop (:class:`SwapCrop`) is placed into the frame
region it covers (:func:`place`, a :class:`Paste`), and the pastes are composited into a copy of the frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ghostlive.ops.align import transform_points
from ghostlive.ops.filters import expand, warp_affine
from ghostlive.ops.mesh import points_roi
from ghostlive.types import Affine, Array, Frame, Roi
from ghostlive.xp import array_module, to_device

RegionMaskFn = Callable[..., Array]
"""A swapper's own mask built in frame pixels: ``fn(crop_size, crop_to_region, region_size, like=face)``
(insightface's paste mask, :func:`ghostlive.ops.paste_mask.inswapper_mask`)."""


@dataclass(frozen=True)
class SwapCrop:
    """What a swapper renders for one face: ``image`` (H×W×3, any dtype, float32 once placed), the swapper's
    own mask contribution and the crop→frame affine ``to_frame``.

    ``mask`` is a crop-space array (soft, 0–1), a :data:`RegionMaskFn` built in frame pixels, or None (the whole
    crop). A crop taken straight out of the frame (``to_frame`` an integer translation, e.g. the classic
    swapper's face region) is pasted as it is; any other is warped into the region it covers."""

    image: Array
    to_frame: Affine
    mask: Array | RegionMaskFn | None = None

    @staticmethod
    def region(roi: Roi, image: Array, mask: Array | None = None) -> SwapCrop:
        """A crop that is the frame region ``roi`` (a translation)."""
        return SwapCrop(image, np.array([[1.0, 0.0, roi[0]], [0.0, 1.0, roi[1]]]), mask)


@dataclass(frozen=True)
class Paste:
    """A face rendered for one region of a frame: ``face`` (float32 H×W×3) and its soft ``mask`` (H×W) over
    ``roi``. Pixels where the mask is 0 are left exactly as they were."""

    roi: Roi
    face: Array
    mask: Array


def crop_to_frame_region(crop_size: int, to_frame: Affine, shape: tuple[int, ...]) -> tuple[Roi, Affine] | None:
    """The frame region a ``crop_size`` crop placed by ``to_frame`` covers (one zero pixel of margin around the
    warped square), and the crop→region matrix; None when it lies outside the frame."""
    n = crop_size
    corners = transform_points(np.array([[0, 0], [n, 0], [0, n], [n, n]], np.float32), to_frame)
    roi = points_roi(corners, shape, margin=1)
    if roi is None:
        return None
    shifted = np.array(to_frame, np.float64)
    shifted[:, 2] -= (roi[0], roi[1])
    return roi, shifted


def _offset(to_frame: Affine) -> tuple[int, int] | None:
    """(x, y) when ``to_frame`` is a whole-pixel translation, else None."""
    m = np.asarray(to_frame, np.float64)
    if not np.array_equal(m[:, :2], np.eye(2)) or not np.array_equal(m[:, 2], np.round(m[:, 2])):
        return None
    return int(m[0, 2]), int(m[1, 2])


def place(frame: Array, crop: SwapCrop | None) -> Paste | None:
    """``crop`` in the frame region it covers, on the frame's array module (face: replicate border, as GHOST;
    a crop-space mask: zero border, clipped to [0, 1]); None when there is nothing to paste."""
    if crop is None:
        return None
    xp = array_module(frame)
    h, w = crop.image.shape[:2]
    at = _offset(crop.to_frame)
    if at is not None:  # already frame pixels: the crop is its region
        mask = xp.ones((h, w), xp.float32) if crop.mask is None else crop.mask
        return Paste((at[0], at[1], at[0] + w, at[1] + h), crop.image, mask)
    placed = crop_to_frame_region(h, crop.to_frame, frame.shape)
    if placed is None:
        return None
    roi, shifted = placed
    size_out = (roi[2] - roi[0], roi[3] - roi[1])
    face = warp_affine(to_device(crop.image, xp).astype(xp.float32), shifted, size_out, border="replicate")
    if callable(crop.mask):
        soft = crop.mask(h, shifted, size_out, like=face)
    else:
        own = xp.ones((h, w), xp.float32) if crop.mask is None else to_device(crop.mask, xp).astype(xp.float32)
        soft = warp_affine(own, shifted, size_out, border="constant")
    return Paste(roi=roi, face=face, mask=xp.clip(soft, 0.0, 1.0))


def composite(frame: Array, items: list[Paste | None]) -> Array:
    """A copy of ``frame`` with every rendered face pasted in (None entries: nothing to paste)."""
    out = frame.copy()
    for item in items:
        if item is not None:
            paste(out, item)
    return out


def paste(frame: Array, item: Paste, amount: float = 1.0) -> Array:
    """Composite ``item`` into ``frame`` in place (out = m·face + (1−m)·frame with m = amount·mask); returns
    ``frame``."""
    xp = array_module(frame)
    x0, y0, x1, y1 = item.roi
    region = frame[y0:y1, x0:x1]
    m = expand(item.mask * amount, region.shape[-1])
    mixed = region.astype(xp.float32) * (1.0 - m) + item.face * m
    mixed = xp.clip(xp.rint(mixed), 0, 255).astype(frame.dtype)
    frame[y0:y1, x0:x1] = xp.where(m > 0, mixed, region)
    return frame


def draw_label(image: Frame, text: str) -> Frame:
    """A visible disclosure in the bottom-left corner of a host image, drawn in place; returns ``image``."""
    h = image.shape[0]
    scale = max(0.4, h / 900)
    thickness = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = 10, h - 10
    cv2.rectangle(image, (x - 4, y - th - 6), (x + tw + 4, y + base), (0, 0, 0), -1)
    cv2.putText(image, text, (x, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return image
