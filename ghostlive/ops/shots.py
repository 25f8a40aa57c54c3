"""Shot changes and "is this still the same face?" checks on tiny grey thumbnails (cheap enough for every frame).

Two frames belong to different shots when their thumbnails no longer correlate (normalised cross-correlation,
which ignores brightness and contrast changes such as lighting flicker) and, unless the structure changed
completely, their grey-level histograms differ too (a pan or zoom moves content but keeps its histogram).
On a device only a strided sample of at most ``4·size`` px per side is downloaded; the maths runs on the host
the same way for host and device frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ghostlive.types import Array
from ghostlive.xp import to_host

GREY = np.array([0.114, 0.587, 0.299], np.float32)  # BGR → luma
FLAT_STD = 2.0
"""A thumbnail whose grey levels vary less than this is flat (a black or uniform frame)."""


def grey_thumb(image: Array, size: int, box: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
    """``box`` (x1, y1, x2, y2; default the whole image) of a BGR image as a size×size float32 grey thumbnail
    on the host; None when the box holds no pixels."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (0, 0, w, h) if box is None else box
    x1, y1 = max(int(x1), 0), max(int(y1), 0)
    x2, y2 = min(int(np.ceil(x2)), w), min(int(np.ceil(y2)), h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    sy, sx = max(1, (y2 - y1) // (4 * size)), max(1, (x2 - x1) // (4 * size))
    sample = np.ascontiguousarray(to_host(image[y1:y2:sy, x1:x2:sx]), dtype=np.float32)
    small = cv2.resize(sample, (size, size), interpolation=cv2.INTER_AREA)
    return small @ GREY if small.ndim == 3 else small


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two thumbnails after a light blur (1: same picture, ~0: unrelated);
    1 when both are flat, 0 when only one is."""
    a, b = cv2.GaussianBlur(a, (0, 0), 1.0), cv2.GaussianBlur(b, (0, 0), 1.0)
    sa, sb = float(a.std()), float(b.std())
    if sa < FLAT_STD or sb < FLAT_STD:
        return 1.0 if sa < FLAT_STD and sb < FLAT_STD else 0.0
    return float(((a - a.mean()) * (b - b.mean())).mean() / (sa * sb))


def histogram_distance(a: np.ndarray, b: np.ndarray, bins: int = 16) -> float:
    """Half the L1 distance between grey-level histograms (0: same distribution, 1: disjoint)."""
    ha = np.histogram(a, bins, (0.0, 256.0))[0] / a.size
    hb = np.histogram(b, bins, (0.0, 256.0))[0] / b.size
    return 0.5 * float(np.abs(ha - hb).sum())


@dataclass
class ShotDetector:
    """Says whether each frame starts a new shot compared with the previous frame given to it."""

    size: int = 32
    unrelated: float = 0.35
    """Correlation below which the frames are different shots whatever their histograms."""
    changed: float = 0.6
    """Correlation below which a histogram change of at least ``histogram`` also makes a cut."""
    histogram: float = 0.25
    _last: np.ndarray | None = None

    def reset(self) -> None:
        self._last = None

    def is_cut(self, frame: Array) -> bool:
        """True when ``frame`` does not continue the previous frame's shot (False for the first frame)."""
        thumb = grey_thumb(frame, self.size)
        last, self._last = self._last, thumb
        if last is None or thumb is None:
            return False
        c = correlation(last, thumb)
        return c < self.unrelated or (c < self.changed and histogram_distance(last, thumb) > self.histogram)
