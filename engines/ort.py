"""ONNX Runtime backend."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive.engines.base import CpuThreads, RunnerInfo, TensorSpec, default_threads, run_via_host
from ghostlive.engines.cache import GraphCache
from ghostlive.errors import InputNotFoundError, ModelError
from ghostlive.xp import array_module

log = logging.getLogger(__name__)
GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")


def _spec(arg: object) -> TensorSpec:
    name = arg.name
    shape = tuple(arg.shape or ())
    dtype = str(arg.type).removeprefix("tensor(").removesuffix(")")
    return TensorSpec(name=name, shape=shape, dtype=dtype)


def session_options(threads: int | CpuThreads | None) -> Any:
    """ONNX Runtime session options for ``threads`` (an int: intra-op threads, the default's other settings;
    None or 0: the process default, see :func:`ghostlive.engines.base.set_default_threads`)."""
    import onnxruntime as ort

    plan = default_threads()
    if isinstance(threads, CpuThreads):
        plan = threads
    elif threads:
        plan = CpuThreads(threads, plan.inter, plan.spin)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if plan.intra:
        opts.intra_op_num_threads = plan.intra
    opts.inter_op_num_threads = max(plan.inter, 1)
    spin = "1" if plan.spin else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return opts


class OrtRunner:
    """Runs an ONNX model with ONNX Runtime (CPU unless other providers are asked for and present)."""

    def __init__(
        self,
        model: str | Path | bytes,
        *,
        providers: list[str] | None = None,
        threads: int | CpuThreads | None = None,
        name: str | None = None,
        graph_cache: str | Path | None = None,
    ) -> None:
        """``graph_cache``: a folder where the CPU session's optimised graph is saved and, on later runs on this
        machine and ONNX Runtime, loaded instead of optimising ``model`` again (see
        :class:`ghostlive.engines.cache.GraphCache`)."""
        import onnxruntime as ort

        label = name or (str(model) if not isinstance(model, bytes) else "<in-memory model>")
        if isinstance(model, (str, Path)) and not Path(model).is_file():
            raise InputNotFoundError("model file not found", model)
        available = ort.get_available_providers()
        chosen = [p for p in (providers or ["CPUExecutionProvider"]) if p in available] or ["CPUExecutionProvider"]
        use_cache = graph_cache is not None and not isinstance(model, bytes) and chosen == ["CPUExecutionProvider"]
        try:
            self._session = _open_session(model, threads, chosen, GraphCache(graph_cache) if use_cache else None)
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
        self.on_gpu = self._session.get_providers()[0] in GPU_PROVIDERS

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outs = self._session.run(self._output_names, inputs)
        return dict(zip(self._output_names, outs, strict=True))

    def run_device(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Run on arrays where they are, bound with I/O binding: CuPy arrays on a CUDA or TensorRT session
        (outputs are CuPy arrays over ONNX Runtime's buffers, nothing copied through the host), numpy arrays
        on any session. CuPy arrays on a CPU-only session are downloaded and the outputs uploaded."""
        xp = array_module(*inputs.values())
        on_gpu = xp is not np
        if on_gpu and not self.on_gpu:
            return run_via_host(self, inputs)
        device = "cuda" if on_gpu else "cpu"
        device_id = 0
        binding = self._session.io_binding()
        held = []  # the bound buffers must outlive the run
        for name, value in inputs.items():
            arr = xp.ascontiguousarray(xp.asarray(value))
            held.append(arr)
            if on_gpu:
                device_id = arr.device.id
                ptr = arr.data.ptr
            else:
                ptr = arr.ctypes.data
            binding.bind_input(name, device, device_id, arr.dtype, list(arr.shape), ptr)
        for name in self._output_names:
            binding.bind_output(name, device, device_id)
        if on_gpu:  # ONNX Runtime computes on its own stream: the inputs must be finished first
            xp.cuda.get_current_stream().synchronize()
        self._session.run_with_iobinding(binding)
        if on_gpu:
            binding.synchronize_outputs()
        values = binding.get_outputs()
        if not on_gpu:
            return {n: v.numpy() for n, v in zip(self._output_names, values, strict=True)}
        return {n: _ort_to_cupy(v) for n, v in zip(self._output_names, values, strict=True)}


