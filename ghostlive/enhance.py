"""The enhancer stage: each swapped face, as the output will show it, is cut out on its restorer's template,
restored, and put back into the paste (blended by an amount) before the paste is blended into the frame."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

from ghostlive.cli_args import float_range
from ghostlive.errors import ModelError
from ghostlive.hub import ModelStore
from ghostlive.models.registry import RESTORERS
from ghostlive.models.restorers import Restorer
from ghostlive.ops.align import estimate_norm, invert_affine
from ghostlive.ops.blend import Paste
from ghostlive.ops.filters import gaussian_blur, warp_affine
from ghostlive.swappers.base import Swapper
from ghostlive.types import Affine, Array, Face, Frame
from ghostlive.xp import array_module

EDGE = 0.075
"""The restored crop fades out over this fraction of its size at each side (zero at the border)."""


@dataclass(frozen=True)
class EnhanceOptions:
    """Which restorer (empty: none), how much of its result to use, and CodeFormer's fidelity weight."""

    enhancer: str = ""
    blend: float = 0.8
    fidelity: float = 1.0


def add_enhance_options(p: argparse.ArgumentParser) -> None:
    """The enhancer options of ``swap`` and ``live``."""
    g = p.add_argument_group("face enhancer")
    g.add_argument("--enhancer", choices=tuple(RESTORERS), default="", help="restore each swapped face with it")
    g.add_argument("--enhance-blend", type=float_range(0.0, 1.0), default=0.8, help="0 = swap only … 1 = restorer")
    g.add_argument(
        "--enhance-fidelity", type=float_range(0.0, 1.0), default=1.0, help="CodeFormer: 0 = quality … 1 = identity"
    )


def enhance_options(args: argparse.Namespace) -> EnhanceOptions:
    return EnhanceOptions(args.enhancer or "", args.enhance_blend, args.enhance_fidelity)


def crop_weight(size: int, xp: Any = np) -> Array:
    """A size×size weight: 0 at the border, rising over :data:`EDGE`·size to 1 inside."""
    w = xp.zeros((size, size), xp.float32)
    band = max(int(EDGE * size), 1)
    w[band:-band, band:-band] = 1.0
    return xp.clip(gaussian_blur(w, band / 2.0), 0.0, 1.0) * (w > 0)


class EnhancedSwapper:
    """``inner`` with every paste's face restored by ``restorer`` and mixed in by ``blend``."""

    def __init__(self, inner: Swapper, restorer: Restorer, blend: float = 0.8) -> None:
        self.inner = inner
        self.restorer = restorer
        self.blend = blend

    @property
    def name(self) -> str:
        return self.inner.name

    def __getattr__(self, attr: str) -> Any:
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def prepare_source(self, image: Frame, face: Face) -> Any:
        return self.inner.prepare_source(image, face)

    def render(self, frame: Array, target: Face, source: Any, state: dict[str, Any] | None = None) -> Paste | None:
        paste = self.inner.render(frame, target, source, state)
        if paste is None or self.blend <= 0:
            return paste
        spec = self.restorer.spec
        to_crop = estimate_norm(target.keypoints5, spec.size, spec.template)  # ghost: best of GHOST's 5 poses
        restored, weight = self.enhance_paste(frame, paste, to_crop)
        w = (self.blend * weight)[..., None]
        return Paste(paste.roi, paste.face * (1.0 - w) + restored * w, paste.mask)

    def enhance_paste(self, frame: Array, paste: Paste, to_crop: Affine) -> tuple[Array, Array]:
        """The restored face over the paste's roi, and where it applies (0–1)."""
        xp = array_module(paste.face)
        size = self.restorer.size
        x0, y0, x1, y1 = paste.roi
        region = frame[y0:y1, x0:x1].astype(xp.float32)
        m = paste.mask[..., None]
        shown = paste.face * m + region * (1.0 - m)  # the swap as the output shows it, with the frame around
        roi_to_crop = to_crop.copy()
        roi_to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], np.float64)
        crop = warp_affine(frame, to_crop, (size, size), border="replicate").astype(xp.float32)
        inner = warp_affine(xp.ones(region.shape[:2], xp.float32), roi_to_crop, (size, size), border="constant")
        crop = (
            crop * (1.0 - inner[..., None]) + warp_affine(shown, roi_to_crop, (size, size))[..., :3] * inner[..., None]
        )
        restored = self.restorer(xp.clip(xp.rint(crop), 0, 255).astype(xp.uint8))
        back = invert_affine(roi_to_crop)
        roi_size = (x1 - x0, y1 - y0)
        return warp_affine(restored, back, roi_size), warp_affine(crop_weight(size, xp), back, roi_size)


def build_restorer(options: EnhanceOptions, store: ModelStore | None = None, backend: str = "auto") -> Restorer | None:
    """The restorer ``options`` name (None for none); a missing model is a :class:`ModelError` naming the
    command that installs it."""
    if not options.enhancer:
        return None
    from ghostlive.swappers.factory import missing_hint, open_model

    store = store or ModelStore()
    spec = RESTORERS[options.enhancer]
    if not store.has(spec.filename):
        raise ModelError(
            f"--enhancer {options.enhancer} needs {spec.filename}, which is not installed; "
            f"run: {missing_hint(store, options.enhancer)}"
        )
    return Restorer(open_model(store, spec.filename, backend), spec, options.fidelity)


def with_enhancer(swapper: Swapper, restorer: Restorer | None, blend: float) -> Swapper:
    """``swapper`` with its faces restored (itself without a restorer)."""
    return swapper if restorer is None else EnhancedSwapper(swapper, restorer, blend)
