"""SCRFD face detector (insightface ``det_10g`` / ``scrfd_10g_bnkps``): strides 8/16/32, 2 anchors per cell,
box distances and 5 keypoints per anchor."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.errors import ModelError
from ghostlive.ops.filters import resize
from ghostlive.types import Array, Detection
from ghostlive.xp import array_module, to_host

STRIDES = (8, 16, 32)
ANCHORS = 2


def anchor_centres(size: int, stride: int) -> np.ndarray:
    """(x, y) pixel centres for one stride, each repeated for the two anchors (insightface order)."""
    g = size // stride
    ys, xs = np.mgrid[0:g, 0:g]
    centres = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centres, ANCHORS, axis=0)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """insightface's non-maximum suppression (box sides counted +1 px); indices of kept boxes, best first."""
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(int(i))
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= threshold]
    return keep


def scrfd_letterbox(image: Array, size: int) -> tuple[Array, float]:
    """insightface's SCRFD input: the image resized (bilinear) so its longer side is ``size`` and the other
    side truncated to whole pixels, top-left in a zero ``size`` square; the scale is new height / height."""
    xp = array_module(image)
    h, w = image.shape[:2]
    if h / w > 1.0:
        nh, nw = size, int(size / (h / w))
    else:
        nw, nh = size, int(size * (h / w))
    out = xp.zeros((size, size, 3), xp.uint8)
    out[:nh, :nw] = resize(image, (nw, nh))
    return out, nh / h


class SCRFD:
    """Detects faces with 5 keypoints (ArcFace order) using an insightface SCRFD ONNX model."""

    def __init__(self, runner: Runner, *, input_size: int = 640, min_score: float = 0.5, nms_threshold: float = 0.4):
        if len(runner.info.outputs) != 9:
            raise ModelError(
                f"{runner.info.model}: an SCRFD model with keypoints has 9 outputs, "
                f"this one has {len(runner.info.outputs)}"
            )
        self.runner = runner
        self.input_size = input_size
        self.min_score = min_score
        self.nms_threshold = nms_threshold
        self._input = runner.info.inputs[0].name

    def _grouped(self, outs: dict[str, np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Outputs sorted into scores/boxes/keypoints per stride by their last dimension (1, 4, 10) and size."""
        arrays = [outs[o.name].reshape(-1, outs[o.name].shape[-1]) for o in self.runner.info.outputs]
        by = {d: sorted([a for a in arrays if a.shape[1] == d], key=len, reverse=True) for d in (1, 4, 10)}
        if any(len(v) != 3 for v in by.values()):
            raise ModelError(f"{self.runner.info.model}: outputs are not SCRFD's (scores, boxes, keypoints) × 3")
        return by[1], by[4], by[10]

    def detect(self, image: Array) -> list[Detection]:
        """Faces in ``image`` (host or device), best score first; keypoints are 5×2 (image-left eye, other
        eye, nose, image-left and other mouth corner), decoded as insightface does."""
        size = self.input_size
        square, scale = scrfd_letterbox(image, size)
        xp = array_module(square)
        x = (square[..., ::-1].astype(xp.float32) - 127.5) / 128.0
        outs = run_any(self.runner, {self._input: xp.ascontiguousarray(x.transpose(2, 0, 1)[None])})
        scores_l, boxes_l, kps_l = self._grouped({k: to_host(v) for k, v in outs.items()})
        all_scores, all_boxes, all_kps = [], [], []
        for stride, sc, bx, kp in zip(STRIDES, scores_l, boxes_l, kps_l, strict=True):
            centres = anchor_centres(size, stride)
            keep = sc[:, 0] >= self.min_score
            c = centres[keep]
            d = bx[keep] * stride
            all_boxes.append(np.concatenate([c - d[:, :2], c + d[:, 2:]], axis=1))
            all_kps.append(kp[keep].reshape(-1, 5, 2) * stride + c[:, None, :])
            all_scores.append(sc[keep, 0])
        scores = np.concatenate(all_scores)
        boxes = np.concatenate(all_boxes) / scale
        kps = np.concatenate(all_kps) / scale
        return [
            Detection(
                box=tuple(float(v) for v in boxes[i]),
                keypoints=kps[i].astype(np.float32),  # type: ignore[arg-type]
                score=float(scores[i]),
            )
            for i in nms(boxes, scores, self.nms_threshold)
        ]
