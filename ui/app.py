"""``ghostlive gui``: the desktop application."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

from ghostlive.errors import PlatformError
from ghostlive.interrupts import SIGNALS, Terminated, heeded

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

CLOSING_SIGNALS = (signal.SIGINT, *SIGNALS)
"""Ctrl-C, SIGTERM and SIGHUP (where there is one): each closes the window as the user would."""


@contextlib.contextmanager
def close_on_signals(window: QWidget, quit_loop: Callable[[], object]) -> Iterator[list[int]]:
    """Within the block, SIGINT, SIGTERM and SIGHUP (those not ignored at start, as ``nohup`` leaves SIGHUP) close
    ``window`` as if the user had (its closeEvent stops the live preview, releases the camera and saves the
    settings), then call ``quit_loop`` (the application's ``quit``); the number of the signal is appended to the
    list yielded. Later signals are ignored, so they
    cannot cut the closing short.

    Qt's event loop runs in C++, where Python's signal handlers never run: the signal's wake-up byte
    (:func:`signal.set_wakeup_fd`) on a socket wakes the loop through a :class:`QSocketNotifier`, whose Python
    slot lets the handler run. Does nothing outside the main thread."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    from PySide6.QtCore import QSocketNotifier, QTimer

    def close() -> None:
        log.info("stopping on %s", signal.Signals(received[0]).name)
        window.close()
        quit_loop()

    def handler(signum: int, frame: FrameType | None) -> None:
        if not received:
            received.append(signum)
            QTimer.singleShot(0, close)  # outside the handler: it may have interrupted any Python code

    def drain() -> None:
        with contextlib.suppress(OSError):
            while reader.recv(512):
                pass

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(drain)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous = {s: signal.signal(s, handler) for s in heeded(CLOSING_SIGNALS)}  # nohup: HUP stays ignored
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(previous_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()


def stopped_by(signum: int) -> KeyboardInterrupt:
    """What the command line reports and exits with (:func:`ghostlive.interrupts.exit_code`: 128 + ``signum``)
    for a window closed by a signal: the KeyboardInterrupt of Ctrl-C, or :class:`Terminated` for the others."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def run_gui(argv: list[str] | None = None) -> int:
    """Open the main window. Qt is first tried in a subprocess: a platform plugin that cannot load (no display,
    missing system libraries) aborts its process, so here it becomes a one-line error instead of a core dump.
    SIGINT, SIGTERM and SIGHUP close the window cleanly, then raise :func:`stopped_by` for the command line."""
    from ghostlive.ui.platform_probe import gui_problem

    problem = gui_problem()
    if problem:
        raise PlatformError(problem)
    from PySide6.QtWidgets import QApplication

    from ghostlive.session import Session
    from ghostlive.threads import apply_plan, plan_threads
    from ghostlive.ui.main_window import MainWindow

    apply_plan(plan_threads("live"))  # the app's main use is the live loop (ghostlive.threads)
    app = QApplication.instance() or QApplication(argv or sys.argv)
    window = MainWindow(session=Session())
    with close_on_signals(window, app.quit) as received:
        window.show()
        log.info("window open (settings: %s)", window.settings_path)
        code = int(app.exec())
    if received:
        raise stopped_by(received[0])
    return code
