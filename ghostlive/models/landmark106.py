"""insightface ``2d106det``: 106 face landmarks from a 192×192 crop around a face box."""

from __future__ import annotations

import cv2
import numpy as np

from ghostlive.engines.base import Runner
from ghostlive.models.common import check_io
from ghostlive.types import Points

INPUT_SIZE = 192


class Landmark106:
    """``landmarks(image, box) → 106×2`` frame pixels (crop: box centre, 1.5× the longer side, RGB 0–255)."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "2d106det")
        self.runner = runner
        self._input = runner.info.inputs[0].name

    def landmarks(self, image: np.ndarray, box: tuple[float, float, float, float]) -> Points:
        x1, y1, x2, y2 = box
        scale = INPUT_SIZE / (max(x2 - x1, y2 - y1) * 1.5)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        m = np.array([[scale, 0, INPUT_SIZE / 2 - cx * scale], [0, scale, INPUT_SIZE / 2 - cy * scale]])
        crop = cv2.warpAffine(image, m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR)
        blob = np.ascontiguousarray(crop[..., ::-1].astype(np.float32).transpose(2, 0, 1)[None])
        out = next(iter(self.runner.run({self._input: blob}).values())).reshape(-1, 2)
        pts = (out[:106] + 1.0) * (INPUT_SIZE / 2)
        inv = cv2.invertAffineTransform(m)
        return (pts @ inv[:, :2].T + inv[:, 2]).astype(np.float32)
