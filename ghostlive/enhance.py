"""The enhancer stage: each swapped face, as the output will show it, is cut out on its restorer's template,
restored, and put back into the paste (blended by an amount) before the chain's extra masks and the paste into
the frame."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ghostlive.errors import ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.ops.align import estimate_norm, invert_affine
from ghostlive.ops.blend import Paste
from ghostlive.ops.filters import gaussian_blur, warp_affine
from ghostlive.registry import Registry
from ghostlive.swappers.base import Swapper, SwapperStage
from ghostlive.types import Affine, Array, Face, FaceMemory
from ghostlive.xp import array_module

EDGE = 0.075
"""The restored crop fades out over this fraction of its size at each side (zero at the border)."""


@dataclass(frozen=True)
class EnhanceOptions:
    """Which restorer (empty: none), how much of its result to use, and CodeFormer's fidelity weight."""

    enhancer: str = ""
    blend: float = 0.8
    fidelity: float = 1.0
    budget_ms: float | None = None
    """Restorer milliseconds allowed per face per frame (0: every frame; None: every frame in files, half a
    frame period live)."""


def enhance_options(args: argparse.Namespace) -> EnhanceOptions:
    return EnhanceOptions(args.enhancer or "", args.enhance_blend, args.enhance_fidelity, args.enhance_budget)


def crop_weight(size: int, xp: Any = np) -> Array:
    """A size×size weight: 0 at the border, rising over :data:`EDGE`·size to 1 inside."""
    w = xp.zeros((size, size), xp.float32)
    band = max(int(EDGE * size), 1)
    w[band:-band, band:-band] = 1.0
    return xp.clip(gaussian_blur(w, band / 2.0), 0.0, 1.0) * (w > 0)


class Enhancer:
    """The enhancer stage of the chain: each placed face restored by ``restorer`` and mixed in by ``blend``.

    With a ``budget_ms`` (live use) and a face's ``memory`` (a track's), a restorer slower than the budget runs
    only every k-th frame of each face (k = its measured cost / the budget, rounded up); in between, the face's
    last restored crop is warped onto its current position.
    """

    def __init__(self, restorer: Restorer, blend: float = 0.8, budget_ms: float | None = None) -> None:
        self.restorer = restorer
        self.blend = blend
        self.budget_ms = budget_ms
        self.cost_ms = 0.0
        """Moving average of one restorer call (ms)."""

    @property
    def cadence(self) -> int:
        """Every how many frames of a face the restorer runs (1 without a budget or within it)."""
        if not self.budget_ms or self.cost_ms <= 0:
            return 1
        return max(1, math.ceil(self.cost_ms / self.budget_ms))

    def __call__(self, frame: Array, target: Face, paste: Paste, memory: FaceMemory | None = None) -> Paste:
        """``paste`` (``target``'s swap placed in ``frame``) with its face restored."""
        if self.blend <= 0:
            return paste
        spec = self.restorer.spec
        to_crop = estimate_norm(target.keypoints5, spec.size, spec.template)  # ghost: best of GHOST's 5 poses
        roi_to_crop = to_crop.copy()
        roi_to_crop[:, 2] += to_crop[:, :2] @ np.array(paste.roi[:2], np.float64)
        restored = self._restored_crop(frame, paste, to_crop, roi_to_crop, memory)
        back = invert_affine(roi_to_crop)
        x0, y0, x1, y1 = paste.roi
        xp = array_module(paste.face)
        face = warp_affine(restored, back, (x1 - x0, y1 - y0))
        w = (self.blend * warp_affine(crop_weight(spec.size, xp), back, (x1 - x0, y1 - y0)))[..., None]
        return Paste(paste.roi, paste.face * (1.0 - w) + face * w, paste.mask)

    def _restored_crop(
        self, frame: Array, paste: Paste, to_crop: Affine, roi_to_crop: Affine, memory: FaceMemory | None
    ) -> Array:
        """The restorer's output for this face: fresh, or (on a budget, between runs) the face's last one."""
        if memory is not None and self.budget_ms:
            count = memory.enhance_frames
            memory.enhance_frames = count + 1
            if count % self.cadence and memory.enhanced is not None:
                return memory.enhanced
        t0 = time.perf_counter()
        restored = self.restorer(self.shown_crop(frame, paste, to_crop, roi_to_crop))
        ms = (time.perf_counter() - t0) * 1000.0
        self.cost_ms = ms if self.cost_ms <= 0 else 0.8 * self.cost_ms + 0.2 * ms
        if memory is not None:
            memory.enhanced = restored
        return restored

    def shown_crop(self, frame: Array, paste: Paste, to_crop: Affine, roi_to_crop: Affine) -> Array:
        """The restorer's input: the face as the output will show it (the paste blended into the frame), cut
        out on the restorer's template (uint8 BGR)."""
        xp = array_module(paste.face)
        size = self.restorer.size
        x0, y0, x1, y1 = paste.roi
        region = frame[y0:y1, x0:x1].astype(xp.float32)
        m = paste.mask[..., None]
        shown = paste.face * m + region * (1.0 - m)
        crop = warp_affine(frame, to_crop, (size, size), border="replicate").astype(xp.float32)
        inner = warp_affine(xp.ones(region.shape[:2], xp.float32), roi_to_crop, (size, size), border="constant")
        # the roi warped with a zero border comes already weighted by its coverage
        crop = crop * (1.0 - inner[..., None]) + warp_affine(shown, roi_to_crop, (size, size), border="constant")
        return xp.clip(xp.rint(crop), 0, 255).astype(xp.uint8)



