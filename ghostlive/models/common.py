"""What every model wrapper checks about the runner it is handed."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.errors import ModelError
from ghostlive.ops.align import invert_affine
from ghostlive.ops.filters import rgb_input, warp_affine
from ghostlive.types import Affine, Array
from ghostlive.xp import to_host


def check_io(runner: Runner, inputs: int, outputs: int, what: str) -> None:
    """Refuse a model whose number of inputs/outputs does not fit ``what``."""
    got_in, got_out = len(runner.info.inputs), len(runner.info.outputs)
    if (got_in, got_out) != (inputs, outputs):
        raise ModelError(
            f"{runner.info.model}: a {what} model has {inputs} input(s) and {outputs} output(s), "
            f"this one has {got_in} and {got_out}"
        )


def run_on_roi(runner: Runner, image: Array, crop_to_frame: Affine, size: int) -> list[np.ndarray]:
    """The outputs (host arrays, in output order) of a MediaPipe-style model on the size×size crop that
    ``crop_to_frame`` maps onto ``image``: bilinear, replicated border, RGB in [0, 1]. The crop is cut where
    the image lives (host or device); only the outputs come back to the host."""
    crop = warp_affine(image, invert_affine(crop_to_frame), (size, size), border="replicate")
    x = rgb_input(crop, 1.0 / 255.0)
    out = run_any(runner, {runner.info.inputs[0].name: x})
    return [to_host(out[o.name]) for o in runner.info.outputs]
