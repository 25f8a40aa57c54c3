"""A stand-in for cupy (there is no GPU here): numpy memory that behaves like GPU memory where it matters for
finding GPU-port bugs on a CPU.

Arrays are :class:`DeviceArray` (reported by ``ghostlive.xp.array_module`` as cupy's), and like cupy they refuse
what would silently move data between host and device or mix the two:

- a numpy function applied to a device array (``np.clip(dev)``, ``np.asarray(dev)``): TypeError; device code
  must go through ``xp``;
- arithmetic between a device array and a host array (cupy raises for that): TypeError;
- a device array converted implicitly (``np.array(dev)``, ``float(dev)`` of a non-scalar): TypeError;
- indexing with host index arrays, or assigning a host array into a device array: TypeError.

Downloads are explicit, with ``.get()``, as in cupy. ``install(monkeypatch)`` makes ``ghostlive.xp`` see this
module as cupy and ``cupyx.scipy.ndimage`` as scipy.ndimage behind the same wrapper. What it cannot check: CUDA
itself (kernels, streams, TensorRT, ONNX Runtime's CUDA provider).
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest
import scipy.ndimage

from ghostlive import xp as xp_module

transfers: list[tuple[str, int]] = []
"""("up" or "down", bytes) for every host→device and device→host copy since ``install``."""


class DeviceArray(np.ndarray):
    """An array that stands for GPU memory."""

    def get(self) -> np.ndarray:
        """Download (an explicit copy to a host array)."""
        transfers.append(("down", self.nbytes))
        return _ORIGINAL["array"](self.view(np.ndarray), copy=True)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError("implicit conversion of a device array to a host array (use .get())")

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        raise TypeError(f"numpy.{func.__name__} called on a device array: device code must use xp")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out", ())
        for x in (*inputs, *out):
            if isinstance(x, np.ndarray) and not isinstance(x, DeviceArray) and x.ndim > 0:
                raise TypeError(f"{ufunc.__name__}: a host array mixed with a device array")
        if out:
            kwargs["out"] = tuple(_host_view(o) for o in out)
        result = getattr(ufunc, method)(*(_host_view(x) for x in inputs), **kwargs)
        return _device(result)

    def __getitem__(self, index: Any) -> Any:
        _check_index(index)
        return super().__getitem__(index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_index(index)
        if isinstance(value, np.ndarray) and not isinstance(value, DeviceArray) and value.ndim > 0:
            raise TypeError("assigning a host array into a device array (upload it with xp.asarray)")
        super().__setitem__(index, _host_view(value))

    def __float__(self) -> float:
        if self.size != 1:
            raise TypeError("only single-element device arrays convert to float")
        return float(self.view(np.ndarray).reshape(-1)[0])

    def __int__(self) -> int:
        if self.size != 1:
            raise TypeError("only single-element device arrays convert to int")
        return int(self.view(np.ndarray).reshape(-1)[0])


DeviceArray.__module__ = "cupy"  # what ghostlive.xp.array_module looks at


def _check_index(index: Any) -> None:
    """Index arrays must live on the device too (cupy does not take host index arrays everywhere)."""
    for i in index if isinstance(index, tuple) else (index,):
        if isinstance(i, np.ndarray) and not isinstance(i, DeviceArray) and i.ndim > 0:
            raise TypeError("indexing a device array with a host index array")


def _host_view(x: Any) -> Any:
    if isinstance(x, DeviceArray):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_host_view(v) for v in x)
    return x


def _device(x: Any) -> Any:
    if isinstance(x, np.ndarray) and not isinstance(x, DeviceArray):
        return x.view(DeviceArray)
    if isinstance(x, tuple):
        return tuple(_device(v) for v in x)
    if isinstance(x, list):
        return [_device(v) for v in x]
    return x


def _wrap(fn: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        return _device(fn(*_host_view(args), **{k: _host_view(v) for k, v in kwargs.items()}))

    return call


def _upload(a: Any, dtype: Any = None, **_: Any) -> DeviceArray:
    if isinstance(a, DeviceArray):
        return a if dtype is None else a.astype(dtype)
    out = _ORIGINAL["array"](a, dtype=dtype, copy=True).view(DeviceArray)
    if isinstance(a, np.ndarray):
        transfers.append(("up", out.nbytes))
    return out


class _Module(types.ModuleType):
    """numpy (or scipy.ndimage) functions behind the device-array wrapper; types and constants pass through."""

    def __init__(self, name: str, source: Any) -> None:
        super().__init__(name)
        self._source = source

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._source, name)
        if isinstance(attr, type) or not callable(attr):
            return attr
        return _wrap(attr)


cupy = _Module("cupy", np)
cupy.asarray = _upload  # type: ignore[attr-defined]
cupy.array = _upload  # type: ignore[attr-defined]
cupy.ndarray = DeviceArray  # type: ignore[attr-defined]
ndimage = _Module("cupyx.scipy.ndimage", scipy.ndimage)


_ORIGINAL = {name: getattr(np, name) for name in ("asarray", "array", "ascontiguousarray", "asanyarray")}


def _refusing(name: str) -> Any:
    original = _ORIGINAL[name]

    def convert(a: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, DeviceArray):
            raise TypeError(f"numpy.{name} of a device array: implicit download (use .get() / to_host)")
        return original(a, *args, **kwargs)

    return convert


def install(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Make ghostlive see this module as a working cupy (and cupyx.scipy.ndimage) for one test; numpy's
    converters refuse device arrays meanwhile, as they do for cupy's."""
    for name in _ORIGINAL:
        monkeypatch.setattr(np, name, _refusing(name))
    cupyx = types.ModuleType("cupyx")
    cupyx.scipy = types.ModuleType("cupyx.scipy")  # type: ignore[attr-defined]
    cupyx.scipy.ndimage = ndimage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", cupyx.scipy)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cupyx.scipy.ndimage", ndimage)
    monkeypatch.setattr(xp_module, "_cupy", lambda: cupy)
    transfers.clear()
    return cupy
