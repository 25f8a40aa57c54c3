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


def test_tensorrt_engine_matches_onnx_runtime(tmp_path) -> None:
    pytest.importorskip("tensorrt")
    from ghostlive.engines.ort import OrtRunner
    from ghostlive.engines.tensorrt import TensorRTRunner
    from ghostlive.export.aei_net import AEINet
    from ghostlive.export.onnx import export_generator

    from .golden import aei_golden, fill

    g = aei_golden()
    path = export_generator(fill(AEINet(1)), tmp_path / "g1.onnx")
    ref = OrtRunner(path).run({"target": g["Xt"], "source": g["z_id"]})["output"]
    for precision, tol in (("fp32", 1e-2), ("fp16", 0.1)):
        trt = TensorRTRunner(path, tmp_path / "engines", precision=precision, batch=(1, 2, 8))
        out = trt.run({"target": g["Xt"], "source": g["z_id"]})["output"]
        assert np.abs(out - ref).max() < tol


def test_classic_swap_on_gpu_arrays_matches_host(astronaut, grace, analyzer) -> None:
    import cupy as cp

    from ghostlive.ops.blend import paste
    from ghostlive.swappers.classic import ClassicSwapper

    sw = ClassicSwapper()
    target = analyzer.analyze(astronaut)[0]
    face = analyzer.analyze(grace)[0]
    host = paste(astronaut.copy(), sw.render(astronaut, target, sw.prepare_source(grace, face)))
    dev_frame = cp.asarray(astronaut)
    item = sw.render(dev_frame, target, sw.prepare_source(grace, face, xp=cp))
    dev = cp.asnumpy(paste(dev_frame.copy(), item))
    assert np.abs(host.astype(int) - dev.astype(int)).mean() < 0.5
