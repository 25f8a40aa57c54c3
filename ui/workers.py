"""Background work for the window: the live loop, file jobs and model tasks, reporting through Qt signals."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from ghostlive.pipeline.live import LivePipeline, Packet


class LiveBridge(QObject):
    """Turns the live pipeline's callbacks (from its own threads) into queued Qt signals, at most ~30 frames
    a second for the preview."""

    frame = Signal(object, object)  # output frame (np.ndarray), Packet
    stats = Signal(object)  # LiveStats
    error = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: LivePipeline | None = None
        self._last_emit = 0.0
        self._last_stats = 0.0
        self.last_frame: np.ndarray | None = None
        self.frames_seen = 0
        self.frames_swapped = 0

    def on_frame(self, packet: Packet) -> None:
        self.frames_seen += 1
        self.frames_swapped += packet.swapped > 0
        self.last_frame = packet.image
        now = time.monotonic()
        if now - self._last_emit >= 1 / 30:
            self._last_emit = now
            self.frame.emit(packet.image, packet)
        if self.pipeline is not None and now - self._last_stats >= 0.5:
            self._last_stats = now
            self.stats.emit(self.pipeline.stats())

    def on_error(self, message: str) -> None:
        self.error.emit(message)


class Task(QThread):
    """Runs ``fn(report, stop)`` in a thread; ``report(done, total, text)`` becomes the ``progress`` signal.
    Errors become the ``failed`` signal with a message, never a silent crash."""

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self, fn: Callable[[Callable[[int, int, str], None], threading.Event], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.fn = fn
        self.stop_event = threading.Event()

    def cancel(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        try:
            result = self.fn(lambda d, t, s="": self.progress.emit(int(d), int(t), s), self.stop_event)
        except Exception as exc:  # noqa: BLE001 - shown in the window
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.failed.emit(str(exc) or detail)
            return
        self.succeeded.emit(result)
