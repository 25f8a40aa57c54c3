"""Streaming video input with PyAV: frames decoded one at a time, damaged packets skipped and counted, audio and
subtitle packets handed on untouched. The video writers' stream and frame conversion live in
:mod:`ghostlive.media.encoders` (re-exported here)."""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive.errors import InvalidInputError
from ghostlive.media.colour import (
    RANGE_JPEG,
    RANGE_MPEG,
    Matrix,
    matrix_for,
    yuv420_to_bgr,
    yuv444_to_bgr,
)
from ghostlive.media.encoders import add_video_stream, video_frame  # noqa: F401 - the video writers' (re-exported)
from ghostlive.media.paths import require_file
from ghostlive.threads import active_plan
from ghostlive.types import Frame

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"}
SYNTHETIC_NOTE = "Synthetic media: faces were replaced with ghostlive (AI face swap)"


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise InvalidInputError("video support needs PyAV, a dependency of ghostlive; run: pip install av") from None
    return av


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    frames: int
    """Frame count from the container (an estimate for some formats; 0 when unknown)."""
    duration: float
    codec: str
    rotation: int
    """Display rotation in degrees (counter-clockwise) read from the stream; frames are delivered upright."""
    has_audio: bool
    audio_codec: str = ""


@dataclass(frozen=True)
class VideoItem:
    """One decoded frame (upright BGR) with its timing in the source stream."""

    index: int
    image: Frame
    pts: int | None
    time: float


def _damaged(path: Path, exc: Exception, where: str) -> InvalidInputError:
    return InvalidInputError(f"the video is damaged or truncated ({where}: {exc})", path)


class VideoSource:
    """An opened video file: ``info``, then ``items()`` yields frames and audio packets in file order."""

    def __init__(self, path: str | Path) -> None:
        av = _av()
        p = require_file(path)
        self.path = p
        self.decoded = self.skipped = 0
        try:
            self.container = av.open(str(p))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(f"not a video file, or a damaged one ({exc})", p) from None
        if not self.container.streams.video:
            kinds = ", ".join(sorted({s.type for s in self.container.streams})) or "no streams"
            self.container.close()
            raise InvalidInputError(f"has no video stream (it contains: {kinds})", p)
        self._pick_streams()
        ctx = self.video.codec_context
        if ctx is None or not ctx.name:
            self.container.close()
            raise InvalidInputError("its video codec is not supported by this FFmpeg build", p)
        self.video.thread_type = "AUTO"
        self.video.thread_count = active_plan().decode
        first = self._first_frame()
        full = first.format.name.startswith("yuvj") or int(first.color_range or 0) == RANGE_JPEG
        self.matrix = matrix_for(int(first.colorspace or 0), RANGE_JPEG if full else RANGE_MPEG, first.height)
        rotation = int(getattr(first, "rotation", 0) or 0) % 360
        w, h = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(25)
        duration = float(self.container.duration / 1_000_000) if self.container.duration else 0.0
        self.info = VideoInfo(
            p,
            w,
            h,
            Fraction(rate),
            int(self.video.frames or 0),
            duration,
            ctx.name,
            rotation,
            self.audio is not None,
            self.audio.codec_context.name if self.audio is not None else "",
        )

    def _first_frame(self) -> Any:
        av = _av()
        try:
            for frame in self.container.decode(self.video):
                return frame
        except av.error.FFmpegError as exc:
            demuxer = self.container.format.name
            image = demuxer in ("image2", "image2pipe") or demuxer.endswith("_pipe")
            self.container.close()
            if image:  # FFmpeg chose an image reader by the file's name: say so, not "video"
                raise InvalidInputError(f"not an image file, or a damaged one ({exc})", self.path) from None
            raise _damaged(self.path, exc, "first frame") from None
        self.container.close()
        raise InvalidInputError("the video stream holds no decodable frame", self.path)

    def reopen(self) -> None:
        """Start again from the beginning (a fresh demuxer: robust for every container)."""
        self.container.close()
        self.container = _av().open(str(self.path))
        self._pick_streams()
        self.video.thread_type = "AUTO"
        self.video.thread_count = active_plan().decode

    def _pick_streams(self) -> None:
        streams = self.container.streams
        self.video = streams.video[0]
        self.audio = streams.audio[0] if streams.audio else None
        self.passthrough: list[Any] = [*streams.audio, *streams.subtitles]
        """Audio and subtitle streams, handed on packet by packet (the writer copies or converts them)."""
        self.ignored = [s for s in streams if s.type not in ("audio", "subtitle") and s is not self.video]
        """Streams that are not read at all: further video streams, data (timecode, metadata), attachments."""

    def items(self) -> Iterator[VideoItem | Any]:
        """Decoded frames (:class:`VideoItem`) and raw audio/subtitle packets, interleaved as stored in the file.
        A packet the decoder rejects (damage) is skipped and counted in ``skipped``; ``decoded`` counts frames and
        ``last_time`` is the latest frame time in seconds. Frames come in presentation order with their
        timestamps in that order too (:class:`_PresentationTimes`)."""
        av = _av()
        self.reopen()
        self.decoded = self.skipped = 0
        self.last_time = 0.0
        times = _PresentationTimes(self.video.time_base, float(1 / self.info.fps))
        try:
            for packet in self.container.demux(self.video, *self.passthrough):
                if packet.stream.type != "video":
                    if packet.size:
                        yield packet
                    continue
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError as exc:
                    self.skipped += 1
                    log.debug("%s: skipped an undecodable packet at %s: %s", self.path, packet.pts, exc)
                    continue
                for frame in frames:
                    yield from self._timed(times.add(upright(frame, self.matrix), frame.pts))
        except av.error.FFmpegError as exc:
            yield from self._timed(times.flush())
            raise _damaged(self.path, exc, f"after frame {self.decoded}") from None
        yield from self._timed(times.flush())

    def _timed(self, frames: list[tuple[Frame, int | None, float]]) -> Iterator[VideoItem]:
        for image, pts, time in frames:
            self.last_time = max(self.last_time, time)
            yield VideoItem(self.decoded, image, pts, time)
            self.decoded += 1

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


