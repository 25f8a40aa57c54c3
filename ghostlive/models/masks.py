"""Mask models: an XSeg-style face occluder and a BiSeNet face parser (ONNX files the user imports).

Both see a face crop aligned to the FFHQ template (:func:`ghostlive.ops.align.template` ``ffhq``):

* occluder: N×256×256×3 (NHWC), BGR, [0, 1]; out N×256×256×1, 1 where the face is visible, 0 where
  something (a hand, a microphone, hair) covers it.
* parser: N×3×512×512, RGB, ImageNet mean/std normalised; out N×19×512×512 class scores in the
  CelebAMask-HQ label order of face-parsing.PyTorch (:data:`PARSER_LABELS`).
"""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.models.common import check_io
from ghostlive.types import Array
from ghostlive.xp import array_module

OCCLUDER_SIZE = 256
PARSER_SIZE = 512
PARSER_LABELS: tuple[str, ...] = (
    "background", "skin", "left_brow", "right_brow", "left_eye", "right_eye", "glasses", "left_ear",
    "right_ear", "earring", "nose", "mouth", "upper_lip", "lower_lip", "neck", "necklace", "cloth", "hair", "hat",
)  # fmt: skip
"""The 19 classes of face-parsing.PyTorch's BiSeNet, by output channel."""
PARSER_REGIONS: dict[str, tuple[str, ...]] = {
    "skin": ("skin",),
    "brows": ("left_brow", "right_brow"),
    "eyes": ("left_eye", "right_eye"),
    "glasses": ("glasses",),
    "nose": ("nose",),
    "mouth": ("mouth",),
    "lips": ("upper_lip", "lower_lip"),
    "ears": ("left_ear", "right_ear"),
    "hair": ("hair",),
}
"""Region names for ``--regions`` and the parser classes each one covers."""
DEFAULT_REGIONS: tuple[str, ...] = ("skin", "brows", "eyes", "glasses", "nose", "mouth", "lips")
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def region_labels(regions: tuple[str, ...]) -> list[int]:
    """The parser class ids that ``regions`` (names of :data:`PARSER_REGIONS`) cover."""
    return sorted({PARSER_LABELS.index(c) for r in regions for c in PARSER_REGIONS[r]})


class Occluder:
    """Which pixels of an aligned face crop show the face (1) and which are covered (0)."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "face occluder")
        self.runner = runner
        shape = runner.info.inputs[0].shape
        self.size = shape[1] if isinstance(shape[1], int) else OCCLUDER_SIZE

    def __call__(self, crop: Array) -> Array:
        """``crop``: size×size×3 uint8 BGR (host or device). Returns size×size float32 in [0, 1]."""
        xp = array_module(crop)
        x = crop[None].astype(xp.float32) * xp.float32(1.0 / 255.0)
        out = run_any(self.runner, {self.runner.info.inputs[0].name: x})[self.runner.info.outputs[0].name]
        return xp.clip(out[0, :, :, 0].astype(xp.float32), 0.0, 1.0)


class FaceParser:
    """Per-pixel face-part labels of an aligned face crop."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "face parser")
        self.runner = runner
        shape = runner.info.inputs[0].shape
        self.size = shape[2] if isinstance(shape[2], int) else PARSER_SIZE

    def labels(self, crop: Array) -> Array:
        """``crop``: size×size×3 uint8 BGR. Returns size×size int64 class ids (:data:`PARSER_LABELS`)."""
        xp = array_module(crop)
        rgb = crop[..., ::-1].astype(xp.float32) * xp.float32(1.0 / 255.0)
        x = ((rgb - xp.asarray(IMAGENET_MEAN)) / xp.asarray(IMAGENET_STD)).transpose(2, 0, 1)[None]
        out = run_any(self.runner, {self.runner.info.inputs[0].name: xp.ascontiguousarray(x)})
        return out[self.runner.info.outputs[0].name][0].argmax(axis=0)
