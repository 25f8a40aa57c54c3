"""ONNX Runtime backend."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from ghostlive.engines.base import RunnerInfo, TensorSpec

from ghostlive.errors import InputNotFoundError, ModelError

log = logging.getLogger(__name__)


def _spec(arg: object) -> TensorSpec:
    name = arg.name
    shape = tuple(arg.shape or ())
    dtype = str(arg.type).removeprefix("tensor(").removesuffix(")")
    return TensorSpec(name=name, shape=shape, dtype=dtype)


class OrtRunner:
    """Runs an ONNX model with ONNX Runtime (CPU unless other providers are asked for and present)."""

    def __init__(
        self,
        model: str | Path | bytes,
        *,
        providers: list[str] | None = None,
        threads: int = 0,
        name: str | None = None,
    ) -> None:
        import onnxruntime as ort

        label = name or (str(model) if not isinstance(model, bytes) else "<in-memory model>")
        if isinstance(model, (str, Path)) and not Path(model).is_file():
            raise InputNotFoundError("model file not found", model)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        available = ort.get_available_providers()
        chosen = [p for p in (providers or ["CPUExecutionProvider"]) if p in available] or ["CPUExecutionProvider"]
        try:
            src = model if isinstance(model, bytes) else str(model)
            self._session = ort.InferenceSession(src, sess_options=opts, providers=chosen)
        except Exception as exc:
            where = None if isinstance(model, bytes) else model
            raise ModelError(f"ONNX Runtime cannot load this model: {exc}", where) from exc
        self.info = RunnerInfo(
            backend="onnxruntime:" + self._session.get_providers()[0],
            model=label,
            inputs=tuple(_spec(i) for i in self._session.get_inputs()),
            outputs=tuple(_spec(o) for o in self._session.get_outputs()),
        )
        self._output_names = [o.name for o in self.info.outputs]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outs = self._session.run(self._output_names, inputs)
        return dict(zip(self._output_names, outs, strict=True))

    def run_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """CuPy arrays in, CuPy arrays out, bound with I/O binding so nothing is copied through the host
        (CUDA or TensorRT execution provider)."""
        import cupy  # type: ignore[import-not-found]

        binding = self._session.io_binding()
        for name, arr in inputs.items():
            arr = cupy.ascontiguousarray(arr)
            inputs[name] = arr
            binding.bind_input(name, "cuda", arr.device.id, arr.dtype, list(arr.shape), arr.data.ptr)
        for name in self._output_names:
            binding.bind_output(name, "cuda")
        self._session.run_with_iobinding(binding)
        return {n: _ort_to_cupy(v) for n, v in zip(self._output_names, binding.get_outputs(), strict=True)}


def _ort_to_cupy(value: Any) -> Any:
    import cupy  # type: ignore[import-not-found]

    mem = cupy.cuda.UnownedMemory(value.data_ptr(), int(np.prod(value.shape())) * 4, value)
    return cupy.ndarray(value.shape(), dtype=cupy.float32, memptr=cupy.cuda.MemoryPointer(mem, 0)).copy()


def open_onnx(path: str | Path, *, threads: int = 0) -> OrtRunner:
    """An ONNX Runtime CPU runner for ``path``."""
    return OrtRunner(path, threads=threads)
