"""The thread budget: one plan for how many CPU threads each part of a run may use, from the core count.

A photo runs one frame at a time in one thread, so the model sessions and OpenCV may use every core. Video and
live runs keep several pipeline threads busy at once (decode or capture, track and swap, encode or sinks); if each model
session and OpenCV then also start a pool as large as the machine, a 2-core machine runs ten busy threads and
every stage gets slower. Measured on a 2-core machine (``ghostlive bench --live``, CPU time per frame): the
ONNX Runtime pools alone burned 11–21 CPU-ms per frame busy-waiting (spinning) for work, more than the swap
itself. So pools never spin, and in video/live runs the pools get only the cores the pipeline threads leave.
The built-in face models (a few ms per call) always run on one thread unless ``--threads`` says otherwise
(see :data:`ghostlive.engines.ort.SMALL_MODEL_THREADS`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal

import cv2

from ghostlive.engines.base import CpuThreads, set_default_threads
from ghostlive.engines.ort import SMALL_MODEL_THREADS
from ghostlive.errors import ConfigError

log = logging.getLogger(__name__)
Mode = Literal["photo", "video", "live"]
PIPELINE_THREADS: dict[str, int] = {"photo": 1, "video": 3, "live": 3}
"""Threads a run keeps busy besides the model pools: photo = the caller; video = reader, swap, writer;
live = capture, track and swap (the sink thread mostly waits)."""


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
    reuse_memory: bool = False
    """Freed frame-sized memory is kept for reuse (video and live runs on glibc; see :func:`keep_freed_memory`)."""

    def line(self) -> str:
        spin = "spinning" if self.ort_spin else "no spinning"
        return (
            f"thread plan ({self.mode}, {self.cores} cores): model sessions {self.ort_intra} intra-op + "
            f"{self.ort_inter} inter-op ({spin}; built-in face models {SMALL_MODEL_THREADS}), "
            f"OpenCV {self.opencv}, decode {self.decode}, encode {self.encode}"
            + (", freed memory reused" if self.reuse_memory else "")
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
        reuse_memory=mode != "photo" and glibc(),
    )


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
HEAP_KEEP = 256 << 20
"""Bytes of freed memory glibc may keep at the top of a heap instead of handing them back to the kernel."""
MMAP_FROM = 32 << 20
"""Blocks from this size up (glibc's largest setting) get pages of their own; smaller ones come from the heap."""


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def glibc() -> bool:
    """Whether this process runs on Linux with the GNU C library (whose allocator :func:`keep_freed_memory` tunes)."""
    return _glibc() is not None


def keep_freed_memory() -> bool:
    """Let glibc reuse freed frame-sized blocks instead of returning them to the kernel; True where it applied.

    A video or live frame passes through many frame-sized arrays (decoded planes, float temporaries, crops).
    By default glibc serves each from fresh pages and hands them back when freed (blocks above its mmap
    threshold, and any free top of a heap beyond twice that), so every frame pays the kernel for zeroed pages
    again. Measured on a 2-core AMD EPYC: a 150-frame 1280×720 video swap took 260,000–960,000 page faults and
    11.6–12.0 s of CPU, and 81,000 and 7.8 s with this (with the cheaper colour conversion of
    :mod:`ghostlive.media.colour`); ``bench --video`` went from 22–31 to 46–51 fps. Memory stays at its
    high-water mark while frames flow (a frame loop returns to it on every frame anyway); a video job hands it
    back at its end (:func:`release_freed_memory`). Other C libraries: nothing is changed.
    """
    libc = _glibc()
    return libc is not None and bool(
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_FROM) and libc.mallopt(M_TRIM_THRESHOLD, HEAP_KEEP)
    )


def release_freed_memory() -> None:
    """Hand the free memory :func:`keep_freed_memory` keeps back to the kernel (at the end of a video job, so an
    app that stays open does not hold the job's high-water mark); nothing elsewhere than glibc."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


_active: list[ThreadPlan] = []


def apply_plan(plan: ThreadPlan) -> ThreadPlan:
    """Make ``plan`` this process's: model sessions opened from now on, OpenCV, and video decode/encode follow
    it. Returns the plan."""
    set_default_threads(CpuThreads(plan.ort_intra, plan.ort_inter, plan.ort_spin))
    if plan.reuse_memory:
        keep_freed_memory()
    cv2.setNumThreads(plan.opencv)
    _active[:] = [plan]
    log.debug("%s", plan.line())
    return plan


def active_plan() -> ThreadPlan:
    """The plan applied last, or the photo plan of this machine when none was."""
    return _active[0] if _active else plan_threads("photo")
