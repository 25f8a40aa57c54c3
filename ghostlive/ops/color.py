"""Colour and lighting transfer between a warped source face and the target face.

Estimated on skin only (the caller's ``region``: no eyes, brows, lips or nostrils), with medians and with
both faces clipped around their medians before averaging, so a highlight, a strand of hair or a shadowed
crease does not tint the whole face. The low-frequency gain divides the source's own lighting out before the
target's is multiplied in (matching spreads first would multiply the two), and the result's luminance is kept
within the target face's own range, so no transfer can push a face to near black or white.
"""

from __future__ import annotations

from typing import Literal

from ghostlive.errors import ConfigError
from ghostlive.ops.filters import clip_channels, expand, low_pass, merge_channels, split_channels
from ghostlive.types import Array
from ghostlive.xp import array_module

ColorMode = Literal["lowfreq", "mean", "none"]
COLOR_MODES: tuple[str, ...] = ("lowfreq", "mean", "none")
LUMA_BGR = (0.114, 0.587, 0.299)
"""BT.601 luma weights in BGR order."""
GAIN_RANGE = (1.0 / 16.0, 8.0)
"""Bounds of the luma gain (the target's skin light over the source's). Wide enough for a photo at an eighth of
the other's exposure: at (0.25, 4) a face pasted onto a photo at 12 % brightness came out flat (the over-bright
result squeezed into the target's luma range by ``bounds``), and a source at 12 % came out dark brown. An 8×
gain lifts a dark source's noise with it: :mod:`ghostlive.pipeline.advice` warns about such a source."""
CHROMA_REACH = 24.0
"""How far (in BGR levels) a pixel's own colour may lie from the skin's for the skin's colour shift to apply
fully; farther colours (glare, a glimpse of background) get half of it."""
HIGHLIGHT_SPAN = 0.25
"""A highlight this much brighter than the skin around it (a fraction of the skin's luma) or more takes the skin's
colour shift fully and this much more (see :func:`_relight`)."""
HUE_SHARE = 0.25
"""For the highlight rule, a chroma holding at least this share of another's (projected on it) counts as having its
hue: a pixel's of the skin's (neutral glare has none and keeps the half shift of colours unlike skin), and the
colour shift's of the target's skin (it adds colour rather than taking it away)."""
SHADOW_SPAN = 0.5
"""A pixel with the skin's hue this much darker than the skin around it (a fraction of the skin's luma) or more
counts as skin (a crease, a shadowed fold) and takes the skin's colour shift fully (see :func:`_relight`)."""
VARIATION_RANGE = (0.25, 1.0)
"""Bounds of the factor by which a skin-hued pixel's own departure from the skin's chroma is scaled: the target's
skin chroma over the source's, so a paler target gets paler creases and blotches, never more colourful ones."""
SPLIT_MIN = 1.5
"""A ``split`` part smaller than this many σ² px never reaches the local weight at which its own average
counts (see :func:`_split_average`): it is not averaged at all."""
WINSOR = (0.3, 2.0)
"""Skin values are clipped to these multiples of the skin median before low-pass averaging."""


def luma(image: Array) -> Array:
    """BT.601 luma of a BGR float image (H×W×3 → H×W)."""
    return image[..., 0] * LUMA_BGR[0] + image[..., 1] * LUMA_BGR[1] + image[..., 2] * LUMA_BGR[2]


def masked_average(images: list[Array], weight: Array, sigma: float) -> tuple[list[Array], Array]:
    """Each of ``images`` (H×W×3) averaged locally over the ``weight`` mask (Gaussian, σ = ``sigma`` px, at
    reduced resolution: see :func:`ghostlive.ops.filters.low_pass`), and the blurred weight."""
    xp = array_module(weight)
    den = low_pass(weight, sigma)
    w3, safe = expand(weight), expand(xp.maximum(den, 1e-6))
    return [low_pass(im * w3, sigma) / safe for im in images], den


def _sample(values: Array, region: Array) -> Array:
    """Values (H×W×C or H×W) at every third pixel of ``region`` (a fair, cheaper sample for statistics)."""
    return values[::3, ::3][region[::3, ::3] > 0]


