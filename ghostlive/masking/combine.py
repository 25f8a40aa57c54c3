"""The one place extra masks meet the swap: the chain's mask stage min-combines every provider's mask into the
paste mask each face comes with (the swapper's own), before it is blended into the frame.

A provider is called as ``provider(frame, face, roi)`` and returns an roi-sized float32 mask in [0, 1] (1: the
swap may show, 0: the target stays), on the frame's array module (see :mod:`ghostlive.masking.mesh`)."""

from __future__ import annotations

from typing import Any, Protocol

from ghostlive.ops.blend import Paste
from ghostlive.swappers.base import Swapper, SwapperStage
from ghostlive.types import Array, Face, Roi
from ghostlive.xp import array_module

SHOW_COLOUR = (0.0, 255.0, 0.0)
"""BGR colour of the combined mask in the ``--show-mask`` view."""


class MaskProvider(Protocol):
    """A mask the chain min-combines with each face's paste mask (see the module docstring)."""

    name: str

    def __call__(self, frame: Array, face: Face, roi: Roi) -> Array: ...


def combine_masks(frame: Array, target: Face, paste: Paste, providers: list[MaskProvider], show: bool = False) -> Paste:
    """``paste`` with its mask limited (minimum) by every provider's; with ``show`` the paste shows the combined
    mask in green (half strength at mask 1) over the swapped face instead."""
    xp = array_module(paste.mask)
    mask = paste.mask
    for provider in providers:
        mask = xp.minimum(mask, provider(frame, target, paste.roi).astype(xp.float32))
    if not show:
        return Paste(paste.roi, paste.face, mask)
    return Paste(paste.roi, show_mask(frame, paste, mask), xp.ones_like(mask))


class MaskedSwapper(SwapperStage):
    """The declaration "``inner`` with its paste masks limited (minimum) by ``providers``" (with ``show``: the
    combined mask shown in green): the chain runs the mask stage once per face, after the enhancer."""

    def __init__(self, inner: Swapper, providers: list[MaskProvider], show: bool = False) -> None:
        super().__init__(inner)
        self.providers = list(providers)
        self.show = show

    def install(self, stages: Any) -> None:
        stages.masks.extend(self.providers)
        stages.show = stages.show or self.show


def show_mask(frame: Array, paste: Paste, mask: Array) -> Array:
    """The debug view of one paste region: the swap blended by ``mask``, tinted green by ``mask``/2."""
    xp = array_module(mask)
    x0, y0, x1, y1 = paste.roi
    region = frame[y0:y1, x0:x1].astype(xp.float32)
    m = mask[..., None]
    swapped = paste.face * m + region * (1.0 - m)
    return swapped * (1.0 - 0.5 * m) + xp.asarray(SHOW_COLOUR, xp.float32) * (0.5 * m)


def with_masks(swapper: Swapper, providers: list[MaskProvider], show: bool = False) -> Swapper:
    """``swapper`` limited by ``providers`` (itself when there are none and nothing is shown)."""
    if not providers and not show:
        return swapper
    return MaskedSwapper(swapper, providers, show)
