"""The built-in classic swapper: mesh warp, colour transfer and feathered blend (no neural generator).

In the spirit of the 2017 FaceSwap baseline: the source face is warped onto the target's 468-point mesh, its
features first moved toward the source's proportions inside the target's outline (:mod:`ghostlive.ops.shape`),
triangle by triangle (source triangles turned away from the camera are taken from their mirror image on the
visible side, see :mod:`ghostlive.ops.occlusion`), recoloured to the target's skin tone and lighting
(estimated on skin only, bounded by the target's own range), and blended inside the target's face outline with
a feathered mask that keeps chosen target regions (inner mouth by default) for expression. The mesh's holes,
eyes and inner mouth, show the target's own pixels untouched (:mod:`ghostlive.ops.openings`); a grey target
gets a grey face. A blurred or grainy target gets the source softened or grain added to match
(:mod:`ghostlive.ops.texture`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ghostlive.errors import ConfigError, NoFaceError
from ghostlive.models.facemesh import topology
from ghostlive.ops.blend import SwapCrop
from ghostlive.ops.color import COLOR_MODES, ColorMode, is_grey, luma, luma_range, transfer_color
from ghostlive.ops.mask import feathered_mask
from ghostlive.ops.mesh import points_roi, warp_mesh
from ghostlive.ops.occlusion import RING, SourcePlan, fill_hidden, foreign_triangles, plan_source, visibility
from ghostlive.ops.openings import (
    SOURCE_OPEN,
    MovedTarget,
    Opening,
    SourceWarp,
    compose_openings,
    eye_fan,
    eye_openness,
    eye_width,
    lid_gap,
    target_warp,
)
from ghostlive.ops.regions import face_width
from ghostlive.ops.shape import adapt_shape
from ghostlive.ops.texture import add_grain, matching_blur, matching_grain, soften
from ghostlive.swappers.base import CropSwapper
from ghostlive.tracking import refresh, reuse
from ghostlive.types import KEEP_REGIONS, Array, Face, FaceMemory, Points, Roi
from ghostlive.xp import array_module, to_device, to_host

SPECK = 0.002
"""A skin triangle that :func:`ghostlive.ops.occlusion.plan_source` leaves to the target, facing the camera in
the source, smaller than this share of the target face's area and with no such neighbour (sharing a vertex), is a
sliver squeezed by the source's expression (the fold at a smiling mouth's corner), not a side turned away: it
keeps its own source pixels. Filled with the target's own skin, it pasted a fleck of the target's crease there."""

_PINNED = {"eyes": ("right_eye", "left_eye"), "brows": ("right_brow", "left_brow")}
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
    shape: float = 0.7
    """How far the target's features move toward the source's proportions (0 keeps the target's geometry;
    see :mod:`ghostlive.ops.shape`)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.blend <= 1.0:
            raise ConfigError(f"blend must be within [0, 1], got {self.blend}")
        if not 0.0 < self.feather <= 0.2:
            raise ConfigError(f"feather must be within (0, 0.2], got {self.feather}")
        if not 0.0 <= self.shape <= 1.0:
            raise ConfigError(f"shape must be within [0, 1], got {self.shape}")
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
    visible: np.ndarray | None = field(default=None, repr=False)
    """Per mesh triangle, the share seen from the camera (see :func:`ghostlive.ops.occlusion.visibility`)."""
    depth: np.ndarray | None = field(default=None, repr=False)
    """The source mesh's relative depth (for :func:`ghostlive.ops.shape.adapt_shape`)."""
    foreign: np.ndarray | None = field(default=None, repr=False)
    """Per mesh triangle, whether it samples background (see :func:`ghostlive.ops.occlusion.foreign_triangles`)."""


