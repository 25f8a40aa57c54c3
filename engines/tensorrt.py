"""TensorRT backend (TensorRT 10/11 Python API): build a serialized engine from ONNX, cache it, run it on a CUDA
stream with device buffers shared with CuPy.

Not verified here: TensorRT cannot be installed on the development/CI machines (see the README). The cache logic
it relies on (``engines/cache.py``) is tested everywhere; this file is kept small and imports tensorrt and cupy
only when used.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive.engines.base import RunnerInfo, TensorSpec
from ghostlive.engines.cache import EngineCache, EngineKey, onnx_digest
from ghostlive.engines.fp16 import fp16_graph
from ghostlive.errors import BackendUnavailableError, ModelError
from ghostlive.media.paths import atomic_write_bytes

log = logging.getLogger(__name__)
WORKSPACE = 4 << 30
INSTALL_HINT = "pip install tensorrt-cu12 (from NVIDIA's package index)"
"""How to install TensorRT (``ghostlive doctor`` gives the same fix)."""


def _trt() -> Any:
    try:
        import tensorrt as trt  # type: ignore[import-not-found]
    except ImportError as exc:
        raise BackendUnavailableError(f"TensorRT is not installed ({exc}); install it: {INSTALL_HINT}") from None
    return trt


def require_tensorrt() -> None:
    """BackendUnavailableError with the install command when TensorRT cannot be imported: asked before a batch of
    engine builds starts, not at its first model."""
    _trt()


def gpu_identity() -> tuple[str, str]:
    """(GPU name, compute capability) of device 0, from CuPy."""
    import cupy  # type: ignore[import-not-found]

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return name, f"{props['major']}.{props['minor']}"


def fp16_possible(trt: Any) -> bool:
    """TensorRT 10 has the FP16 builder flag; TensorRT 11 needs an fp16 graph, made with onnxconverter-common."""
    return hasattr(trt.BuilderFlag, "FP16") or importlib.util.find_spec("onnxconverter_common") is not None


def build_engine(
    onnx_path: Path,
    precision: str,
    batch: tuple[int, int, int],
    work_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> bytes:
    """Parse ONNX and build a serialized engine with one dynamic-batch profile (min, opt, max).

    fp16 on TensorRT 10: the FP16 builder flag lets TensorRT pick half-precision kernels. TensorRT 11 removed
    that flag (strong typing only), so there the engine is built from an fp16 copy of the graph made in
    ``work_dir``. ``work_dir`` also keeps the timing cache that makes rebuilds fast.
    """
    trt = _trt()
    fp16_flag = getattr(trt.BuilderFlag, "FP16", None)
    source = onnx_path
    if precision == "fp16" and fp16_flag is None:
        source = fp16_graph(onnx_path, (work_dir or onnx_path.parent) / f"{onnx_path.stem}.fp16.onnx")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch is the only mode in TensorRT 10+
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(source)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelError(f"TensorRT cannot parse the model: {errors}", onnx_path)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE)
    if precision == "fp16" and fp16_flag is not None:
        config.set_flag(fp16_flag)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        dims = list(tensor.shape)
        shapes = [tuple(b if d == -1 and k == 0 else d for k, d in enumerate(dims)) for b in batch]
        profile.set_shape(tensor.name, *shapes)
    config.add_optimization_profile(profile)
    timing_cache = work_dir / "timing.cache" if work_dir is not None else None
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
        atomic_write_bytes(timing_cache, bytes(cache.serialize()))
    return bytes(serialized)


class TensorRTRunner:
    """Runs a cached engine. ``run`` takes host arrays (copied in/out); ``run_device`` takes CuPy (or host)
    arrays and returns CuPy arrays without leaving the GPU, on CuPy's current stream."""

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
        if precision == "fp16" and not fp16_possible(trt):
            log.warning(
                "TensorRT %s builds fp16 engines only from fp16 graphs and onnxconverter-common is missing to "
                "make one; building %s in fp32 (pip install onnxconverter-common)",
                trt.__version__,
                path.name,
            )
            precision = "fp32"
        name, cc = gpu_identity()
        key = EngineKey(onnx_digest(path), trt.__version__, name, cc, precision, batch)
        cache = EngineCache(cache_dir)
        data, built = cache.get_or_build(
            path.stem, key, lambda: build_engine(path, precision, batch, Path(cache_dir), progress)
        )
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        engine = runtime.deserialize_cuda_engine(data)
        if engine is None and not built:  # made for another GPU or TensorRT: rebuild once
            cache.invalidate(path.stem, key)
            data, _ = cache.get_or_build(path.stem, key, lambda: build_engine(path, precision, batch, Path(cache_dir)))
            engine = runtime.deserialize_cuda_engine(data)
        if engine is None:
            raise ModelError("TensorRT cannot load the engine it built", path)
        self.engine = engine
        self.context = engine.create_execution_context()
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
            arr = cp.ascontiguousarray(cp.asarray(inputs[n], dtype=self._dtypes[n]))
            inputs[n] = arr
            self.context.set_input_shape(n, tuple(arr.shape))
            self.context.set_tensor_address(n, arr.data.ptr)
        outputs = {}
        for n in self._outputs:
            out = cp.empty(tuple(self.context.get_tensor_shape(n)), dtype=self._dtypes[n])
            self.context.set_tensor_address(n, out.data.ptr)
            outputs[n] = out
        # CuPy's current stream: ordered after the kernels that made the inputs and before those that read the
        # outputs, so no synchronisation is needed here (a download synchronises)
        if not self.context.execute_async_v3(cp.cuda.get_current_stream().ptr):
            raise ModelError(f"TensorRT execution failed for {self.info.model}")
        return outputs

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        cp = self._cp
        out = self.run_device({k: cp.asarray(v) for k, v in inputs.items()})
        return {k: cp.asnumpy(v) for k, v in out.items()}
