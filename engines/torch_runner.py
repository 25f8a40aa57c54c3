"""torch backend: runs the GHOST PyTorch definitions directly (CUDA when present, else CPU)."""

from __future__ import annotations

from typing import Any

import numpy as np
from ghostlive.engines.base import RunnerInfo, TensorSpec


class TorchRunner:
    """Wraps an ``nn.Module`` whose forward takes the named inputs in order and returns one tensor."""

    def __init__(
        self,
        module: Any,
        inputs: list[TensorSpec],
        output: TensorSpec,
        *,
        device: str = "auto",
        half: bool = False,
        name: str = "torch-model",
    ) -> None:
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.torch = torch
        self.device = torch.device(device)
        self.dtype = torch.float16 if half and self.device.type == "cuda" else torch.float32
        self.module = module.to(self.device, self.dtype).eval()
        self.info = RunnerInfo(
            f"torch:{self.device.type}:{'fp16' if self.dtype == torch.float16 else 'fp32'}",
            name,
            tuple(inputs),
            (output,),
        )

    def _call(self, tensors: list[Any]) -> Any:
        with self.torch.inference_mode():
            return self.module(*tensors)

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        t = [
            self.torch.from_numpy(np.ascontiguousarray(inputs[s.name])).to(self.device, self.dtype)
            for s in self.info.inputs
        ]
        out = self._call(t)
        return {self.info.outputs[0].name: out.float().cpu().numpy()}

    def run_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """CuPy arrays in and out through DLPack (no copies)."""
        import cupy  # type: ignore[import-not-found]

        t = [self.torch.from_dlpack(inputs[s.name]).to(self.dtype) for s in self.info.inputs]
        return {self.info.outputs[0].name: cupy.from_dlpack(self._call(t).float().contiguous())}
