"""Mask providers backed by models: an occluder (hands, microphones, hair in front of the face stay) and a face
parser (only the chosen regions are swapped). Each runs on an FFHQ-aligned crop of the frame at its model's
size; its mask is feathered there and warped back into the paste region."""

from __future__ import annotations

import numpy as np

from ghostlive.masking.mesh import DEFAULT_FEATHER
from ghostlive.models.masks import DEFAULT_REGIONS, FaceParser, Occluder, region_labels
from ghostlive.ops.align import invert_affine, similarity_transform, template
from ghostlive.ops.filters import gaussian_blur, warp_affine
from ghostlive.ops.mask import soft_limit
from ghostlive.types import Affine, Array, Face, Roi
from ghostlive.xp import array_module


def crop_matrix(face: Face, size: int) -> Affine:
    """Frame → crop similarity putting ``face``'s five keypoints on the FFHQ template of a ``size`` crop."""
    return similarity_transform(face.keypoints5, template("ffhq", size))


def thickness(mask: Array) -> float:
    """How thick the parts of ``mask`` (> 0.5) are, in px: twice the area over the outline's length (a disc's
    radius, a strip's width), at most a quarter of the mask's side (a mask of nearly all 1 has a short outline);
    0 for an empty mask."""
    xp = array_module(mask)
    m = (mask > 0.5).astype(xp.float32)
    area = float(m.sum())
    edge = float(xp.abs(xp.diff(m, axis=0)).sum() + xp.abs(xp.diff(m, axis=1)).sum()) * (np.pi / 4.0)
    return min(2.0 * area / max(edge, 1.0), 0.25 * min(mask.shape[:2]))


THICK_KNEE, THICK_CAP = 1.0 / 8.0, 1.0 / 5.0
"""A model mask's inward edge σ is the asked one up to ``THICK_KNEE`` of the mask's :func:`thickness` and never
above ``THICK_CAP`` of it (see :func:`ghostlive.ops.mask.soft_limit`), so the middle of each part stays 1."""


def inward_feather(mask: Array, sigma: float) -> Array:
    """A soft edge that stays inside ``mask``: blur by σ, then map [0.5, 1] onto [0, 1], so pixels the
    model gave 0 stay 0 and the transition lies on the kept side; σ is limited by the mask's thickness (a
    large one softens the edge without emptying the mask)."""
    xp = array_module(mask)
    if sigma <= 0:
        return mask
    t = thickness(mask)
    sigma = soft_limit(sigma, THICK_KNEE * t, THICK_CAP * t)
    if sigma <= 0:
        return mask
    soft = xp.clip(gaussian_blur(mask.astype(xp.float32), sigma), 0.5, 1.0)
    return (soft - 0.5) * 2.0


def crop_to_roi(mask: Array, to_crop: Affine, roi: Roi, outside: float) -> Array:
    """A crop-space mask warped back into the roi of the frame (bilinear); roi pixels the crop does not
    cover get ``outside`` (0 or 1)."""
    x0, y0, x1, y1 = roi
    back = invert_affine(to_crop).copy()
    back[:, 2] -= (x0, y0)
    if outside == 0:
        return warp_affine(mask, back, (x1 - x0, y1 - y0), border="constant")
    return 1.0 - warp_affine(1.0 - mask, back, (x1 - x0, y1 - y0), border="constant")


class OcclusionMask:
    """0 where the occluder model sees something in front of the face, 1 where it sees the face (and
    outside its crop)."""

    name = "occlusion"

    def __init__(self, occluder: Occluder, feather: float | None = None) -> None:
        self.model = occluder
        self.feather = DEFAULT_FEATHER["occlusion"] if feather is None else feather

    def __call__(self, frame: Array, face: Face, roi: Roi) -> Array:
        size = self.model.size
        m = crop_matrix(face, size)
        crop = warp_affine(frame, m, (size, size), border="replicate")
        visible = inward_feather(self.model(crop), self.feather * size)
        return crop_to_roi(visible, m, roi, outside=1.0)


class ParserMask:
    """1 on the chosen face-parser regions (skin, brows, eyes, glasses, nose, mouth, lips, …), 0 elsewhere."""

    name = "parser"

    def __init__(
        self, parser: FaceParser, regions: tuple[str, ...] = DEFAULT_REGIONS, feather: float | None = None
    ) -> None:
        self.model = parser
        self.regions = regions
        self.labels = region_labels(regions)
        self.feather = DEFAULT_FEATHER["parser"] if feather is None else feather

    def __call__(self, frame: Array, face: Face, roi: Roi) -> Array:
        size = self.model.size
        m = crop_matrix(face, size)
        crop = warp_affine(frame, m, (size, size), border="replicate")
        xp = array_module(crop)
        labels = self.model.labels(crop)
        chosen = xp.isin(labels, xp.asarray(self.labels)).astype(xp.float32)
        return crop_to_roi(inward_feather(chosen, self.feather * size), m, roi, outside=0.0)
