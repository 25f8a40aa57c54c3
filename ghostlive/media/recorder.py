"""Live output recorded to a video file (written beside the destination, renamed into place when closed)."""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from ghostlive.errors import OutputError
from ghostlive.media.colour import RANGE_MPEG, UNSPECIFIED, matrix_for
from ghostlive.media.paths import publish
from ghostlive.media.video import SYNTHETIC_NOTE, VIDEO_SUFFIXES, add_video_stream, video_frame
from ghostlive.types import Frame


def check_record_path(path: str | Path) -> Path:
    """A recording's file name, checked before anything is opened: a video extension, an existing folder, not a
    folder itself."""
    p = Path(path)
    if p.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(
            f"unsupported recording format {p.suffix or '(none)'}; use one of {', '.join(sorted(VIDEO_SUFFIXES))}", p
        )
    if not p.parent.is_dir():
        raise OutputError(f"the folder {p.parent} does not exist", p)
    if p.is_dir():
        raise OutputError("is a folder, not a file name", p)
    return p


class Recorder:
    """Records the swapped output to a video file at the frames' own timing (variable frame rate); the file
    appears under its name only when the recording is closed complete."""

    repeats = False

    def __init__(self, path: str | Path, *, codec: str = "libx264", crf: int = 20) -> None:
        import av

        self.path = check_record_path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        try:
            self.container: Any = av.open(tmp, "w")
        except Exception as exc:  # noqa: BLE001 - PyAV raises per-format errors; nothing may stay behind
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot record to this file ({exc})", self.path) from None
        self.container.metadata["comment"] = SYNTHETIC_NOTE
        self.codec, self.crf = codec, crf
        self.stream: Any = None
        self._t0: float | None = None
        self._last = -1
        self.name = f"recording {self.path}"

    def send(self, frame: Frame, t: float | None = None) -> None:
        import time

        now = time.monotonic() if t is None else t
        if self.stream is None:
            self.matrix = matrix_for(UNSPECIFIED, RANGE_MPEG, frame.shape[0])
            s = add_video_stream(
                self.container,
                self.codec,
                30,
                (frame.shape[1], frame.shape[0]),
                Fraction(1, 1000),
                self.matrix,
                options={"crf": str(self.crf), "preset": "veryfast"},
            )
            self.stream, self._t0 = s, now
        pts = max(int((now - (self._t0 or now)) * 1000), self._last + 1)
        self._last = pts
        vf = video_frame(frame[: self.stream.height, : self.stream.width], "yuv420p", self.matrix)
        vf.pts, vf.time_base = pts, Fraction(1, 1000)
        for packet in self.stream.encode(vf):
            self.container.mux(packet)

    def close(self) -> None:
        if self.container is None:
            return
        try:
            if self.stream is not None:
                for packet in self.stream.encode():
                    self.container.mux(packet)
            self.container.close()
            if self.stream is not None:
                publish(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)
            self.container = None
