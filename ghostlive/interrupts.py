"""Termination signals handled like Ctrl-C, so every job stops through the same clean cancel path.

SIGINT raises KeyboardInterrupt in the main thread; :func:`termination_as_interrupt` makes SIGTERM (``kill``,
``timeout``, systemd, Docker) and SIGHUP (a closed terminal) raise :class:`Terminated`, a KeyboardInterrupt that
remembers its signal. Whatever cleans up after Ctrl-C (temporary files removed, threads stopped) then runs for them
too, and the CLI exits with 128 + the signal number, as a shell reports a process killed by that signal.

Once a command has finished, :func:`exit_on_signal` makes the same signals end the process at once with that code:
nothing is left to clean up then, and the interpreter's shutdown (PyTorch's teardown takes seconds of atexit
callbacks) would otherwise print a traceback of whatever code the signal interrupted and exit 0.

A signal that was ignored when the program started (``nohup``, ``trap '' HUP``, a shell's background job) stays
ignored: neither installs a handler for it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def heeded(signals: tuple[int, ...]) -> list[int]:
    """The ``signals`` that are not ignored (SIG_IGN, as ``nohup`` or ``trap '' HUP`` leave them): those keep their
    disposition."""
    return [s for s in signals if signal.getsignal(s) != signal.SIG_IGN]


def exit_code(exc: KeyboardInterrupt) -> int:
    """128 + the signal number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


@contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise :class:`Terminated` in the main thread; the first one only: further
    ones are ignored so that they cannot cut the cleanup short. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in heeded(SIGNALS)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def exit_on_signal() -> None:
    """From now on SIGINT, SIGTERM and SIGHUP end the process at once (``os._exit``: no traceback, no further
    teardown) with 128 + the signal number. For the program's last moments only, after its command has finished
    and flushed its output. Does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        os._exit(128 + signum)

    for s in heeded((signal.SIGINT, *SIGNALS)):
        signal.signal(s, handler)
