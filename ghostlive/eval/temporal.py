"""Temporal metrics of a swapped video against its target video, from per-frame landmarks and face regions.

All take frames in order (BGR uint8, same size) and the target's and output's face-mesh landmarks per frame
(None where no face was found).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ghostlive.ops.regions import face_width, grow, region_mask
from ghostlive.types import Frame, Points

SHOW_THROUGH_LEVELS = 2.0
"""A frame shows the real face when the swapped face region differs from the target by less than this on average."""
LIMITS = {"jitter": 0.5, "flicker": 2.0, "show_through": 0.0}
"""Flag above: jitter (px), flicker (levels beyond the target's own), show-through (share of frames)."""


def jitter(target: Sequence[Points | None], output: Sequence[Points | None]) -> float:
    """Landmark jitter of the pasted face (px): the RMS frame-to-frame change of the output face's mean offset
    from the target face, divided by √2 (so independent random shifts of RMS size r read as r). Motion of the
    target itself cancels; on a still segment this is the wobble a viewer sees. NaN with under 3 usable frames."""
    offsets = [
        np.asarray(o, np.float64).mean(0) - np.asarray(t, np.float64).mean(0)
        for t, o in zip(target, output, strict=True)
        if t is not None and o is not None
    ]
    if len(offsets) < 3:
        return float("nan")
    steps = np.diff(np.asarray(offsets), axis=0)
    return float(np.sqrt((steps**2).sum(1).mean() / 2.0))


def _face_masks(frames: Sequence[Frame], landmarks: Sequence[Points | None]) -> list[np.ndarray | None]:
    return [
        None if lm is None else grow(region_mask(f.shape, lm, "face"), -0.05 * face_width(lm))
        for f, lm in zip(frames, landmarks, strict=True)
    ]


def flicker(target: Sequence[Frame], output: Sequence[Frame], landmarks: Sequence[Points | None]) -> float:
    """Mean absolute frame-to-frame change inside the target's face (levels, luminance of all three channels)
    in the output, minus the same in the target: flicker the swap adds. NaN with under 2 usable frame pairs."""
    masks = _face_masks(target, landmarks)
    out_d, tgt_d = [], []
    for i in range(1, len(target)):
        m = masks[i]
        if m is None or masks[i - 1] is None or not m.any():
            continue
        out_d.append(np.abs(output[i].astype(np.float32) - output[i - 1].astype(np.float32))[m].mean())
        tgt_d.append(np.abs(target[i].astype(np.float32) - target[i - 1].astype(np.float32))[m].mean())
    if len(out_d) < 2:
        return float("nan")
    return max(float(np.mean(out_d) - np.mean(tgt_d)), 0.0)


def show_through(target: Sequence[Frame], output: Sequence[Frame], landmarks: Sequence[Points | None]) -> float:
    """Share of frames with a target face in which the output face region is (almost) the target's own: the
    swap dropped out and the real face shows. NaN when no frame has a face."""
    masks = _face_masks(target, landmarks)
    shown = [
        float(np.abs(o.astype(np.float32) - t.astype(np.float32))[m].mean()) < SHOW_THROUGH_LEVELS
        for t, o, m in zip(target, output, masks, strict=True)
        if m is not None and m.any()
    ]
    return float(np.mean(shown)) if shown else float("nan")


def temporal(
    target: Sequence[Frame],
    output: Sequence[Frame],
    target_landmarks: Sequence[Points | None],
    output_landmarks: Sequence[Points | None],
) -> dict[str, float]:
    """Every temporal metric of one video pair."""
    return {
        "jitter": jitter(target_landmarks, output_landmarks),
        "flicker": flicker(target, output, target_landmarks),
        "show_through": show_through(target, output, target_landmarks),
    }
