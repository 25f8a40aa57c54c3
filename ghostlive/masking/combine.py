"""The one place extra masks meet the swap: a swapper wrapper that min-combines every provider's mask into
the paste mask each face comes with, before it is blended into the frame."""

from __future__ import annotations

import time
from typing import Any

from ghostlive.ops.blend import Paste
from ghostlive.swappers.base import Swapper, SwapperStage
from ghostlive.types import Array, Face
from ghostlive.xp import array_module

SHOW_COLOUR = (0.0, 255.0, 0.0)
"""BGR colour of the combined mask in the ``--show-mask`` view."""


class MaskedSwapper(SwapperStage):
    """``inner`` with its paste masks limited (minimum) by ``providers``; with ``show`` the paste shows the
    combined mask in green (half strength at mask 1) over the swapped face instead."""

    def __init__(self, inner: Swapper, providers: list[Any], show: bool = False) -> None:
        super().__init__(inner)
        self.providers = list(providers)
        self.show = show

    def render(self, frame: Array, target: Face, source: Any, state: dict[str, Any] | None = None) -> Paste | None:
        paste = self.inner.render(frame, target, source, state)
        if paste is None:
            return None
        t0 = time.perf_counter()
        xp = array_module(paste.mask)
        mask = paste.mask
        for provider in self.providers:
            mask = xp.minimum(mask, provider(frame, target, paste.roi).astype(xp.float32))
        self.spent_ms["mask"] = self.spent_ms.get("mask", 0.0) + (time.perf_counter() - t0) * 1000.0
        if not self.show:
            return Paste(paste.roi, paste.face, mask)
        return Paste(paste.roi, show_mask(frame, paste, mask), xp.ones_like(mask))


def show_mask(frame: Array, paste: Paste, mask: Array) -> Array:
    """The debug view of one paste region: the swap blended by ``mask``, tinted green by ``mask``/2."""
    xp = array_module(mask)
    x0, y0, x1, y1 = paste.roi
    region = frame[y0:y1, x0:x1].astype(xp.float32)
    m = mask[..., None]
    swapped = paste.face * m + region * (1.0 - m)
    return swapped * (1.0 - 0.5 * m) + xp.asarray(SHOW_COLOUR, xp.float32) * (0.5 * m)


def claim_stage_times(swapper: Any, ms: dict[str, float], within: str = "swap") -> None:
    """Move the time the stage wrappers around ``swapper`` spent (``spent_ms``) out of stage ``within`` of
    ``ms`` into stages of their own (``mask``, ``enhance``), and reset their counters."""
    node = swapper
    while node is not None:
        spent = vars(node).get("spent_ms") if hasattr(node, "__dict__") else None
        for stage, value in (spent or {}).items():
            ms[stage] = ms.get(stage, 0.0) + value
            ms[within] = max(ms.get(within, 0.0) - value, 0.0)
        if spent:
            spent.clear()
        node = vars(node).get("inner") if hasattr(node, "__dict__") else None


def with_masks(swapper: Swapper, providers: list[Any], show: bool = False) -> Swapper:
    """``swapper`` limited by ``providers`` (itself when there are none and nothing is shown)."""
    if not providers and not show:
        return swapper
    return MaskedSwapper(swapper, providers, show)
