"""Neural swappers: GHOST (AEI-Net + ArcFace) and insightface's inswapper_128.

Both align the target face to a template crop, run the network on the crop, and return the swapped crop with
its mask and the inverse affine (the chain places it back, see :func:`ghostlive.ops.blend.place`).
GHOST uses its adaptive 106-landmark mask when ``2d106det`` is installed,
otherwise a mask from the built-in face mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ghostlive.models.facemesh import topology
from ghostlive.models.ghost import CROP, GhostArcFace, GhostGenerator
from ghostlive.models.insightface import InsightArcFace, InSwapper
from ghostlive.models.landmark106 import Landmark106
from ghostlive.ops.align import invert_affine, norm_crop, transform_points
from ghostlive.ops.blend import SwapCrop
from ghostlive.ops.mask import feathered_mask, ghost_mask, ghost_mask_params
from ghostlive.ops.paste_mask import inswapper_mask
from ghostlive.swappers.base import CropSwapper
from ghostlive.types import Affine, Array, Embedding, Face, FaceMemory, Frame
from ghostlive.xp import array_module, to_host


@dataclass(frozen=True)
class NeuralSource:
    """The identity vector a neural swapper pastes (GHOST: raw ArcFace; inswapper: its latent)."""

    identity: Embedding = field(repr=False)


def mesh_mask(face: Face, m: Affine, size: int, feather: float = 0.04, like: Array | None = None) -> Array:
    """A crop-space mask from the target's face-mesh outline (used when no 106-point model is installed), on
    the array module of ``like``."""
    oval = transform_points(face.landmarks[topology().oval], m)
    width = float(np.ptp(oval[:, 0]))
    return feathered_mask((0, 0, size, size), oval, feather=max(feather * width, 0.5), like=like)


def unit(v: np.ndarray) -> Embedding:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class GhostEmbedder:
    """GHOST's face choice: its ArcFace on the 224 GHOST crop (×0.5 to 112), L2-normalised, a face kept when
    the cosine to a reference is above 0.15. GHOST embeds the faces it compares from BGR crops (only its source
    identity from RGB); this does the same so that its threshold means the same."""

    name = "arcface-ghost"
    default_threshold = 0.15

    def __init__(self, arcface: GhostArcFace) -> None:
        self.arcface = arcface

    def embed(self, image: Frame, face: Face) -> Embedding:
        crop, _ = norm_crop(image, face.keypoints5, CROP, "ghost")
        return unit(self.arcface.embed_one(crop[..., ::-1]))  # the wrapper swaps to RGB: undo it, as GHOST


class InsightEmbedder:
    """insightface's normed ArcFace (w600k) embedding of the 112 ArcFace crop. insightface sets no face-choice
    threshold; 0.3 is ghostlive's (same person ≈ 0.4–0.8, different people ≈ −0.1–0.2)."""

    name = "arcface-w600k"
    default_threshold = 0.3

    def __init__(self, arcface: InsightArcFace) -> None:
        self.arcface = arcface

    def embed(self, image: Frame, face: Face) -> Embedding:
        crop, _ = norm_crop(image, face.keypoints5, 112, "arcface")
        return unit(self.arcface.embed(crop))


class GhostSwapper(CropSwapper):
    """GHOST one-shot swap (ghost-1/2/3)."""

    def __init__(
        self, name: str, generator: GhostGenerator, arcface: GhostArcFace, landmarks106: Landmark106 | None = None
    ) -> None:
        self.name = name
        self.generator = generator
        self.arcface = arcface
        self.landmarks106 = landmarks106
        self.embedder = GhostEmbedder(arcface)

    def prepare_source(self, image: Frame, face: Face) -> NeuralSource:
        crop, _ = norm_crop(image, face.keypoints5, CROP, "ghost")
        return NeuralSource(self.arcface.embed_one(crop))

    def _mask(self, target_crop: Array, swapped: Array, face: Face, m: Affine, memory: FaceMemory | None) -> Array:
        xp = array_module(swapped)
        if self.landmarks106 is None:
            return mesh_mask(face, m, CROP, like=swapped)
        box = (0.0, 0.0, float(CROP), float(CROP))
        lm_s = self.landmarks106.landmarks(xp.clip(swapped, 0, 255).astype(xp.uint8), box)
        params = memory.ghost_mask if memory is not None else None
        if params is None:  # GHOST freezes the mask parameters at the first frame of a face's run
            params = ghost_mask_params(lm_s, self.landmarks106.landmarks(target_crop, box))
            if memory is not None:
                memory.ghost_mask = params
        return ghost_mask(lm_s, CROP, params, xp)

    def swap(
        self, frame: Array, target: Face, source: NeuralSource, memory: FaceMemory | None = None
    ) -> SwapCrop | None:
        """The 224 GHOST crop swapped, with GHOST's adaptive mask (or the mesh outline) in crop space."""
        return self._swap_crops(frame, [target], [source], [memory])[0]

    def swap_many(
        self,
        frame: Array,
        targets: list[Face],
        sources: list[NeuralSource],
        memories: list[FaceMemory | None],
    ) -> list[SwapCrop | None]:
        """:meth:`swap` for every face of a frame, the generator run once on all their crops (batched)."""
        return self._swap_crops(frame, targets, sources, memories)

    def _swap_crops(
        self,
        frame: Array,
        targets: list[Face],
        sources: list[NeuralSource],
        memories: list[FaceMemory | None],
    ) -> list[SwapCrop | None]:
        aligned = [norm_crop(frame, t.keypoints5, CROP, "ghost") for t in targets]
        xp = array_module(aligned[0][0])
        identities = np.stack([np.asarray(to_host(s.identity), np.float32).reshape(512) for s in sources])
        swapped = self.generator.swap(xp.stack([crop for crop, _ in aligned]), identities)
        return [
            SwapCrop(out, invert_affine(m), self._mask(crop, out, target, m, memory))
            for out, (crop, m), target, memory in zip(swapped, aligned, targets, memories, strict=True)
        ]


class InSwapperSwapper(CropSwapper):
    """insightface inswapper_128 with its ArcFace (w600k) identity."""

    name = "inswapper"
    size = 128

    def __init__(self, model: InSwapper, arcface: InsightArcFace) -> None:
        self.model = model
        self.arcface = arcface
        self.embedder = InsightEmbedder(arcface)

    def prepare_source(self, image: Frame, face: Face) -> NeuralSource:
        crop, _ = norm_crop(image, face.keypoints5, 112, "arcface")
        return NeuralSource(self.model.latent(self.arcface.embed(crop)))

    def swap(
        self, frame: Array, target: Face, source: NeuralSource, memory: FaceMemory | None = None
    ) -> SwapCrop | None:
        """The 128 crop swapped, with insightface's square paste mask (built in frame pixels, as it does)."""
        crop, m = norm_crop(frame, target.keypoints5, self.size, "inswapper")
        return SwapCrop(self.model.swap(crop, source.identity), invert_affine(m), inswapper_mask)
