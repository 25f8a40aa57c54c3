"""ONNX face restorers (GFPGAN, CodeFormer, GPEN-BFR, RestoreFormer++): one wrapper, driven by the
per-model table :data:`ghostlive.models.registry.RESTORERS` (crop size, colour order, value range, template,
fidelity input)."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.errors import ModelError
from ghostlive.models.registry import Restoration
from ghostlive.types import Array
from ghostlive.xp import array_module


class Restorer:
    """Restores an aligned face crop: BGR uint8 in, BGR float32 (0–255) out, same size."""

    def __init__(self, runner: Runner, spec: Restoration, fidelity: float = 1.0) -> None:
        names = [t.name for t in runner.info.inputs]
        want = 2 if spec.weight else 1
        if len(names) != want or not runner.info.outputs or (spec.weight and spec.weight not in names):
            extra = f" (an image and {spec.weight!r})" if spec.weight else ""
            raise ModelError(
                f"{runner.info.model}: a {spec.filename} restorer has {want} input(s){extra}, this one has "
                f"{', '.join(names) or 'none'}"
            )
        self.runner = runner
        self.spec = spec
        self.size = spec.size
        self.image_input = next(n for n in names if n != spec.weight)
        self.fidelity = fidelity

    def _scale(self) -> tuple[float, float]:
        lo, hi = self.spec.value_range
        return (hi - lo) / 255.0, lo

    def __call__(self, crop: Array) -> Array:
        """``crop``: size×size×3 uint8 BGR on the model's template. Returns the restored crop."""
        xp = array_module(crop)
        scale, lo = self._scale()
        img = crop[..., ::-1] if self.spec.colour == "rgb" else crop
        x = (img.astype(xp.float32) * xp.float32(scale) + xp.float32(lo)).transpose(2, 0, 1)[None]
        feed = {self.image_input: xp.ascontiguousarray(x)}
        if self.spec.weight:
            feed[self.spec.weight] = xp.asarray(np.array([self.fidelity], np.float64))
        y = run_any(self.runner, feed)[self.runner.info.outputs[0].name][0]
        lo_v, hi_v = self.spec.value_range
        out = ((xp.clip(y, lo_v, hi_v) - lo) / scale).transpose(1, 2, 0)
        out = out[..., ::-1] if self.spec.colour == "rgb" else out
        return xp.ascontiguousarray(out.astype(xp.float32))
