"""numpy BGR frames ↔ Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(frame: np.ndarray) -> QImage:
    """A deep copy of a BGR uint8 frame as a QImage (safe to keep after the array changes)."""
    rgb = np.ascontiguousarray(frame[..., ::-1])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_pixmap(frame: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(frame))
