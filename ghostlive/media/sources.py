"""Live frame sources: cameras (index, device path or network URL) and video files used as cameras."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import cv2

from ghostlive.errors import InvalidInputError
from ghostlive.media.paths import require_file
from ghostlive.media.video import VideoItem, VideoSource
from ghostlive.types import Frame

log = logging.getLogger(__name__)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # OpenCV's FFmpeg (network cameras) quiet, unless asked


class FrameSource(Protocol):
    """Gives frames one at a time. ``read`` returns None when the source failed or ended (see ``ended``).
    ``cuts`` counts the jumps it made on its own (a looping file restarting): the next frame starts a new shot."""

    name: str
    fps: float
    ended: bool
    cuts: int

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class CameraSource:
    """A camera through OpenCV: an index (``0``), a device path (``/dev/video2``) or a URL (rtsp/http)."""

    def __init__(self, spec: str | int, width: int = 0, height: int = 0, fps: float = 0.0) -> None:
        self.name = str(spec)
        target: str | int = int(spec) if str(spec).isdigit() else str(spec)
        level = cv2.utils.logging.getLogLevel()  # a camera that cannot open is said in our one line, once
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            self.cap = cv2.VideoCapture(target)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not self.cap.isOpened():
            raise InvalidInputError("cannot open this camera or stream (is it connected, and not in use?)", str(spec))
        if width and height:
            self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self.cap.set(cv2.CAP_PROP_FPS, fps)
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS) or fps or 30.0)
        self.ended = False
        self.cuts = 0

    def read(self) -> Frame | None:
        ok, frame = self.cap.read()
        return frame if ok else None

    def close(self) -> None:
        self.cap.release()


class FileCamera:
    """A video file played as a camera: paced at its own frame rate, optionally looping (each restart counts
    in ``cuts``, so the swap does not carry faces from the end of the file over its beginning)."""

    def __init__(self, path: str | Path, *, loop: bool = True, pace: bool = True) -> None:
        self.name = str(path)
        self.video = VideoSource(path)
        self.fps = float(self.video.info.fps) or 30.0
        self.loop = loop
        self.pace = pace
        self.ended = False
        self.cuts = 0
        self._frames = self._iterate()
        self._next_due = time.monotonic()

    def _iterate(self) -> Iterator[Frame]:
        while True:
            count = 0
            for item in self.video.items():
                if isinstance(item, VideoItem):
                    count += 1
                    yield item.image
            if not self.loop or count == 0:
                return
            self.cuts += 1

    def read(self) -> Frame | None:
        if self.pace:
            delay = self._next_due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_due = max(self._next_due + 1.0 / self.fps, time.monotonic() - 1.0 / self.fps)
        try:
            return next(self._frames)
        except StopIteration:
            self.ended = True
            return None
        except InvalidInputError as exc:  # damaged file: like an unplugged camera, the caller may reopen
            log.warning("%s", exc)
            return None

    def close(self) -> None:
        self.video.close()


def open_source(spec: str, *, loop: bool = True, width: int = 0, height: int = 0, fps: float = 0.0) -> FrameSource:
    """A camera index, device path or URL → CameraSource; a video file → FileCamera. A name that looks like a
    file (a folder in it, or an extension) must be an existing video file: a clear error says what is wrong."""
    if spec.isdigit() or "://" in spec or spec.startswith("/dev/"):
        return CameraSource(spec, width, height, fps)
    path = Path(spec)
    if path.is_dir() or path.is_file() or path.is_symlink() or path.suffix or "/" in spec or os.sep in spec:
        require_file(path, "video file")
        return FileCamera(path, loop=loop)
    return CameraSource(spec, width, height, fps)
