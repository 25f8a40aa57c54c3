"""insightface ArcFace (``w600k_r50``) and ``inswapper_128`` behind a runner."""

from __future__ import annotations

import numpy as np

from ghostlive.engines.base import Runner, run_any
from ghostlive.errors import ModelError
from ghostlive.models.common import check_io
from ghostlive.types import Array, Embedding
from ghostlive.xp import array_module, to_device, to_host


def l2_normalise(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class InsightArcFace:
    """``embed(aligned 112 BGR crop) → 512`` (raw); input RGB, (x − 127.5)/127.5."""

    def __init__(self, runner: Runner) -> None:
        check_io(runner, 1, 1, "ArcFace")
        self.runner = runner
        self._input = runner.info.inputs[0].name

    def embed(self, crop112: Array) -> Embedding:
        """The raw embedding (host) of an aligned crop on the host or a device."""
        x = (crop112[..., ::-1].astype(np.float32) - 127.5) / 127.5
        out = run_any(self.runner, {self._input: x.transpose(2, 0, 1)[None]})
        return to_host(next(iter(out.values()))).reshape(-1).astype(np.float32)


class InSwapper:
    """inswapper_128: target crop 128 (RGB /255) + latent → swapped crop (BGR float32 0–255).

    The latent is L2-normalise(L2-normalised ArcFace embedding · emap), where emap is the graph's last
    initializer (512×512), read from the ONNX file itself.
    """

    def __init__(self, runner: Runner, emap: np.ndarray) -> None:
        check_io(runner, 2, 1, "inswapper")
        if emap.shape != (512, 512):
            raise ModelError(f"{runner.info.model}: emap must be 512×512, got {emap.shape}")
        self.runner = runner
        self.emap = emap.astype(np.float32)
        names = {i.name: i.shape for i in runner.info.inputs}
        self._target = next((n for n, s in names.items() if len(s) == 4), "target")
        self._source = next(n for n in names if n != self._target)

    @staticmethod
    def read_emap(model_path: str) -> np.ndarray:
        """The last initializer of an inswapper ONNX file."""
        import onnx
        from onnx import numpy_helper

        graph = onnx.load(model_path).graph
        if not graph.initializer:
            raise ModelError("the model has no initializers, so no emap", model_path)
        return numpy_helper.to_array(graph.initializer[-1])

    def latent(self, embedding: Embedding) -> np.ndarray:
        return l2_normalise(l2_normalise(np.asarray(embedding, np.float32)).reshape(1, -1) @ self.emap)

    def swap(self, crop128: Array, latent: np.ndarray) -> Array:
        """Swapped crop (BGR float32 0–255) on the array module of ``crop128``."""
        xp = array_module(crop128)
        x = crop128[..., ::-1].astype(np.float32) / 255.0
        out = run_any(
            self.runner,
            {
                self._target: x.transpose(2, 0, 1)[None],
                self._source: to_device(latent.reshape(1, 512).astype(np.float32), xp),
            },
        )
        y = next(iter(out.values()))[0].transpose(1, 2, 0)
        return xp.ascontiguousarray(xp.clip(y, 0.0, 1.0)[..., ::-1] * 255.0)
