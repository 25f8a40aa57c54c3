"""The runner protocol shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


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


@runtime_checkable
class Runner(Protocol):
    """Runs one model: ``run({"input": array}) -> {"output": array}``."""

    info: RunnerInfo

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...
