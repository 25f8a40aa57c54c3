"""insightface ``2d106det``: 106 face landmarks from a 192×192 crop around a face box."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.models.common import check_io
from ghostlive.ops.align import invert_affine
from ghostlive.ops.filters import warp_affine
from ghostlive.types import Array, Points
from ghostlive.xp import to_host

INPUT_SIZE = 192


class Landmark106:
    """``landmarks(image, box) → 106×2`` frame pixels (crop: box centre, 1.5× the longer side, RGB 0–255)."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "2d106det")
        self.runner = runner
        self._input = runner.info.inputs[0].name

    def landmarks(self, image: Array, box: tuple[float, float, float, float]) -> Points:
        """106 points (host, frame pixels) for the face in ``box`` of a host or device image."""
        x1, y1, x2, y2 = box
        scale = INPUT_SIZE / (max(x2 - x1, y2 - y1) * 1.5)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        m = np.array([[scale, 0, INPUT_SIZE / 2 - cx * scale], [0, scale, INPUT_SIZE / 2 - cy * scale]])
        crop = warp_affine(image, m, (INPUT_SIZE, INPUT_SIZE))
        blob = crop[..., ::-1].astype(np.float32).transpose(2, 0, 1)[None]
        out = to_host(next(iter(run_any(self.runner, {self._input: blob}).values()))).reshape(-1, 2)
        pts = (out[:106] + 1.0) * (INPUT_SIZE / 2)
        inv = invert_affine(m)
        return (pts @ inv[:, :2].T + inv[:, 2]).astype(np.float32)
