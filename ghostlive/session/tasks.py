"""Qt-free building blocks of :class:`ghostlive.session.Session`: events (plain callbacks) and tasks (work on a
worker thread with progress, cancellation and a :class:`concurrent.futures.Future` result).

A view connects to an :class:`Event` and is called on the thread that emits it (a worker thread for tasks and
the live loop); the Qt layer (``ghostlive.ui.workers``) turns these calls into queued signals on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from ghostlive.errors import GhostliveError

log = logging.getLogger(__name__)
T = TypeVar("T")
Report = Callable[[int, int, str], None]
"""``report(done, total, text)``: progress of a task (total 0 when unknown)."""


class Event:
    """A list of callbacks: ``connect(fn)``, ``emit(*args)`` calls each in the emitting thread. A callback that
    raises is logged and does not stop the others."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._callbacks.append(fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        if fn in self._callbacks:
            self._callbacks.remove(fn)

    def emit(self, *args: Any) -> None:
        for fn in list(self._callbacks):
            try:
                fn(*args)
            except Exception:
                log.exception("event listener %r failed", fn)


def as_error(exc: BaseException) -> GhostliveError:
    """``exc`` as a :class:`GhostliveError` (unchanged when it is one; others keep their message)."""
    if isinstance(exc, GhostliveError):
        return exc
    detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
    error = GhostliveError(str(exc) or detail)
    error.__cause__ = exc
    return error


class Task(Generic[T]):
    """Runs ``fn(report, stop)`` on its own thread. ``progress`` is emitted with ``(done, total, text)``;
    :meth:`cancel` sets ``stop`` (the work ends at its next check); the outcome is :attr:`future`: the result, or a
    :class:`GhostliveError` (any other exception is wrapped in one, keeping its message)."""

    def __init__(self, fn: Callable[[Report, threading.Event], T], name: str = "task") -> None:
        self.fn = fn
        self.name = name
        self.progress = Event()
        self.stop = threading.Event()
        self.future: Future[T] = Future()
        self._thread = threading.Thread(target=self._run, name=f"ghostlive-{name}", daemon=True)

    def start(self) -> Task[T]:
        self._thread.start()
        return self

    def started(self) -> bool:
        return self._thread.ident is not None

    def wait(self) -> None:
        """Wait until finished (not when called from the work itself, e.g. by a listener of an event it emits:
        that wait would never end)."""
        if threading.current_thread() is not self._thread:
            self.future.exception()

    def report(self, done: int, total: int | None = 0, text: str = "") -> None:
        self.progress.emit(int(done), int(total or 0), text)

    def _run(self) -> None:
        self.future.set_running_or_notify_cancel()
        try:
            result = self.fn(self.report, self.stop)
        except BaseException as exc:
            if not isinstance(exc, GhostliveError | KeyboardInterrupt):
                log.debug("%s failed", self.name, exc_info=True)
            self.future.set_exception(as_error(exc))
            return
        self.future.set_result(result)

    def cancel(self) -> None:
        """Ask the work to stop at its next check of ``stop``."""
        self.stop.set()

    def done(self) -> bool:
        return self.future.done()

    def result(self, timeout: float | None = None) -> T:
        """The result, waiting up to ``timeout`` seconds; raises the task's :class:`GhostliveError`."""
        return self.future.result(timeout)

    def error(self) -> GhostliveError | None:
        """The failure of a finished task (None: it succeeded or is still running)."""
        if not self.future.done():
            return None
        exc = self.future.exception()
        return exc if isinstance(exc, GhostliveError) or exc is None else as_error(exc)

    def on_done(self, fn: Callable[[Task[T]], None]) -> None:
        """Call ``fn(task)`` once finished: in the worker thread, or at once when it already is."""
        self.future.add_done_callback(lambda _f: fn(self))