def _open_session(
    model: str | Path | bytes, threads: int | CpuThreads | None, providers: list[str], cache: GraphCache | None
) -> Any:
    """An ONNX Runtime session for ``model``, through the graph ``cache`` when given. A cached graph that does
    not load (damaged on disk) is dropped and the model optimised again."""
    import onnxruntime as ort

    opts = session_options(threads)
    if cache is None or isinstance(model, bytes):
        return ort.InferenceSession(model if isinstance(model, bytes) else str(model), opts, providers=providers)
    cached = _CachedGraph(cache, Path(model), ort.__version__, opts)
    try:
        session = ort.InferenceSession(str(cached.source), opts, providers=providers)
    except Exception:
        cached.discard()
        if cached.source == Path(model):
            raise
        log.warning("the cached optimised graph of %s does not load; optimising the model again", Path(model).name)
        cache.invalidate(Path(model), ort.__version__)
        return _open_session(model, threads, providers, cache)
    cached.publish()
    return session


class _CachedGraph:
    """One session's use of the graph cache: load the cached optimised graph (no optimisation at load), or let
    ONNX Runtime write it beside the cache while the session is made and publish it afterwards. A cache that
    cannot be read or written only costs the saving (logged), never the session."""

    def __init__(self, cache: GraphCache, model: Path, version: str, opts: Any) -> None:
        import onnxruntime as ort

        self.cache, self.model, self.version = cache, model, version
        self.partial: Path | None = None
        self.source = model
        try:
            hit = cache.lookup(model, version)
            if hit is not None:
                self.source = hit
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
                log.debug("%s: optimised graph from %s", model.name, hit)
                return
            cache.root.mkdir(parents=True, exist_ok=True)
            self.partial = cache.root / f".{model.stem}.{os.getpid()}.partial.onnx"
            opts.optimized_model_filepath = str(self.partial)
        except OSError as exc:
            log.debug("%s: no graph cache (%s)", model.name, exc)

    def publish(self) -> None:
        if self.partial is None:
            return
        try:
            if self.partial.is_file() and self.partial.stat().st_size > 0:
                self.cache.store(self.model, self.version, self.partial)
        except OSError as exc:
            log.warning("could not cache the optimised graph of %s: %s", self.model.name, exc)
        finally:
            self.discard()

    def discard(self) -> None:
        if self.partial is not None:
            self.partial.unlink(missing_ok=True)


_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def _ort_to_cupy(value: Any) -> Any:
    """A CuPy view of an ONNX Runtime CUDA output; the view keeps the OrtValue (its owner) alive."""
    import cupy  # type: ignore[import-not-found]

    dtype = np.dtype(_ORT_DTYPES[value.data_type()])
    shape = tuple(value.shape())
    mem = cupy.cuda.UnownedMemory(value.data_ptr(), int(np.prod(shape)) * dtype.itemsize, value)
    return cupy.ndarray(shape, dtype=dtype, memptr=cupy.cuda.MemoryPointer(mem, 0))


SMALL_MODEL_BYTES = 4_000_000
"""Models up to this size (the built-in BlazeFace, face mesh and iris models, 0.4–2.6 MB) run a few ms per call."""
SMALL_MODEL_THREADS = 1
"""Intra-op threads of a small model's session unless asked otherwise. Waking a second pool thread for a few
ms of work costs more than it saves: BlazeFace full range took 1.7 ms on 1 thread and 3.1 ms (4.6 CPU-ms) on
2 (ONNX Runtime 1.32, 2-core AMD EPYC)."""


def open_onnx(path: str | Path, *, threads: int | CpuThreads | None = None) -> OrtRunner:
    """An ONNX Runtime CPU runner for ``path``; a small model (see :data:`SMALL_MODEL_BYTES`) opened without
    explicit ``threads`` gets :data:`SMALL_MODEL_THREADS` intra-op threads."""
    if not threads and Path(path).is_file() and Path(path).stat().st_size <= SMALL_MODEL_BYTES:
        plan = default_threads()
        threads = CpuThreads(SMALL_MODEL_THREADS, plan.inter, plan.spin)
    return OrtRunner(path, threads=threads)
