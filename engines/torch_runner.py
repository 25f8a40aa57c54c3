"""torch backend: runs the GHOST PyTorch definitions directly (CUDA when present, else CPU)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ghostlive.engines.base import RunnerInfo, TensorSpec
from ghostlive.xp import array_module


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
        # fp32 means fp32: cuDNN would otherwise run the convolutions in TF32 on Ampere and newer (the default),
        # 6e-3 off ONNX Runtime on the GHOST generator (measured on an H200) instead of < 1e-3
        exact = self.dtype == self.torch.float32
        with self.torch.inference_mode(), self.torch.backends.cudnn.flags(enabled=True, allow_tf32=not exact):
            return self.module(*tensors)

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        t = [
            self.torch.from_numpy(np.require(inputs[s.name], requirements=["C", "W"])).to(self.device, self.dtype)
            for s in self.info.inputs
        ]
        out = self._call(t)
        return {self.info.outputs[0].name: out.float().cpu().numpy()}

    def run_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Arrays in and out through DLPack: CuPy arrays stay on the GPU, numpy arrays on the host; the output
        comes back on the inputs' array module (moved only when the model lives on the other device)."""
        xp = array_module(*inputs.values())
        arrays = [xp.ascontiguousarray(xp.asarray(inputs[s.name])) for s in self.info.inputs]
        if xp is np:  # DLPack cannot export read-only numpy arrays
            arrays = [np.require(a, requirements=["W"]) for a in arrays]
        src = [self.torch.from_dlpack(a) for a in arrays]
        home = src[0].device
        out = self._call([t.to(self.device, self.dtype) for t in src]).float().to(home).contiguous()
        return {self.info.outputs[0].name: xp.from_dlpack(out)}
