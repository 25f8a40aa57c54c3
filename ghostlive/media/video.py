"""Streaming video I/O with PyAV: frames decoded one at a time, audio packets passed through untouched."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ghostlive import __version__
from ghostlive.errors import InvalidInputError, OutputError
from ghostlive.media.colour import (
    RANGE_JPEG,
    RANGE_MPEG,
    Matrix,
    bgr_to_yuv420,
    colorspace_tag,
    matrix_for,
    yuv444_to_bgr,
)
from ghostlive.media.paths import require_file
from ghostlive.types import Frame

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"}
SYNTHETIC_NOTE = "Synthetic media: faces were replaced with ghostlive (AI face swap)"


def _av() -> Any:
    try:
        import av
    except ImportError:
        raise InvalidInputError("video support needs PyAV; run: pip install 'ghostlive[video]'") from None
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
        try:
            self.container = av.open(str(p))
        except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(f"not a video file, or a damaged one ({exc})", p) from None
        if not self.container.streams.video:
            kinds = ", ".join(sorted({s.type for s in self.container.streams})) or "no streams"
            self.container.close()
            raise InvalidInputError(f"has no video stream (it contains: {kinds})", p)
        self.video = self.container.streams.video[0]
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        ctx = self.video.codec_context
        if ctx is None or not ctx.name:
            self.container.close()
            raise InvalidInputError("its video codec is not supported by this FFmpeg build", p)
        self.video.thread_type = "AUTO"
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
            self.container.close()
            raise _damaged(self.path, exc, "first frame") from None
        self.container.close()
        raise InvalidInputError("the video stream holds no decodable frame", self.path)

    def reopen(self) -> None:
        """Start again from the beginning (a fresh demuxer: robust for every container)."""
        self.container.close()
        self.container = _av().open(str(self.path))
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None

    def items(self) -> Iterator[VideoItem | Any]:
        """Decoded frames (:class:`VideoItem`) and raw audio packets, interleaved as stored in the file."""
        av = _av()
        self.reopen()
        streams = [s for s in (self.video, self.audio) if s is not None]
        index = 0
        try:
            for packet in self.container.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.size:
                        yield packet
                    continue
                for frame in packet.decode():
                    yield VideoItem(index, upright(frame, self.matrix), frame.pts, float(frame.time or 0.0))
                    index += 1
        except av.error.FFmpegError as exc:
            raise _damaged(self.path, exc, f"after frame {index}") from None

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def to_bgr(frame: Any, matrix: Matrix) -> Frame:
    """A decoded frame as BGR uint8; Y′CbCr frames are converted with rounding (see ghostlive.media.colour)."""
    if frame.format.name.startswith("yuv"):
        return yuv444_to_bgr(frame.to_ndarray(format="yuv444p"), matrix)
    return frame.to_ndarray(format="bgr24")


def upright(frame: Any, matrix: Matrix) -> Frame:
    """A decoded frame as BGR uint8, turned by its display rotation."""
    img = to_bgr(frame, matrix)
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    return np.ascontiguousarray(np.rot90(img, k=rotation // 90)) if rotation else img


def video_frame(image: Frame, pix_fmt: str, matrix: Matrix) -> Any:
    """A PyAV frame for encoding ``image`` (BGR, even size); yuv420p is converted exactly, with colour tags."""
    av = _av()
    if pix_fmt != "yuv420p":
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
    frame = av.VideoFrame.from_ndarray(bgr_to_yuv420(image, matrix), format="yuv420p")
    frame.colorspace = colorspace_tag(matrix)
    frame.color_range = RANGE_JPEG if matrix.full_range else RANGE_MPEG
    return frame


def add_video_stream(
    container: Any,
    codec: str,
    rate: Fraction | int,
    size: tuple[int, int],
    time_base: Fraction,
    matrix: Matrix,
    *,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
) -> Any:
    """A video stream of even ``size`` (width, height) timed in ``time_base``, tagged with ``matrix``'s colour
    space and range (the frames are converted with it by :func:`video_frame`)."""
    stream = container.add_stream(codec, rate=rate)
    stream.width, stream.height = size[0] - size[0] % 2, size[1] - size[1] % 2
    stream.pix_fmt = pix_fmt
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    if options:
        stream.options = options
    try:
        stream.codec_context.colorspace = colorspace_tag(matrix)
        stream.codec_context.color_range = RANGE_JPEG if matrix.full_range else RANGE_MPEG
    except (AttributeError, ValueError, TypeError):
        log.debug("colour tags not set on the output stream")
    return stream


@dataclass(frozen=True)
class EncodeOptions:
    codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    pix_fmt: str = "yuv420p"


class VideoSink:
    """Writes frames at their source timestamps and passes audio packets through (no re-encoding)."""

    def __init__(self, path: str | Path, source: VideoSource, options: EncodeOptions | None = None) -> None:
        av = _av()
        opts = options or EncodeOptions()
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        container_opts = {"movflags": "+faststart+use_metadata_tags"} if suffix in (".mp4", ".mov", ".m4v") else {}
        try:
            self.container = av.open(str(self.path), "w", options=container_opts)
        except av.error.FFmpegError as exc:
            raise OutputError(f"cannot create the video ({exc})", self.path) from None
        self.container.metadata["comment"] = SYNTHETIC_NOTE
        self.container.metadata["ghostlive_synthetic"] = "1"
        self.container.metadata["encoder_app"] = f"ghostlive {__version__}"
        info = source.info
        self.matrix = source.matrix
        x264 = {"crf": str(opts.crf), "preset": opts.preset} if opts.codec in ("libx264", "libx265") else None
        try:
            self.video = add_video_stream(
                self.container,
                opts.codec,
                info.fps,
                (info.width, info.height),
                source.video.time_base,
                self.matrix,
                pix_fmt=opts.pix_fmt,
                options=x264,
            )
        except (av.error.FFmpegError, ValueError) as exc:
            raise OutputError(f"video codec {opts.codec!r} is not available ({exc})", self.path) from None
        try:
            for attr in ("color_primaries", "color_trc"):
                setattr(self.video.codec_context, attr, getattr(source.video.codec_context, attr))
        except (AttributeError, ValueError, TypeError):
            log.debug("colour primaries/transfer not copied")
        self.video.metadata["comment"] = SYNTHETIC_NOTE
        self.audio = None
        if source.audio is not None:
            try:
                self.audio = self.container.add_stream_from_template(source.audio)
            except (av.error.FFmpegError, ValueError) as exc:
                raise OutputError(
                    f"the audio ({source.info.audio_codec}) cannot be copied into this container "
                    f"({exc}); choose .mkv or .mov",
                    self.path,
                ) from None
        self._av = av
        self._last_pts: int | None = None

    def write(self, image: Frame, pts: int | None, index: int) -> None:
        h, w = self.video.height, self.video.width
        frame = video_frame(image[:h, :w], self.video.pix_fmt, self.matrix)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = index if self._last_pts is None else self._last_pts + 1
        frame.pts = pts
        frame.time_base = self.video.time_base
        self._last_pts = pts
        for packet in self.video.encode(frame):
            self.container.mux(packet)

    def write_audio(self, packet: Any) -> None:
        if self.audio is None:
            return
        packet.stream = self.audio
        self.container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self.video.encode():
                self.container.mux(packet)
        finally:
            self.container.close()