def _median(values: Array, region: Array) -> Array:
    xp = array_module(values)
    picked = _sample(values, region)
    if picked.shape[0] == 0:
        return xp.full(values.shape[-1], 128.0, xp.float32)
    return xp.median(picked, axis=0).astype(xp.float32)


def is_grey(image: Array, region: Array) -> bool:
    """Whether ``image`` (BGR float) is grey over ``region``, also when stored as three channels (JPEG noise
    allowed: 99 % of pixels within 6 levels across channels and 1.5 on average)."""
    xp = array_module(image)
    px = _sample(image, region)
    if px.shape[0] == 0:
        return False
    spread = px.max(-1) - px.min(-1)
    return float(spread.mean()) <= 1.5 and float(xp.percentile(spread, 99.0)) <= 6.0


def luma_range(image: Array, region: Array, q: float = 1.0) -> tuple[float, float]:
    """The ``q`` and ``100 − q`` percentiles of the luma of ``image`` over ``region``."""
    xp = array_module(image)
    y = luma(_sample(image, region))
    if y.shape[0] == 0:
        return 0.0, 255.0
    lo, hi = xp.percentile(y, xp.asarray([q, 100.0 - q])).tolist()
    return float(lo), float(hi)


def bound_luma(image: Array, lo: float, hi: float) -> Array:
    """``image`` with each pixel's luma clamped to [lo, hi] by an equal shift of its channels (hue kept)."""
    xp = array_module(image)
    y = luma(image)
    return xp.clip(image + expand(xp.clip(y, lo, hi) - y), 0.0, 255.0)


def transfer_color(
    source: Array,
    target: Array,
    region: Array,
    mode: ColorMode,
    sigma: float,
    *,
    bounds: tuple[float, float] | None = None,
    split: Array | None = None,
) -> Array:
    """Recolour ``source`` (float32 H×W×3) to match ``target`` over the skin ``region`` mask (H×W, 0/1).

    ``mean`` relights by the skin medians (the target's skin tone); ``lowfreq`` by locally averaged skin
    colours (σ = ``sigma`` px), which also swaps the source's lighting for the target's: luma is scaled by
    the ratio of the averages (within :data:`GAIN_RANGE`) and the skin's chroma moved to the target's (see
    :func:`_relight`); ``none`` returns the source unchanged. With ``bounds`` (lo, hi), the result's luma is
    clamped into that range (see :func:`luma_range`). ``split`` (H×W bool) marks source pixels that come from
    elsewhere in the source (mirrored triangles, lit differently): ``lowfreq`` averages the source's lighting
    over each part separately, so the seam between them does not carry a step in brightness.
    """
    if mode == "none":
        return source
    xp = array_module(source)
    if mode not in COLOR_MODES:
        raise ConfigError(f"unknown colour mode {mode!r}; expected one of {COLOR_MODES}")
    ms, mt = _median(source, region), _median(target, region)
    if mode == "mean":
        s_avg, t_avg = ms, mt
    else:
        clipped = [clip_channels(im, m * WINSOR[0], m * WINSOR[1]) for im, m in ((source, ms), (target, mt))]
        (s_avg, t_avg), den = masked_average(clipped, region, sigma)
        far = (den <= 1e-3)[..., None]
        if bool(far.any()):  # pixels out of the skin's reach take the medians (a photo's face rarely has any)
            s_avg, t_avg = xp.where(far, ms, s_avg), xp.where(far, mt, t_avg)
        if split is not None and float(split.sum()) >= SPLIT_MIN * sigma * sigma:
            s_avg = _split_average(clipped[0], region, split, sigma, s_avg)
    out = _relight(source, s_avg, t_avg)
    return bound_luma(out, *bounds) if bounds is not None else xp.clip(out, 0.0, 255.0)


