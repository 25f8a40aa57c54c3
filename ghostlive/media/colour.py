"""Exact BGR ↔ Y′CbCr conversion for video frames.

FFmpeg's swscale (what PyAV uses for ``to_ndarray("bgr24")``/``from_ndarray``) truncates instead of rounding in
its RGB↔YUV fast paths, which darkens every frame by about 2.7 grey levels per decode+encode round trip. This
module converts with rounding and the standard matrices instead, so a face swap changes the face and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ghostlive.types import Frame

# AVColorSpace values (libavutil/pixfmt.h)
BT709 = 1
UNSPECIFIED = 2
BT470BG = 5
SMPTE170M = 6
# AVColorRange
RANGE_UNSPECIFIED, RANGE_MPEG, RANGE_JPEG = 0, 1, 2


@dataclass(frozen=True)
class Matrix:
    kr: float
    kb: float
    full_range: bool = False

    @property
    def kg(self) -> float:
        return 1.0 - self.kr - self.kb


def matrix_for(colorspace: int, color_range: int, height: int) -> Matrix:
    """The matrix a player would use: the tagged one, else BT.709 for HD and BT.601 for SD."""
    if colorspace == BT709 or (colorspace not in (BT470BG, SMPTE170M) and height >= 720):
        kr, kb = 0.2126, 0.0722
    else:
        kr, kb = 0.299, 0.114
    return Matrix(kr, kb, color_range == RANGE_JPEG)


def colorspace_tag(m: Matrix) -> int:
    return BT709 if abs(m.kr - 0.2126) < 1e-6 else SMPTE170M


def _scales(m: Matrix) -> tuple[float, float, float]:
    return (255.0, 255.0, 0.0) if m.full_range else (219.0, 224.0, 16.0)


def yuv444_to_bgr(yuv: np.ndarray, m: Matrix) -> Frame:
    """3×H×W uint8 planes (Y, Cb, Cr) → H×W×3 BGR uint8."""
    ys, cs, off = _scales(m)
    y = (yuv[0].astype(np.float32) - off) / ys
    cb = (yuv[1].astype(np.float32) - 128.0) / cs
    cr = (yuv[2].astype(np.float32) - 128.0) / cs
    r = y + 2.0 * (1.0 - m.kr) * cr
    b = y + 2.0 * (1.0 - m.kb) * cb
    g = (y - m.kr * r - m.kb * b) / m.kg
    out = np.stack([b, g, r], axis=-1) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def bgr_to_yuv_planes(image: Frame, m: Matrix, subsample: bool = True) -> list[np.ndarray]:
    """H×W×3 BGR uint8 (any size) → Y, Cb, Cr planes; with ``subsample`` chroma is averaged over 2×2 blocks
    (4:2:0, ⌈H/2⌉×⌈W/2⌉: an odd last row/column is averaged with itself), else kept at full size (4:4:4)."""
    ys, cs, off = _scales(m)
    px = image.astype(np.float32) / 255.0
    b, g, r = px[..., 0], px[..., 1], px[..., 2]
    y = m.kr * r + m.kg * g + m.kb * b
    cb = 0.5 * (b - y) / (1.0 - m.kb)
    cr = 0.5 * (r - y) / (1.0 - m.kr)
    h, w = y.shape

    def sub(c: np.ndarray) -> np.ndarray:
        if not subsample:
            return c
        c = np.pad(c, ((0, h % 2), (0, w % 2)), mode="edge")
        return c.reshape((h + 1) // 2, 2, (w + 1) // 2, 2).mean(axis=(1, 3))

    return [
        np.clip(np.rint(y * ys + off), 0, 255).astype(np.uint8),
        np.clip(np.rint(sub(cb) * cs + 128.0), 0, 255).astype(np.uint8),
        np.clip(np.rint(sub(cr) * cs + 128.0), 0, 255).astype(np.uint8),
    ]


def bgr_to_yuv420(image: Frame, m: Matrix) -> np.ndarray:
    """H×W×3 BGR uint8 (even H and W) → I420 layout (1.5H × W) uint8, chroma averaged over 2×2 blocks."""
    h, w = image.shape[:2]
    return np.concatenate([p.ravel() for p in bgr_to_yuv_planes(image, m)]).reshape(h * 3 // 2, w)