class EnhancedSwapper(Enhancer, SwapperStage):
    """The declaration "``inner``, its faces restored": the chain runs the :class:`Enhancer` stage it carries
    after the swap and before the extra masks (which apply over the restored face)."""

    def __init__(self, inner: Swapper, restorer: Restorer, blend: float = 0.8, budget_ms: float | None = None) -> None:
        SwapperStage.__init__(self, inner)
        Enhancer.__init__(self, restorer, blend, budget_ms)

    def install(self, stages: Any) -> None:
        stages.enhancer = self


LIVE_SHARE = 0.5
"""Live, without ``--enhance-budget``: the restorer may take this share of a frame period per face."""


def set_live_budget(swapper: Any, fps: float) -> None:
    """Give the enhancer around ``swapper`` (if any, and if no budget was set) the live default budget."""
    node = swapper
    while node is not None:
        if isinstance(node, EnhancedSwapper) and node.budget_ms is None:
            node.budget_ms = LIVE_SHARE * 1000.0 / max(fps, 1.0)
        node = vars(node).get("inner") if hasattr(node, "__dict__") else None


def build_restorer(options: EnhanceOptions, store: ModelStore | None = None, backend: str = "auto") -> Restorer | None:
    """The restorer ``options`` name (None for none); a missing model is a :class:`ModelError` naming the
    command that installs it."""
    if not options.enhancer:
        return None
    return ENHANCERS.create(options.enhancer, options, store or ModelStore(), backend)


def _restorer(name: str) -> Callable[[EnhanceOptions, ModelStore, str], Restorer]:
    def make(options: EnhanceOptions, store: ModelStore, backend: str) -> Restorer:
        from ghostlive.swappers.factory import missing_hint, open_model

        spec = RESTORERS[name]
        if not store.has(spec.filename):
            raise ModelError(
                f"--enhancer {name} needs {spec.filename}, which is not installed; run: {missing_hint(store, name)}"
            )
        return Restorer(open_model(store, spec.filename, backend), spec, options.fidelity)

    return make


ENHANCERS: Registry[Restorer] = Registry("enhancer")
"""Face enhancers by name: ``factory(options, store, backend)``; each restorer model of
:data:`ghostlive.models.registry.RESTORERS` (a new ONNX restorer is one entry there)."""
for _name, _spec in RESTORERS.items():
    ENHANCERS.register(
        _name, _restorer(_name), installed=lambda store, f=_spec.filename: store.has(f), help=_spec.description
    )


def with_enhancer(swapper: Swapper, restorer: Restorer | None, options: EnhanceOptions) -> Swapper:
    """``swapper`` with its faces restored (itself without a restorer)."""
    return swapper if restorer is None else EnhancedSwapper(swapper, restorer, options.blend, options.budget_ms)
