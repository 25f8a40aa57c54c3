"""A file for FFmpeg to write through Python, so that no write error is lost.

FFmpeg's own file output can lose the last write's error: a fragmented MP4's closing fragment that hits a full disk
(or a quota) is cut short, yet closing the container reports success (PyAV ignores the status of FFmpeg's final
flush), and a recording half its length would be published as saved. Written through :class:`WatchedFile`, every
failed write is kept (:attr:`WatchedFile.error`) and raised again by :meth:`WatchedFile.finish`, whatever FFmpeg
made of it.
"""

from __future__ import annotations

import io
import os


class WatchedFile(io.RawIOBase):
    """The open file ``fd`` (taken over) as PyAV's output: writes, seeks and tells, keeping the first write error."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._file = os.fdopen(fd, "r+b", buffering=0)
        self.error: OSError | None = None
        """The first write that failed (a full disk, a quota, a folder gone); None while all went through."""

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, data) -> int:  # type: ignore[override]
        view = memoryview(data)
        try:
            done = 0
            while done < len(view):  # a write cut short (a quota reached mid-way) goes on until it fails
                done += self._file.write(view[done:]) or 0
            return done
        except OSError as exc:
            self.error = self.error or exc
            raise

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def finish(self) -> None:
        """Close the file after its container: the first write error, if any, raised now (with its OS reason)."""
        self.close()
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()
