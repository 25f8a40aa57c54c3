"""Temporal smoothing: the One-Euro filter (Casiez et al., CHI 2012), vectorised over arrays of points.

Slow movement is smoothed strongly (jitter goes), fast movement lightly (little lag): the cutoff frequency rises
with the filtered speed. Speeds are measured in units of ``scale`` per second (the face width), so one setting
works for faces of any size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuro:
    """One-Euro filter state for an array of values (e.g. 468×2 landmarks)."""

    min_cutoff: float = 1.0
    """Hz: the cutoff at rest; lower = smoother and slower to follow."""
    beta: float = 6.0
    """How fast the cutoff rises with speed (per face-width per second)."""
    d_cutoff: float = 1.0
    _x: np.ndarray | None = None
    _dx: np.ndarray | None = None
    _t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter the observation ``x`` taken at time ``t`` (seconds)."""
        x = np.asarray(x, np.float64)
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t
            return x.astype(np.float32)
        dt = t - self._t
        dx = (x - self._x) / dt
        self._dx = self._dx + _alpha(self.d_cutoff, dt) * (dx - self._dx)
        speed = np.abs(self._dx) / max(scale, 1e-6)
        a = _alpha(self.min_cutoff + self.beta * speed, dt)
        self._x = self._x + a * (x - self._x)
        self._t = t
        return self._x.astype(np.float32)
