"""Colour and lighting transfer between a warped source face and the target face."""

from __future__ import annotations

from typing import Literal

from ghostlive.ops.filters import gaussian_blur
from ghostlive.types import Array
from ghostlive.xp import array_module

ColorMode = Literal["lowfreq", "mean", "none"]
COLOR_MODES: tuple[str, ...] = ("lowfreq", "mean", "none")


def _masked_blur(image: Array, weight: Array, sigma: float) -> tuple[Array, Array]:
    xp = array_module(image)
    num = gaussian_blur(image * weight[..., None], sigma)
    den = gaussian_blur(weight, sigma)
    return num / xp.maximum(den, 1e-6)[..., None], den


def transfer_color(source: Array, target: Array, region: Array, mode: ColorMode, sigma: float) -> Array:
    """Recolour ``source`` (float32 H×W×3) to match ``target`` over the hard ``region`` mask (H×W, 0/1).

    ``mean`` matches per-channel mean and spread over the region (the target's skin tone); ``lowfreq`` does
    that and then multiplies by the ratio of locally averaged colours (σ = ``sigma`` px, gain within
    [0.67, 1.5]), which also carries the target's lighting gradient; ``none`` returns the source unchanged.
    """
    if mode == "none":
        return source
    xp = array_module(source)
    if mode not in COLOR_MODES:
        raise ValueError(f"unknown colour mode {mode!r}; expected one of {COLOR_MODES}")
    matched = _match_mean(source, target, region)
    if mode == "mean":
        return matched
    src_avg, den = _masked_blur(matched, region, sigma)
    tgt_avg, _ = _masked_blur(target, region, sigma)
    gain = xp.clip((tgt_avg + 1.0) / (src_avg + 1.0), 0.67, 1.5)
    gain = xp.where((den > 1e-3)[..., None], gain, 1.0)
    return xp.clip(matched * gain, 0.0, 255.0)


def _match_mean(source: Array, target: Array, region: Array) -> Array:
    xp = array_module(source)
    w = region[..., None]
    n = xp.maximum(w.sum(), 1.0)
    ms, mt = (source * w).sum((0, 1)) / n, (target * w).sum((0, 1)) / n
    ss = xp.sqrt(((source - ms) ** 2 * w).sum((0, 1)) / n) + 1e-3
    st = xp.sqrt(((target - mt) ** 2 * w).sum((0, 1)) / n) + 1e-3
    return xp.clip((source - ms) * xp.clip(st / ss, 0.5, 2.0) + mt, 0.0, 255.0)
