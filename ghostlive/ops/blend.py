"""Compositing a rendered face back into the frame."""

from __future__ import annotations

from dataclasses import dataclass

from ghostlive.types import Array, Roi
from ghostlive.xp import array_module


@dataclass(frozen=True)
class Paste:
    """A face rendered for one region of a frame: ``face`` (float32 H×W×3) and its soft ``mask`` (H×W) over
    ``roi``. Pixels where the mask is 0 are left exactly as they were."""

    roi: Roi
    face: Array
    mask: Array


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
    m = (item.mask * amount)[..., None]
    mixed = region.astype(xp.float32) * (1.0 - m) + item.face * m
    mixed = xp.clip(xp.rint(mixed), 0, 255).astype(frame.dtype)
    frame[y0:y1, x0:x1] = xp.where(m > 0, mixed, region)
    return frame
