"""The built-in classic swapper: mesh warp, colour transfer and feathered blend (no neural generator).

In the spirit of the 2017 FaceSwap baseline: the source face is warped onto the target's 468-point mesh
triangle by triangle, recoloured to the target's skin tone and lighting, and blended inside the target's face
outline with a feathered mask that keeps chosen target regions (inner mouth by default) for expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghostlive.errors import ConfigError
from ghostlive.models.facemesh import topology
from ghostlive.ops.blend import Paste
from ghostlive.ops.color import COLOR_MODES, ColorMode, transfer_color
from ghostlive.ops.mask import feathered_mask
from ghostlive.ops.mesh import piecewise_affine, points_roi
from ghostlive.types import KEEP_REGIONS, Array, Face, Points
from ghostlive.xp import array_module, to_device

_REGION_LOOPS = {"mouth": ("mouth",), "eyes": ("right_eye", "left_eye"), "brows": ("right_brow", "left_brow")}


@dataclass(frozen=True)
class ClassicOptions:
    """What a user tunes on the classic swapper."""

    blend: float = 1.0
    """0 keeps the target, 1 pastes the source fully inside the mask."""
    feather: float = 0.035
    """Mask edge softness as a fraction of the face width (σ of the Gaussian edge)."""
    color: ColorMode = "lowfreq"
    keep: tuple[str, ...] = ("mouth",)
    """Target regions kept as they are: any of mouth, eyes, brows."""
    color_sigma: float = 0.12
    """Colour/lighting transfer scale as a fraction of the face width."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.blend <= 1.0:
            raise ConfigError(f"blend must be within [0, 1], got {self.blend}")
        if not 0.0 < self.feather <= 0.2:
            raise ConfigError(f"feather must be within (0, 0.2], got {self.feather}")
        if self.color not in COLOR_MODES:
            raise ConfigError(f"color must be one of {', '.join(COLOR_MODES)}, got {self.color!r}")
        bad = [k for k in self.keep if k not in KEEP_REGIONS]
        if bad:
            raise ConfigError(f"keep regions must be among {', '.join(KEEP_REGIONS)}, got {', '.join(bad)}")


@dataclass(frozen=True)
class ClassicSource:
    """A source face ready to warp: a crop of the source photo and its mesh in crop coordinates."""

    image: Array = field(repr=False)
    landmarks: Points = field(repr=False)


def face_width(landmarks: Points) -> float:
    """Width of the face outline in pixels (a scale for masks and filters)."""
    oval = np.asarray(landmarks)[topology().oval]
    return float(np.linalg.norm(oval.max(0) - oval.min(0)) / np.sqrt(2.0))


class ClassicSwapper:
    """Mesh-warp face swap; see the module docstring."""

    name = "classic"

    def __init__(self, options: ClassicOptions | None = None) -> None:
        self.options = options or ClassicOptions()

    def prepare_source(self, image: Array, face: Face, xp: object | None = None) -> ClassicSource:
        """The source crop, kept on ``xp`` (default: where ``image`` lives)."""
        roi = points_roi(face.landmarks, image.shape, margin=4)
        if roi is None:
            raise ValueError("source face lies outside its image")
        x0, y0, x1, y1 = roi
        crop = image[y0:y1, x0:x1].astype(np.float32)
        return ClassicSource(to_device(crop, xp or array_module(image)), face.landmarks - np.float32([x0, y0]))

    def render(
        self, frame: Array, target: Face, source: ClassicSource, state: dict[str, Any] | None = None
    ) -> Paste | None:
        opts = self.options
        topo = topology()
        roi = points_roi(target.landmarks, frame.shape)
        if roi is None:
            return None
        xp = array_module(frame)
        x0, y0, x1, y1 = roi
        width = face_width(target.landmarks)
        warped, covered = piecewise_affine(
            to_device(source.image, xp), source.landmarks, target.landmarks, topo.triangles, roi, depth=target.depth
        )
        region = frame[y0:y1, x0:x1].astype(xp.float32)
        warped = xp.where(covered[..., None] > 0, warped, region)
        holes = [target.landmarks[topo.regions[r]] for k in opts.keep for r in _REGION_LOOPS[k]]
        mask = feathered_mask(
            roi,
            target.landmarks[topo.oval],
            holes,
            feather=max(opts.feather * width, 0.5),
            like=frame,
        )
        face = transfer_color(warped, region, covered * (mask > 0.5), opts.color, opts.color_sigma * width)
        return Paste(roi=roi, face=face, mask=mask * opts.blend)
