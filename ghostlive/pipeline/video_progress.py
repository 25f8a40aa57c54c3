"""A video job's progress: frames written of the total, the rate since the job started and the time left, then
"finishing" while the encoder flushes, then the whole job's rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """How far a video job is: ``done`` frames of ``total`` written (handed to the encoder), at ``fps`` since the
    job started; ``eta`` in seconds (None while unknown)."""

    done: int
    total: int
    fps: float
    eta: float | None
    finishing: bool = False
    """Every frame is written and the encoder is flushing the frames it still holds (seconds for a long 4K video;
    ``eta`` is 0)."""


class Meter:
    """The job's progress, counted in frames written (not swapped: the writer may lag the swap by a queue of
    frames), at most four times a second; nothing before the first frame is written (no rate to tell yet)."""

    def __init__(self, progress: Callable[[Progress], None] | None, total: int, start: float) -> None:
        self.progress, self.total, self.start = progress, total, start
        self.last = 0.0

    def update(self, written: int) -> None:
        """``written`` frames so far (said at most every quarter of a second)."""
        now = time.perf_counter()
        if self.progress is None or not written or now - self.last <= 0.25:
            return
        self.last = now
        fps = written / (now - self.start)
        total = self.total
        self.progress(Progress(written, total, fps, (total - written) / fps if total >= written else None))

    def finishing(self, frames: int) -> None:
        """Every one of the ``frames`` is written: the encoder flushes what it holds next."""
        if self.progress is not None:
            fps = frames / max(time.perf_counter() - self.start, 1e-9)
            self.progress(Progress(frames, max(self.total, frames), fps, 0.0, finishing=True))

    def done(self, frames: int, seconds: float) -> None:
        """The file is finished after ``seconds`` (the whole job): the final rate."""
        if self.progress is not None:
            self.progress(Progress(frames, max(self.total, frames), frames / seconds if seconds > 0 else 0.0, 0.0))
