"""Neural swappers: GHOST (AEI-Net + ArcFace) and insightface's inswapper_128.

Both align the target face to a template crop, run the network on the crop, and paste the result back through
the inverse affine with a soft mask. GHOST uses its adaptive 106-landmark mask when ``2d106det`` is installed,
otherwise a mask from the built-in face mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghostlive.models.facemesh import topology
from ghostlive.models.ghost import CROP, GhostArcFace, GhostGenerator
from ghostlive.models.insightface import InsightArcFace, InSwapper
from ghostlive.models.landmark106 import Landmark106
from ghostlive.ops.align import invert_affine, norm_crop, transform_points
from ghostlive.ops.blend import Paste
from ghostlive.ops.filters import gaussian_blur, warp_affine
from ghostlive.ops.mask import feathered_mask, ghost_mask, ghost_mask_params
from ghostlive.ops.mesh import points_roi
from ghostlive.types import Affine, Array, Embedding, Face, Frame
from ghostlive.xp import array_module, to_device


@dataclass(frozen=True)
class NeuralSource:
    """The identity vector a neural swapper pastes (GHOST: raw ArcFace; inswapper: its latent)."""

    identity: Embedding = field(repr=False)


def paste_crop(frame: Array, crop: Array, mask: Array, m: Affine) -> Paste | None:
    """Map a swapped crop and its mask (crop space) back into the frame region they cover, on the frame's
    array module."""
    xp = array_module(frame)
    size = crop.shape[0]
    inv = invert_affine(m)
    corners = transform_points(np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float32), inv)
    roi = points_roi(corners, frame.shape, margin=1)
    if roi is None:
        return None
    x0, y0, x1, y1 = roi
    shifted = inv.copy()
    shifted[:, 2] -= (x0, y0)
    size_out = (x1 - x0, y1 - y0)
    face = warp_affine(to_device(crop, xp).astype(xp.float32), shifted, size_out, border="replicate")
    soft = warp_affine(to_device(mask, xp).astype(xp.float32), shifted, size_out, border="constant")
    return Paste(roi=roi, face=face, mask=xp.clip(soft, 0.0, 1.0))


def mesh_mask(face: Face, m: Affine, size: int, feather: float = 0.04, like: Array | None = None) -> Array:
    """A crop-space mask from the target's face-mesh outline (used when no 106-point model is installed), on
    the array module of ``like``."""
    oval = transform_points(face.landmarks[topology().oval], m)
    width = float(np.ptp(oval[:, 0]))
    return feathered_mask((0, 0, size, size), oval, feather=max(feather * width, 0.5), like=like)


class GhostSwapper:
    """GHOST one-shot swap (ghost-1/2/3)."""

    def __init__(
        self, name: str, generator: GhostGenerator, arcface: GhostArcFace, landmarks106: Landmark106 | None = None
    ) -> None:
        self.name = name
        self.generator = generator
        self.arcface = arcface
        self.landmarks106 = landmarks106

    def prepare_source(self, image: Frame, face: Face) -> NeuralSource:
        crop, _ = norm_crop(image, face.keypoints5, CROP, "ghost")
        return NeuralSource(self.arcface.embed_one(crop))

    def _mask(self, target_crop: Array, swapped: Array, face: Face, m: Affine, state: dict[str, Any] | None) -> Array:
        xp = array_module(swapped)
        if self.landmarks106 is None:
            return mesh_mask(face, m, CROP, like=swapped)
        box = (0.0, 0.0, float(CROP), float(CROP))
        lm_s = self.landmarks106.landmarks(xp.clip(swapped, 0, 255).astype(xp.uint8), box)
        params = state.get("ghost_mask") if state is not None else None
        if params is None:  # GHOST freezes the mask parameters at the first frame of a face's run
            params = ghost_mask_params(lm_s, self.landmarks106.landmarks(target_crop, box))
            if state is not None:
                state["ghost_mask"] = params
        return ghost_mask(lm_s, CROP, params, xp)

    def render(
        self, frame: Array, target: Face, source: NeuralSource, state: dict[str, Any] | None = None
    ) -> Paste | None:
        crop, m = norm_crop(frame, target.keypoints5, CROP, "ghost")
        swapped = self.generator.swap(crop[None], source.identity)[0]
        return paste_crop(frame, swapped, self._mask(crop, swapped, target, m, state), m)


class InSwapperSwapper:
    """insightface inswapper_128 with its ArcFace (w600k) identity."""

    name = "inswapper"
    size = 128

    def __init__(self, model: InSwapper, arcface: InsightArcFace) -> None:
        self.model = model
        self.arcface = arcface
        # insightface's paste mask: the crop square eroded by max(size/10, 10), blurred (σ ≈ size/20)
        erode = max(self.size // 10, 10)
        mask = np.zeros((self.size, self.size), np.float32)
        mask[erode:-erode, erode:-erode] = 1.0
        self.paste_mask = gaussian_blur(mask, max(self.size / 20.0, 5.0) / 2.0)

    def prepare_source(self, image: Frame, face: Face) -> NeuralSource:
        crop, _ = norm_crop(image, face.keypoints5, 112, "arcface")
        return NeuralSource(self.model.latent(self.arcface.embed(crop)))

    def render(
        self, frame: Array, target: Face, source: NeuralSource, state: dict[str, Any] | None = None
    ) -> Paste | None:
        crop, m = norm_crop(frame, target.keypoints5, self.size, "inswapper")
        swapped = self.model.swap(crop, source.identity)
        return paste_crop(frame, swapped, self.paste_mask, m)
