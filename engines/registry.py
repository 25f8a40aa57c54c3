"""Choosing a backend: TensorRT → ONNX Runtime CUDA → torch CUDA → ONNX Runtime CPU, with one error that says
why each one was unavailable. Also the numeric guard for fp16 (NaN or black output → fp32)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive.engines.base import Runner
from ghostlive.errors import BackendUnavailableError
from ghostlive.registry import Registry
from ghostlive.xp import array_module

log = logging.getLogger(__name__)

def ort_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def torch_cuda() -> bool | None:
    """Whether PyTorch sees a CUDA GPU (None: PyTorch is not installed)."""
    try:
        import torch
    except ImportError:
        return None
    return bool(torch.cuda.is_available())


def _ort(path: Path, provider: str, graph_cache: Path | None = None, cpu_precision: str = "fp32") -> Runner:
    """An ONNX Runtime runner; on the CPU (``graph_cache`` given) the model's int8 copy when ``cpu_precision``
    and the stored decision say so (see :mod:`ghostlive.engines.int8`)."""
    from ghostlive.engines.ort import OrtRunner

    if provider not in ort_providers():
        raise BackendUnavailableError(f"ONNX Runtime has no {provider} (installed: {', '.join(ort_providers())})")
    if graph_cache is not None and cpu_precision != "fp32":
        from ghostlive.engines.int8 import Int8Store, ort_version

        path = Int8Store(graph_cache).choose(path, ort_version(), cpu_precision)
    runner = OrtRunner(path, providers=[provider], graph_cache=graph_cache)
    if not runner.info.backend.endswith(provider):
        raise BackendUnavailableError(f"{provider} could not start (fell back to {runner.info.backend})")
    return runner


def _tensorrt(path: Path, cache: Path, precision: str) -> Runner:
    """A TensorRT runner; an fp16 engine whose output is broken on this GPU is replaced by an fp32 one."""
    from ghostlive.engines.tensorrt import TensorRTRunner

    first = TensorRTRunner(path, cache, precision=precision)
    if precision != "fp16":
        return first
    return guarded(lambda: first, lambda: TensorRTRunner(path, cache, precision="fp32"), probe_inputs(first))


@dataclass(frozen=True)
class RunnerRequest:
    """What a backend factory gets: the ONNX model, where TensorRT keeps engines, the torch definition (GHOST's
    ``torch_factory(device)``, when the model has one), the TensorRT precision and the ONNX Runtime CPU
    precision (``auto``/``fp32``/``int8``, see :mod:`ghostlive.engines.int8`)."""

    path: Path
    engine_cache: Path
    torch_factory: Callable[[str], Runner] | None
    precision: str
    cpu_precision: str = "fp32"


def _torch(device: str) -> Callable[[RunnerRequest], Runner]:
    def make(req: RunnerRequest) -> Runner:
        if req.torch_factory is None:
            raise BackendUnavailableError("no PyTorch definition for this model")
        if device == "cuda":
            try:
                import torch
            except ImportError:
                raise BackendUnavailableError("PyTorch is not installed") from None
            if not torch.cuda.is_available():
                raise BackendUnavailableError("PyTorch sees no CUDA GPU")
        return req.torch_factory(device)

    return make


RUNNERS: Registry[Runner] = Registry("backend", BackendUnavailableError)
"""Every backend by name, the automatic order (:data:`BACKENDS`) first. A new backend is one module with a
``factory(RunnerRequest) -> Runner`` that raises BackendUnavailableError when it cannot run here, plus one
``RUNNERS.register(name, factory)``."""
RUNNERS.register(
    "tensorrt", lambda r: _tensorrt(r.path, r.engine_cache, r.precision), priority=4, help="TensorRT engines"
)
RUNNERS.register("ort-cuda", lambda r: _ort(r.path, "CUDAExecutionProvider"), priority=3, help="ONNX Runtime CUDA")
RUNNERS.register("torch-cuda", _torch("cuda"), priority=2, help="PyTorch on CUDA (GHOST)")
RUNNERS.register(
    "ort-cpu",
    lambda r: _ort(r.path, "CPUExecutionProvider", r.engine_cache, r.cpu_precision),
    priority=1,
    help="ONNX Runtime CPU",
)
RUNNERS.register("torch-cpu", _torch("cpu"), help="PyTorch on the CPU (GHOST)")
RUNNERS.register("ort-trt", lambda r: _ort(r.path, "TensorrtExecutionProvider"), help="ONNX Runtime TensorRT")

BACKENDS: tuple[str, ...] = tuple(e for e in RUNNERS.names() if RUNNERS.entry(e).priority > 0)
"""The automatic order: TensorRT → ONNX Runtime CUDA → torch CUDA → ONNX Runtime CPU."""


def backend_problem(backend: str) -> str:
    """Why ``backend`` cannot run on this machine, from a cheap look ('' when it may: installed, and a GPU backend
    sees an NVIDIA driver); for offering choices, not a promise (opening a model tells for sure)."""

    def missing(module: str) -> bool:
        return importlib.util.find_spec(module) is None

    # Linux: the kernel driver's version file; WSL2 reaches the Windows driver through /dev/dxg instead
    drivers = ("/proc/driver/nvidia/version", "/dev/dxg")
    no_driver = sys.platform == "linux" and not any(Path(p).exists() for p in drivers)
    problems = {
        "tensorrt": "TensorRT is not installed" if missing("tensorrt") else "",
        "ort-cuda": "" if "CUDAExecutionProvider" in ort_providers() else "ONNX Runtime has no CUDA here",
        "ort-trt": "" if "TensorrtExecutionProvider" in ort_providers() else "ONNX Runtime has no TensorRT here",
        "torch-cuda": "PyTorch is not installed" if missing("torch") else "",
        "torch-cpu": "PyTorch is not installed" if missing("torch") else "",
    }
    problem = problems.get(backend, "")
    if not problem and backend in ("tensorrt", "ort-cuda", "ort-trt", "torch-cuda") and no_driver:
        problem = "no NVIDIA GPU driver found"
    return problem


def backend_choices(*extra: str) -> tuple[str, ...]:
    """The ``--backend`` choices: ``auto``, ``extra`` (e.g. bench's ``all``) and every registered backend."""
    return ("auto", *extra, *RUNNERS.names())


def backend_order(backend: str) -> tuple[str, ...]:
    """The backends to try for the choice ``backend`` (``auto``: the automatic order)."""
    return BACKENDS if backend == "auto" else (RUNNERS.entry(backend).name,)


def open_runner(
    path: str | Path,
    *,
    prefer: Iterable[str] = BACKENDS,
    engine_cache: str | Path | None = None,
    torch_factory: Callable[[str], Runner] | None = None,
    precision: str = "fp16",
    cpu_precision: str = "fp32",
) -> Runner:
    """The first backend of ``prefer`` that can run the ONNX model at ``path``.

    ``torch_factory(device)`` builds a torch runner for models that have a PyTorch definition (GHOST).
    ``cpu_precision``: on ONNX Runtime's CPU backend, ``auto`` runs the stored int8 copy where its measured
    decision says so, ``int8`` insists (refused where identity was not kept), ``fp32`` never uses it.
    """
    p = Path(path)
    request = RunnerRequest(p, Path(engine_cache or p.parent / "engines"), torch_factory, precision, cpu_precision)
    reasons: list[str] = []
    for name in prefer:
        try:
            return RUNNERS.create(name, request)
        except BackendUnavailableError as exc:
            reasons.append(f"{name}: {exc}")
        except (ImportError, OSError, RuntimeError) as exc:
            reasons.append(f"{name}: {type(exc).__name__}: {exc}")
    raise BackendUnavailableError(f"no backend can run {p.name}:\n  " + "\n  ".join(reasons))


def probe_inputs(runner: Runner) -> dict[str, np.ndarray]:
    """Deterministic test inputs for a runner: batch 1, values in [−1, 1]."""
    rng = np.random.default_rng(0)
    out = {}
    for spec in runner.info.inputs:
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in spec.shape]
        out[spec.name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return out


def output_problem(outputs: dict[str, Any]) -> str | None:
    """Why an output looks numerically broken (NaN/inf, or a constant 'black' image), or None."""
    for name, value in outputs.items():
        arr = np.asarray(value.get() if hasattr(value, "get") else value, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            return f"{name} contains NaN or infinity"
        if arr.ndim == 4 and arr.size > 1000 and float(arr.std()) < 1e-6:
            return f"{name} is constant (a black or flat image)"
    return None


def guarded(
    fp16: Callable[[], Runner],
    fp32: Callable[[], Runner],
    probe: dict[str, np.ndarray],
    warn: Callable[[str], None] = log.warning,
) -> Runner:
    """The fp16 runner if it gives sane output on ``probe``, else the fp32 runner (and a warning that says so):
    the guard for GPUs whose fp16 gives NaN or black faces."""
    runner = fp16()
    problem = output_problem(runner.run(dict(probe)))
    if problem is None:
        return runner
    warn(f"{runner.info.model}: fp16 output is broken on this device ({problem}); using fp32 for this model")
    return fp32()


def is_out_of_memory(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(k in text for k in ("out of memory", "outofmemory", "failed to allocate", "cudaerrormemoryallocation"))


def run_in_batches(
    fn: Callable[[np.ndarray], Any], items: np.ndarray, batch: int, warn: Callable[[str], None] = log.warning
) -> Any:
    """``fn`` over ``items`` in batches of ``batch``, results concatenated on their own array module (host or
    device); on out-of-memory the batch is halved and retried."""
    out: list[Any] = []
    i = 0
    size = max(1, batch)
    while i < len(items):
        try:
            out.append(fn(items[i : i + size]))
            i += size
        except Exception as exc:
            if not is_out_of_memory(exc) or size == 1:
                if is_out_of_memory(exc):
                    raise BackendUnavailableError(
                        "out of GPU memory even with batch 1: close other GPU programs, or use a smaller model "
                        "(ghost-1) or --backend ort-cpu"
                    ) from exc
                raise
            size //= 2
            warn(f"out of memory: retrying with batch {size}")
    return array_module(*out).concatenate(out) if out else items[:0]
