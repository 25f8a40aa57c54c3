"""What one frame through the chain gives (:class:`FrameResult`, per-stage :class:`StageTimes`) and where it
runs (:class:`FrameDevice`); the chain itself is :mod:`ghostlive.pipeline.chain`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from ghostlive.errors import GhostliveError
from ghostlive.types import Array, Face, Frame
from ghostlive.xp import resolve_device, to_device, to_host

log = logging.getLogger(__name__)
T = TypeVar("T")

STAGES: tuple[str, ...] = ("detect", "landmarks", "select", "swap", "blend")


@dataclass
class StageTimes:
    """Milliseconds spent in each stage for one frame."""

    ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds of the calling thread per stage (model pools not included): unlike wall time, barely
    changed by other programs sharing the machine."""

    @property
    def total(self) -> float:
        return sum(self.ms.values())


@dataclass(frozen=True)
class FrameResult:
    """The swapped frame, every face found, the faces that were swapped, and per-stage times."""

    frame: Frame
    faces: list[Face]
    swapped: list[Face]
    times: StageTimes
    best_similarity: tuple[float, ...] = ()


class Clock:
    """Adds the time since the last lap to a stage of ``times``."""

    def __init__(self, times: StageTimes) -> None:
        self.times = times
        self.t = time.perf_counter()
        self.cpu = time.thread_time()

    def lap(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.times.ms[stage] = self.times.ms.get(stage, 0.0) + (now - self.t) * 1000.0
        self.times.cpu_ms[stage] = self.times.cpu_ms.get(stage, 0.0) + (cpu - self.cpu) * 1000.0
        self.t, self.cpu = now, cpu

    def resume(self) -> None:
        """Count from now on this thread (a frame handed to another thread; the wait is nobody's stage)."""
        self.t, self.cpu = time.perf_counter(), time.thread_time()


class FrameDevice:
    """Where frames are swapped: ``cpu`` (numpy, OpenCV fast paths) or ``cuda`` (cupy: each frame is
    uploaded once, detection, landmarks, alignment, the swap model, masks, colour transfer and paste-back run
    on the GPU, and the result is downloaded once; only model outputs of a few KB, such as boxes and landmark
    points, come back to the host). ``auto`` picks cuda when CuPy can use a GPU, except for a swapper that is
    faster on the host (``host_first``: the swapper's ``host_frames``, e.g. the classic one).

    A GPU run that fails with an unexpected error (not a ghostlive error such as a missing face) is redone on
    the CPU, and the rest of the run stays there, with one warning: the GPU path cannot take a session down.
    """

    def __init__(self, device: str = "cpu", *, host_first: bool = False) -> None:
        if device == "auto" and host_first:
            log.info("frames stay on the CPU: this swapper is faster there (--device cuda moves them to the GPU)")
            device = "cpu"
        self.xp = resolve_device(device)
        self.fell_back: str | None = None

    @property
    def name(self) -> str:
        return "cpu" if self.xp is np else "cuda"

    def upload(self, image: Array) -> Array:
        return to_device(image, self.xp)

    def apply(self, value: Any, fn: Callable[[Any], T]) -> T:
        """``fn`` on ``value`` moved to this device. An unexpected failure on the GPU (upload included) redoes
        ``fn`` on the host value and moves this device to the CPU for good, with one warning."""
        if self.xp is np:
            return fn(value)
        try:
            return fn(self.upload(value))
        except GhostliveError:
            raise
        except Exception as exc:  # noqa: BLE001 - any GPU failure: redo on the CPU, say so once
            self.fell_back = f"{type(exc).__name__}: {exc}"
            log.warning("the GPU frame path failed (%s); continuing on the CPU", self.fell_back)
            self.xp = np
            return fn(value)

    def run(self, frame: Frame, fn: Callable[[Array], FrameResult]) -> FrameResult:
        """``fn`` on ``frame`` moved to this device; the result frame comes back as a host array."""

        def swap_and_download(f: Array) -> FrameResult:
            result = fn(f)
            return replace(result, frame=to_host(result.frame))

        return self.apply(frame, swap_and_download)
