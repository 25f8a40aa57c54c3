"""BlazeFace face detector (MediaPipe short- and full-range models converted to ONNX).

Input: the frame letterboxed to a square, RGB in [-1, 1], NHWC. Output: per anchor a box, six keypoints and a
logit. Decoding follows MediaPipe's conventions (see ghostlive/assets/NOTICE for the models' provenance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.models.common import check_io
from ghostlive.ops.filters import resize, rgb_input
from ghostlive.types import Array, Detection, Frame
from ghostlive.xp import array_module, to_host


@dataclass(frozen=True)
class BlazeFaceConfig:
    """Anchor layout of one BlazeFace variant."""

    input_size: int
    grids: tuple[tuple[int, int], ...]
    """(grid size, anchors per cell) for each feature map, in output order."""


SHORT_RANGE = BlazeFaceConfig(input_size=128, grids=((16, 2), (8, 6)))
FULL_RANGE = BlazeFaceConfig(input_size=192, grids=((48, 1),))


@lru_cache(maxsize=4)
def anchors(config: BlazeFaceConfig) -> np.ndarray:
    """Anchor centres (N×2, normalised) in the order the model emits them."""
    out = []
    for grid, per_cell in config.grids:
        ys, xs = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        centres = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) with many (N×4), boxes as x1, y1, x2, y2."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(rows: np.ndarray, scores: np.ndarray, threshold: float = 0.3) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted non-maximum suppression.

    ``rows`` are N×(4+2k) (box then keypoints); overlapping rows (IoU > threshold) are averaged, weighted by
    score, and the group keeps its best score. Returns (row, score) pairs, best first.
    """
    order = np.argsort(-scores, kind="stable")
    rows, scores = rows[order], scores[order]
    kept: list[tuple[np.ndarray, float]] = []
    remaining = np.arange(len(rows))
    while remaining.size:
        overlaps = iou(rows[remaining[0], :4], rows[remaining, :4]) > threshold
        group = remaining[overlaps]
        w = scores[group][:, None]
        kept.append(((rows[group] * w).sum(0) / w.sum(), float(scores[group[0]])))
        remaining = remaining[~overlaps]
    return kept


def letterbox(image: Array, size: int) -> tuple[Array, float]:
    """Scale ``image`` into a size×size square (top-left aligned, zero padding; area-averaged when shrinking)
    on the image's array module; returns it and the scale."""
    xp = array_module(image)
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    out = xp.zeros((size, size, 3), xp.uint8)
    out[:nh, :nw] = resize(image, (nw, nh), interpolation="area")
    return out, scale


class BlazeFace:
    """Finds faces in a BGR frame with one BlazeFace model."""

    def __init__(self, runner: Runner, config: BlazeFaceConfig, *, min_score: float = 0.5) -> None:
        check_io(runner, 1, 2, "BlazeFace")
        self.runner = runner
        self.config = config
        self.min_score = min_score
        self._input = runner.info.inputs[0].name
        self._anchors = anchors(config)

    def raw(self, square_bgr: Array, min_score: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Decoded rows (N×16, normalised to the square) and scores of the anchors scoring at least
        ``min_score``, for a size×size BGR image on the host or a device. The score test runs where the model
        output is, so only the few candidate rows come back to the host."""
        x = rgb_input(square_bgr, 2.0 / 255.0, -1.0)
        out = run_any(self.runner, {self._input: x})
        regressors, logits = (out[o.name] for o in self.runner.info.outputs)
        if regressors.shape[-1] == 1:  # output order differs between conversions
            regressors, logits = logits, regressors
        xp = array_module(logits)
        logits = logits.reshape(-1)
        threshold = float(np.log(min_score / (1.0 - min_score))) - 1e-4 if 0.0 < min_score < 1.0 else -np.inf
        chosen = xp.nonzero(logits >= threshold)[0] if min_score > 0.0 else xp.arange(logits.shape[0])
        reg = to_host(regressors.reshape(-1, 16)[chosen]) / self.config.input_size
        raw_logits = to_host(logits[chosen]).astype(np.float64)
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_logits, -100, 100)))
        anchors_kept = self._anchors[to_host(chosen)]
        kps = reg[:, 4:] + np.tile(anchors_kept, (1, 6))
        cx, cy = reg[:, 0] + anchors_kept[:, 0], reg[:, 1] + anchors_kept[:, 1]
        w, h = reg[:, 2], reg[:, 3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        return np.concatenate([boxes, kps], axis=1), scores

    def detect_rows(self, image: Array) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows in ``image`` pixel coordinates (before NMS) and their scores."""
        size = self.config.input_size
        square, scale = letterbox(image, size)
        rows, scores = self.raw(square, self.min_score)
        keep = scores >= self.min_score  # the logit test above, made exact in probability space
        return rows[keep] * (size / scale), scores[keep]

    def detect(self, image: Frame) -> list[Detection]:
        """Faces in ``image``, best score first."""
        rows, scores = self.detect_rows(image)
        return [rows_to_detection(r, s) for r, s in weighted_nms(rows, scores)]


def rows_to_detection(row: np.ndarray, score: float) -> Detection:
    """A :class:`Detection` from one decoded row (box + 6 keypoints) in pixel coordinates."""
    box = tuple(float(v) for v in row[:4])
    return Detection(box=box, keypoints=row[4:16].reshape(6, 2).astype(np.float32), score=score)  # type: ignore[arg-type]
