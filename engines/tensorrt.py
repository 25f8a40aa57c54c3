"""TensorRT backend (TensorRT 10/11 Python API): build a serialized engine from ONNX, cache it, run it on a CUDA
stream with device buffers shared with CuPy.

Not verified here: TensorRT cannot be installed on the development/CI machines (see the README). The cache logic
it relies on (``engines/cache.py``) is tested everywhere; this file is kept small and imports tensorrt and cupy
only when used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ghostlive.engines.base import RunnerInfo, TensorSpec
from ghostlive.engines.cache import EngineCache, EngineKey, onnx_digest

from ghostlive.errors import BackendUnavailableError, ModelError

log = logging.getLogger(__name__)
WORKSPACE = 4 << 30


def _trt() -> Any:
    try:
        import tensorrt as trt  # type: ignore[import-not-found]
    except ImportError as exc:
        raise BackendUnavailableError(f"TensorRT is not installed ({exc})") from None
    return trt


def gpu_identity() -> tuple[str, str]:
    """(GPU name, compute capability) of device 0, from CuPy."""
    import cupy  # type: ignore[import-not-found]

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return name, f"{props['major']}.{props['minor']}"


def build_engine(
    onnx_path: Path,
    precision: str,
    batch: tuple[int, int, int],
    timing_cache: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> bytes:
    """Parse ONNX and build a serialized engine (fp16 where the GPU supports it), one batch profile."""
    trt = _trt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10+
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelError(f"TensorRT cannot parse the model: {errors}", onnx_path)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE)
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        dims = list(tensor.shape)
        shapes = [tuple(b if d == -1 and k == 0 else d for k, d in enumerate(dims)) for b in batch]
        profile.set_shape(tensor.name, *shapes)
    config.add_optimization_profile(profile)
    cache = None
    if timing_cache is not None:
        blob = timing_cache.read_bytes() if timing_cache.is_file() else b""
        cache = config.create_timing_cache(blob)
        config.set_timing_cache(cache, ignore_mismatch=False)
    if progress:
        progress(f"building TensorRT engine for {onnx_path.name} ({precision}); this takes minutes once")
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ModelError("TensorRT failed to build an engine", onnx_path)
    if cache is not None and timing_cache is not None:
        timing_cache.write_bytes(bytes(cache.serialize()))
    return bytes(serialized)


class TensorRTRunner:
    """Runs a cached engine. ``run`` takes host arrays (copied in/out); ``run_device`` takes CuPy arrays and
    returns CuPy arrays without leaving the GPU."""

    def __init__(
        self,
        onnx_path: str | Path,
        cache_dir: str | Path,
        *,
        precision: str = "fp16",
        batch: tuple[int, int, int] = (1, 1, 8),
        progress: Callable[[str], None] | None = None,
    ) -> None:
        trt = _trt()
        import cupy  # type: ignore[import-not-found]

        self._cp = cupy
        path = Path(onnx_path)
        name, cc = gpu_identity()
        key = EngineKey(onnx_digest(path), trt.__version__, name, cc, precision, batch)
        cache = EngineCache(cache_dir)
        data, built = cache.get_or_build(
            path.stem, key, lambda: build_engine(path, precision, batch, Path(cache_dir) / "timing.cache", progress)
        )
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(data)
        if engine is None and not built:  # made for another GPU or TensorRT: rebuild once
            cache.invalidate(path.stem, key)
            data, _ = cache.get_or_build(path.stem, key, lambda: build_engine(path, precision, batch))
            engine = runtime.deserialize_cuda_engine(data)
        if engine is None:
            raise ModelError("TensorRT cannot load the engine it built", path)
        self.engine = engine
        self.context = engine.create_execution_context()
        self.stream = cupy.cuda.Stream(non_blocking=True)
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        is_input = {n: engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names}
        self._inputs = [n for n in names if is_input[n]]
        self._outputs = [n for n in names if not is_input[n]]
        self._dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        spec = {n: TensorSpec(n, tuple(engine.get_tensor_shape(n)), str(self._dtypes[n])) for n in names}
        self.info = RunnerInfo(
            f"tensorrt:{precision}",
            str(path),
            tuple(spec[n] for n in self._inputs),
            tuple(spec[n] for n in self._outputs),
        )

    def run_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        cp = self._cp
        for n in self._inputs:
            arr = cp.ascontiguousarray(inputs[n], dtype=self._dtypes[n])
            inputs[n] = arr
            self.context.set_input_shape(n, tuple(arr.shape))
            self.context.set_tensor_address(n, arr.data.ptr)
        outputs = {}
        for n in self._outputs:
            out = cp.empty(tuple(self.context.get_tensor_shape(n)), dtype=self._dtypes[n])
            self.context.set_tensor_address(n, out.data.ptr)
            outputs[n] = out
        if not self.context.execute_async_v3(self.stream.ptr):
            raise ModelError(f"TensorRT execution failed for {self.info.model}")
        self.stream.synchronize()
        return outputs

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cp = self._cp
        out = self.run_device({k: cp.asarray(v) for k, v in inputs.items()})
        return {k: cp.asnumpy(v) for k, v in out.items()}
