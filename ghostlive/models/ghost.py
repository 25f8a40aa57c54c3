"""GHOST networks behind a runner: the AEI-Net generator and its ArcFace identity encoder."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.engines.registry import run_in_batches
from ghostlive.models.common import check_io
from ghostlive.ops.filters import remap, resize
from ghostlive.types import Array, Embedding
from ghostlive.xp import array_module, to_device, to_host

CROP = 224
GEN_SIZE = 256


def bgr_to_signed_nchw(images: Array) -> Array:
    """N×H×W×3 BGR uint8 → N×3×H×W RGB float32 in [−1, 1] ((x/255 − 0.5)/0.5), on the input's module."""
    xp = array_module(images)
    x = images[..., ::-1].astype(xp.float32) * (2.0 / 255.0) - 1.0
    return xp.ascontiguousarray(x.transpose(0, 3, 1, 2))


def signed_nchw_to_bgr(y: Array) -> Array:
    """N×3×H×W RGB in [−1, 1] → N×H×W×3 BGR float32 in [0, 255], on the input's module."""
    xp = array_module(y)
    img = (xp.clip(y, -1.0, 1.0) * 0.5 + 0.5) * 255.0
    return xp.ascontiguousarray(img.transpose(0, 2, 3, 1)[..., ::-1])


def half_align_corners(x: Array) -> Array:
    """Bilinear ×0.5 with align_corners=True over the last two axes of an N×C×H×W array (GHOST's 224→112)."""
    xp = array_module(x)
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2
    ys = xp.arange(oh, dtype=xp.float32) * ((h - 1) / (oh - 1))
    xs = xp.arange(ow, dtype=xp.float32) * ((w - 1) / (ow - 1))
    my, mx = xp.meshgrid(ys, xs, indexing="ij")
    planes = x.reshape(n * c, h, w)
    out = xp.stack([remap(p, mx, my, border="replicate") for p in planes])
    return out.reshape(n, c, oh, ow)


class GhostArcFace:
    """GHOST's identity path: 224 aligned crop → [−1, 1] → ×0.5 to 112 → iresnet100 → raw 512-d vector."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "GHOST ArcFace")
        self.runner = runner
        self._input = runner.info.inputs[0].name

    def embed(self, crops224: Array) -> np.ndarray:
        """N×224×224×3 BGR uint8 crops (host or device) → N×512 raw embeddings on the host (not normalised,
        as GHOST uses them)."""
        x = half_align_corners(bgr_to_signed_nchw(crops224))
        return to_host(next(iter(run_any(self.runner, {self._input: x}).values()))).astype(np.float32)

    def embed_one(self, crop224: Array) -> Embedding:
        return self.embed(crop224[None])[0]


class GhostGenerator:
    """AEI-Net: target crops (224, BGR) + raw identity → swapped crops (224, BGR float32 0–255)."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 2, 1, "GHOST generator")
        self.runner = runner
        names = [i.name for i in runner.info.inputs]
        shapes = {i.name: i.shape for i in runner.info.inputs}
        self._target = next((n for n in names if len(shapes[n]) == 4), names[0])
        self._source = next(n for n in names if n != self._target)

    def swap(self, crops224: Array, identity: np.ndarray, max_batch: int = 8) -> Array:
        """N×224×224×3 BGR uint8 + N×512 (or 1×512, broadcast) → N×224×224×3 BGR float32, in batches of at
        most ``max_batch`` (halved automatically when the device runs out of memory). The crops may live on
        the host or a device; the result lives with them."""
        xp = array_module(crops224)
        n = len(crops224)
        big = bgr_to_signed_nchw(xp.stack([resize(c, (GEN_SIZE, GEN_SIZE)) for c in crops224]))
        ident_host = np.broadcast_to(np.asarray(to_host(identity), np.float32).reshape(-1, 512), (n, 512))
        ident = to_device(np.ascontiguousarray(ident_host), xp)

        def run(rows: np.ndarray) -> Array:
            part = slice(int(rows[0]), int(rows[-1]) + 1)  # batches are runs of consecutive rows
            return next(iter(run_any(self.runner, {self._target: big[part], self._source: ident[part]}).values()))

        imgs = signed_nchw_to_bgr(run_in_batches(run, np.arange(n), max_batch))
        return xp.stack([resize(im, (CROP, CROP)) for im in imgs])
