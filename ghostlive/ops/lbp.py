"""A classical face descriptor (uniform local binary patterns on a grid) for telling faces apart.

Used to match target faces to reference photos when no neural identity model (ArcFace) is installed. It is
reliable for picking the same person out of one scene or a similar photo; it is not an identity model across
ages, poses or lighting, and ghostlive uses ArcFace instead whenever one is installed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ghostlive.types import Embedding

GRID = 7
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


@lru_cache(maxsize=1)
def _uniform_table() -> np.ndarray:
    """Maps each 8-bit pattern to one of 58 uniform bins, or bin 58 for the rest."""
    table = np.full(256, 58, np.int64)
    nxt = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        if sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2:
            table[code] = nxt
            nxt += 1
    return table


def lbp_codes(gray: np.ndarray) -> np.ndarray:
    """Uniform-LBP bin (0..58) of every interior pixel of a 2-D image."""
    g = gray.astype(np.int16)
    centre = g[1:-1, 1:-1]
    h, w = g.shape
    code = np.zeros(centre.shape, np.int64)
    for bit, (dy, dx) in enumerate(_OFFSETS):
        code |= (g[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= centre).astype(np.int64) << bit
    return _uniform_table()[code]


def lbp_descriptor(aligned_gray: np.ndarray) -> Embedding:
    """A unit-length descriptor of an aligned face crop (square, greyscale)."""
    codes = lbp_codes(aligned_gray)
    h, w = codes.shape
    cell_y = np.minimum(np.arange(h) * GRID // h, GRID - 1)
    cell_x = np.minimum(np.arange(w) * GRID // w, GRID - 1)
    cell = cell_y[:, None] * GRID + cell_x[None, :]
    hist = np.bincount((cell * 59 + codes).ravel(), minlength=GRID * GRID * 59).astype(np.float64)
    hist = np.sqrt(hist / max(hist.sum(), 1.0))
    return (hist / max(np.linalg.norm(hist), 1e-12)).astype(np.float32)
