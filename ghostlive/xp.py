"""The one array-module switch.

Ops are written once against ``xp`` (numpy or cupy) and ``ndi`` (scipy.ndimage or cupyx.scipy.ndimage). Only
this module imports cupy, and only lazily, so the core installs and runs without it.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
import scipy.ndimage

from ghostlive.errors import BackendUnavailableError, ConfigError

log = logging.getLogger(__name__)

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
_portable = [False]


@lru_cache(maxsize=1)
def _cupy() -> ModuleType | None:
    try:
        import cupy  # type: ignore[import-not-found]

        cupy.zeros(1)  # raises without a usable GPU/driver
    except Exception as exc:  # noqa: BLE001 - any failure means "no GPU path"
        log.debug("cupy unavailable: %s", exc)
        return None
    return cupy


def gpu_available() -> bool:
    """True when cupy imports and can allocate on a GPU."""
    return _cupy() is not None


def device_problem(device: str) -> str:
    """Why frames cannot go on ``device`` here ('' when they can)."""
    if device != "cuda":
        return ""
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (the gpu extra)"
    return "" if gpu_available() else "CuPy finds no usable GPU"


def on_device(a: Any) -> bool:
    """Whether ``a`` is a cupy (device) array."""
    return type(a).__module__.split(".")[0] == "cupy"


def array_module(*arrays: Any) -> ModuleType:
    """numpy or cupy, whichever the given arrays belong to (numpy for none or host arrays)."""
    for a in arrays:
        if on_device(a):
            cp = _cupy()
            if cp is not None:
                return cp
    return np


def resolve_device(device: str) -> ModuleType:
    """The array module frames live on: ``cpu`` → numpy, ``cuda`` → cupy (an error says why it is missing),
    ``auto`` → cupy when it can allocate on a GPU, else numpy."""
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return np
    cp = _cupy()
    if cp is not None:
        return cp
    if device == "cuda":
        raise BackendUnavailableError(
            "--device cuda needs CuPy and an NVIDIA GPU: pip install cupy-cuda12x (see `ghostlive doctor`)"
        )
    return np


@contextmanager
def portable() -> Iterator[None]:
    """Run the device code path on numpy: every op takes the branch a GPU takes (ndimage, vectorised
    rasters, I/O binding) instead of OpenCV's host fast path. Used by tests and ``bench --device portable`` to
    check, without a GPU, the exact logic that runs on one. Process-wide while active."""
    before = _portable[0]
    _portable[0] = True
    try:
        yield
    finally:
        _portable[0] = before


def host_fast_path(xp: ModuleType) -> bool:
    """Whether an op on ``xp`` arrays may use its OpenCV host implementation."""
    return xp is np and not _portable[0]


def ndimage_module(xp: ModuleType) -> ModuleType:
    """scipy.ndimage for numpy, cupyx.scipy.ndimage for cupy."""
    if xp is np:
        return scipy.ndimage
    import cupyx.scipy.ndimage  # type: ignore[import-not-found]

    return cupyx.scipy.ndimage


def to_host(a: Any) -> np.ndarray:
    """A numpy copy-free view (host arrays) or a download (device arrays)."""
    if isinstance(a, np.ndarray) and not on_device(a):
        return a
    get = getattr(a, "get", None)
    return np.asarray(get() if get is not None else a)


def to_device(a: Any, xp: ModuleType) -> Any:
    """``a`` on the array module ``xp``: an upload for cupy, a download for numpy, a no-op when it is there."""
    if xp is np:
        return to_host(a)
    return xp.asarray(a)


def device_memory_used_mb() -> float | None:
    """GPU memory in use (MB) as the driver reports it, or None without a GPU."""
    cp = _cupy()
    if cp is None:
        return None
    free, total = cp.cuda.runtime.memGetInfo()
    return (total - free) / 1e6


def cuda_runtime() -> str:
    """CuPy's CUDA runtime version ("12.4"); raises when CuPy or a GPU is missing."""
    import cupy  # type: ignore[import-not-found]

    v = cupy.cuda.runtime.runtimeGetVersion()
    cupy.zeros(1)
    return f"{v // 1000}.{v % 1000 // 10}"
