"""The command line's standard streams, made unable to fail a job: a closed terminal (EIO), a full disk (ENOSPC), a
closed stream (``2>&-``) or a locale whose encoding lacks the program's characters (``LC_ALL=C``) cost at most the
text that could not be shown, never the job's output or its exit status.

:func:`prepare_streams` runs as the program starts: closed descriptors 0-2 are pointed at the null device (so that
no file the job opens takes their number and receives its messages), streams that cannot encode every character
escape it, and stdout and stderr are wrapped in :class:`GuardedStream`. :class:`ProgressLine` is the video's
progress display, which turns itself off when it cannot be written.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ghostlive.pipeline.offline import Progress

WRITE_ERRORS = (OSError, ValueError, AttributeError)
"""A stream that cannot be written: EIO, ENOSPC, EPIPE; closed (ValueError); None (AttributeError)."""


def _to_null(fd: int) -> None:
    """Point descriptor ``fd`` at the null device."""
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def _escaping(stream: TextIO) -> TextIO:
    """``stream``, writing characters its encoding lacks as escapes (``\\u2192``) rather than failing."""
    try:
        "→".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    return stream


class GuardedStream:
    """A standard stream whose write errors are not the job's: the first one turns it off (what it still held goes
    to the null device, so the interpreter's own flush at exit cannot fail either); stdout then says so once on
    stderr. A BrokenPipeError of stdout still propagates: the reader left (``ghostlive doctor | head -1``), which
    :func:`ghostlive.cli.main` answers with 141."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream, self._name, self._off = stream, name, False

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, BrokenPipeError) and self._name == "stdout":
            raise exc
        self._off = True
        try:
            _to_null(self._stream.fileno())
            self._stream.flush()  # what it held, into the null device
        except WRITE_ERRORS:
            pass
        if self._name == "stdout":
            sys.stderr.write(f"ghostlive: cannot write to standard output ({exc}); the results are not shown\n")

    def write(self, text: str) -> int:
        if not self._off:
            try:
                return self._stream.write(text)
            except UnicodeEncodeError:  # an encoding that reconfigure() could not make escape
                encoding = self._stream.encoding or "ascii"
                return self.write(text.encode(encoding, "backslashreplace").decode(encoding))
            except WRITE_ERRORS as exc:
                self._failed(exc)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self._off:
            try:
                self._stream.flush()
            except WRITE_ERRORS as exc:
                self._failed(exc)

    def __getattr__(self, name: str) -> Any:  # fileno, isatty, encoding, buffer, closed, ...
        return getattr(self._stream, name)


def prepare_streams() -> None:
    """Make the program's standard streams safe to write (see the module's description); once, at its start."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            _to_null(fd)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, GuardedStream):
            continue
        if stream is None:  # closed when the program started: its descriptor is the null device's now
            stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - the program's stream until it ends
        setattr(sys, name, GuardedStream(_escaping(stream), name))


class ProgressLine:
    """The video's progress on stderr (``frame 12/72  8.1 fps  ETA 0:07``, then ``frame 72/72  finishing…``
    while the encoder flushes), rewritten in place; a write that fails (a closed terminal, a full disk, stderr
    closed) turns it off for the rest of the run, never the job."""

    def __init__(self) -> None:
        self.off = False
        self.width = 0
        """The longest line shown: a shorter one is padded to cover it."""

    def _write(self, text: str) -> None:
        if self.off:
            return
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except WRITE_ERRORS:
            self.off = True

    def __call__(self, p: Progress) -> None:
        eta = f"ETA {int(p.eta) // 60}:{int(p.eta) % 60:02d}" if p.eta is not None else ""
        total = f"/{p.total}" if p.total else ""
        line = f"  frame {p.done}{total}  " + ("finishing…" if p.finishing else f"{p.fps:5.1f} fps  {eta}   ")
        self.width = max(self.width, len(line))
        self._write(f"\r{line:<{self.width}}")

    def end(self) -> None:
        """End the line once the video is done."""
        self._write("\n")
