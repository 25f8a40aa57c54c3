"""The runner protocol shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ghostlive.xp import array_module, host_fast_path, to_device, to_host


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (None or a string for dynamic axes) and element type of one model input or output."""

    name: str
    shape: tuple[int | str | None, ...]
    dtype: str


@dataclass(frozen=True)
class RunnerInfo:
    """What a runner runs and how."""

    backend: str
    model: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


@dataclass(frozen=True)
class CpuThreads:
    """How many CPU threads one model session may use: ``intra`` within an operator (0 = the runtime's own
    choice, all cores), ``inter`` across independent operators, and whether idle pool threads ``spin`` (busy-wait
    for the next job: a little lower latency, but they burn a core that other pipeline threads need)."""

    intra: int = 0
    inter: int = 1
    spin: bool = False


_default_threads = [CpuThreads()]


def set_default_threads(threads: CpuThreads) -> None:
    """The thread options of every CPU session opened from now on without explicit ones
    (:mod:`ghostlive.threads` sets them from the machine's thread plan)."""
    _default_threads[0] = threads


def default_threads() -> CpuThreads:
    return _default_threads[0]


@runtime_checkable
class Runner(Protocol):
    """Runs one model: ``run({"input": array}) -> {"output": array}``."""

    info: RunnerInfo

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def run_any(runner: Runner, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run ``runner`` on host or device arrays; the outputs come back on the array module of the inputs.

    Device (cupy) inputs go to the runner's ``run_device`` when it has one (no copies through the host);
    otherwise they are downloaded and the outputs uploaded. In :func:`ghostlive.xp.portable` mode host arrays
    also take ``run_device``, so its binding logic runs on a CPU too.
    """
    xp = array_module(*inputs.values())
    device_run = getattr(runner, "run_device", None)
    if device_run is not None and not host_fast_path(xp):
        return device_run(dict(inputs))
    return run_via_host(runner, inputs)


def run_via_host(runner: Runner, inputs: dict[str, Any]) -> dict[str, Any]:
    """``runner.run`` on host copies of ``inputs``; outputs moved back to the inputs' array module."""
    xp = array_module(*inputs.values())
    out = runner.run({k: np.ascontiguousarray(to_host(v)) for k, v in inputs.items()})
    return {k: to_device(v, xp) for k, v in out.items()}
