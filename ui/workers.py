"""The Qt layer over :mod:`ghostlive.session`: session events and tasks become signals delivered on the GUI thread.

The session calls its listeners on whatever thread the work runs on; these adapters only re-emit them as Qt
signals, which Qt queues to the GUI thread (the objects live there). Nothing slow runs here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, Signal

from ghostlive.session import Session
from ghostlive.session.tasks import Report
from ghostlive.session.tasks import Task as SessionTask


class Task(QObject):
    """A session task seen from Qt: ``progress(done, total, text)``, then ``succeeded(result)`` or
    ``failed(message)``, then ``finished()``, all on the GUI thread. Built from a session task (already started)
    or from ``fn(report, stop)`` (started by :meth:`start`)."""

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()
    _done = Signal()

    def __init__(
        self, work: SessionTask[Any] | Callable[[Report, threading.Event], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.task = work if isinstance(work, SessionTask) else SessionTask(work, "gui-task")
        self._posted = threading.Event()
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.task.progress.connect(self.progress.emit)
        self.task.on_done(self._post)

    def _post(self, _task: SessionTask[Any]) -> None:
        self._done.emit()  # queued: delivered on the GUI thread, after the progress signals posted before it
        self._posted.set()

    def _deliver(self) -> None:
        error = self.task.error()
        if error is not None:
            self.failed.emit(str(error))
        else:
            self.succeeded.emit(self.task.result())
        self.finished.emit()

    def start(self) -> Task:
        if not self.task.started():
            self.task.start()
        return self

    def cancel(self) -> None:
        self.task.cancel()

    def isFinished(self) -> bool:  # noqa: N802 - the QThread name the window's callers use
        """The work is over and its signals are queued (process events to receive them)."""
        return self._posted.is_set()

    def wait(self, msecs: int = -1) -> bool:
        """Block until :meth:`isFinished` (at most ``msecs`` ms; -1: no limit)."""
        return self._posted.wait(None if msecs < 0 else msecs / 1000)


def wait_for(task: Task) -> bool:
    """Keep the GUI responsive (events are processed) until ``task`` has finished and delivered its signals;
    True when it succeeded. The work itself runs on the task's worker thread."""
    ok: list[bool] = []
    task.succeeded.connect(lambda _r: ok.append(True))
    while not task.isFinished():
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        task.wait(5)
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()
    return bool(ok)


class SessionBridge(QObject):
    """The session's events as signals on the GUI thread; the live counters are read from the session."""

    frame = Signal(object, object)  # output frame (np.ndarray), Packet; at most ~30 a second
    stats = Signal(object)  # LiveStats
    error = Signal(str)
    info = Signal(str)
    sources_added = Signal(object)  # list[SourceFace]
    live = Signal(bool)
    saved = Signal(object)  # Path of a finished recording

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        events = session.events
        for name in ("frame", "stats", "error", "info", "sources_added", "live", "saved"):
            getattr(events, name).connect(getattr(self, name).emit)

    @property
    def last_frame(self) -> Any:
        return self.session.events.last_frame

    @property
    def frames_seen(self) -> int:
        return self.session.events.frames_seen

    @property
    def frames_swapped(self) -> int:
        return self.session.events.frames_swapped