REORDER_DEPTH = 4
"""Decoded frames held back while their timestamps are put in order (see :class:`_PresentationTimes`): enough for
x264's B-pyramid read back from an AVI, whose labels land up to 3 frames from their own."""


class _PresentationTimes:
    """Frames leave a decoder in presentation order, but some files label them out of order: packed B-frames in AVI
    (DivX, Xvid) carry their packets' times, swapped in pairs (1, 2, 3, 5, 4, 6, 8, 7, …). Each frame is held until
    :data:`REORDER_DEPTH` more have arrived and then takes the smallest timestamp seen, so the frames keep the
    stream's times in increasing order (a correctly labelled stream is left as it is). A frame without a timestamp
    keeps none (the writer gives it the expected time); its ``time`` is one frame (``step`` seconds) after the
    previous frame's."""

    def __init__(self, time_base: Fraction | None, step: float) -> None:
        self.time_base, self.step = time_base, step
        self._last = -step
        self._held: deque[tuple[Frame, bool]] = deque()
        self._times: list[int] = []

    def add(self, image: Frame, pts: int | None) -> list[tuple[Frame, int | None, float]]:
        self._held.append((image, pts is not None))
        if pts is not None:
            heapq.heappush(self._times, pts)
        return self._release(REORDER_DEPTH)

    def flush(self) -> list[tuple[Frame, int | None, float]]:
        return self._release(0)

    def _release(self, keep: int) -> list[tuple[Frame, int | None, float]]:
        out: list[tuple[Frame, int | None, float]] = []
        while len(self._held) > keep:
            image, timed = self._held.popleft()
            pts = heapq.heappop(self._times) if timed else None
            time = float(pts * self.time_base) if pts is not None and self.time_base else self._last + self.step
            self._last = time
            out.append((image, pts, time))
        return out


def to_bgr(frame: Any, matrix: Matrix) -> Frame:
    """A decoded frame as BGR uint8; Y′CbCr frames are converted with rounding (see ghostlive.media.colour)."""
    if frame.format.name in ("yuv420p", "yuvj420p"):  # 8-bit 4:2:0, limited or full range (the matrix says)
        y, cb, cr = (
            np.frombuffer(p, np.uint8, p.line_size * p.height).reshape(p.height, p.line_size)[:, : p.width]
            for p in frame.planes
        )
        return yuv420_to_bgr(y, cb, cr, matrix, centred=frame.format.name == "yuvj420p")
    if frame.format.name.startswith("yuv"):
        return yuv444_to_bgr(frame.to_ndarray(format="yuv444p"), matrix)
    return frame.to_ndarray(format="bgr24")


def upright(frame: Any, matrix: Matrix) -> Frame:
    """A decoded frame as BGR uint8, turned by its display rotation."""
    img = to_bgr(frame, matrix)
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    return np.ascontiguousarray(np.rot90(img, k=rotation // 90)) if rotation else img