def _relight(source: Array, s_avg: Array, t_avg: Array) -> Array:
    """Luma scaled by the ratio of skin averages (the lighting), chroma moved from the source's skin average
    to the target's, fully for skin-coloured pixels and at most half for others (:data:`CHROMA_REACH`): glare
    on glasses stays nearly neutral instead of taking on a strong tint (as a per-channel gain would give it).
    A colour unlike skin gets less still the darker it is than the target's skin there (in proportion to its
    relit luma), as a change of light would tint it: a black spectacle frame from a warm-skinned source stays
    near black on a cooler target instead of turning slate blue. A highlight on the skin (brighter than the skin
    around it, with some of the skin's hue: :data:`HUE_SHARE`) takes the shift in proportion to its brightness,
    up to :data:`HIGHLIGHT_SPAN` more, where the shift adds the target's skin colour (a more saturated target:
    a pale spot from a white-lit source on a warm-lit target becomes a warm highlight instead of a grey-blue
    one); where the shift takes colour away (a paler target), more of it would carry a pale highlight past
    neutral, so it takes the skin's shift.

    Darker pixels with the skin's hue (creases, folds: redder than the skin on a ruddy face) count as skin, fully
    from :data:`SHADOW_SPAN` below it, and every skin-hued pixel's own departure from the skin's chroma is scaled
    by the target's skin chroma over the source's (:data:`VARIATION_RANGE`): a ruddy source's creases on a pale
    target become shaded skin, not red lines (an additive shift keeps the source's departures whole)."""
    xp = array_module(source)
    src, s_avg3, t_avg3 = split_channels(source), split_channels(s_avg), split_channels(t_avg)
    ys, ya, yt = _luma(src), _luma(s_avg3), _luma(t_avg3)
    gain = xp.clip((yt + 1.0) / (ya + 1.0), *GAIN_RANGE)
    s_chroma, t_chroma = [c - ya for c in s_avg3], [c - yt for c in t_avg3]
    shift = [t - s * gain for t, s in zip(t_chroma, s_chroma, strict=True)]
    chroma = [c - ys for c in src]
    offset = [c - s for c, s in zip(chroma, s_chroma, strict=True)]
    reach = xp.exp(_dot(offset, offset) * (-1.0 / (2.0 * CHROMA_REACH**2)))
    lit = ys * gain / (yt + 1.0)
    ss, tt = _dot(s_chroma, s_chroma), _dot(t_chroma, t_chroma)
    hue = _share(chroma, s_chroma, ss)
    skin = xp.maximum(reach, hue)
    reach = reach + (skin - reach) * xp.clip((1.0 - lit) * (1.0 / SHADOW_SPAN), 0.0, 1.0)
    above = hue * _share(shift, t_chroma, tt) * xp.clip(lit - 1.0, 0.0, HIGHLIGHT_SPAN)
    reach = reach + (1.0 - reach) * 0.5 * (xp.clip(lit, 0.0, 1.0) + above * (1.0 / HIGHLIGHT_SPAN))
    ratio = xp.sqrt((tt + 1.0) / (ss + 1.0))
    variation = (xp.clip(ratio, *VARIATION_RANGE) - 1.0) * gain
    moved, varied = reach * (1.0 + above), skin * variation
    return merge_channels(
        [c * gain + moved * d + varied * o for c, d, o in zip(src, shift, offset, strict=True)]
    )


Planes = list[Array]
"""The B, G and R channels of an image as H×W arrays (see :func:`ghostlive.ops.filters.split_channels`)."""


def _luma(bgr: Planes) -> Array:
    return bgr[0] * LUMA_BGR[0] + bgr[1] * LUMA_BGR[1] + bgr[2] * LUMA_BGR[2]


def _share(a: Planes, b: Planes, bb: Array) -> Array:
    """How much of chroma ``b`` the chroma ``a`` holds (its projection on ``b``; ``bb`` is ``b``·``b``), as a
    weight: 0 for none or the opposite hue, 1 from :data:`HUE_SHARE` of it."""
    xp = array_module(bb)
    return xp.clip(_dot(a, b) / (HUE_SHARE * bb + 1.0), 0.0, 1.0)


def _dot(a: Planes, b: Planes) -> Array:
    """Per-pixel dot product of two colours given as planes (H×W)."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _split_average(source: Array, region: Array, split: Array, sigma: float, whole: Array) -> Array:
    """The source's local skin average taken within each side of ``split`` on its own, blended toward
    ``whole`` where that side has little skin within reach (a sliver averaged on its own would lose all
    texture: source over its own average is flat)."""
    xp = array_module(source)
    out = whole
    for part in (split, ~split):
        (avg,), den = masked_average([source], region * part.astype(xp.float32), sigma)
        w = expand(xp.where(part, xp.clip(4.0 * den - 1.0, 0.0, 1.0), 0.0))
        out = w * avg + (1.0 - w) * out
    return out