class ClassicSwapper(CropSwapper):
    """Mesh-warp face swap; see the module docstring. Its crop is the target's face region of the frame."""

    name = "classic"
    host_frames = True
    """Measured on an H200 (``ghostlive bench --device cuda`` against ``--device cpu``): 40 ms per 640×480 frame
    on the GPU frame path, 19 ms on the host; the swap stage is hundreds of small array operations (a kernel
    launch each) and fillConvexPoly's host raster has no GPU twin. ``--device auto`` keeps its frames on the CPU."""

    def __init__(self, options: ClassicOptions | None = None) -> None:
        self.options = options or ClassicOptions()

    def prepare_source(self, image: Array, face: Face, xp: object | None = None) -> ClassicSource:
        """The source crop, kept on ``xp`` (default: where ``image`` lives)."""
        roi = points_roi(face.landmarks, image.shape, margin=4)
        if roi is None:
            raise NoFaceError("the source face lies outside its image")
        x0, y0, x1, y1 = roi
        crop = image[y0:y1, x0:x1].astype(np.float32)
        landmarks = face.landmarks - np.float32([x0, y0])
        visible = visibility(landmarks, face.depth, topology().triangles)
        wide = points_roi(face.landmarks, image.shape, margin=int(RING * face_width(face.landmarks)) + 4)
        around = to_host(image[wide[1] : wide[3], wide[0] : wide[2]])  # the face and a strip of its background
        foreign = foreign_triangles(around, face.landmarks - np.float32(wide[:2]), face.depth, topology())
        return ClassicSource(to_device(crop, xp or array_module(image)), landmarks, visible, face.depth, foreign)

    def swap(
        self, frame: Array, target: Face, source: ClassicSource, memory: FaceMemory | None = None
    ) -> SwapCrop | None:
        opts = self.options  # read once: a live settings change may replace it while this frame is swapped
        topo = topology()
        roi = points_roi(target.landmarks, frame.shape)
        if roi is None:
            return None
        xp = array_module(frame)
        x0, y0, x1, y1 = roi
        width = face_width(target.landmarks)
        image = to_device(source.image, xp)
        dst = self._geometry(target, source, opts)
        was_flipped = memory is not None and memory.mirrored_source
        plan = _keep_specks(
            plan_source(source.landmarks, dst, topo, source.visible, was_flipped, source.foreign), source.landmarks, dst
        )
        if memory is not None:
            memory.mirrored_source = plan.flipped
        warped, ids = warp_mesh(
            image, source.landmarks, dst, topo.triangles, roi,
            depth=target.depth, src_triangles=plan.src_triangles, hidden=plan.hidden,
        )  # fmt: skip
        covered = ids >= 0
        region = frame[y0:y1, x0:x1].astype(xp.float32)
        holes = [target.landmarks[topo.regions[r]] for k in opts.keep for r in _REGION_LOOPS[k]]
        mask = feathered_mask(
            roi,
            target.landmarks[topo.oval],
            holes,
            feather=max(opts.feather * width, 0.5),
            like=frame,
        )
        inside = mask > 0
        skin = covered & to_device(topo.skin, xp)[xp.maximum(ids, 0)] & (mask > 0.5)
        host = _HostLuma(region, skin)  # taken to the host only when (and as far as) a texture measure needs it
        blur = lambda held: matching_blur(host.target, lambda: _luma(warped), host.weight, held)  # noqa: E731
        soft = refresh(memory, "soften", roi, blur).amount
        if soft:
            warped = soften(warped, covered, soft)
        face = transfer_color(
            warped, region, skin.astype(xp.float32), opts.color, opts.color_sigma * width,
            bounds=reuse(memory, "luma_range", roi, lambda: luma_range(region, inside)),
            split=to_device(plan.other_side, xp)[xp.maximum(ids, 0)] & covered if plan.other_side.any() else None,
        )  # fmt: skip
        face = xp.where(covered[..., None], face, region)
        if plan.hidden.any():
            face = fill_hidden(face, region, covered, ids == -2, 0.12 * width)
        noise = lambda held: matching_grain(host.target, lambda: _luma(face), host.weight, held)  # noqa: E731
        grain = refresh(memory, "grain", roi, noise).amount
        if grain:
            face = add_grain(face, covered | (ids == -2), grain, (x0, y0))
        moved = target_warp(region, roi, target.landmarks, dst)
        openings = self._openings(target, dst, source, image, plan, moved, opts)
        face = compose_openings(face, region, covered, roi, openings)
        if reuse(memory, "grey", roi, lambda: is_grey(region, inside)):
            face = xp.repeat(luma(face)[..., None], 3, axis=2)
        return SwapCrop.region(roi, face, mask * opts.blend)

    def _geometry(self, target: Face, source: ClassicSource, opts: ClassicOptions) -> Points:
        """The target's landmarks with the source's proportions (:attr:`ClassicOptions.shape`). The lips stay
        where they are (their shape is expression, and the inner mouth is the target's), as do kept regions,
        since the mask shows the target's own pixels there, and closed eyes (:func:`eye_hold`): a lash line
        is the eye's state, not its shape."""
        if source.depth is None or opts.shape == 0.0:
            return target.landmarks
        pinned = ("lips", *(g for k in opts.keep for g in _PINNED.get(k, ())))
        held = {f"{side}_eye": eye_hold(target.landmarks, side) for side in ("right", "left")}
        return adapt_shape(
            source.landmarks, source.depth, target.landmarks, target.depth, topology(), opts.shape, pinned,
            held,
        ).astype(np.float32)  # fmt: skip

    def _openings(
        self,
        target: Face,
        dst: Points,
        source: ClassicSource,
        image: Array,
        plan: SourcePlan,
        moved: MovedTarget,
        opts: ClassicOptions,
    ) -> list[Opening]:
        """The target's eye openings and inner mouth, less those the mask keeps whole (``keep``). With no region
        kept (``--keep none``), both eyes show the source's when :func:`source_eyes` allows it; otherwise every
        opening shows the target's own pixels."""
        topo = topology()
        width = face_width(target.landmarks)
        keep = opts.keep
        mouth = topo.regions["mouth"]
        out = [] if "mouth" in keep else [Opening(dst[mouth], 0.02 * width, 0.03 * width, moved(mouth))]
        theirs = not keep and source_eyes(target.landmarks, source.landmarks, plan)
        for side in () if "eyes" in keep else ("right", "left"):
            loop = topo.regions[f"{side}_eye"]
            shut = 1.0 - eye_openness(target.landmarks, side)
            w = eye_width(target.landmarks, side)
            warp = _eye_warp(image, source.landmarks, dst, eye_fan(loop)) if theirs else moved(loop)
            out.append(Opening(dst[loop], max(w * (0.04 + 0.03 * shut), 0.6), 0.25 * w, warp))
        return out


