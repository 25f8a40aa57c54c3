"""GPU checks: the cupy path of the ops against the numpy path. Run with ``pytest -m gpu`` on a machine with an
NVIDIA GPU and cupy installed; skipped elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from ghostlive.ops import filters
from ghostlive.xp import gpu_available

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="needs cupy with a usable NVIDIA GPU"),
]


def test_filters_on_the_gpu_match_the_host(astronaut: np.ndarray) -> None:
    import cupy as cp

    dev = cp.asarray(astronaut)
    m = np.array([[0.9, 0.25, 10.0], [-0.25, 0.9, 40.0]])
    host = filters.warp_affine(astronaut, m, (300, 280))
    gpu = cp.asnumpy(filters.warp_affine(dev, m, (300, 280)))
    assert np.abs(host.astype(int) - gpu.astype(int)).max() <= 1
    blur_h = filters.gaussian_blur(astronaut.astype(np.float32), 3.0)
    blur_d = cp.asnumpy(filters.gaussian_blur(dev.astype(cp.float32), 3.0))
    assert np.abs(blur_h - blur_d).max() < 1e-2
