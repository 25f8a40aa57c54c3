"""The thread budget: one plan for how many CPU threads each part of a run may use, from the core count.

A photo runs one frame at a time in one thread, so the model sessions and OpenCV may use every core. Video and
live runs keep several pipeline threads busy at once (decode or capture, swap, encode or sinks); if each model
session and OpenCV then also start a pool as large as the machine, a 2-core machine runs ten busy threads and
every stage gets slower. Measured on a 2-core machine (``ghostlive bench --live``, CPU time per frame): the
ONNX Runtime pools alone burned 11–21 CPU-ms per frame busy-waiting (spinning) for work, more than the swap
itself. So pools never spin, and in video/live runs the pools get only the cores the pipeline threads leave.
The built-in face models (a few ms per call) always run on one thread unless ``--threads`` says otherwise
(see :data:`ghostlive.engines.ort.SMALL_MODEL_THREADS`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import Literal

import cv2

from ghostlive.engines.base import CpuThreads, set_default_threads
from ghostlive.engines.ort import SMALL_MODEL_THREADS
from ghostlive.errors import ConfigError

log = logging.getLogger(__name__)
Mode = Literal["photo", "video", "live"]
PIPELINE_THREADS: dict[str, int] = {"photo": 1, "video": 3, "live": 2}
"""Threads a run keeps busy besides the model pools: photo = the caller; video = reader, swap, writer;
live = capture and swap (the sink thread mostly waits)."""


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. a container's limit; else the CPU count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


@dataclass(frozen=True)
class ThreadPlan:
    """Threads per part of a run (see the module docstring)."""

    mode: str
    cores: int
    ort_intra: int
    """Threads inside one model session's operators (each session has its own pool)."""
    ort_inter: int
    ort_spin: bool
    opencv: int
    decode: int
    """FFmpeg threads decoding a video file (a file played as a camera included)."""
    encode: int
    """FFmpeg threads encoding an output video (a file, or a live recording)."""

    def line(self) -> str:
        spin = "spinning" if self.ort_spin else "no spinning"
        return (
            f"thread plan ({self.mode}, {self.cores} cores): model sessions {self.ort_intra} intra-op + "
            f"{self.ort_inter} inter-op ({spin}; built-in face models {SMALL_MODEL_THREADS}), "
            f"OpenCV {self.opencv}, decode {self.decode}, encode {self.encode}"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def plan_threads(mode: Mode = "photo", cores: int | None = None, ort_threads: int = 0) -> ThreadPlan:
    """The plan for a ``mode`` run on ``cores`` cores (default: this machine); ``ort_threads`` > 0 overrides
    the model sessions' intra-op threads (``--threads``)."""
    if mode not in PIPELINE_THREADS:
        raise ConfigError(f"mode must be one of {', '.join(PIPELINE_THREADS)}, got {mode!r}")
    n = cores or available_cores()
    spare = max(n - PIPELINE_THREADS[mode] + 1, 1)  # cores left to one stage while the other threads run
    pools = n if mode == "photo" else spare
    return ThreadPlan(
        mode=mode,
        cores=n,
        ort_intra=ort_threads or pools,
        ort_inter=1,
        ort_spin=False,
        opencv=pools,
        decode=1 if n <= 4 else 2,
        encode=min(n, 4),  # x264 threads wait without spinning and its lookahead pipelines well
    )


_active: list[ThreadPlan] = []


def apply_plan(plan: ThreadPlan) -> ThreadPlan:
    """Make ``plan`` this process's: model sessions opened from now on, OpenCV, and video decode/encode follow
    it. Returns the plan."""
    set_default_threads(CpuThreads(plan.ort_intra, plan.ort_inter, plan.ort_spin))
    cv2.setNumThreads(plan.opencv)
    _active[:] = [plan]
    log.debug("%s", plan.line())
    return plan


def active_plan() -> ThreadPlan:
    """The plan applied last, or the photo plan of this machine when none was."""
    return _active[0] if _active else plan_threads("photo")