def source_eyes(target: Points, source: Points, plan: SourcePlan) -> bool:
    """Whether ``--keep none`` shows the source's eyes: both or neither, never one eye of each person. Both of the
    target's eyes must be fully open (:func:`ghostlive.ops.openings.eye_openness`), both of the source's wide open
    (:data:`ghostlive.ops.openings.SOURCE_OPEN`: a narrowed eye's outline holds its lids) and seen well (their
    surroundings not replaced for self-occlusion)."""
    return all(
        eye_openness(target, side) == 1.0
        and lid_gap(source, side) >= SOURCE_OPEN
        and not (plan.mirrored | plan.hidden)[_around(side)].any()
        for side in ("right", "left")
    )


def eye_hold(landmarks: Points, side: str) -> float:
    """How much of ``side``'s eye outline the shape step holds where the target has it: 1 for a closed eye, 0
    for an open one, in between as the lids part (one minus :func:`ghostlive.ops.openings.eye_openness`, whose
    ramp spans 5 % of the eye's width of lid gap), so a blink in a video closes without a jump."""
    return 1.0 - eye_openness(landmarks, side)


@lru_cache(maxsize=2)
def _around(side: str) -> np.ndarray:
    """The mesh triangles touching ``side``'s eye contour."""
    topo = topology()
    return np.isin(topo.triangles, topo.regions[f"{side}_eye"]).any(1)


def _keep_specks(plan: SourcePlan, src: Points, dst: Points) -> SourcePlan:
    """``plan`` with its isolated small hidden triangles (:data:`SPECK`) sampling their source triangle again."""
    if not plan.hidden.any():
        return plan
    tris = topology().triangles
    uses = np.bincount(tris[plan.hidden].ravel(), minlength=len(dst))
    a_d, a_s = _areas(dst, tris), _areas(src, plan.src_triangles)
    facing = a_s * np.sign(a_d) * np.where(plan.mirrored, -1.0, 1.0) > 0.0  # a mirror image winds the other way
    speck = plan.hidden & (uses[tris].max(1) == 1) & facing & (np.abs(a_d) < SPECK * np.abs(a_d).sum())
    return dataclasses.replace(plan, hidden=plan.hidden & ~speck) if speck.any() else plan


def _areas(points: Points, tris: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)[tris]
    u, v = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    return 0.5 * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])


def _luma(image: Array) -> np.ndarray:
    """``image``'s luma on the host, rounded to 8 bits on its device first (a quarter of the bytes to move; the
    texture measures look at gradients and noise of several levels)."""
    xp = array_module(image)
    return to_host(xp.clip(xp.rint(luma(image)), 0, 255).astype(xp.uint8)).astype(np.float32)


class _HostLuma:
    """The target region's luma and the skin weight on the host, each moved once, when first asked for."""

    def __init__(self, region: Array, skin: Array) -> None:
        self._region, self._skin = region, skin

    @functools.cached_property
    def target(self) -> np.ndarray:
        return _luma(self._region)

    @functools.cached_property
    def weight(self) -> np.ndarray:
        return to_host(self._skin)


def _eye_warp(image: Array, src: Points, dst: Points, triangles: np.ndarray) -> SourceWarp:
    def render(box: Roi) -> tuple[Array, Array]:
        warped, ids = warp_mesh(image, src, dst, triangles, box)
        return warped, ids >= 0

    return render
